import AlertModel
import Basics
import Filters
import Foundation
import State

/// A rule run over the window of recent alerts: read a page of packets at a time (they are too big
/// to hold all at once), decode and evaluate each page on every core, keep the counts and the
/// newest matches.
struct PlaygroundRun {
    let site: Site
    let rule: FilterRule
    static let pageSize = 512
    static let shownLimit = 24

    struct Shown: Sendable {
        let survey: String
        let alertID: Int64
        let objectID: String?
        let summary: String
    }

    struct Result: Sendable {
        var read = 0
        var matched = 0
        var undecodable = 0
        var clausePasses: [Int]
        var shown: [Shown] = []

        mutating func add(_ other: Result) {
            read += other.read
            matched += other.matched
            undecodable += other.undecodable
            for i in clausePasses.indices { clausePasses[i] += other.clausePasses[i] }
            shown += other.shown.prefix(max(0, PlaygroundRun.shownLimit - shown.count))
        }
    }

    func run() async throws -> Result {
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let decoders = DecoderPool((0..<workers).map { _ in AlertDecoder(schemas: site.schemas) })
        let (rule, recent, total) = (self.rule, site.state.recent, site.playgroundAlerts)
        var result = Result(clausePasses: Array(repeating: 0, count: rule.clauses.count))
        // The next page is read while this one is evaluated (reading and decoding take turns otherwise).
        func page(after: RecentAlerts.Position?, limit: Int) async throws -> (entries: [RecentAlerts.Entry], end: RecentAlerts.Position?) {
            guard limit > 0 else { return ([], nil) }
            return try await offload { try recent.latest(limit, after: after) }
        }
        var read = 0
        var current = try await page(after: nil, limit: min(Self.pageSize, total))
        while !current.entries.isEmpty {
            let entries = current.entries
            read += entries.count
            let (end, limit) = (current.end, min(Self.pageSize, total - read))
            async let next = page(after: end, limit: limit)
            let size = (entries.count + workers - 1) / workers
            let parts = await withTaskGroup(of: (Int, Result).self) { group in
                for w in 0..<workers where w * size < entries.count {
                    let slice = entries[(w * size)..<min(entries.count, (w + 1) * size)]
                    group.addTask { (w, Self.evaluate(slice, rule: rule, decoder: decoders[w])) }
                }
                var parts = [Result?](repeating: nil, count: workers)
                for await (w, part) in group { parts[w] = part }
                return parts.compactMap { $0 }
            }
            for part in parts { result.add(part) }  // in window order: the newest matches first
            current = try await next
        }
        return result
    }

    static func evaluate(_ entries: ArraySlice<RecentAlerts.Entry>, rule: FilterRule, decoder: AlertDecoder) -> Result {
        var r = Result(clausePasses: Array(repeating: 0, count: rule.clauses.count))
        for e in entries {
            guard let alerts = try? decoder.decode(e.packet, source: e.source), e.index < alerts.count else {
                r.undecodable += 1
                continue
            }
            let alert = alerts[e.index]
            r.read += 1
            for (i, clause) in rule.clauses.enumerated() where clause.passes(alert) == true { r.clausePasses[i] += 1 }
            guard rule.matches(alert) else { continue }
            r.matched += 1
            if r.shown.count < shownLimit {
                r.shown.append(Shown(survey: alert.survey.rawValue, alertID: alert.alertId, objectID: alert.objectId, summary: alert.summary))
            }
        }
        return r
    }
}
