import Foundation

/// One volunteer's classification of one or more subjects, as Panoptes records it (from an export
/// row or the classifications API).
public struct Classification: Sendable, Equatable {
    /// One task's answer: a question's label (or labels, or null), a survey's choices, a drawing's marks.
    public struct Annotation: Sendable, Equatable {
        public var task: String
        public var value: JSONValue
        public init(task: String, value: JSONValue) { self.task = task; self.value = value }
    }

    public var id: Int64
    /// The volunteer: a login, or `not-logged-in-<hash>` for someone not signed in.
    public var user: String
    public var userID: String?
    public var workflowID: String
    public var workflowVersion: String?
    public var createdAt: Date
    /// A gold-standard classification (the science team's known answer for a training subject).
    public var goldStandard: Bool
    public var expert: Bool
    public var subjectIDs: [String]
    public var annotations: [Annotation]
    /// Each subject's metadata as the export carries it (`subject_data`), hidden keys included.
    public var subjectMetadata: [String: [String: JSONValue]]

    public init(id: Int64, user: String, userID: String? = nil, workflowID: String, workflowVersion: String? = nil,
                createdAt: Date, goldStandard: Bool = false, expert: Bool = false, subjectIDs: [String],
                annotations: [Annotation], subjectMetadata: [String: [String: JSONValue]] = [:]) {
        self.id = id
        self.user = user
        self.userID = userID
        self.workflowID = workflowID
        self.workflowVersion = workflowVersion
        self.createdAt = createdAt
        self.goldStandard = goldStandard
        self.expert = expert
        self.subjectIDs = subjectIDs
        self.annotations = annotations
        self.subjectMetadata = subjectMetadata
    }

    /// Who counts as one volunteer: a signed-in user by their id, anyone else by the name the export
    /// gives them (`not-logged-in-<hashed ip>`; the API gives no such name, so there each anonymous
    /// classification counts alone).
    public var volunteer: String { userID.map { "user:" + $0 } ?? user }

    /// A classification as `GET /api/classifications/...` lists it, answer indices turned into the
    /// workflow's labels. Nil when it lacks an id, time, workflow or subject.
    public init?(api c: JSONValue, workflow: ZooniverseWorkflow?) {
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

    /// Panoptes's two time formats: exports' `2016-12-12 16:46:28 UTC`, the API's ISO 8601.
    public static func date(_ text: String) -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix(" UTC") {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
            return f.date(from: t)
        }
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = iso.date(from: t) { return d }
        iso.formatOptions = [.withInternetDateTime]
        return iso.date(from: t)
    }
}
