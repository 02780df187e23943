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

    let alerts = Counter(label: "citsci_alerts_total")
    let matched = Counter(label: "citsci_alerts_matched_total")
    let subjects = Counter(label: "citsci_subjects_created_total")
    let repeats = Counter(label: "citsci_alerts_repeated_total")
    let limited = Counter(label: "citsci_alerts_limited_total")
    let renderFailures = Counter(label: "citsci_alerts_unrenderable_total")
    let filterTime = Timer(label: "citsci_stage_seconds", dimensions: [("stage", "filter")])
    let batchTime = Timer(label: "citsci_stage_seconds", dimensions: [("stage", "render_and_batch")])

    package init(filters: FilterSet, batcher: SubjectBatcher) {
        self.filters = filters
        self.batcher = batcher
        self.sink = batcher.sink
    }

    package struct Outcome: Sendable, Equatable {
        package var subjects = 0
        package var matchedFilters: [String] = []
        /// Destinations that already had a subject for this alert.
        package var repeats = 0
        /// Filters that matched but had reached a limit.
        package var limited: [String] = []
    }

    /// An alert with the work done that needs nothing but the alert: the filters it matched and the
    /// flipbooks they ask for. Made in parallel, in any order; `handle` then takes alerts in order.
    package struct Prepared: Sendable {
        package let alert: Alert
        package let matches: [FilterFile]
        let flipbooks: [SubjectBatcher.Prerendered]

        /// Whether any filter matched (else only its outcome is recorded: `recordUnmatched`).
        package var matched: Bool { !matches.isEmpty }
    }

    /// The filters, and the flipbooks of the matches (pure work, safe to run on any number of tasks).
    package func prepare(_ alert: Alert) -> Prepared {
        let clock = ContinuousClock()
        let t0 = clock.now
        let matches = filters.matches(alert)
        filterTime.recordNanoseconds(Self.nanoseconds(clock.now - t0))
        let flipbooks = matches.isEmpty ? [] : batcher.prerender(alert, matches: matches)
        return Prepared(alert: alert, matches: matches, flipbooks: flipbooks)
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
        alerts.increment()
        let (alert, matches) = (prepared.alert, prepared.matches)
        for f in matches { Counter(label: "citsci_filter_matches_total", dimensions: [("filter", f.name)]).increment() }
        if !matches.isEmpty { matched.increment() }
        let clock = ContinuousClock()
        let t1 = clock.now
        let result: SubjectBatcher.Result
        do {
            result = try batcher.add(alert, matches: matches, prerendered: prepared.flipbooks, now: now)
        } catch where Self.isAlertFault(error) {
            renderFailures.increment()
            throw error
        }
        batchTime.recordNanoseconds(Self.nanoseconds(clock.now - t1))
        subjects.increment(by: result.sets.count)
        if result.repeats > 0 { repeats.increment() }
        if !result.limited.isEmpty { limited.increment() }
        return Outcome(subjects: result.sets.count, matchedFilters: matches.map(\.name), repeats: result.repeats, limited: result.limited)
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }

    /// Whether an error is the alert's fault (dead-letter it and go on) rather than the system's (stop).
    package static func isAlertFault(_ error: any Error) -> Bool {
        error is RenderError || error is FITSError || error is PNGError
    }
}
