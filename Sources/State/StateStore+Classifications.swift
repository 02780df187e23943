import Basics
import Foundation

/// Classifications kept in the state store, so aggregates survive restarts and a pull resumes
/// where it stopped: a page of classifications and the pull's new position are written in one
/// transaction, and a classification stored twice is stored once.
extension StateStore {
    /// Stores classifications (those already stored are skipped) and, in the same transaction, where
    /// the pull of (`project`, `workflow`) has reached. Returns how many were new.
    @discardableResult
    package func store(_ classifications: [Classification], project: String = "",
                      cursor: (workflow: String, lastID: Int64)? = nil) throws -> Int {
        try database.transaction { tx in
            var added = 0
            for c in classifications {
                let annotations = JSONValue.array(c.annotations.map { ["task": .string($0.task), "value": $0.value] })
                let data = c.subjectMetadata.isEmpty ? SQLValue.null
                    : .text(JSONValue.object(c.subjectMetadata.mapValues(JSONValue.object)).description)
                try tx.execute("""
                    INSERT INTO classifications (id, project, workflow, workflow_version, "user", user_id, created_at, gold_standard,
                                                 expert, subject_ids, annotations, subject_data)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                    """, [.integer(c.id), .text(project), .text(c.workflowID), c.workflowVersion.map(SQLValue.text) ?? .null,
                          .text(c.user), c.userID.map(SQLValue.text) ?? .null, .real(c.createdAt.timeIntervalSince1970),
                          .integer(c.goldStandard ? 1 : 0), .integer(c.expert ? 1 : 0), .text(c.subjectIDs.joined(separator: ";")),
                          .text(annotations.description), data])
                guard tx.changes > 0 else { continue }
                added += 1
                try Self.index(c.id, workflow: c.workflowID, subjects: c.subjectIDs, in: tx)
            }
            if let cursor {
                try tx.execute("""
                    INSERT INTO classification_cursors (project, workflow, last_id, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (project, workflow) DO UPDATE SET last_id = CASE WHEN excluded.last_id > classification_cursors.last_id
                        THEN excluded.last_id ELSE classification_cursors.last_id END, updated_at = excluded.updated_at
                    """, [.text(project), .text(cursor.workflow), .integer(cursor.lastID), .real(Date().timeIntervalSince1970)])
            }
            return added
        }
    }

    /// The id of the last classification pulled for (`project`, `workflow`), if any.
    package func pullCursor(project: String, workflow: String) throws -> Int64? {
        try database.execute("SELECT last_id FROM classification_cursors WHERE project = ? AND workflow = ?",
                             [.text(project), .text(workflow)]).first?[0].integer
    }

    /// Records which subjects a new classification is of, and that their results are due.
    private static func index(_ id: Int64, workflow: String, subjects: [String], in tx: SQLTransaction) throws {
        for subject in subjects {
            try tx.execute("INSERT INTO classification_subjects (workflow, subject, classification_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           [.text(workflow), .text(subject), .integer(id)])
            try tx.execute("INSERT INTO aggregation_due (workflow, subject) VALUES (?, ?) ON CONFLICT DO NOTHING",
                           [.text(workflow), .text(subject)])
        }
    }

    /// Indexes the classifications a store held before it had `classification_subjects` (all due).
    package func indexStoredClassifications() throws {
        let rows = try database.execute("SELECT id, workflow, subject_ids FROM classifications")
        guard !rows.isEmpty else { return }
        try database.transaction { tx in
            for r in rows {
                try Self.index(r[0].integer ?? 0, workflow: r[1].text ?? "",
                               subjects: (r[2].text ?? "").split(separator: ";").map(String.init), in: tx)
            }
        }
    }

    /// Subjects that have classifications their published result does not count yet, at most `limit`.
    package func subjectsDue(limit: Int = 10_000) throws -> [SubjectKey] {
        try database.execute("SELECT workflow, subject FROM aggregation_due ORDER BY workflow, subject LIMIT ?", [.integer(Int64(limit))])
            .map { SubjectKey(workflowID: $0[0].text ?? "", subjectID: $0[1].text ?? "") }
    }

    /// Every stored classification of these subjects, oldest id first, each once.
    package func classifications(of subjects: [SubjectKey]) throws -> [Classification] {
        var out: [Int64: Classification] = [:]
        for key in subjects {
            let rows = try database.execute("""
                SELECT \(Self.columns) FROM classification_subjects s JOIN classifications c ON c.id = s.classification_id
                WHERE s.workflow = ? AND s.subject = ?
                """, [.text(key.workflowID), .text(key.subjectID)])
            for r in rows { out[r[0].integer ?? 0] = Self.classification(r) }
        }
        return out.keys.sorted().map { out[$0]! }
    }

    /// Records that each subject's result (published, or nothing to publish) counts `classifications`
    /// of its classifications: it stays due if more were stored meanwhile (a pull running beside).
    package func aggregated(_ results: [(subject: SubjectKey, classifications: Int)]) throws {
        guard !results.isEmpty else { return }
        try database.transaction { tx in
            for (key, n) in results {
                try tx.execute("""
                    DELETE FROM aggregation_due WHERE workflow = ? AND subject = ?
                    AND (SELECT COUNT(*) FROM classification_subjects WHERE workflow = ? AND subject = ?) <= ?
                    """, [.text(key.workflowID), .text(key.subjectID), .text(key.workflowID), .text(key.subjectID), .integer(Int64(n))])
            }
        }
    }

    private static let columns = "c.id, c.workflow, c.workflow_version, c.\"user\", c.user_id, c.created_at, c.gold_standard, c.expert, c.subject_ids, c.annotations, c.subject_data"

    /// Stored classifications, oldest id first (of one workflow, or all).
    package func classifications(workflow: String? = nil) throws -> [Classification] {
        var sql = "SELECT \(Self.columns) FROM classifications c"
        var params: [SQLValue] = []
        if let workflow { sql += " WHERE c.workflow = ?"; params.append(.text(workflow)) }
        return try database.execute(sql + " ORDER BY c.id", params).map(Self.classification)
    }

    private static func classification(_ r: [SQLValue]) -> Classification {
        let annotations = (try? JSONValue.decode(Array((r[9].text ?? "[]").utf8)))?.array?.map {
            Classification.Annotation(task: $0["task"]?.string ?? "", value: $0["value"] ?? .null)
        } ?? []
        var subjectData: [String: [String: JSONValue]] = [:]
        if let text = r[10].text, let doc = try? JSONValue.decode(Array(text.utf8)) {
            for (k, v) in doc.object ?? [:] { subjectData[k] = v.object ?? [:] }
        }
        return Classification(id: r[0].integer ?? 0, user: r[3].text ?? "", userID: r[4].text, workflowID: r[1].text ?? "",
                              workflowVersion: r[2].text, createdAt: Date(timeIntervalSince1970: r[5].real ?? 0),
                              goldStandard: r[6].integer == 1, expert: r[7].integer == 1,
                              subjectIDs: (r[8].text ?? "").split(separator: ";").map(String.init),
                              annotations: annotations, subjectMetadata: subjectData)
    }

    /// The metadata citsci gave a subject it pushed (by its Zooniverse id), with its project.
    package func pushedSubject(zooniverseID: String) throws -> (project: String, metadata: [String: JSONValue])? {
        guard let r = try database.execute("SELECT project, metadata FROM subjects WHERE zooniverse_id = ? LIMIT 1",
                                           [.text(zooniverseID)]).first else { return nil }
        let meta = r[1].text.flatMap { try? JSONValue.decode(Array($0.utf8)) }?.object ?? [:]
        return (r[0].text ?? "", meta)
    }

    /// The version last published for a subject's result, and whether it was retired then.
    package func published(workflow: String, subject: String) throws -> (version: Int64, retired: Bool, at: Date)? {
        try database.execute("SELECT version, retired, published_at FROM published_results WHERE workflow = ? AND subject = ?",
                             [.text(workflow), .text(subject)]).first.map {
            ($0[0].integer ?? 0, $0[1].integer == 1, Date(timeIntervalSince1970: $0[2].real ?? 0))
        }
    }

    package func markPublished(workflow: String, subject: String, version: Int64, retired: Bool, at: Date = Date()) throws {
        try database.execute("""
            INSERT INTO published_results (workflow, subject, version, retired, published_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (workflow, subject) DO UPDATE SET version = excluded.version, retired = excluded.retired, published_at = excluded.published_at
            """, [.text(workflow), .text(subject), .integer(version), .integer(retired ? 1 : 0), .real(at.timeIntervalSince1970)])
    }
}
