import Foundation
import Testing
import TestSupport
@testable import Filters

@Suite struct WatchlistTests {
    /// The grid index gives the same answer as a scan, on 10,000 random entries, including across
    /// RA = 0/360 and near the poles.
    @Test func gridAgreesWithAScan() {
        var rng = SplitMix64(seed: 42)
        var entries: [Watchlist.Entry] = []
        for i in 0..<10_000 {
            let ra = Double(rng.next() % 3_600_000) / 10_000, dec = asin(Double(rng.next() % 2_000_000) / 1_000_000 - 1) * 180 / .pi
            entries.append(.init(name: "e\(i)", ra: ra, dec: dec, radius: nil))
        }
        entries.append(.init(name: "wrap", ra: 359.9999, dec: 10, radius: nil))
        entries.append(.init(name: "pole", ra: 10, dec: 89.999, radius: nil))
        let list = Watchlist(name: "random", entries: entries)
        var queries: [(Double, Double)] = [(0.0001, 10), (190, 89.999), (0, -90)]
        for e in entries.prefix(300) { queries.append((e.ra + 0.001, e.dec)) }
        for _ in 0..<300 { queries.append((Double(rng.next() % 360_000) / 1000, Double(rng.next() % 180_000) / 1000 - 90)) }
        for (ra, dec) in queries {
            for radius in [1.0 / 3600, 10.0 / 3600, 0.5] {
                let scan = entries.map { ($0, Sky.separation(ra, dec, $0.ra, $0.dec)) }.filter { $0.1 <= radius }.min { $0.1 < $1.1 }
                let grid = list.nearest(ra: ra, dec: dec, radius: radius)
                #expect(scan?.0.name == grid?.entry.name, "ra \(ra) dec \(dec) radius \(radius)")
            }
        }
    }

    @Test func csvErrorsNameTheLine() {
        do {
            _ = try Watchlist(csv: "name,ra,dec\na,10,20\nb,400,0\n", name: "w", file: "w.csv")
            Issue.record("ra 400 accepted")
        } catch {
            #expect("\(error)" == "w.csv:3: expected name,ra,dec[,radius_arcsec] with 0 <= ra < 360 and -90 <= dec <= 90, found 'b,400,0'")
        }
    }
}

