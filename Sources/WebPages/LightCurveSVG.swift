import Basics
import Foundation

/// A subject's light curve (the JSON citsci writes beside its frames, Zooniverse's scatter-plot
/// layout) drawn as an inline SVG: one colour per band, MJD across, flux up. Drawn on the server,
/// so the page needs no plotting library and no network.
enum LightCurveSVG {
    static let width = 320.0, height = 180.0, margin = 34.0

    /// The drawing, or nil when the JSON holds no point.
    static func draw(_ json: [UInt8]) -> HTML? {
        guard let doc = try? JSONValue.decode(json), let series = doc["data"]?.array else { return nil }
        struct Series { let label: String; let colour: String; let points: [(x: Double, y: Double)] }
        let all: [Series] = series.compactMap { s in
            let points = (s["seriesData"]?.array ?? []).compactMap { p -> (x: Double, y: Double)? in
                guard let x = p["x"]?.number, let y = p["y"]?.number, x.isFinite, y.isFinite else { return nil }
                return (x, y)
            }
            guard !points.isEmpty else { return nil }
            let colour = s["seriesOptions"]?["color"]?.string ?? ""
            // A colour goes into an attribute: only #rrggbb is taken from the file.
            let safe = colour.count == 7 && colour.hasPrefix("#") && colour.dropFirst().allSatisfy(\.isHexDigit) ? colour : "#555555"
            return Series(label: s["seriesOptions"]?["label"]?.string ?? "?", colour: safe, points: points)
        }
        let xs = all.flatMap { $0.points.map(\.x) }, ys = all.flatMap { $0.points.map(\.y) }
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else { return nil }
        let dx = x1 > x0 ? x1 - x0 : 1, dy = y1 > y0 ? y1 - y0 : 1
        // Coordinates in tenths of a unit, written by hand: an LSSTCam light curve has hundreds of
        // points, a set's page two dozen curves, and String(format:) per number cost 40 ms a page.
        func tenths(_ v: Double) -> String {
            let t = Int((max(0, v) * 10).rounded())
            return "\(t / 10).\(t % 10)"
        }
        func px(_ x: Double) -> String { tenths(margin + (x - x0) / dx * (width - margin - 8)) }
        func py(_ y: Double) -> String { tenths(height - margin + 8 - (y - y0) / dy * (height - margin)) }
        // One path a band, each point a round dot (a zero-length segment with a round cap).
        let marks: [HTML] = all.map { s in
            var d = ""
            d.reserveCapacity(s.points.count * 14)
            for p in s.points { d += "M\(px(p.x)) \(py(p.y))h0" }
            return "<path d=\"\(HTML(raw: d))\" stroke=\"\(s.colour)\" stroke-width=\"5\" stroke-linecap=\"round\"><title>\(s.label): \(s.points.count) points</title></path>"
        }
        let legend: [HTML] = all.enumerated().map { i, s in
            "<text x=\"\(String(format: "%.0f", margin + Double(i) * 34))\" y=\"12\" fill=\"\(s.colour)\" font-size=\"11\">● \(s.label)</text>"
        }
        let zero: HTML = y0 < 0 && y1 > 0
            ? "<line x1=\"\(margin)\" x2=\"\(width - 8)\" y1=\"\(py(0))\" y2=\"\(py(0))\" stroke=\"#bbb\" stroke-dasharray=\"3 3\"/>" : ""
        return """
            <svg class="lightcurve" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="light curve: \(xs.count) points">
            <rect x="\(margin)" y="8" width="\(width - margin - 8)" height="\(height - margin)" fill="#fff" stroke="#ccc"/>
            \(zero)\(marks)\(legend)
            <text x="\(margin)" y="\(height - 6)" font-size="10">\(String(format: "%.2f", x0))</text>
            <text x="\(width - 8)" y="\(height - 6)" font-size="10" text-anchor="end">MJD \(String(format: "%.2f", x1))</text>
            <text x="2" y="\(py(y1))" font-size="10">\(HTML.number(y1))</text>
            <text x="2" y="\(py(y0))" font-size="10">\(HTML.number(y0))</text>
            </svg>
            """
    }
}
