import Basics
import Kafka
import State
import Zooniverse
import Foundation

/// Republishes subjects' aggregates to Kafka as `ClassificationResultRecord`s keyed by object id
/// (Confluent wire format), and optionally as Lasair annotations. A subject's record goes out when
/// its aggregate has changed since the last one sent — at most once per `debounce` seconds — and at
/// once when it retires. What was sent is recorded after the broker acknowledged it, so a restart
/// may send a record again (at-least-once), with the same version: harmless to a consumer that
/// keeps the highest version.
package final class ResultPublisher: Sendable {
    package struct Options: Sendable {
        package var topic: String
        /// The schema's id in the registry (or the id agreed with consumers when there is none).
        package var schemaID: UInt32
        package var debounce: Double = 300
        package var rule: RetirementRule
        /// The Zooniverse project, when the subjects' own records do not say.
        package var projectID: String?
        /// Also publish Lasair annotations (JSON) to this topic.
        package var lasairTopic: String?
        /// The task whose consensus is the Lasair `classification` (default: the first question task).
        package var lasairTask: String?
        /// The volunteer weighting the results carry, named in each record's `aggregation`.
        package var swap: SWAP?
        /// The project's slug (owner/name), for links to a subject's Talk page.
        package var projectSlug: String?
        /// Retire subjects on Zooniverse too when the rule retires them (volunteers then see them no more).
        package var retireOn: PanoptesClient?

        package init(topic: String, schemaID: UInt32, rule: RetirementRule) {
            self.topic = topic
            self.schemaID = schemaID
            self.rule = rule
        }
    }

    package struct Report: Sendable, Equatable, CustomStringConvertible {
        package var published = 0
        package var retired = 0
        package var unchanged = 0
        package var debounced = 0
        /// The debounced subjects: to publish in a later round.
        package var later: [Aggregator.Key] = []
        package var description: String {
            "\(published) results published (\(retired) newly retired), \(unchanged) unchanged, \(debounced) changed but sent less than the debounce interval ago"
        }
    }

    package let producer: KafkaProducer
    package let state: StateStore
    package let options: Options

    package init(producer: KafkaProducer, state: StateStore, options: Options) {
        self.producer = producer
        self.state = state
        self.options = options
    }

    package var aggregation: String {
        "latest classification per volunteer; question consensus as panoptes_aggregation (most_likely, num_votes, agreement); retirement \(options.rule)"
            + (options.swap.map { "; \($0)" } ?? "")
    }

    /// Publishes what changed among `results`.
    package func publish(_ results: [SubjectResult], now: Date = Date()) async throws -> Report {
        var report = Report()
        for r in results {
            let last = try state.published(workflow: r.workflowID, subject: r.subjectID)
            let version = Int64(r.classifications)
            if let last, last.version >= version && last.retired == r.retired { report.unchanged += 1; continue }
            let retiresNow = r.retired && last?.retired != true
            if let last, !retiresNow, now.timeIntervalSince(last.at) < options.debounce { report.debounced += 1; report.later.append(r.key); continue }
            let origin = try origin(of: r)
            let value = ClassificationResultRecord.value(r, origin: origin, rule: options.rule, aggregation: aggregation, publishedAt: now)
            let key = Array((origin.objectID ?? r.subjectID).utf8)
            _ = try await producer.send(ProducerRecord(topic: options.topic, key: key,
                                                       value: try ClassificationResultRecord.framed(value, schemaID: options.schemaID)))
            if let lasair = options.lasairTopic, let object = origin.objectID,
               let annotation = Self.lasairAnnotation(r, objectID: object, task: options.lasairTask, topic: lasair, projectSlug: options.projectSlug) {
                _ = try await producer.send(ProducerRecord(topic: lasair, key: Array(object.utf8), value: annotation))
            }
            if retiresNow, r.metadata["retired"]?.object == nil, let client = options.retireOn {
                try client.retire(subjects: [r.subjectID], workflow: r.workflowID, reason: r.volunteers >= (options.rule.classifications ?? .max) ? "classification_count" : "consensus")
            }
            try state.markPublished(workflow: r.workflowID, subject: r.subjectID, version: version, retired: r.retired, at: now)
            report.published += 1
            if retiresNow { report.retired += 1 }
        }
        return report
    }

    /// Ids and provenance: from the state store when citsci pushed the subject, else from the
    /// subject's hidden metadata as the export carried it.
    func origin(of r: SubjectResult) throws -> ClassificationResultRecord.Origin {
        if let pushed = try state.pushedSubject(zooniverseID: r.subjectID) {
            return .init(metadata: pushed.metadata, projectID: pushed.project)
        }
        return .init(metadata: r.metadata, projectID: options.projectID)
    }

    /// Lasair's annotation form, `{objectId, topic, classification, version, explanation, classdict, url}`,
    /// as its annotators send it: the consensus of the task, with every answer's count in `classdict`.
    package static func lasairAnnotation(_ r: SubjectResult, objectID: String, task: String?, topic: String,
                                        projectSlug: String? = nil) -> [UInt8]? {
        guard let t = task.flatMap({ name in r.tasks.first { $0.task == name } })
                ?? r.tasks.first(where: { $0.kind == .question || $0.kind == .multiple }),
              let consensus = t.mostLikely else { return nil }
        var classdict: [String: JSONValue] = [:]
        for (answer, n) in t.counts { classdict[answer] = .number(Double(n)) }
        classdict["volunteers"] = .number(Double(t.volunteers))
        classdict["agreement"] = t.agreement.map(JSONValue.number) ?? .null
        classdict["retired"] = .bool(r.retired)
        classdict["subject_id"] = .string(r.subjectID)
        classdict["workflow_id"] = .string(r.workflowID)
        let doc: JSONValue = [
            "objectId": .string(objectID), "topic": .string(topic), "classification": .string(consensus),
            "version": .string("citsci-\(r.classifications)"),
            "explanation": .string("Zooniverse volunteers: \(t.numVotes) of \(t.volunteers) said \(consensus) on \(t.task)"),
            "classdict": .object(classdict),
            // The subject's Talk page, where volunteers discuss it; without the slug, the subject in the API.
            "url": .string(projectSlug.map { "https://www.zooniverse.org/projects/\($0)/talk/subjects/\(r.subjectID)" }
                ?? "https://www.zooniverse.org/api/subjects/\(r.subjectID)"),
        ]
        return doc.encoded()
    }
}
