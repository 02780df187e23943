import Basics
import Foundation

/// What the push to Zooniverse records: each subject's way there (ready → creating → created →
/// uploaded → linked, or held with the reason), the subject sets made or adopted there, and the
/// closed sets' manifests already read.
package struct ZooniverseLedger: Sendable {
    let database: any SQLDatabase

    /// Where a subject is on its way to Zooniverse.
    package enum Phase: String, Sendable, CaseIterable {
        case ready, held, creating, created, uploaded, linked
    }

    /// A subject as a manifest row gives it.
    package struct ManifestSubject: Sendable {
        package var externalID: String
        package var objectID: String?
        package var frames: [(name: String, mime: String)]
        package var metadata: [String: String]
        package init(externalID: String, objectID: String?, frames: [(name: String, mime: String)], metadata: [String: String]) {
            self.externalID = externalID
            self.objectID = objectID
            self.frames = frames
            self.metadata = metadata
        }
    }

    /// One subject's row: where its frames are, what it carries, and how far it has come.
    package struct Subject: Sendable {
        package var externalID: String
        package var workflow: String
        package var setName: String
        package var phase: Phase
        package var reason: String?
        package var folder: String
        package var objectID: String?
        package var frames: [(name: String, mime: String)]
        package var metadata: [String: JSONValue]
        package var zooniverseID: String?
        package var uploadURLs: [String]
        package var framesUploaded: Int
    }

    /// A subject's key and its set, as the push's lists give them.
    package struct SubjectRef: Sendable, Hashable {
        package var externalID: String
        package var workflow: String
        package var setName: String
        package var phase: Phase
        package var reason: String?
        package var zooniverseID: String?
    }

    /// A subject set's row.
    package struct SetRecord: Sendable, Equatable {
        package enum Phase: String, Sendable { case creating, created, workflowLinked = "workflow_linked" }
        package var phase: Phase
        package var zooniverseID: String?
    }

    // MARK: Manifests

    /// The (workflow, folder) pairs whose manifests were read in full.
    package func importedManifests(project: String) throws -> [(workflow: String, folder: String)] {
        try database.execute("SELECT workflow, folder FROM imported_manifests WHERE project = ?", [.text(project)])
            .map { row throws(SQLError) in (try row.text(0, "workflow"), try row.text(1, "folder")) }
    }

    /// Adds the manifest's subjects not yet known, ready to go; returns how many. When the set is
    /// `closed` its manifest no longer changes, and the same transaction records it as read.
    package func importManifest(project: String, workflow: String, folder: String, setName: String,
                                subjects: [ManifestSubject], closed: Bool, at now: Date = Date()) throws -> Int {
        let time = now.timeIntervalSince1970
        return try database.transaction { tx in
            var added = 0
            for (i, s) in subjects.enumerated() {
                let frames = JSONValue.array(s.frames.map { ["name": .string($0.name), "mime": .string($0.mime)] })
                let meta = JSONValue.object(s.metadata.mapValues(JSONValue.string))
                try tx.execute("""
                    INSERT INTO subjects (project, workflow, external_id, set_name, folder, object_id, frames, metadata, state, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?, ?) ON CONFLICT DO NOTHING
                    """, [.text(project), .text(workflow), .text(s.externalID), .text(setName), .text(folder),
                          s.objectID.map(SQLValue.text) ?? .null, .text(frames.description), .text(meta.description),
                          .real(time + Double(i) * 1e-6), .real(time)])
                added += tx.changes
            }
            if closed {
                try tx.execute("""
                    INSERT INTO imported_manifests (project, workflow, folder, set_name, subjects, imported_at)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """, [.text(project), .text(workflow), .text(folder), .text(setName), .integer(Int64(subjects.count)), .real(time)])
            }
            return added
        }
    }

    // MARK: Subjects

    /// The project's subjects in the given phases, oldest first.
    package func subjects(project: String, in phases: [Phase]) throws -> [SubjectRef] {
        let marks = phases.map { _ in "?" }.joined(separator: ", ")
        return try database.execute(
            "SELECT external_id, workflow, set_name, state, reason, zooniverse_id FROM subjects WHERE project = ? AND state IN (\(marks)) ORDER BY created_at, external_id",
            [.text(project)] + phases.map { .text($0.rawValue) }
        ).map { r throws(SQLError) in
            SubjectRef(externalID: try r.text(0, "external_id"), workflow: r[1].text ?? "", setName: try r.text(2, "set_name"),
                       phase: Phase(rawValue: try r.text(3, "state")) ?? .held, reason: r[4].text, zooniverseID: r[5].text)
        }
    }

    /// How many of the project's subjects are in the given phases (of one set when `setName` is given).
    package func count(project: String, in phases: [Phase], setName: String? = nil) throws -> Int {
        let marks = phases.map { _ in "?" }.joined(separator: ", ")
        var sql = "SELECT COUNT(*) FROM subjects WHERE project = ? AND state IN (\(marks))"
        var values: [SQLValue] = [.text(project)] + phases.map { .text($0.rawValue) }
        if let setName { sql += " AND set_name = ?"; values.append(.text(setName)) }
        return Int(try database.execute(sql, values)[0][0].integer ?? 0)
    }

    /// Holds (with the reason) or releases (nil: ready) subjects, in one transaction.
    package func setHolds(project: String, _ changes: [(subject: SubjectRef, reason: String?)], at now: Date = Date()) throws {
        guard !changes.isEmpty else { return }
        try database.transaction { tx in
            for (s, reason) in changes {
                if let reason {
                    try tx.execute("UPDATE subjects SET state = 'held', reason = ?, updated_at = ? WHERE project = ? AND workflow = ? AND external_id = ?",
                                   [.text(reason), .real(now.timeIntervalSince1970), .text(project), .text(s.workflow), .text(s.externalID)])
                } else {
                    try tx.execute("UPDATE subjects SET state = 'ready', reason = NULL WHERE project = ? AND workflow = ? AND external_id = ?",
                                   [.text(project), .text(s.workflow), .text(s.externalID)])
                }
            }
        }
    }

    /// One subject's whole row.
    package func subject(project: String, workflow: String, externalID: String) throws -> Subject {
        guard let r = try database.execute(
            "SELECT state, folder, object_id, frames, metadata, zooniverse_id, upload_urls, frames_uploaded, set_name, reason FROM subjects WHERE project = ? AND workflow = ? AND external_id = ?",
            [.text(project), .text(workflow), .text(externalID)]).first else {
            throw SQLError(engine: "state store", code: "missing", message: "no subject \(externalID) of workflow '\(workflow)' in project \(project)", sql: "subjects")
        }
        let frames = (try? JSONValue.decode(Array(try r.text(3, "frames").utf8)))?.array?.map { ($0["name"]?.string ?? "", $0["mime"]?.string ?? "") } ?? []
        let urls = r[6].text.flatMap { try? JSONValue.decode(Array($0.utf8)) }?.array?.compactMap(\.string) ?? []
        return Subject(externalID: externalID, workflow: workflow, setName: r[8].text ?? "",
                       phase: Phase(rawValue: try r.text(0, "state")) ?? .held, reason: r[9].text,
                       folder: try r.text(1, "folder"), objectID: r[2].text, frames: frames,
                       metadata: (try? JSONValue.decode(Array(try r.text(4, "metadata").utf8)))?.object ?? [:],
                       zooniverseID: r[5].text, uploadURLs: urls, framesUploaded: Int(r[7].integer ?? 0))
    }

    /// A subject found already made, uploaded and linked (by a state store that is gone).
    package func markFoundLinked(project: String, workflow: String, externalID: String, zooniverseID: String) throws {
        try update(project, workflow, externalID, "state = 'linked', zooniverse_id = ?, staged = 1, reason = NULL", [.text(zooniverseID)])
    }

    /// ready → creating: the create request is about to go.
    package func markCreating(project: String, workflow: String, externalID: String) throws {
        try update(project, workflow, externalID, "state = 'creating'", [])
    }

    /// creating → created, with its Zooniverse id and upload URLs (in the staging set).
    package func markCreated(project: String, workflow: String, externalID: String, zooniverseID: String, uploadURLs: [String]) throws {
        try update(project, workflow, externalID, "state = 'created', zooniverse_id = ?, upload_urls = ?, frames_uploaded = 0, staged = 1",
                   [.text(zooniverseID), .text(JSONValue.array(uploadURLs.map(JSONValue.string)).description)])
    }

    /// New upload URLs (the old ones expired): every frame goes up again.
    package func renewUploadURLs(project: String, workflow: String, externalID: String, _ urls: [String]) throws {
        try update(project, workflow, externalID, "upload_urls = ?, frames_uploaded = 0", [.text(JSONValue.array(urls.map(JSONValue.string)).description)])
    }

    /// created → uploaded.
    package func markUploaded(project: String, workflow: String, externalID: String) throws {
        try update(project, workflow, externalID, "state = 'uploaded', reason = NULL", [])
    }

    /// Zooniverse refused the subject: held with the reason, its failures counted.
    package func markRefused(project: String, workflow: String, externalID: String, reason: String) throws {
        try update(project, workflow, externalID, "state = 'held', reason = ?, failures = failures + 1", [.text(reason)])
    }

    private func update(_ project: String, _ workflow: String, _ externalID: String, _ sets: String, _ values: [SQLValue]) throws {
        try database.execute("UPDATE subjects SET \(sets), updated_at = ? WHERE project = ? AND workflow = ? AND external_id = ?",
                             values + [.real(Date().timeIntervalSince1970), .text(project), .text(workflow), .text(externalID)])
    }

    /// The Zooniverse ids of the object's latest `limit` subjects other than `excluding`, oldest first.
    package func previousZooniverseIDs(project: String, object: String, excluding externalID: String, limit: Int) throws -> [String] {
        try database.execute("""
            SELECT zooniverse_id FROM subjects WHERE project = ? AND object_id = ? AND zooniverse_id IS NOT NULL
            AND external_id != ? ORDER BY created_at DESC LIMIT ?
            """, [.text(project), .text(object), .text(externalID), .integer(Int64(limit))]).compactMap { $0[0].text }.reversed()
    }

    /// uploaded → linked, in one transaction.
    package func markLinked(project: String, _ subjects: [SubjectRef], at now: Date = Date()) throws {
        guard !subjects.isEmpty else { return }
        try database.transaction { tx in
            for s in subjects {
                try tx.execute("UPDATE subjects SET state = 'linked', updated_at = ? WHERE project = ? AND workflow = ? AND external_id = ?",
                               [.real(now.timeIntervalSince1970), .text(project), .text(s.workflow), .text(s.externalID)])
            }
        }
    }

    /// Zooniverse ids of linked subjects still in the staging set.
    package func stagedLinked(project: String) throws -> [String] {
        try database.execute("SELECT zooniverse_id FROM subjects WHERE project = ? AND state = 'linked' AND staged = 1", [.text(project)])
            .compactMap { $0[0].text }
    }

    /// The subjects left the staging set.
    package func markUnstaged(project: String, zooniverseIDs: [String]) throws {
        guard !zooniverseIDs.isEmpty else { return }
        try database.transaction { tx in
            for id in zooniverseIDs {
                try tx.execute("UPDATE subjects SET staged = 0 WHERE project = ? AND zooniverse_id = ?", [.text(project), .text(id)])
            }
        }
    }

    /// The project's subjects by phase, and the held ones by reason.
    package func summary(project: String) throws -> (states: [String: Int], held: [String: Int]) {
        var states: [String: Int] = [:], held: [String: Int] = [:]
        for r in try database.execute("SELECT state, COUNT(*) FROM subjects WHERE project = ? GROUP BY state", [.text(project)]) {
            states[r[0].text ?? "?"] = Int(r[1].integer ?? 0)
        }
        for r in try database.execute("SELECT reason, COUNT(*) FROM subjects WHERE project = ? AND state = 'held' GROUP BY reason", [.text(project)]) {
            held[r[0].text ?? "?"] = Int(r[1].integer ?? 0)
        }
        return (states, held)
    }

    // MARK: Subject sets

    /// The set's record, if this store has one.
    package func set(project: String, name: String) throws -> SetRecord? {
        guard let r = try database.execute("SELECT state, zooniverse_id FROM zooniverse_sets WHERE project = ? AND name = ?",
                                           [.text(project), .text(name)]).first,
              let phase = SetRecord.Phase(rawValue: try r.text(0, "zooniverse_sets.state")) else { return nil }
        return SetRecord(phase: phase, zooniverseID: r[1].text)
    }

    /// Names of the project's sets that exist on Zooniverse (made or adopted).
    package func madeSetNames(project: String) throws -> Set<String> {
        Set(try database.execute("SELECT name FROM zooniverse_sets WHERE project = ? AND state != 'creating'", [.text(project)])
            .compactMap { $0[0].text })
    }

    /// Adopted sets (found on Zooniverse, not made by this store): name → Zooniverse id.
    package func adoptedSets(project: String) throws -> [String: String] {
        Dictionary(try database.execute("SELECT name, zooniverse_id FROM zooniverse_sets WHERE project = ? AND adopted = 1", [.text(project)])
            .compactMap { r in r[1].text.map { (r[0].text ?? "", $0) } }) { a, _ in a }
    }

    /// The create request for the set is about to go.
    package func markSetCreating(project: String, name: String, workflow: String?) throws {
        try database.execute("""
            INSERT INTO zooniverse_sets (project, name, workflow, state, updated_at) VALUES (?, ?, ?, 'creating', ?)
            ON CONFLICT (project, name) DO UPDATE SET workflow = excluded.workflow, state = 'creating',
                zooniverse_id = NULL, updated_at = excluded.updated_at
            """, [.text(project), .text(name), .text(workflow ?? ""), .real(Date().timeIntervalSince1970)])
    }

    /// The set is on Zooniverse with this id (`adopted`: found there, not made by this store).
    package func markSetCreated(project: String, name: String, workflow: String?, zooniverseID: String, adopted: Bool) throws {
        try database.execute("""
            INSERT INTO zooniverse_sets (project, name, workflow, state, zooniverse_id, adopted, updated_at) VALUES (?, ?, ?, 'created', ?, ?, ?)
            ON CONFLICT (project, name) DO UPDATE SET state = 'created', zooniverse_id = excluded.zooniverse_id,
                adopted = excluded.adopted, updated_at = excluded.updated_at
            """, [.text(project), .text(name), .text(workflow ?? ""), .text(zooniverseID), .integer(adopted ? 1 : 0),
                  .real(Date().timeIntervalSince1970)])
    }

    /// The set is linked to its workflow.
    package func markSetLinked(project: String, name: String) throws {
        try database.execute("UPDATE zooniverse_sets SET state = 'workflow_linked', updated_at = ? WHERE project = ? AND name = ?",
                             [.real(Date().timeIntervalSince1970), .text(project), .text(name)])
    }
}

extension StateStore {
    /// The push to Zooniverse's subjects and sets.
    package var zooniverse: ZooniverseLedger { ZooniverseLedger(database: database) }
}
