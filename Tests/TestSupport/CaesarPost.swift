/// The body Caesar's external effect posts: a subject reduction as `SubjectReduction#prepare` gives it.
package enum CaesarPost {
    package static func body(subject: Int, data: String, workflow: Int = 47) -> [UInt8] {
        Array("""
            {"id": 991, "reducible": {"id": \(workflow), "type": "Workflow"}, "data": \(data),
             "subject": {"id": \(subject), "metadata": {"#alert_id": "170", "#object_id": "3001", "#survey": "rubin"},
                         "created_at": "2026-11-24T10:00:00.000Z", "updated_at": "2026-11-24T10:00:00.000Z"},
             "created_at": "2026-11-24T10:00:00.000Z", "updated_at": "2026-11-24T11:00:00.000Z"}
            """.utf8)
    }
}
