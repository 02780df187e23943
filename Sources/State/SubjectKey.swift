/// One subject of one workflow: what classifications are aggregated per.
package struct SubjectKey: Hashable, Sendable, Comparable {
    package var workflowID: String
    package var subjectID: String
    package init(workflowID: String, subjectID: String) {
        self.workflowID = workflowID
        self.subjectID = subjectID
    }
    package static func < (a: SubjectKey, b: SubjectKey) -> Bool { (a.workflowID, a.subjectID) < (b.workflowID, b.subjectID) }
}
