import AlertModel
import Foundation

/// Which cutout of an alert.
package enum CutoutKind: String, Sendable, CaseIterable {
    case science, template, difference

    package func of(_ alert: Alert) -> Cutout? {
        switch self {
        case .science: alert.cutouts.science
        case .template: alert.cutouts.template
        case .difference: alert.cutouts.difference
        }
    }

    var shortLabel: String { ["science": "SCI", "template": "REF", "difference": "DIFF"][rawValue]! }
}

/// The kinds of subject image sets.
package enum FlipbookKind: String, Sendable, CaseIterable {
    /// The alert's science, template and difference stamps as three frames.
    case triplet
    /// One cutout kind of one object across its recent alerts, in time order.
    case blink
    /// The triplet side by side in a single image.
    case composite
}

/// A rendered frame: its PNG bytes and a name for it.
package struct RenderedFrame: Sendable {
    package let name: String
    package let png: [UInt8]
    package let frame: Frame
}

/// The frames of one Zooniverse subject, in order, and how they were made.
package struct Flipbook: Sendable {
    package let kind: FlipbookKind
    package let frames: [RenderedFrame]
    package let settings: RenderSettings
}

package struct RenderError: Error, CustomStringConvertible, Sendable {
    package let alertId: Int64
    package let reason: String
    package var description: String { "alert \(alertId): \(reason)" }
}

/// Makes flipbooks from alerts.
package struct FlipbookRenderer: Sendable {
    package let settings: RenderSettings
    private let renderer: StampRenderer

    package init(settings: RenderSettings = RenderSettings()) {
        self.settings = settings
        self.renderer = StampRenderer(settings: settings)
    }

    /// A label for a frame: kind, band, date (UT from MJD).
    static func label(_ kind: CutoutKind?, _ alert: Alert) -> String {
        var parts: [String] = []
        if let kind { parts.append(kind.shortLabel) }
        if let band = alert.band { parts.append(band) }
        if let date = utcDate(mjd: alert.mjd) { parts.append(date) }
        return parts.joined(separator: " ")
    }

    /// "yyyy-MM-dd HH:mm" (UTC) of an MJD, by the civil-from-days arithmetic (no formatter per frame).
    package static func utcDate(mjd: Double) -> String? {
        guard mjd.isFinite, abs(mjd) < 1e7 else { return nil }
        let minutes = Int((mjd * 1440).rounded(.down))
        let days = Int((Double(minutes) / 1440).rounded(.down)) - 40587 + 719468  // days since 0000-03-01
        let era = (days >= 0 ? days : days - 146096) / 146097
        let doe = days - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let minuteOfDay = ((minutes % 1440) + 1440) % 1440
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(minuteOfDay / 60)):\(two(minuteOfDay % 60))"
    }

    func image(_ alert: Alert, _ kind: CutoutKind) throws(RenderError) -> FITSImage {
        guard let cutout = kind.of(alert), !cutout.data.isEmpty else {
            throw RenderError(alertId: alert.alertId, reason: "no \(kind.rawValue) cutout")
        }
        do {
            return try FITSImage(data: cutout.data)
        } catch {
            throw RenderError(alertId: alert.alertId, reason: "\(kind.rawValue) cutout: \(error)")
        }
    }

    func sharedLimits(_ images: [FITSImage]) -> (Float, Float)? {
        settings.interval.limits(of: images.flatMap(\.pixels))
    }

    func encode(_ frame: Frame, name: String, alertId: Int64) throws(RenderError) -> RenderedFrame {
        do {
            return RenderedFrame(name: name, png: try PNGCodec.encode(frame), frame: frame)
        } catch {
            throw RenderError(alertId: alertId, reason: "\(error)")
        }
    }

    /// Science, template, difference. Each frame has its own limits: they are different kinds of
    /// image, and ZTF's reference stamps are not even on the science stamp's flux scale.
    package func triplet(_ alert: Alert) throws(RenderError) -> Flipbook {
        var images: [FITSImage] = []
        for k in CutoutKind.allCases { images.append(try image(alert, k)) }
        var frames: [RenderedFrame] = []
        for i in images.indices { frames.append(try tripletFrame(alert, i, image: images[i])) }
        return Flipbook(kind: .triplet, frames: frames, settings: settings)
    }

    /// Frame `index` (0: science, 1: template, 2: difference) of the triplet alone, as `triplet`
    /// draws it: each frame has its own limits, so one needs only its own stamp.
    package func tripletFrame(_ alert: Alert, _ index: Int) throws(RenderError) -> RenderedFrame {
        let kinds = CutoutKind.allCases
        guard kinds.indices.contains(index) else { throw RenderError(alertId: alert.alertId, reason: "a triplet has \(kinds.count) frames, not \(index + 1)") }
        return try tripletFrame(alert, index, image: try image(alert, kinds[index]))
    }

    private func tripletFrame(_ alert: Alert, _ index: Int, image: FITSImage) throws(RenderError) -> RenderedFrame {
        let kind = CutoutKind.allCases[index]
        let frame = renderer.render(image, label: Self.label(kind, alert))
        return try encode(frame, name: "\(alert.alertId)_\(index + 1)_\(kind.rawValue).png", alertId: alert.alertId)
    }

    /// One frame per alert of the same object, oldest first.
    package func blink(_ alerts: [Alert], cutout: CutoutKind = .difference) throws(RenderError) -> Flipbook {
        try blink(alerts.map { a in
            BlinkStamp(alertId: a.alertId, objectId: a.objectId ?? String(a.alertId), mjd: a.mjd,
                       label: Self.label(nil, a), fits: cutout.of(a)?.data, kind: cutout)
        })
    }

    /// A blink from stamps kept in the state store.
    package func blink(_ stored: [StoredCutouts], cutout: CutoutKind = .difference) throws(RenderError) -> Flipbook {
        try blink(stored.map { s in
            let data = cutout == .science ? s.science : cutout == .template ? s.template : s.difference
            return BlinkStamp(alertId: s.alertId, objectId: s.objectId, mjd: s.mjd,
                              label: ([s.band].compactMap { $0 } + [Self.utcDate(mjd: s.mjd)].compactMap { $0 }).joined(separator: " "),
                              fits: data, kind: cutout)
        })
    }

    struct BlinkStamp {
        let alertId: Int64, objectId: String, mjd: Double, label: String, fits: [UInt8]?, kind: CutoutKind
    }

    func blink(_ stamps: [BlinkStamp]) throws(RenderError) -> Flipbook {
        let ordered = stamps.sorted { $0.mjd < $1.mjd }
        var images: [FITSImage] = []
        for s in ordered {
            guard let data = s.fits, !data.isEmpty else { throw RenderError(alertId: s.alertId, reason: "no \(s.kind.rawValue) cutout") }
            do { images.append(try FITSImage(data: data)) } catch {
                throw RenderError(alertId: s.alertId, reason: "\(s.kind.rawValue) cutout: \(error)")
            }
        }
        let limits = settings.sharedLimits ? sharedLimits(images) : nil
        var frames: [RenderedFrame] = []
        for (i, s) in ordered.enumerated() {
            let frame = renderer.render(images[i], limits: limits, label: s.label)
            frames.append(try encode(frame, name: "\(s.objectId)_blink_\(i + 1)_\(s.alertId).png", alertId: s.alertId))
        }
        return Flipbook(kind: .blink, frames: frames, settings: settings)
    }

    /// The triplet side by side in one image (3 × size by size).
    package func composite(_ alert: Alert) throws(RenderError) -> Flipbook {
        let kinds = CutoutKind.allCases
        var images: [FITSImage] = []
        for k in kinds { images.append(try image(alert, k)) }
        let panels = kinds.enumerated().map { i, k in renderer.render(images[i], label: Self.label(k, alert)) }
        let n = settings.size, ch = renderer.channels
        var pixels = [UInt8](repeating: 0, count: 3 * n * n * ch)
        for (p, panel) in panels.enumerated() {
            for y in 0..<n {
                let src = y * n * ch, dst = (y * 3 * n + p * n) * ch
                pixels.replaceSubrange(dst..<(dst + n * ch), with: panel.pixels[src..<(src + n * ch)])
            }
        }
        let frame = Frame(width: 3 * n, height: n, channels: ch, pixels: pixels)
        return Flipbook(kind: .composite, frames: [try encode(frame, name: "\(alert.alertId)_composite.png", alertId: alert.alertId)],
                        settings: settings)
    }
}
