import Basics
import State
import Zooniverse

extension Classification {
    /// A classification as `GET /api/classifications/...` lists it, answer indices turned into the
    /// workflow's labels. Nil when it lacks an id, time, workflow or subject.
    package init?(api c: JSONValue, workflow: ZooniverseWorkflow?) {
        guard let id = c["id"]?.id.flatMap({ Int64($0) }), let created = c["created_at"]?.string.flatMap(Self.date),
              let wf = c["links"]?["workflow"]?.id else { return nil }
        let subjects = c["links"]?["subjects"]?.array?.compactMap(\.id) ?? []
        guard !subjects.isEmpty else { return nil }
        let user = c["links"]?["user"]?.id
        let annotations = (c["annotations"]?.array ?? []).compactMap { a -> Annotation? in
            guard let task = a["task"]?.string else { return nil }
            let value = a["value"] ?? .null
            return Annotation(task: task, value: workflow?.labelled(task: task, value: value) ?? value)
        }
        var gold = false
        if case .bool(let b)? = c["gold_standard"] { gold = b }
        self.init(id: id, user: user.map { "user:" + $0 } ?? "anonymous-\(id)", userID: user, workflowID: wf,
                  workflowVersion: c["metadata"]?["workflow_version"]?.string, createdAt: created, goldStandard: gold,
                  expert: c["expert_classifier"]?.string != nil || c["expert_classifier"]?.number != nil,
                  subjectIDs: subjects, annotations: annotations)
    }
}
