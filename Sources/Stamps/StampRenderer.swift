import Foundation

/// Renders one stamp into a frame: orientation, display limits, stretch, resampling, colour map,
/// reticle and label.
package struct StampRenderer: Sendable {
    package let settings: RenderSettings
    private let lut: [UInt8]  // 256 entries × channels

    package init(settings: RenderSettings) {
        self.settings = settings
        switch settings.colormap {
        case .grey: lut = (0...255).map { UInt8($0) }
        case .inverted: lut = (0...255).map { UInt8(255 - $0) }
        case .viridis: lut = Colormap.viridisTable
        }
    }

    /// The frame's channels: RGB for a colour map or a NaN colour that is not grey.
    package var channels: Int {
        if settings.colormap.isColour { return 3 }
        if let n = settings.nanColour, !(n[0] == n[1] && n[1] == n[2]) { return 3 }
        return 1
    }

    /// Renders `image` with the given display limits (computed from it when nil).
    package func render(_ image: FITSImage, limits: (Float, Float)? = nil, label: String? = nil) -> Frame {
        let s = settings
        let (lo, hi) = limits ?? s.interval.limits(of: image.pixels) ?? (0, 1)
        let orientation = s.northUp ? Orientation.northUp(image.header) : .fits
        let (dw, dh) = orientation.displaySize(width: image.width, height: image.height)
        // 1. The stamp in display order, normalised and stretched to [0, 1] (NaN stays NaN).
        let scale = hi > lo ? 1 / (hi - lo) : 0
        var grid = [Float](repeating: .nan, count: dw * dh)
        for row in 0..<dh {
            for col in 0..<dw {
                let (x, y) = orientation.source(column: col, row: row, width: image.width, height: image.height)
                let v = image.pixels[y * image.width + x]
                guard v.isFinite else { continue }
                grid[row * dw + col] = s.stretch.apply(min(max((v - lo) * scale, 0), 1))
            }
        }
        // 2. Resampled into a size × size frame, the stamp fitted inside and centred.
        let n = s.size
        let fit = Float(n) / Float(max(dw, dh))
        let tw = max(1, Int((Float(dw) * fit).rounded())), th = max(1, Int((Float(dh) * fit).rounded()))
        let ox = (n - tw) / 2, oy = (n - th) / 2
        let ch = channels
        var pixels = [UInt8](repeating: 0, count: n * n * ch)
        let nan = s.nanColour ?? Array(lut[0..<(settings.colormap.isColour ? 3 : 1)])
        pixels.withUnsafeMutableBufferPointer { out in
            grid.withUnsafeBufferPointer { g in
                lut.withUnsafeBufferPointer { table in
                    @inline(__always) func colour(_ v: Float, _ o: Int) {
                        if v.isNaN {
                            for c in 0..<ch { out[o + c] = nan[min(c, nan.count - 1)] }
                        } else {
                            let idx = Int(v * 255 + 0.5)
                            if ch == 1 {
                                out[o] = table[idx]
                            } else if table.count == 768 {
                                out[o] = table[idx * 3]; out[o + 1] = table[idx * 3 + 1]; out[o + 2] = table[idx * 3 + 2]
                            } else {
                                out[o] = table[idx]; out[o + 1] = table[idx]; out[o + 2] = table[idx]
                            }
                        }
                    }
                    if s.resample == .nearest {
                        // Each output row is the source row's colours picked by a column map; output
                        // rows that show the same source row are copies of the first.
                        let columns = (0..<tw).map { min(Int((Float($0) + 0.5) * Float(dw) / Float(tw)), dw - 1) }
                        var previousRow = -1, previousOffset = 0
                        for ty in 0..<th {
                            let sy = min(Int((Float(ty) + 0.5) * Float(dh) / Float(th)), dh - 1)
                            let rowOffset = ((ty + oy) * n + ox) * ch
                            if sy == previousRow {
                                let src = UnsafeMutableRawPointer(out.baseAddress! + previousOffset)
                                UnsafeMutableRawPointer(out.baseAddress! + rowOffset).copyMemory(from: src, byteCount: tw * ch)
                                continue
                            }
                            for tx in 0..<tw { colour(g[sy * dw + columns[tx]], rowOffset + tx * ch) }
                            previousRow = sy
                            previousOffset = rowOffset
                        }
                    } else {
                        for ty in 0..<th {
                            for tx in 0..<tw {
                                let v = bilinear(g, dw, dh, (Float(tx) + 0.5) * Float(dw) / Float(tw), (Float(ty) + 0.5) * Float(dh) / Float(th))
                                colour(v, ((ty + oy) * n + tx + ox) * ch)
                            }
                        }
                    }
                }
            }
        }
        var frame = Frame(width: n, height: n, channels: ch, pixels: pixels)
        if s.reticle { drawReticle(&frame) }
        if s.label, let label, !label.isEmpty { drawLabel(&frame, label) }
        return frame
    }

    /// The bilinear value at display coordinates (x, y) in pixel units (centres at half-integers);
    /// next to a blank pixel, the nearest value.
    @inline(__always)
    private func bilinear(_ g: UnsafeBufferPointer<Float>, _ w: Int, _ h: Int, _ x: Float, _ y: Float) -> Float {
        let fx = min(max(x - 0.5, 0), Float(w - 1)), fy = min(max(y - 0.5, 0), Float(h - 1))
        let x0 = Int(fx), y0 = Int(fy)
        let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
        let ax = fx - Float(x0), ay = fy - Float(y0)
        let a = g[y0 * w + x0], b = g[y0 * w + x1], c = g[y1 * w + x0], d = g[y1 * w + x1]
        if a.isNaN || b.isNaN || c.isNaN || d.isNaN { return g[Int(fy + 0.5) * w + Int(fx + 0.5)] }
        return (a * (1 - ax) + b * ax) * (1 - ay) + (c * (1 - ax) + d * ax) * ay
    }

    /// A cross-hair around the centre (the alert's position in a cutout), with a gap so the source
    /// itself stays visible.
    private func drawReticle(_ f: inout Frame) {
        let c = f.width / 2, gap = max(4, f.width / 20), len = max(6, f.width / 12)
        let colour: [UInt8] = settings.colormap == .inverted ? [0, 0, 0] : [255, 64, 64]
        let thick = max(1, f.width / 150)
        for d in gap..<(gap + len) {
            for t in 0..<thick {
                for (x, y) in [(c + d, c + t), (c - d, c + t), (c + t, c + d), (c + t, c - d)] { put(&f, x, y, colour) }
            }
        }
    }

    private func drawLabel(_ f: inout Frame, _ text: String) {
        let scale = max(1, f.width / 150)
        let glyphs = text.compactMap { BitmapFont.glyph($0) }
        let w = glyphs.count * (BitmapFont.width + 1) * scale + scale * 2
        let h = (BitmapFont.height + 2) * scale
        let x0 = scale, y0 = f.height - h - scale
        for y in y0..<(y0 + h) { for x in x0..<min(f.width, x0 + w) { put(&f, x, y, [0, 0, 0]) } }
        for (i, g) in glyphs.enumerated() {
            for (row, bits) in g.enumerated() {
                for col in 0..<BitmapFont.width where bits & (0x10 >> UInt8(col)) != 0 {
                    for sy in 0..<scale {
                        for sx in 0..<scale {
                            put(&f, x0 + scale + (i * (BitmapFont.width + 1) + col) * scale + sx, y0 + scale + row * scale + sy, [255, 255, 255])
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private func put(_ f: inout Frame, _ x: Int, _ y: Int, _ rgb: [UInt8]) {
        guard x >= 0, y >= 0, x < f.width, y < f.height else { return }
        let o = (y * f.width + x) * f.channels
        if f.channels == 1 {
            f.pixels[o] = UInt8((UInt16(rgb[0]) * 30 + UInt16(rgb[1]) * 59 + UInt16(rgb[2]) * 11) / 100)
        } else {
            f.pixels[o] = rgb[0]; f.pixels[o + 1] = rgb[1]; f.pixels[o + 2] = rgb[2]
        }
    }
}
