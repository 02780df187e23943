import Basics
import State
import Foundation

/// One task's answers on one subject.
package struct TaskResult: Sendable, Equatable {
    package enum Kind: String, Sendable {
        /// One answer (a label, or null when skipped).
        case question
        /// Several answers allowed (a list of labels).
        case multiple
        /// Choices from a survey task (`{choice, answers, filters}` values).
        case survey
        /// Drawings and other tasks: counted, not tallied.
        case other
    }

    package var task: String
    package var kind: Kind
    /// Volunteers whose latest classification of the subject has this task.
    package var volunteers: Int
    /// Votes per answer label (survey: per choice). A skipped question counts as `(no answer)`.
    package var counts: [String: Int]
    /// As panoptes_aggregation's question consensus reducer: the answer with most votes (ties: the
    /// first met), its votes, and their share of all votes.
    package var mostLikely: String?
    package var numVotes: Int
    package var agreement: Double?

    /// Votes per answer over the volunteers who answered the task.
    package var fractions: [String: Double] {
        counts.mapValues { volunteers > 0 ? Double($0) / Double(volunteers) : 0 }
    }

    package static let noAnswer = "(no answer)"
}

/// Everything volunteers said about one subject in one workflow.
package struct SubjectResult: Sendable, Equatable {
    package var workflowID: String
    package var subjectID: String
    package var workflowVersion: String?
    /// Distinct volunteers (each counted once, by their latest classification).
    package var volunteers: Int
    /// Classifications received, repeats by the same volunteer included: grows with every one, so
    /// it versions the result (a consumer keeps the record with the highest).
    package var classifications: Int
    package var lastClassificationID: Int64
    package var updatedAt: Date
    package var tasks: [TaskResult]
    /// By the retirement rule, or by Zooniverse (an export's `subject_data` says `retired`).
    package var retired: Bool
    /// The subject's metadata (its hidden keys join it to the alert).
    package var metadata: [String: JSONValue]
    /// With SWAP weighting: the probability that the subject is positive.
    package var posterior: Double? = nil

    /// The subject and workflow this result is of.
    package var key: Aggregator.Key { Aggregator.Key(workflowID: workflowID, subjectID: subjectID) }
}

/// Aggregates classifications per subject and task, counting each volunteer's latest
/// classification once (as the Rubin aggregation notebook and panoptes_aggregation's `last`
/// filter do). Feed it in any order; a classification seen before (a resumed pull, a repeated
/// export) changes nothing.
package struct Aggregator: Sendable {
    /// One subject in one workflow (kept in State, which stores what is due).
    package typealias Key = SubjectKey

    struct Entry: Sendable {
        var latest: [String: Classification] = [:]
        var received = 0
        var lastID: Int64 = 0
        var updatedAt = Date(timeIntervalSince1970: 0)
        var metadata: [String: JSONValue] = [:]
        var retiredAt: Int?  // volunteers when it retired; a retired subject stays retired
    }

    package var rule: RetirementRule
    /// Volunteer weighting (nil: every volunteer counts the same).
    package var swap: SWAP?
    private var entries: [Key: Entry] = [:]
    private var seen = Set<Int64>()

    package init(rule: RetirementRule = RetirementRule(), swap: SWAP? = nil) {
        self.rule = rule
        self.swap = swap
    }

    /// Adds a classification; returns the subjects whose result changed.
    @discardableResult
    package mutating func add(_ c: Classification) -> [Key] {
        guard seen.insert(c.id).inserted else { return [] }
        var changed: [Key] = []
        for subject in c.subjectIDs {
            let key = Key(workflowID: c.workflowID, subjectID: subject)
            var e = entries[key] ?? Entry()
            e.received += 1
            if c.id > e.lastID { e.lastID = c.id }
            if c.createdAt > e.updatedAt { e.updatedAt = c.createdAt }
            if let meta = c.subjectMetadata[subject] { e.metadata = meta }
            if let old = e.latest[c.volunteer], (old.createdAt, old.id) > (c.createdAt, c.id) {
                // An older classification arriving late: counted as received, not as the volunteer's answer.
            } else {
                e.latest[c.volunteer] = c
            }
            entries[key] = e
            if e.retiredAt == nil, rule.retires(result(key, e)) {
                entries[key]!.retiredAt = e.latest.count
            }
            changed.append(key)
        }
        return changed
    }

    package var keys: [Key] { entries.keys.sorted() }

    package func result(_ key: Key) -> SubjectResult? {
        guard let e = entries[key] else { return nil }
        var r = result(key, e)
        if let swap { r.posterior = swap.posterior(Array(e.latest.values), skills: skills) }
        return r
    }

    package var results: [SubjectResult] {
        guard let swap else { return keys.map { result($0, entries[$0]!) } }
        let skills = swap.skills(latest: entries.values.map { Array($0.latest.values) })
        return keys.map { key in
            var r = result(key, entries[key]!)
            r.posterior = swap.posterior(Array(entries[key]!.latest.values), skills: skills)
            return r
        }
    }

    /// Each volunteer's skill, learned from the gold subjects (empty without SWAP).
    package var skills: [String: SWAP.Skill] {
        swap?.skills(latest: entries.values.map { Array($0.latest.values) }) ?? [:]
    }

    private func result(_ key: Key, _ e: Entry) -> SubjectResult {
        let latest = e.latest.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        var byTask: [String: [JSONValue]] = [:]
        var order: [String] = []
        for c in latest {
            var surveys = Set<String>()
            for a in c.annotations {
                // A survey task holding twice in one classification: its first annotation counts, as
                // panoptes_aggregation's survey extractor reads it, so a volunteer is one value.
                if Self.isSurvey(a.value), !surveys.insert(a.task).inserted { continue }
                if byTask[a.task] == nil { order.append(a.task) }
                byTask[a.task, default: []].append(a.value)
            }
        }
        let tasks = order.sorted().map { Self.tally(task: $0, values: byTask[$0]!) }
        return SubjectResult(workflowID: key.workflowID, subjectID: key.subjectID,
                             workflowVersion: latest.last?.workflowVersion, volunteers: latest.count,
                             classifications: e.received, lastClassificationID: e.lastID, updatedAt: e.updatedAt,
                             tasks: tasks, retired: e.retiredAt != nil || e.metadata["retired"]?.object != nil, metadata: e.metadata)
    }

    /// One task's values (one per volunteer) tallied; `weights` (a count reducer's answer counts)
    /// make a plain value count as that many votes.
    static func tally(task: String, values: [JSONValue], weights: [Int]? = nil) -> TaskResult {
        var kind = TaskResult.Kind.question
        var counts: [String: Int] = [:]
        var firstSeen: [String] = []
        var weight = 1
        func vote(_ label: String) {
            if counts[label] == nil { firstSeen.append(label) }
            counts[label, default: 0] = counts[label, default: 0].addingSaturated(weight)
        }
        for (i, v) in values.enumerated() {
            weight = weights.map { i < $0.count ? $0[i] : 1 } ?? 1
            switch v {
            case .array(let items):
                // One value is one volunteer's: a choice marked twice in it (the same animal tagged
                // twice) is one vote, so a choice's count is of volunteers and its fraction at most 1.
                var chosen = Set<String>()
                for item in items {
                    if let choice = item["choice"] {
                        kind = .survey
                        let l = label(choice)
                        if chosen.insert(l).inserted { vote(l) }
                    } else if item.object != nil {
                        kind = .other  // a drawing mark
                    } else {
                        if kind == .question { kind = .multiple }
                        vote(label(item))
                    }
                }
            case .object:
                kind = .other
            default:
                vote(label(v))
            }
        }
        if kind == .other { counts = [:]; firstSeen = [] }
        let total = counts.values.reduce(0) { $0.addingSaturated($1) }
        // Ties go to the answer met first, as Counter.most_common does.
        let best = firstSeen.max { counts[$0]! < counts[$1]! || (counts[$0]! == counts[$1]! && firstSeen.firstIndex(of: $0)! > firstSeen.firstIndex(of: $1)!) }
        return TaskResult(task: task, kind: kind, volunteers: values.count, counts: counts, mostLikely: best,
                          numVotes: best.map { counts[$0]! } ?? 0, agreement: best.map { Double(counts[$0]!) / Double(total) })
    }

    /// A survey task's value: a list of `{choice, answers, filters}`.
    static func isSurvey(_ v: JSONValue) -> Bool { v.array?.contains { $0["choice"] != nil } ?? false }

    static func label(_ v: JSONValue) -> String {
        switch v {
        case .null: TaskResult.noAnswer
        case .string(let s): s
        case .bool(let b): b ? "True" : "False"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        default: v.description
        }
    }
}

extension Int {
    /// The sum, held at Int's bounds: counts that come from outside (a count reducer's) cannot trap.
    func addingSaturated(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
