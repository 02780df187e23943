import Basics
import State
import Foundation

/// A workflow's tasks, to turn the API's answer indices into the labels volunteers saw.
package struct ZooniverseWorkflow: Sendable {
    package struct Task: Sendable {
        /// `single`, `multiple`, `survey`, `drawing`, ...
        package var type: String
        package var answers: [String]
    }

    package let id: String
    package let displayName: String
    package let version: String?
    package let tasks: [String: Task]

    /// An annotation's value with answer indices replaced by their labels (question tasks); other
    /// values as they are.
    package func labelled(task: String, value: JSONValue) -> JSONValue {
        guard let t = tasks[task], t.type == "single" || t.type == "multiple" else { return value }
        func label(_ v: JSONValue) -> JSONValue {
            guard let n = v.int, t.answers.indices.contains(n) else { return v }
            return .string(t.answers[n])
        }
        if case .array(let items) = value { return .array(items.map(label)) }
        return label(value)
    }
}

extension PanoptesClient {
    /// `GET /api/workflows/{id}`: its tasks, with labels from `strings` where the workflow keeps them apart.
    package func workflow(_ id: String) throws(PanoptesError) -> ZooniverseWorkflow {
        let w = try first(try api("GET", "/workflows/\(id)"), "workflows", "/workflows/\(id)")
        let strings = w["strings"]?.object ?? [:]
        var tasks: [String: ZooniverseWorkflow.Task] = [:]
        for (key, t) in w["tasks"]?.object ?? [:] {
            let answers = (t["answers"]?.array ?? []).map { a -> String in
                let raw = a["label"]?.string ?? ""
                return strings[raw]?.string ?? raw
            }
            tasks[key] = .init(type: t["type"]?.string ?? "", answers: answers)
        }
        return ZooniverseWorkflow(id: w["id"]?.id ?? id, displayName: w["display_name"]?.string ?? "",
                                  version: w["version"]?.string, tasks: tasks)
    }

    /// Classifications of a project you can edit, after `lastID`, a page at a time
    /// (`GET /api/classifications/project`, following `meta.classifications.next_href`). `page` gets
    /// each page's raw classifications in ascending id; returning false stops.
    package func classifications(project: String, workflow: String?, after lastID: Int64?, pageSize: Int = 100,
                                page: ([JSONValue]) throws -> Bool) throws {
        var query = [("project_id", project), ("page_size", String(min(100, max(1, pageSize))))]
        if let workflow { query.append(("workflow_id", workflow)) }
        if let lastID { query.append(("last_id", String(lastID))) }
        var doc = try api("GET", "/classifications/project", query: query)
        while true {
            let items = doc.body["classifications"]?.array ?? []
            guard try page(items) else { return }
            guard let next = doc.body["meta"]?["classifications"]?["next_href"]?.string, !items.isEmpty else { return }
            doc = try api("GET", next.hasPrefix("/api/") ? String(next.dropFirst(4)) : next)
        }
    }

    /// Retires subjects on a workflow (`POST /api/workflows/{id}/retired_subjects`, as panoptes-client's
    /// `Workflow.retire_subjects`): volunteers see them no more. Reasons Panoptes knows:
    /// classification_count, flagged, nothing_here, consensus, other.
    package func retire(subjects: [String], workflow: String, reason: String = "consensus") throws(PanoptesError) {
        var start = 0
        while start < subjects.count {
            let batch = subjects[start..<min(start + 100, subjects.count)]
            _ = try api("POST", "/workflows/\(workflow)/retired_subjects",
                        body: ["subject_ids": .array(batch.map(JSONValue.string)), "retirement_reason": .string(reason)], idempotent: true)
            start += 100
        }
    }

    /// The latest classification export of a project (`GET /api/projects/{id}/classifications_export`):
    /// its download URL and whether it is ready; nil when none was ever made.
    package func classificationsExport(project: String) throws(PanoptesError) -> ZooniverseExport? {
        let doc = try api("GET", "/projects/\(project)/classifications_export")
        return doc.body["media"]?[0].map(ZooniverseExport.init)
    }

    /// Asks for a new export (`POST .../classifications_export`). Zooniverse makes one a day per project.
    package func requestClassificationsExport(project: String) throws(PanoptesError) -> ZooniverseExport? {
        let doc = try api("POST", "/projects/\(project)/classifications_export", body: ["media": ["content_type": "text/csv"]], idempotent: false)
        return doc.body["media"]?[0].map(ZooniverseExport.init)
    }

    /// Downloads an export's file (a blob URL: no Zooniverse credentials), retrying as the policy says.
    package func download(_ url: String) throws(PanoptesError) -> [UInt8] {
        let response = try send("GET", url, headers: [], body: nil, idempotent: true)
        guard response.status == 200 else {
            throw PanoptesError(kind: .http(status: response.status), method: "GET", url: Self.redacted(url), message: PanoptesError.message(from: response))
        }
        return response.body
    }
}

/// A data export Zooniverse makes on request (classifications: one a day per project).
package struct ZooniverseExport: Sendable {
    package let url: String?
    /// `creating`, `ready`, ...
    package let state: String
    package let updatedAt: Date?
    package var isReady: Bool { state == "ready" || state == "finished" }

    init(_ media: JSONValue) {
        url = media["src"]?.string
        state = media["metadata"]?["state"]?.string ?? "unknown"
        updatedAt = media["updated_at"]?.string.flatMap(Classification.date)
    }
}
