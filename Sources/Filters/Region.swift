import Foundation

/// Sky regions for `in_region('name')`, read from a ds9 region file (`regions/NAME.reg`) in ICRS/FK5
/// degrees: `circle(ra, dec, radius)` (radius in degrees, or with `"` for arcsec, `'` for arcmin) and
/// `polygon(ra1, dec1, ra2, dec2, ...)`. A point is in the region when it is in any of its shapes.
package struct Region: Sendable {
    package enum Shape: Sendable, Equatable {
        case circle(ra: Double, dec: Double, radius: Double)
        /// Vertices in order; edges are straight on the tangent plane at the polygon's centre (great
        /// circles to first order: exact enough for polygons up to tens of degrees).
        case polygon([(ra: Double, dec: Double)])

        package static func == (a: Shape, b: Shape) -> Bool {
            switch (a, b) {
            case let (.circle(r1, d1, x1), .circle(r2, d2, x2)): r1 == r2 && d1 == d2 && x1 == x2
            case let (.polygon(p), .polygon(q)): p.count == q.count && zip(p, q).allSatisfy { $0.ra == $1.ra && $0.dec == $1.dec }
            default: false
            }
        }
    }

    package let name: String
    package let shapes: [Shape]

    package struct ParseError: Error, CustomStringConvertible {
        package let file: String, line: Int, reason: String
        package var description: String { "\(file):\(line): \(reason)" }
    }

    package init(name: String, shapes: [Shape]) {
        self.name = name
        self.shapes = shapes
    }

    package init(ds9 text: String, name: String, file: String = "region") throws {
        var shapes: [Shape] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            line = line.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || ["fk5", "icrs", "j2000"].contains(line.lowercased()) || line.hasPrefix("global") { continue }
            if line.lowercased().hasPrefix("image") || line.lowercased().hasPrefix("physical") {
                throw ParseError(file: file, line: n + 1, reason: "only sky coordinates (fk5/icrs, degrees) are supported, not '\(line)'")
            }
            guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"), open < close else {
                throw ParseError(file: file, line: n + 1, reason: "expected circle(...) or polygon(...), found '\(line)'")
            }
            let kind = line[..<open].trimmingCharacters(in: .whitespaces).lowercased()
            let args = line[line.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            func number(_ s: String) throws -> Double {
                var t = s, scale = 1.0
                if t.hasSuffix("\"") { t.removeLast(); scale = 1.0 / 3600 } else if t.hasSuffix("'") { t.removeLast(); scale = 1.0 / 60 } else if t.hasSuffix("d") { t.removeLast() }
                guard let v = Double(t) else { throw ParseError(file: file, line: n + 1, reason: "'\(s)' is not a number (sexagesimal is not supported: use degrees)") }
                return v * scale
            }
            switch kind {
            case "circle":
                guard args.count == 3 else { throw ParseError(file: file, line: n + 1, reason: "circle needs ra, dec, radius") }
                shapes.append(.circle(ra: try number(args[0]), dec: try number(args[1]), radius: try number(args[2])))
            case "polygon":
                guard args.count >= 6, args.count % 2 == 0 else {
                    throw ParseError(file: file, line: n + 1, reason: "polygon needs at least three ra, dec pairs")
                }
                var vertices: [(ra: Double, dec: Double)] = []
                for i in stride(from: 0, to: args.count, by: 2) { vertices.append((try number(args[i]), try number(args[i + 1]))) }
                shapes.append(.polygon(vertices))
            default:
                throw ParseError(file: file, line: n + 1, reason: "unsupported shape '\(kind)' (circle and polygon are)")
            }
        }
        self.init(name: name, shapes: shapes)
    }

    package func contains(ra: Double, dec: Double) -> Bool {
        guard ra.isFinite, dec.isFinite else { return false }
        for shape in shapes {
            switch shape {
            case .circle(let r, let d, let radius):
                if Sky.separation(ra, dec, r, d) <= radius { return true }
            case .polygon(let vertices):
                if Self.inPolygon(ra: ra, dec: dec, vertices) { return true }
            }
        }
        return false
    }

    /// Ray casting on the gnomonic projection about the vertices' mean direction.
    static func inPolygon(ra: Double, dec: Double, _ vertices: [(ra: Double, dec: Double)]) -> Bool {
        let r = Double.pi / 180
        func vector(_ ra: Double, _ dec: Double) -> (Double, Double, Double) {
            (cos(dec * r) * cos(ra * r), cos(dec * r) * sin(ra * r), sin(dec * r))
        }
        var cx = 0.0, cy = 0.0, cz = 0.0
        for v in vertices { let p = vector(v.ra, v.dec); cx += p.0; cy += p.1; cz += p.2 }
        let norm = (cx * cx + cy * cy + cz * cz).squareRoot()
        guard norm > 0 else { return false }
        let ra0 = atan2(cy, cx), dec0 = asin(cz / norm)
        func project(_ ra: Double, _ dec: Double) -> (Double, Double)? {
            let a = ra * r - ra0, d = dec * r
            let c = sin(dec0) * sin(d) + cos(dec0) * cos(d) * cos(a)
            guard c > 0 else { return nil }  // more than 90 degrees away: outside
            return (cos(d) * sin(a) / c, (cos(dec0) * sin(d) - sin(dec0) * cos(d) * cos(a)) / c)
        }
        guard let (x, y) = project(ra, dec) else { return false }
        let poly = vertices.compactMap { project($0.ra, $0.dec) }
        guard poly.count == vertices.count else { return false }
        var inside = false
        var j = poly.count - 1
        for i in 0..<poly.count {
            let (xi, yi) = poly[i], (xj, yj) = poly[j]
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi { inside.toggle() }
            j = i
        }
        return inside
    }
}
