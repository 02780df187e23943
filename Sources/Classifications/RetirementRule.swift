/// When a subject has had enough: after `classifications` volunteers, or once the consensus on
/// `task` reaches `agreement` with at least `minimum` volunteers — whichever comes first.
package struct RetirementRule: Sendable, Equatable, CustomStringConvertible {
    package var classifications: Int?
    package var agreement: Double?
    package var minimum: Int
    /// The task the agreement rule reads; nil: the first question task.
    package var task: String?

    package init(classifications: Int? = 15, agreement: Double? = nil, minimum: Int = 5, task: String? = nil) {
        self.classifications = classifications
        self.agreement = agreement
        self.minimum = minimum
        self.task = task
    }

    /// "classifications>=15", "agreement>=0.8 after 5 on T0", or both joined by " or ".
    package var description: String {
        var parts: [String] = []
        if let classifications { parts.append("classifications>=\(classifications)") }
        if let agreement { parts.append("agreement>=\(agreement) after \(minimum)" + (task.map { " on \($0)" } ?? "")) }
        return parts.isEmpty ? "never" : parts.joined(separator: " or ")
    }

    func retires(_ result: SubjectResult) -> Bool {
        if let classifications, result.volunteers >= classifications { return true }
        guard let agreement else { return false }
        let t = task.flatMap { name in result.tasks.first { $0.task == name } }
            ?? result.tasks.first { $0.kind == .question || $0.kind == .multiple }
        guard let t, t.volunteers >= minimum, let a = t.agreement else { return false }
        return a >= agreement
    }
}
