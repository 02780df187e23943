import BrokerIngest
import Foundation

/// The Avro record citsci publishes for each subject's aggregate (`schemas/classification-result.avsc`,
/// embedded here so the binary needs no file; a test keeps the two identical), framed in the Confluent
/// wire format so any consumer with fastavro, Avro C or a Confluent deserializer reads it.
public enum ClassificationResultRecord {
    public static let schemaJSON = #"""
{
  "type": "record",
  "name": "ClassificationResult",
  "namespace": "org.citsci",
  "doc": "What Zooniverse volunteers said about one alert's subject in one workflow, aggregated by citsci. Records are keyed by object id; a subject's record is sent again when its aggregate changes or it retires, with a higher version: keep the record with the highest version per (workflowId, subjectId). Delivery is at-least-once: a restart can repeat a record, with the same version.",
  "fields": [
    {"name": "version", "type": "long", "doc": "Classifications received for the subject so far; grows with each one."},
    {"name": "subjectId", "type": "string", "doc": "Zooniverse subject id."},
    {"name": "projectId", "type": ["null", "string"], "default": null},
    {"name": "workflowId", "type": "string"},
    {"name": "workflowVersion", "type": ["null", "string"], "default": null},
    {"name": "survey", "type": ["null", "string"], "default": null, "doc": "rubin or ztf."},
    {"name": "alertId", "type": ["null", "string"], "default": null, "doc": "The alert the subject was made from (Rubin diaSourceId, ZTF candid)."},
    {"name": "sourceId", "type": ["null", "string"], "default": null, "doc": "Rubin diaSourceId or ZTF candid."},
    {"name": "objectId", "type": ["null", "string"], "default": null, "doc": "Rubin diaObjectId or ZTF objectId (the record key)."},
    {"name": "filters", "type": {"type": "array", "items": "string"}, "doc": "The citsci filters that sent the alert to volunteers."},
    {"name": "filterVersions", "type": ["null", "string"], "default": null, "doc": "name=hash of each filter file."},
    {"name": "render", "type": ["null", "string"], "default": null, "doc": "How the frames were made: interval, stretch, size, colour map, resampling."},
    {"name": "volunteers", "type": "int", "doc": "Distinct volunteers, each counted once by their latest classification."},
    {"name": "tasks", "type": {"type": "array", "items": {
      "type": "record", "name": "TaskResult",
      "fields": [
        {"name": "task", "type": "string", "doc": "Workflow task key, e.g. T0."},
        {"name": "kind", "type": "string", "doc": "question, multiple, survey or other."},
        {"name": "volunteers", "type": "int"},
        {"name": "answers", "type": {"type": "array", "items": {
          "type": "record", "name": "AnswerCount",
          "fields": [
            {"name": "answer", "type": "string", "doc": "The answer label (survey: the choice); (no answer) for a skipped question."},
            {"name": "count", "type": "int"},
            {"name": "fraction", "type": "double", "doc": "count / volunteers who answered the task."}
          ]}}},
        {"name": "mostLikely", "type": ["null", "string"], "default": null, "doc": "As panoptes_aggregation's question consensus reducer."},
        {"name": "numVotes", "type": "int"},
        {"name": "agreement", "type": ["null", "double"], "default": null, "doc": "numVotes / all votes on the task."}
      ]}}},
    {"name": "posterior", "type": ["null", "double"], "default": null, "doc": "With volunteer weighting: the posterior probability of the positive answer (SWAP); null otherwise."},
    {"name": "retired", "type": "boolean"},
    {"name": "retirementRule", "type": "string", "doc": "The rule that decides retirement, e.g. classifications>=15."},
    {"name": "aggregation", "type": "string", "doc": "The method and its parameters."},
    {"name": "updatedAt", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "Time of the latest classification counted."},
    {"name": "publishedAt", "type": {"type": "long", "logicalType": "timestamp-millis"}}
  ]
}
"""#

    public static let schema: AvroSchema = {
        do { return try AvroSchema.parse(json: schemaJSON) } catch { fatalError("schemas/classification-result.avsc: \(error)") }
    }()

    /// Where the subject came from, for the record's ids and provenance.
    public struct Origin: Sendable, Equatable {
        public var projectID: String?
        public var survey: String?
        public var alertID: String?
        public var sourceID: String?
        public var objectID: String?
        public var filters: [String] = []
        public var filterVersions: String?
        public var render: String?

        public init() {}

        /// From the subject's hidden metadata, as citsci writes it (the keys come back in exports).
        public init(metadata: [String: JSONValue], projectID: String? = nil) {
            func s(_ k: String) -> String? {
                guard let v = metadata[k] else { return nil }
                switch v {
                case .string(let t): return t.isEmpty ? nil : t
                case .number(let n): return v.int.map { String($0) } ?? String(n)
                default: return nil
                }
            }
            self.projectID = projectID
            survey = s("#survey")
            alertID = s("#alert_id")
            sourceID = s("#diaSourceId") ?? s("#candid") ?? s("#alert_id")
            // citsci's hidden keys first; then the visible ones other projects use (the SLSN project: objectId).
            objectID = s("#object_id") ?? s("#diaObjectId") ?? s("#objectId") ?? s("objectId") ?? s("diaObjectId")
            if survey == nil, let o = objectID { survey = o.hasPrefix("ZTF") ? "ztf" : (s("#diaObjectId") ?? s("diaObjectId")) != nil ? "rubin" : nil }
            filters = s("#filter")?.split(separator: ";").map(String.init) ?? []
            filterVersions = s("#filter_version")
            render = s("#render")
        }
    }

    /// The record's value for one subject.
    public static func value(_ r: SubjectResult, origin: Origin, rule: RetirementRule, aggregation: String,
                             publishedAt: Date = Date()) -> AvroValue {
        guard case .record(let top) = schema,
              case .array(.record(let taskSchema)) = top.fields[top.index(of: "tasks")!].type,
              case .array(.record(let answerSchema)) = taskSchema.fields[taskSchema.index(of: "answers")!].type
        else { fatalError("classification-result.avsc changed shape") }
        func opt(_ s: String?) -> AvroValue { s.map(AvroValue.string) ?? .null }
        func millis(_ d: Date) -> AvroValue { .long(Int64((d.timeIntervalSince1970 * 1000).rounded())) }
        let tasks: [AvroValue] = r.tasks.map { t in
            let fractions = t.fractions
            let answers: [AvroValue] = t.counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { answer, n in
                .record(AvroRecord(schema: answerSchema, values: [.string(answer), .long(Int64(n)), .double(fractions[answer] ?? 0)]))
            }
            return .record(AvroRecord(schema: taskSchema, values: [
                .string(t.task), .string(t.kind.rawValue), .long(Int64(t.volunteers)), .array(answers),
                opt(t.mostLikely), .long(Int64(t.numVotes)), t.agreement.map(AvroValue.double) ?? .null,
            ]))
        }
        let fields: [String: AvroValue] = [
            "version": .long(Int64(r.classifications)), "subjectId": .string(r.subjectID), "projectId": opt(origin.projectID),
            "workflowId": .string(r.workflowID), "workflowVersion": opt(r.workflowVersion), "survey": opt(origin.survey),
            "alertId": opt(origin.alertID), "sourceId": opt(origin.sourceID), "objectId": opt(origin.objectID),
            "filters": .array(origin.filters.map(AvroValue.string)), "filterVersions": opt(origin.filterVersions),
            "render": opt(origin.render), "volunteers": .long(Int64(r.volunteers)), "tasks": .array(tasks),
            "posterior": r.posterior.map(AvroValue.double) ?? .null, "retired": .boolean(r.retired),
            "retirementRule": .string(rule.description), "aggregation": .string(aggregation),
            "updatedAt": millis(r.updatedAt), "publishedAt": millis(publishedAt),
        ]
        return .record(AvroRecord(schema: top, values: top.fields.map { fields[$0.name] ?? .null }))
    }

    /// The Confluent wire format: byte 0, the schema id (4 bytes, big-endian), the Avro binary.
    public static func framed(_ value: AvroValue, schemaID: UInt32) throws -> [UInt8] {
        let body = try AvroEncoder.encode(value, as: schema)
        return [0, UInt8(schemaID >> 24), UInt8(schemaID >> 16 & 0xff), UInt8(schemaID >> 8 & 0xff), UInt8(schemaID & 0xff)] + body
    }
}
