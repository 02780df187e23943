import Basics
import State
import WebServer
import Foundation

/// Receives the reductions Zooniverse's Caesar POSTs in real time when a subject rule with an
/// `external` (or `external_with_basic_auth`) effect holds: the body is the subject's reduction
/// (`{"id", "reducible": {"id", "type": "Workflow"}, "data": {...}, "subject": {"id", "metadata"},
/// "created_at", "updated_at"}`; flat `workflow_id`/`subject_id`/`reducer_key` are taken too). Caesar
/// repeats the POST each time the rule holds, so a reduction is kept once per content: a repeat
/// changes nothing and says so.
///
/// Routes: `POST <path>` or `POST <path>/<reducer_key>` (`?workflow_id=` and `?reducer_key=` when the
/// body lacks them).
package final class CaesarReceiver: Sendable {
    package struct Reduction: Sendable, Equatable {
        package var workflowID: String
        package var subjectID: String
        package var reducerKey: String
        package var data: JSONValue
        package var subjectMetadata: [String: JSONValue]
        package var updatedAt: Date?
    }

    package enum Outcome: Sendable, Equatable {
        case stored(version: Int)
        case unchanged
    }

    package let state: StateStore
    package let path: String
    /// The basic credentials, when set: checked by the HTTP server before it reads a body, and by
    /// `handle` for requests that reach it another way.
    package let access: HTTPAccess
    let onChange: @Sendable (Reduction, Int) -> Void

    /// `username`/`password`: require them (HTTP basic auth), as `external_with_basic_auth` sends them.
    package init(state: StateStore, path: String = "/caesar", username: String? = nil, password: String? = nil,
                onChange: @escaping @Sendable (Reduction, Int) -> Void = { _, _ in }) {
        self.state = state
        self.path = path.hasSuffix("/") ? String(path.dropLast()) : path
        let hint = "CITSCI_CAESAR_USERNAME and CITSCI_CAESAR_PASSWORD"
        self.access = username.flatMap { u in password.map { HTTPAccess.basic(username: u, password: $0, hint: hint) } } ?? .open(hint: hint)
        self.onChange = onChange
    }

    package func handle(_ request: HTTPServer.Request) -> HTTPServer.Response {
        guard request.path == path || request.path.hasPrefix(path + "/") else { return .json(404, ["error": "no such path"]) }
        guard request.method == "POST" else { return .json(405, ["error": "POST a reduction here"]) }
        guard access.allows(path: request.path, authorization: request.headers["authorization"]) else {
            return HTTPServer.Response(status: 401, headers: [("WWW-Authenticate", access.challenge)], body: Array("{\"error\":\"unauthorized\"}".utf8))
        }
        let type = (request.headers["content-type"] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard type == "application/json" || type.hasSuffix("+json") else { return .json(415, ["error": "send JSON (Content-Type: application/json)"]) }
        guard let body = try? JSONValue.decode(request.body) else { return .json(400, ["error": "the body is not JSON"]) }
        let keyFromPath = request.path.count > path.count + 1 ? String(request.path.dropFirst(path.count + 1)) : nil
        let parsed = Self.reduction(body, query: request.query, reducerKey: keyFromPath)
        guard case .success(let reduction) = parsed else {
            if case .failure(let message) = parsed { return .json(422, ["error": .string(message.text)]) }
            return .json(422, [:])
        }
        do {
            switch try store(reduction) {
            case .unchanged:
                return .json(200, ["status": "unchanged"])
            case .stored(let version):
                onChange(reduction, version)
                return .json(201, ["status": "stored", "version": .number(Double(version))])
            }
        } catch {
            return .json(503, ["error": .string("cannot store the reduction: \(error)")])
        }
    }

    struct Message: Error { let text: String }

    /// The reduction in a Caesar POST body.
    static func reduction(_ body: JSONValue, query: [String: String], reducerKey: String?) -> Result<Reduction, Message> {
        let subject = body["subject"]?["id"]?.id ?? body["subject_id"]?.id
        var workflow = body["workflow_id"]?.id ?? query["workflow_id"]
        if workflow == nil, body["reducible"]?["type"]?.string?.lowercased() == "workflow" { workflow = body["reducible"]?["id"]?.id }
        let key = body["reducer_key"]?.string ?? query["reducer_key"] ?? reducerKey
        guard let subject else { return .failure(Message(text: "no subject id (subject.id or subject_id)")) }
        guard let workflow else { return .failure(Message(text: "no workflow id (reducible {id, type: Workflow}, workflow_id, or ?workflow_id=)")) }
        guard let key, !key.isEmpty else { return .failure(Message(text: "no reducer key (reducer_key, ?reducer_key=, or the path <path>/<reducer_key>)")) }
        guard let data = body["data"], data.object != nil else { return .failure(Message(text: "no data object")) }
        return .success(Reduction(workflowID: workflow, subjectID: subject, reducerKey: key, data: data,
                                  subjectMetadata: body["subject"]?["metadata"]?.object ?? [:],
                                  updatedAt: body["updated_at"]?.string.flatMap(Classification.date)))
    }

    /// Stores a reduction unless the same content is there already.
    package func store(_ r: Reduction) throws -> Outcome {
        try state.storeReduction(workflow: r.workflowID, subject: r.subjectID, reducerKey: r.reducerKey, data: r.data,
                                 subjectMetadata: r.subjectMetadata).map { .stored(version: $0) } ?? .unchanged
    }

    /// The subject's stored reductions as one result: each reducer a task, its data read as a
    /// question consensus (`most_likely`, `num_votes`, `agreement`), as answer counts, or as a
    /// classification count (`classifications`); the version grows with every change received.
    package func result(workflow: String, subject: String, retired: Bool = false) throws -> SubjectResult? {
        let rows = try state.reductions(workflow: workflow, subject: subject)
        guard !rows.isEmpty else { return nil }
        var tasks: [TaskResult] = []
        var volunteers = 0, version = 0
        var metadata: [String: JSONValue] = [:]
        var updated = Date(timeIntervalSince1970: 0)
        for r in rows {
            let key = r.reducerKey
            let data = r.data
            for (k, v) in r.subjectMetadata { metadata[k] = v }
            version += r.version
            updated = max(updated, r.receivedAt)
            // Caesar's count reducer: {"classifications": n, "extracts": m}.
            if let n = data["classifications"]?.int, Set(data.keys).isSubset(of: ["classifications", "extracts"]) {
                volunteers = max(volunteers, max(0, n))
                continue
            }
            if let best = data["most_likely"] {
                let votes = max(0, data["num_votes"]?.int ?? 0)
                tasks.append(TaskResult(task: key, kind: .question, volunteers: votes, counts: [:], mostLikely: Aggregator.label(best),
                                        numVotes: votes, agreement: data["agreement"]?.number))
            } else if !data.isEmpty, data.values.allSatisfy({ ($0.int ?? -1) >= 0 }) {
                // Answer counts, each a whole number ≥ 0 (anything else is not a count reducer's).
                let counts = data.sorted { $0.key < $1.key }.map { (JSONValue.string($0.key), $0.value.int ?? 0) }
                var t = Aggregator.tally(task: key, values: counts.map(\.0), weights: counts.map(\.1))
                t.volunteers = counts.reduce(0) { $0.addingSaturated($1.1) }
                tasks.append(t)
            } else {
                tasks.append(TaskResult(task: key, kind: .other, volunteers: 0, counts: [:], mostLikely: nil, numVotes: 0, agreement: nil))
            }
            volunteers = max(volunteers, tasks.last?.volunteers ?? 0)
        }
        return SubjectResult(workflowID: workflow, subjectID: subject, workflowVersion: nil, volunteers: volunteers,
                             classifications: version, lastClassificationID: 0, updatedAt: updated, tasks: tasks,
                             retired: retired, metadata: metadata)
    }
}
