import AlertModel
import Stamps
import Filters
import State
import Subjects
import Foundation
import Metrics

/// What `citsci run` does with each decoded alert, whatever its source: the filters, then the
/// subjects the matches make in the folder sink, with metrics for each stage. An alert whose stamps
/// cannot be rendered is reported to the caller, which dead-letters its message.
package final class AlertPipeline: Sendable {
    package let filters: FilterSet
    package let batcher: SubjectBatcher
    package let sink: FolderSink
    /// Where the ordered stage hands its alerts for the window of recent alerts (none: not kept).
    package let recent: RecentAlertsRecorder?

    let alerts = Counter(label: "citsci_alerts_total")
    let matched = Counter(label: "citsci_alerts_matched_total")
    let subjects = Counter(label: "citsci_subjects_created_total")
    let repeats = Counter(label: "citsci_alerts_repeated_total")
    let limited = Counter(label: "citsci_alerts_limited_total")
    let renderFailures = Counter(label: "citsci_alerts_unrenderable_total")
    let filterTime = Timer(label: "citsci_stage_seconds", dimensions: [("stage", "filter")])
    let batchTime = Timer(label: "citsci_stage_seconds", dimensions: [("stage", "render_and_batch")])

    package init(filters: FilterSet, batcher: SubjectBatcher, recent: RecentAlertsRecorder? = nil) {
        self.filters = filters
        self.batcher = batcher
        self.sink = batcher.sink
        self.recent = recent
    }

    package struct Outcome: Sendable, Equatable {
        package var subjects = 0
        package var matchedFilters: [String] = []
        /// Destinations that already had a subject for this alert.
        package var repeats = 0
        /// Filters that matched but had reached a limit.
        package var limited: [String] = []
    }

    /// An alert with the work done that needs nothing but the alert: the filters it matched, the
    /// flipbooks they ask for and its light curve. Made in parallel, in any order; `handle` then
    /// takes alerts in order.
    package struct Prepared: Sendable {
        package let alert: Alert
        package let matches: [FilterFile]
        let flipbooks: [SubjectBatcher.Prerendered]
        let lightCurve: [UInt8]??

        /// Whether any filter matched (else only its outcome is recorded: `recordUnmatched`).
        package var matched: Bool { !matches.isEmpty }
    }

    /// The filters, then the flipbooks and light curve of a match (pure work, safe to run on any
    /// number of tasks).
    package func prepare(_ alert: Alert) -> Prepared {
        let clock = ContinuousClock()
        let t0 = clock.now
        let matches = filters.matches(alert)
        filterTime.recordNanoseconds(Self.nanoseconds(clock.now - t0))
        guard !matches.isEmpty else { return Prepared(alert: alert, matches: [], flipbooks: [], lightCurve: nil) }
        return Prepared(alert: alert, matches: matches, flipbooks: batcher.prerender(alert, matches: matches),
                        lightCurve: .some(batcher.lightCurve(of: alert)))
    }

    /// Filters the alert and makes its subjects; durable in the state store when it returns.
    /// Throws a `RenderError`, `FITSError` or `PNGError` when the alert's stamps are bad (the caller
    /// dead-letters it), anything else when the state store or the disk fails.
    @discardableResult
    package func handle(_ alert: Alert, now: Date = Date()) throws -> Outcome {
        try handle(prepare(alert), now: now)
    }

    /// Records, in one transaction (group commit: one synced write), the alerts that matched no
    /// filter: the outcome of most of a stream's alerts. Durable when it returns.
    package func recordUnmatched(_ prepared: [Prepared]) throws {
        guard !prepared.isEmpty else { return }
        alerts.increment(by: prepared.count)
        try batcher.state.record(prepared.map { ($0.alert, StateStore.Outcome.filteredOut, []) })
    }

    /// `handle` for an alert already prepared.
    @discardableResult
    package func handle(_ prepared: Prepared, now: Date = Date()) throws -> Outcome {
        try handle([prepared], now: now)[0].get()
    }

    /// `handle` for many alerts already prepared, in order, durable together when it returns (group
    /// commit: a few synced writes for all their subjects). An alert whose stamps are bad gets its
    /// error in its place (the caller dead-letters it); anything else is thrown.
    package func handle(_ batch: [Prepared], now: Date = Date()) throws -> [Result<Outcome, any Error>] {
        guard !batch.isEmpty else { return [] }
        alerts.increment(by: batch.count)
        for prepared in batch {
            for f in prepared.matches { Counter(label: "citsci_filter_matches_total", dimensions: [("filter", f.name)]).increment() }
            if prepared.matched { matched.increment() }
        }
        let clock = ContinuousClock()
        let t1 = clock.now
        let results = try batcher.add(batch.map { SubjectBatcher.Matched(alert: $0.alert, matches: $0.matches, prerendered: $0.flipbooks,
                                                                          lightCurve: $0.lightCurve) },
                                      now: now)
        batchTime.recordNanoseconds(Self.nanoseconds(clock.now - t1))
        return zip(batch, results).map { prepared, result in
            result.map { r in
                subjects.increment(by: r.sets.count)
                if r.repeats > 0 { repeats.increment() }
                if !r.limited.isEmpty { limited.increment() }
                return Outcome(subjects: r.sets.count, matchedFilters: prepared.matches.map(\.name), repeats: r.repeats, limited: r.limited)
            }.mapError { error in
                renderFailures.increment()
                return error
            }
        }
    }

    /// An alert of the ordered stage with where it came from: its message or file (`origin`, for a
    /// dead letter), the bytes it arrived in and its place among their alerts.
    package struct Arrival<Origin: Sendable>: Sendable {
        package let prepared: Prepared
        package let origin: Origin
        package let packet: [UInt8]
        package let index: Int
        /// `topic[partition]@offset` or a file path.
        package let source: String

        package init(prepared: Prepared, origin: Origin, packet: [UInt8], index: Int, source: String) {
            self.prepared = prepared
            self.origin = origin
            self.packet = packet
            self.index = index
            self.source = source
        }
    }

    /// The ordered stage for a batch, whatever its source: the matched alerts' subjects (an alert
    /// whose stamps are bad goes to `deadLetter` with its error), then the outcomes of the alerts
    /// that matched nothing, durable together; then the batch is offered to the window of recent
    /// alerts.
    package func handleInOrder<Origin: Sendable>(_ batch: [Arrival<Origin>],
                                                 deadLetter: (Arrival<Origin>, any Error) async throws -> Void) async throws {
        let matched = batch.filter(\.prepared.matched)
        for (item, result) in zip(matched, try handle(matched.map(\.prepared))) {
            if case .failure(let error) = result { try await deadLetter(item, error) }
        }
        try recordUnmatched(batch.filter { !$0.prepared.matched }.map(\.prepared))
        guard let recent else { return }
        let now = Date().timeIntervalSince1970
        recent.offer(batch.map { RecentAlerts.Entry($0.prepared.alert, packet: $0.packet, index: $0.index, source: $0.source, receivedAt: now) })
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }

    /// Whether an error is the alert's fault (dead-letter it and go on) rather than the system's (stop).
    package static func isAlertFault(_ error: any Error) -> Bool { SubjectBatcher.isAlertFault(error) }
}
