import Basics
import State
import Foundation

/// A Panoptes classification export (`POST /api/projects/{id}/classifications_export`, or the
/// project builder's Data Exports page): one row per classification with the columns
/// classification_id, user_name, user_id, user_ip, workflow_id, workflow_name, workflow_version,
/// created_at, gold_standard, expert, metadata, annotations, subject_data, subject_ids.
package enum ClassificationExport {
    static let required = ["classification_id", "user_name", "workflow_id", "created_at", "annotations", "subject_ids"]

    /// Every classification in the file, in file order. A row that cannot be read is an error
    /// naming its line and column.
    package static func read(_ path: String) throws(CSVFileError) -> [Classification] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CSVFileError(path: path, line: 0, reason: "cannot read the file")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    package static func parse(_ text: String, path: String) throws(CSVFileError) -> [Classification] {
        let records = try CSV.records(text, path: path)
        guard let header = records.first?.cells else { throw CSVFileError(path: path, line: 1, reason: "empty export") }
        var column: [String: Int] = [:]
        for (i, name) in header.enumerated() { column[name] = i }
        for name in required where column[name] == nil {
            throw CSVFileError(path: path, line: 1, reason: "no \(name) column: not a Panoptes classification export")
        }
        var out: [Classification] = []
        out.reserveCapacity(records.count)
        for record in records.dropFirst() {
            let cells = record.cells
            func cell(_ name: String) -> String { column[name].flatMap { $0 < cells.count ? cells[$0] : nil } ?? "" }
            func fail(_ name: String, _ why: String) -> CSVFileError {
                CSVFileError(path: path, line: record.line, reason: "\(name): \(why)")
            }
            guard cells.count == header.count else {
                throw CSVFileError(path: path, line: record.line, reason: "\(cells.count) cells, the header has \(header.count)")
            }
            guard let id = Int64(cell("classification_id")) else { throw fail("classification_id", "not a number: '\(cell("classification_id"))'") }
            guard let created = Classification.date(cell("created_at")) else { throw fail("created_at", "not a time: '\(cell("created_at"))'") }
            guard let annotationsJSON = try? JSONValue.decode(Array(cell("annotations").utf8)), let list = annotationsJSON.array else {
                throw fail("annotations", "not a JSON list")
            }
            var annotations: [Classification.Annotation] = []
            for a in list {
                guard let task = a["task"]?.string else { throw fail("annotations", "an annotation without its task") }
                annotations.append(.init(task: task, value: a["value"] ?? .null))
            }
            var subjectMetadata: [String: [String: JSONValue]] = [:]
            let subjectData = cell("subject_data")
            if !subjectData.isEmpty {
                guard let doc = try? JSONValue.decode(Array(subjectData.utf8)), let subjects = doc.object else {
                    throw fail("subject_data", "not a JSON object")
                }
                for (sid, meta) in subjects { subjectMetadata[sid] = meta.object ?? [:] }
            }
            let subjects = cell("subject_ids").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !subjects.isEmpty else { throw fail("subject_ids", "empty") }
            // Anonymous rows have no user id: empty in Panoptes's own exports, NA once R has rewritten them.
            let userID = ["", "na", "null", "none"].contains(cell("user_id").lowercased()) ? "" : cell("user_id")
            let user = cell("user_name").isEmpty ? "not-logged-in-" + cell("user_ip") : cell("user_name")
            out.append(Classification(id: id, user: user, userID: userID.isEmpty ? nil : userID,
                                      workflowID: cell("workflow_id"), workflowVersion: cell("workflow_version").isEmpty ? nil : cell("workflow_version"),
                                      createdAt: created, goldStandard: ["true", "t", "1"].contains(cell("gold_standard").lowercased()),
                                      expert: !["", "na", "false", "f", "0"].contains(cell("expert").lowercased()),
                                      subjectIDs: subjects, annotations: annotations, subjectMetadata: subjectMetadata))
        }
        return out
    }
}
