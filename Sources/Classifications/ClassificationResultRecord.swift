import Basics
import Avro
import Schemas
import Foundation

/// The Avro record citsci publishes for each subject's aggregate (`schemas/classification-result.avsc`,
/// embedded in the binary), framed in the Confluent
/// wire format so any consumer with fastavro, Avro C or a Confluent deserializer reads it.
package enum ClassificationResultRecord {
    package static var schemaJSON: String { OwnedSchemas.classificationResult }

    package static let schema: AvroSchema = {
        do { return try AvroSchema.parse(json: schemaJSON) } catch { fatalError("schemas/classification-result.avsc: \(error)") }
    }()

    /// Where the subject came from, for the record's ids and provenance.
    package struct Origin: Sendable, Equatable {
        package var projectID: String?
        package var survey: String?
        package var alertID: String?
        package var sourceID: String?
        package var objectID: String?
        package var filters: [String] = []
        package var filterVersions: String?
        package var render: String?

        package init() {}

        /// From the subject's hidden metadata, as citsci writes it (the keys come back in exports).
        package init(metadata: [String: JSONValue], projectID: String? = nil) {
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
    package static func value(_ r: SubjectResult, origin: Origin, rule: RetirementRule, aggregation: String,
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
    package static func framed(_ value: AvroValue, schemaID: UInt32) throws -> [UInt8] {
        let body = try AvroEncoder.encode(value, as: schema)
        return [0, UInt8(schemaID >> 24), UInt8(schemaID >> 16 & 0xff), UInt8(schemaID >> 8 & 0xff), UInt8(schemaID & 0xff)] + body
    }
}
