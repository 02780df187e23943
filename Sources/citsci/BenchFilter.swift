import AlertModel
import Filters
import ArgumentParser
import Foundation

struct BenchFilter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Filter evaluations per second on decoded alerts held in memory (one core).",
        discussion: """
        simple: N rules `candidate.magpsf < X` (X varies). complex: N copies of a rule with a field comparison,
        an aggregate, BETWEEN, IN, a function and a cone search in a 10,000-entry watchlist (seeded positions).
        """)

    @Option(help: "How many filters.")
    var filters: Int = 1

    @Option(help: "simple or complex.")
    var kind: String = "simple"

    @Option(help: "Seconds to run.")
    var seconds: Double = 3

    @Flag(help: "Print one JSON object.")
    var json = false

    @Argument(help: "ZTF alert files or folders.")
    var files: [String]

    static let complex = """
    candidate.drb > 0.5 AND count(prv_candidates) >= 2 AND magnitude BETWEEN 14 AND 20
    AND NOT in_watchlist('known', 2 arcsec) AND (band IN ('g', 'r') OR days_since_first_detection() < 5)
    """

    /// 10,000 positions spread over the sky, the same every run (the Python baseline makes the same).
    static func watchlist() -> Watchlist {
        var entries: [Watchlist.Entry] = []
        var state: UInt64 = 12345
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        for i in 0..<10_000 {
            let ra: Double = next() * 360
            let u: Double = next() * 2 - 1
            let dec: Double = asin(u) * 180 / Double.pi
            entries.append(Watchlist.Entry(name: "w\(i)", ra: ra, dec: dec, radius: nil))
        }
        return Watchlist(name: "known", entries: entries)
    }

    func run() throws {
        var alerts: [Alert] = []
        for path in try AlertFiles.expand(files) { alerts += (try? AlertDecoder().decode(try AlertFiles.read(path))) ?? [] }
        guard !alerts.isEmpty else { throw ValidationError("no alerts") }
        let resources = FilterResources(watchlists: ["known": Self.watchlist()])
        let rules = try (0..<filters).map { i in
            try FilterRule(name: "f\(i)", expression: kind == "simple" ? "candidate.magpsf < \(15 + Double(i % 50) * 0.1)" : Self.complex,
                           resources: resources)
        }
        let book = RuleBook(rules)  // as FilterSet evaluates its filters
        // Every alert through every rule, counting matches, as the Python baseline does: the book
        // counts over the alerts in place. One call per alert (as the service makes) also retains
        // and releases the alert, which costs as much as a one-field rule: measured beside it.
        var hits: [Bool] = []
        let clock = ContinuousClock()
        func measure(_ pass: () -> Int) -> (rate: Double, matches: Int) {
            var evaluations = 0, matches = 0
            let start = clock.now
            repeat {
                matches += pass()
                evaluations += alerts.count * rules.count
            } while clock.now - start < .seconds(seconds)
            return (Double(evaluations) / ((clock.now - start) / .seconds(1)), matches)
        }
        let counted = measure { book.matchCounts(alerts).reduce(0, +) }
        let single = measure {
            var n = 0
            for i in alerts.indices {
                book.evaluate(alerts[i], into: &hits)
                for h in hits where h { n += 1 }
            }
            return n
        }
        let rate = counted.rate
        if json {
            print("{\"tool\":\"citsci\",\"kind\":\"\(kind)\",\"filters\":\(filters),\"evaluations_per_s\":\(rate),\"alerts_per_s\":\(rate / Double(filters)),\"one_call_per_alert_evaluations_per_s\":\(single.rate),\"matches\":\(counted.matches)}")
        } else {
            print(String(format: "citsci %@ x%d: %.0f evaluations/s (%.0f alerts/s through all filters); one call per alert: %.0f evaluations/s",
                         kind, filters, rate, rate / Double(filters), single.rate))
        }
    }
}
