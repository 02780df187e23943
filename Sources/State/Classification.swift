import Basics
import Foundation

/// One volunteer's classification of one or more subjects, as Panoptes records it (from an export
/// row or the classifications API).
package struct Classification: Sendable, Equatable {
    /// One task's answer: a question's label (or labels, or null), a survey's choices, a drawing's marks.
    package struct Annotation: Sendable, Equatable {
        package var task: String
        package var value: JSONValue
        package init(task: String, value: JSONValue) { self.task = task; self.value = value }
    }

    package var id: Int64
    /// The volunteer: a login, or `not-logged-in-<hash>` for someone not signed in.
    package var user: String
    package var userID: String?
    package var workflowID: String
    package var workflowVersion: String?
    package var createdAt: Date
    /// A gold-standard classification (the science team's known answer for a training subject).
    package var goldStandard: Bool
    package var expert: Bool
    package var subjectIDs: [String]
    package var annotations: [Annotation]
    /// Each subject's metadata as the export carries it (`subject_data`), hidden keys included.
    package var subjectMetadata: [String: [String: JSONValue]]

    package init(id: Int64, user: String, userID: String? = nil, workflowID: String, workflowVersion: String? = nil,
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
    package var volunteer: String { userID.map { "user:" + $0 } ?? user }

    /// Panoptes's two time formats: exports' `2016-12-12 16:46:28 UTC`, the API's ISO 8601.
    package static func date(_ text: String) -> Date? {
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
