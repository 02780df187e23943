import Basics
import Foundation

/// Named sky positions (a CSV of name, ra, dec[, radius in arcsec]) indexed on a grid of
/// declination bands and right-ascension cells, so that a cone search costs a few cells, not a scan:
/// thousands of entries do not slow the stream.
package struct Watchlist: Sendable {
    package struct Entry: Sendable, Equatable {
        package let name: String
        package let ra: Double
        package let dec: Double
        /// Match radius in degrees, when the list gives one per entry.
        package let radius: Double?

        package init(name: String, ra: Double, dec: Double, radius: Double? = nil) {
            self.name = name
            self.ra = ra
            self.dec = dec
            self.radius = radius
        }
    }

    package let name: String
    package let entries: [Entry]
    private let cellSize: Double
    private var cells: [Int: [Int32]] = [:]
    /// The largest radius an entry carries, worked out once (each search widens to it; computing it
    /// per search read every entry, half the time of a cone search in a 10,000-entry list).
    private let maxEntryRadius: Double

    package init(name: String, entries: [Entry], cellSize: Double = 0.1) {
        maxEntryRadius = entries.compactMap(\.radius).max() ?? 0
        self.name = name
        self.entries = entries
        self.cellSize = cellSize
        for (i, e) in entries.enumerated() {
            cells[key(band: band(e.dec), cell: cell(e.ra, e.dec)), default: []].append(Int32(i))
        }
    }

    package struct ParseError: Error, CustomStringConvertible {
        package let file: String, line: Int, reason: String
        package var description: String { "\(file):\(line): \(reason)" }
    }

    /// Reads `name,ra,dec[,radius_arcsec]` lines (a header line and `#` comments are skipped).
    package init(csv text: String, name: String, file: String = "watchlist") throws {
        var entries: [Entry] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cols = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if n == 0 && Double(cols.count > 1 ? cols[1] : "") == nil { continue }  // header
            guard cols.count >= 3, let ra = Double(cols[1]), let dec = Double(cols[2]), (0..<360).contains(ra), (-90...90).contains(dec) else {
                throw ParseError(file: file, line: n + 1, reason: "expected name,ra,dec[,radius_arcsec] with 0 <= ra < 360 and -90 <= dec <= 90, found '\(line)'")
            }
            var radius: Double? = nil
            if cols.count > 3 && !cols[3].isEmpty {
                guard let r = Double(cols[3]), r > 0 else { throw ParseError(file: file, line: n + 1, reason: "radius '\(cols[3])' is not a positive number of arcsec") }
                radius = r / 3600
            }
            entries.append(Entry(name: cols[0], ra: ra, dec: dec, radius: radius))
        }
        self.init(name: name, entries: entries)
    }

    private func band(_ dec: Double) -> Int { Int(((dec + 90) / cellSize).rounded(.down)) }
    private func cellsInBand(_ dec: Double) -> Int {
        max(1, Int((360 * max(cos(min(abs(dec) + cellSize, 90) * .pi / 180), 1e-6) / cellSize).rounded(.down)))
    }
    private func cell(_ ra: Double, _ dec: Double) -> Int {
        let n = cellsInBand(Double(band(dec)) * cellSize - 90)
        return min(n - 1, Int(ra / 360 * Double(n)))
    }
    private func key(band: Int, cell: Int) -> Int { band * 1_000_000 + cell }

    /// The nearest entry within `radius` degrees (or within its own radius when it has one).
    package func nearest(ra: Double, dec: Double, radius: Double) -> (entry: Entry, distance: Double)? {
        guard ra.isFinite, dec.isFinite else { return nil }
        let search = max(radius, entries.isEmpty ? 0 : maxEntryRadius)
        var best: (Entry, Double)? = nil
        let b0 = band(max(-90, dec - search)), b1 = band(min(90, dec + search))
        for b in b0...b1 {
            let bandDec = Double(b) * cellSize - 90
            let n = cellsInBand(bandDec)
            let cosDec = max(cos(min(abs(bandDec) + cellSize, 89.9) * .pi / 180), 1e-6)
            let raSpan = min(180, search / cosDec + 360 / Double(n))
            let c0 = Int(((ra - raSpan) / 360 * Double(n)).rounded(.down)), c1 = Int(((ra + raSpan) / 360 * Double(n)).rounded(.down))
            var seen = Set<Int>()
            for c in c0...max(c0, c1) {
                let wrapped = ((c % n) + n) % n
                guard seen.insert(wrapped).inserted, let ids = cells[key(band: b, cell: wrapped)] else { continue }
                for id in ids {
                    let e = entries[Int(id)]
                    let d = Sky.separation(ra, dec, e.ra, e.dec)
                    if d <= (e.radius ?? radius), best == nil || d < best!.1 { best = (e, d) }
                }
            }
        }
        return best
    }

}

/// Spherical astronomy the functions need.
package enum Sky {
    /// Angular separation in degrees (haversine, exact at small angles).
    package static func separation(_ ra1: Double, _ dec1: Double, _ ra2: Double, _ dec2: Double) -> Double {
        let r = Double.pi / 180
        let dDec = (dec2 - dec1) * r, dRa = (ra2 - ra1) * r
        let a = pow(sin(dDec / 2), 2) + cos(dec1 * r) * cos(dec2 * r) * pow(sin(dRa / 2), 2)
        return 2 * asin(min(1, a.squareRoot())) / r
    }

    /// Galactic (l, b) in degrees of ICRS (ra, dec), with the IAU 1958 pole and origin in J2000.
    package static func galactic(ra: Double, dec: Double) -> (l: Double, b: Double) {
        let r = Double.pi / 180
        let raPole = 192.85948 * r, decPole = 27.12825 * r, lOmega = 122.93192 * r
        let sinB = sin(dec * r) * sin(decPole) + cos(dec * r) * cos(decPole) * cos(ra * r - raPole)
        let b = asin(min(1, max(-1, sinB)))
        let y = cos(dec * r) * sin(ra * r - raPole)
        let x = sin(dec * r) * cos(decPole) - cos(dec * r) * sin(decPole) * cos(ra * r - raPole)
        var l = (lOmega - atan2(y, x)) / r
        l = l.truncatingRemainder(dividingBy: 360)
        if l < 0 { l += 360 }
        return (l, b / r)
    }
}
