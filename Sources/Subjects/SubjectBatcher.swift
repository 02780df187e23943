import AlertModel
import Stamps
import Filters
import State
import Foundation

/// Turns an alert and the filters it matched into subjects in the folder sink: one subject per
/// destination (Zooniverse project and workflow) listing every filter that sent it there, rendered
/// as the first of those filters asks, within each filter's per-hour and per-night limits.
package final class SubjectBatcher: Sendable {
    package struct Result: Sendable, Equatable {
        /// The sets that received a subject.
        package var sets: [String] = []
        /// Destinations that already had a subject for this alert (a repeated alert).
        package var repeats = 0
        /// Filters that matched but had reached a limit.
        package var limited: [String] = []
    }

    package let sink: FolderSink
    package let state: StateStore
    package let lightCurve: Bool
    /// The most alerts a blink shows (its newest).
    package let blinkFrames: Int

    package init(sink: FolderSink, state: StateStore, lightCurve: Bool = true, blinkFrames: Int = 5) {
        self.sink = sink
        self.state = state
        self.lightCurve = lightCurve
        self.blinkFrames = blinkFrames
    }

    /// Records the alert and makes its subjects. Throws a `RenderError` when its stamps cannot be
    /// rendered (nothing is recorded then, so the caller can dead-letter it). `prerendered` holds
    /// flipbooks already drawn (in parallel, before this ordered step) for the flipbook settings
    /// that need no stored state: triplets and composites.
    @discardableResult
    package func add(_ alert: Alert, matches: [FilterFile], prerendered: [Prerendered] = [], now: Date = Date()) throws -> Result {
        try add([Matched(alert: alert, matches: matches, prerendered: prerendered)], now: now)[0].get()
    }

    /// An alert and the filters it matched, with the flipbooks drawn ahead and, when made ahead
    /// too, its light curve's JSON (`.some(nil)`: nothing to plot; nil: not made yet).
    package struct Matched: Sendable {
        package let alert: Alert
        package let matches: [FilterFile]
        package let prerendered: [Prerendered]
        package let lightCurve: [UInt8]??

        package init(alert: Alert, matches: [FilterFile], prerendered: [Prerendered] = [], lightCurve: [UInt8]?? = nil) {
            self.alert = alert
            self.matches = matches
            self.prerendered = prerendered
            self.lightCurve = lightCurve
        }
    }

    /// The light curve a subject of the alert carries, if subjects carry one (reads the alert's
    /// history: work on the alert alone, which pipelines do in parallel before the ordered step).
    package func lightCurve(of alert: Alert) -> [UInt8]? {
        lightCurve ? SubjectContent.lightCurve(alert) : nil
    }

    /// `add` for many alerts, in order, with their subjects and outcomes durable in a few synced
    /// writes for all (the sink's group commit, then one transaction for the outcomes). An alert
    /// whose stamps cannot be rendered gets its error in its place and nothing recorded; any other
    /// error (the store, the disk) is thrown.
    package func add(_ batch: [Matched], now: Date = Date()) throws -> [Swift.Result<Result, any Error>] {
        var results: [Swift.Result<Result, any Error>] = []
        var subjects: [FolderSink.NewSubject] = []
        var owners: [(alert: Int, filters: [String])] = []  // for each subject
        var sentBefore: [String: Int] = [:]  // subjects each filter sends in this batch, for its limits
        let enabled = batch.map { $0.matches.filter(\.enabled) }
        let destinations = enabled.map(Self.byDestination)  // each alert's enabled filters by destination
        let history = try sink.history(
            alerts: zip(batch, destinations).flatMap { item, to in to.keys.map { (String(item.alert.alertId), $0) } },
            objects: zip(batch, destinations).flatMap { item, to in item.alert.objectId.map { id in to.keys.map { (id, $0) } } ?? [] })
        for (n, item) in batch.enumerated() {
            var result = Result()
            let alert = item.alert
            if enabled[n].contains(where: { $0.flipbook.kind == .blink }) {
                try state.remember(alert, perObject: blinkFrames, maxAgeDays: 60)
            }
            var made: [(FolderSink.NewSubject, [String])] = []
            var curve = item.lightCurve  // made once for all the alert's destinations
            do {
                for (destination, group) in destinations[n].sorted(by: { $0.key.description < $1.key.description }) {
                    var filters: [FilterFile] = []
                    for f in group.sorted(by: { $0.name < $1.name }) {
                        let already = sentBefore[f.name, default: 0]
                        if let limit = f.perHour, try already + sink.count(filter: f.name, since: 3_600, atMost: limit, now: now) >= limit { result.limited.append(f.name); continue }
                        if let limit = f.perNight, try already + sink.count(filter: f.name, since: 86_400, atMost: limit, now: now) >= limit { result.limited.append(f.name); continue }
                        filters.append(f)
                    }
                    guard let primary = filters.first else { continue }
                    if history.contains(String(alert.alertId), destination: destination) { result.repeats += 1; continue }
                    let book = try item.prerendered.first(where: { $0.spec == primary.flipbook })?.flipbook.get() ?? render(alert, as: primary.flipbook)
                    let previous = alert.objectId.map { history.previousSubjects(object: $0, destination: destination) } ?? []
                    if curve == nil { curve = .some(lightCurve(of: alert)) }
                    let draft = SubjectContent.draft(alert: alert, flipbook: book,
                                                     filters: filters.map { FilterStamp(name: $0.name, version: $0.version) },
                                                     previousAlertIDs: previous, lightCurve: curve ?? nil)
                    let frames = switch primary.flipbook.kind {
                    case .triplet: 3
                    case .blink: blinkFrames
                    case .composite: 1
                    }
                    made.append((FolderSink.NewSubject(draft, filters: filters.map(\.name), destination: destination,
                                                       pattern: primary.destination.subjectSet, frameColumns: frames + (lightCurve ? 1 : 0)),
                                 filters.map(\.name)))
                }
            } catch where Self.isAlertFault(error) {
                results.append(.failure(error))
                continue
            }
            for (subject, filters) in made {
                subjects.append(subject)
                owners.append((n, filters))
                for f in filters { sentBefore[f, default: 0] += 1 }
            }
            results.append(.success(result))
        }

        let sets = try sink.add(subjects, history: history, now: now)
        var sent = [[String]](repeating: [], count: batch.count)
        for (k, set) in sets.enumerated() {
            let n = owners[k].alert
            guard case .success(var result) = results[n] else { continue }
            if let set {
                result.sets.append(set)
                sent[n] += owners[k].filters
            } else {
                result.repeats += 1
            }
            results[n] = .success(result)
        }
        var outcomes: [(alert: Alert, outcome: StateStore.Outcome, filters: [String])] = []
        for (n, item) in batch.enumerated() {
            guard case .success(let result) = results[n] else { continue }
            let outcome: StateStore.Outcome = !sent[n].isEmpty || result.repeats > 0 ? .matched : (result.limited.isEmpty ? .filteredOut : .refused)
            outcomes.append((item.alert, outcome, sent[n].isEmpty ? result.limited : sent[n]))
        }
        try state.record(outcomes)
        return results
    }

    /// Whether an error is the alert's fault (its stamps cannot be drawn: dead-letter it and go on)
    /// rather than the system's (stop).
    package static func isAlertFault(_ error: any Error) -> Bool {
        error is RenderError || error is FITSError || error is PNGError
    }

    /// A flipbook drawn ahead of `add`, or why it could not be.
    package struct Prerendered: Sendable {
        package let spec: FilterFile.Flipbook
        package let flipbook: Swift.Result<Flipbook, any Error>
    }

    /// The flipbooks of the alert's matches that need no stored state (all but blinks), drawn once
    /// per distinct setting: pure work on the alert alone, so pipelines draw them in parallel.
    package func prerender(_ alert: Alert, matches: [FilterFile]) -> [Prerendered] {
        // As `add` chooses: per destination, the first enabled filter by name (a limit reached may
        // make it another, drawn then).
        let primaries = Self.byDestination(matches.filter(\.enabled)).values.compactMap { $0.min { $0.name < $1.name } }
        var out: [Prerendered] = []
        for f in primaries where f.flipbook.kind != .blink && !out.contains(where: { $0.spec == f.flipbook }) {
            out.append(Prerendered(spec: f.flipbook, flipbook: Swift.Result { try render(alert, as: f.flipbook) }))
        }
        return out
    }

    /// Filters by the destination (project and workflow) they send subjects to.
    private static func byDestination(_ filters: [FilterFile]) -> [SubjectDestination: [FilterFile]] {
        Dictionary(grouping: filters) { SubjectDestination(project: $0.destination.project, workflow: $0.destination.workflow) }
    }

    /// The flipbook a filter asks for.
    package func render(_ alert: Alert, as spec: FilterFile.Flipbook) throws -> Flipbook {
        var settings = RenderSettings()
        settings.interval = spec.interval
        settings.stretch = spec.stretch
        settings.size = spec.size
        let renderer = FlipbookRenderer(settings: settings)
        switch spec.kind {
        case .blink:
            guard let object = alert.objectId else { return try renderer.blink([alert]) }
            let stored = try state.recentCutouts(object: object, survey: alert.survey)
            return stored.isEmpty ? try renderer.blink([alert]) : try renderer.blink(stored)
        case .composite: return try renderer.composite(alert)
        case .triplet: return try renderer.triplet(alert)
        }
    }
}
