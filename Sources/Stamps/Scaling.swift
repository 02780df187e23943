import Foundation

/// How the display limits of a stamp are chosen (astropy.visualization's intervals).
package enum Interval: Sendable, Equatable, CustomStringConvertible {
    /// IRAF's zscale, as astropy's `ZScaleInterval` (1000 samples, contrast 0.25, k = 2.5).
    case zscale(contrast: Double = 0.25)
    /// The central `percent` of the pixel values (e.g. 99.5).
    case percentile(Double)
    case minMax

    package var description: String {
        switch self {
        case .zscale(let c): c == 0.25 ? "zscale" : "zscale(\(c))"
        case .percentile(let p): "percentile(\(p))"
        case .minMax: "minmax"
        }
    }

    package init?(_ text: String) {
        switch text {
        case "zscale": self = .zscale()
        case "minmax": self = .minMax
        default:
            guard let m = text.wholeMatch(of: /percentile(?:\((\d+(?:\.\d+)?)\)|:(\d+(?:\.\d+)?))?/) else { return nil }
            let p = Double(m.1 ?? m.2 ?? "99.5") ?? 99.5
            guard p > 0 && p <= 100 else { return nil }
            self = .percentile(p)
        }
    }

    /// The (low, high) limits of the finite values; nil when there are none.
    package func limits(of values: [Float]) -> (Float, Float)? {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return nil }
        switch self {
        case .minMax:
            return (finite.min()!, finite.max()!)
        case .percentile(let p):
            let sorted = finite.sorted()
            let lowQ = (100 - p) / 2
            return (Self.percentile(sorted, lowQ), Self.percentile(sorted, 100 - lowQ))
        case .zscale(let contrast):
            return Self.zscale(finite, contrast: contrast)
        }
    }

    /// numpy's default (linear) percentile of sorted values.
    static func percentile(_ sorted: [Float], _ q: Double) -> Float {
        let pos = q / 100 * Double(sorted.count - 1)
        let i = Int(pos.rounded(.down)), f = pos - Double(i)
        guard i + 1 < sorted.count else { return sorted[sorted.count - 1] }
        return Float(Double(sorted[i]) + f * (Double(sorted[i + 1]) - Double(sorted[i])))
    }

    /// astropy's ZScaleInterval.get_limits, step for step.
    static func zscale(_ values: [Float], contrast: Double, nSamples: Int = 1000, maxReject: Double = 0.5,
                       minNPixels: Int = 5, krej: Double = 2.5, maxIterations: Int = 5) -> (Float, Float) {
        let stride = Int(max(1.0, Double(values.count) / Double(nSamples)))
        var samples: [Double] = []
        samples.reserveCapacity(min(nSamples, values.count))
        var i = 0
        while i < values.count && samples.count < nSamples {
            samples.append(Double(values[i]))
            i += stride
        }
        samples.sort()
        let npix = samples.count
        var vmin = samples[0], vmax = samples[npix - 1]
        let minpix = max(minNPixels, Int(Double(npix) * maxReject))
        var ngoodpix = npix, lastNgoodpix = npix + 1
        var bad = [Bool](repeating: false, count: npix)
        let ngrow = max(1, Int(Double(npix) * 0.01))
        var slope = 0.0, intercept = 0.0
        var fitted = false
        for _ in 0..<maxIterations {
            if ngoodpix >= lastNgoodpix || ngoodpix < minpix { break }
            // Least-squares line through the good samples (weights 0 or 1).
            var sw = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
            for k in 0..<npix where !bad[k] {
                let x = Double(k), y = samples[k]
                sw += 1; sx += x; sy += y; sxx += x * x; sxy += x * y
            }
            let det = sw * sxx - sx * sx
            guard det != 0 else { break }
            slope = (sw * sxy - sx * sy) / det
            intercept = (sy - slope * sx) / sw
            fitted = true
            // k-sigma rejection about the line (population standard deviation of the good residuals).
            var mean = 0.0, count = 0.0
            for k in 0..<npix where !bad[k] { mean += samples[k] - (slope * Double(k) + intercept); count += 1 }
            mean /= count
            var variance = 0.0
            for k in 0..<npix where !bad[k] {
                let d = samples[k] - (slope * Double(k) + intercept) - mean
                variance += d * d
            }
            let threshold = krej * (variance / count).squareRoot()
            for k in 0..<npix {
                let flat = samples[k] - (slope * Double(k) + intercept)
                if flat < -threshold || flat > threshold { bad[k] = true }
            }
            // Dilate the rejected set by ngrow, as numpy's convolve(mode="same") does.
            let lo = ngrow / 2, hi = (ngrow - 1) / 2
            var grown = [Bool](repeating: false, count: npix)
            for k in 0..<npix where bad[k] {
                for j in max(0, k - hi)...min(npix - 1, k + lo) { grown[j] = true }
            }
            bad = grown
            lastNgoodpix = ngoodpix
            ngoodpix = bad.reduce(0) { $0 + ($1 ? 0 : 1) }
        }
        if ngoodpix >= minpix && fitted {
            if contrast > 0 { slope /= contrast }
            let center = (npix - 1) / 2
            let median = npix % 2 == 1 ? samples[npix / 2] : (samples[npix / 2 - 1] + samples[npix / 2]) / 2
            vmin = max(vmin, median - Double(center - 1) * slope)
            vmax = min(vmax, median + Double(npix - center) * slope)
        }
        return (Float(vmin), Float(vmax))
    }
}

/// How normalised values in [0, 1] map to display brightness (astropy.visualization's stretches).
package enum Stretch: Sendable, Equatable, CustomStringConvertible {
    case linear
    case asinh(a: Double = 0.1)
    case log(a: Double = 1000)
    case sqrt

    package var description: String {
        switch self {
        case .linear: "linear"
        case .asinh(let a): a == 0.1 ? "asinh" : "asinh(\(a))"
        case .log(let a): a == 1000 ? "log" : "log(\(a))"
        case .sqrt: "sqrt"
        }
    }

    package init?(_ text: String) {
        switch text {
        case "linear": self = .linear
        case "asinh": self = .asinh()
        case "log": self = .log()
        case "sqrt": self = .sqrt
        default: return nil
        }
    }

    @inline(__always)
    package func apply(_ x: Float) -> Float {
        switch self {
        case .linear: return x
        case .asinh(let a): return Float(Foundation.asinh(Double(x) / a) / Foundation.asinh(1 / a))
        case .log(let a): return Float(Foundation.log(a * Double(x) + 1) / Foundation.log(a + 1))
        case .sqrt: return x.squareRoot()
        }
    }
}

/// Display colours for brightness in [0, 1].
package enum Colormap: String, Sendable, CaseIterable {
    case grey, inverted, viridis

    package var isColour: Bool { self == .viridis }
}
