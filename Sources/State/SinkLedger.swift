import Foundation

/// What the folder sink records: its subject sets (open or closed, their folders and sizes) and
/// each alert's subject in them, pending until its frames and manifest row are written.
package struct SinkLedger: Sendable {
    let database: any SQLDatabase

    /// A set's row.
    package struct SetRow: Sendable, Equatable {
        package let name: String
        package let folder: String
        package let filter: String
        package let destination: String
        /// Confirmed subjects in it.
        package let size: Int
    }

    static let setColumns = "name, folder, filter, destination, size"

    static func setRow(_ r: [SQLValue]) throws -> SetRow {
        SetRow(name: try r.text(0, "sink_sets.name"), folder: try r.text(1, "sink_sets.folder"),
               filter: try r.text(2, "sink_sets.filter"), destination: try r.text(3, "sink_sets.destination"),
               size: Int(r[4].integer ?? 0))
    }

    /// Where an alert's subject for the destination was recorded, and whether it is still pending.
    package func subject(destination: String, externalID: String) throws -> (setName: String, pending: Bool)? {
        guard let r = try database.execute("SELECT set_name, pending FROM sink_subjects WHERE destination = ? AND external_id = ?",
                                           [.text(destination), .text(externalID)]).first else { return nil }
        return (try r.text(0, "sink_subjects.set_name"), r[1].integer == 1)
    }

    /// A subject's key in the ledger: its destination and the alert's external id.
    package struct Key: Sendable, Hashable {
        package let destination: String
        package let externalID: String
        package init(destination: String, externalID: String) {
            self.destination = destination
            self.externalID = externalID
        }
    }

    /// `subject(destination:externalID:)` for many subjects in a few queries (a batch's subjects are
    /// looked up on the ordered stage's path, and on PostgreSQL each query is a round trip).
    package func subjects(_ keys: [Key]) throws -> [Key: (setName: String, pending: Bool)] {
        var found: [Key: (setName: String, pending: Bool)] = [:]
        let unique = Array(Set(keys))
        for start in stride(from: 0, to: unique.count, by: 400) {
            let chunk = unique[start..<min(start + 400, unique.count)]
            let rows = Array(repeating: "(?, ?)", count: chunk.count).joined(separator: ", ")
            let sql = "SELECT destination, external_id, set_name, pending FROM sink_subjects WHERE (destination, external_id) IN (VALUES \(rows))"
            for r in try database.execute(sql, chunk.flatMap { [SQLValue.text($0.destination), .text($0.externalID)] }) {
                let key = Key(destination: try r.text(0, "sink_subjects.destination"), externalID: try r.text(1, "sink_subjects.external_id"))
                found[key] = (try r.text(2, "sink_subjects.set_name"), r[3].integer == 1)
            }
        }
        return found
    }

    /// Whether the alert has a confirmed subject for the destination.
    package func contains(destination: String, externalID: String) throws -> Bool {
        try !database.execute("SELECT 1 FROM sink_subjects WHERE destination = ? AND external_id = ? AND pending = 0",
                              [.text(destination), .text(externalID)]).isEmpty
    }

    /// The external ids of the object's latest `limit` confirmed subjects for the destination, oldest first.
    package func previousSubjects(object: String, destination: String, limit: Int) throws -> [String] {
        try database.execute(
            "SELECT external_id FROM sink_subjects WHERE destination = ? AND object_id = ? AND pending = 0 ORDER BY created_at DESC LIMIT ?",
            [.text(destination), .text(object), .integer(Int64(limit))]).compactMap { $0[0].text }.reversed()
    }

    /// A subject recorded as pending in its set (its frames and row not written yet).
    package struct PendingSubject: Sendable {
        package let destination: String
        package let externalID: String
        package let setName: String
        package let objectID: String?
        package let filters: [String]

        package init(destination: String, externalID: String, setName: String, objectID: String?, filters: [String]) {
            self.destination = destination
            self.externalID = externalID
            self.setName = setName
            self.objectID = objectID
            self.filters = filters
        }
    }

    /// Records subjects as pending in their sets, in one transaction (one synced write).
    package func recordPending(_ subjects: [PendingSubject], at now: Date) throws {
        guard !subjects.isEmpty else { return }
        try database.transaction(.readCommitted) { tx in
            for s in subjects {
                try tx.execute("""
                    INSERT INTO sink_subjects (destination, external_id, set_name, object_id, filters, created_at, pending)
                    VALUES (?, ?, ?, ?, ?, ?, 1)
                    """, [.text(s.destination), .text(s.externalID), .text(s.setName), s.objectID.map(SQLValue.text) ?? .null,
                          .text(";" + s.filters.joined(separator: ";") + ";"), .real(now.timeIntervalSince1970)])
            }
        }
    }

    /// Forgets a pending subject (its set closed before it was finished).
    package func forgetPending(destination: String, externalID: String) throws {
        try database.execute("DELETE FROM sink_subjects WHERE destination = ? AND external_id = ? AND pending = 1",
                             [.text(destination), .text(externalID)])
    }

    /// Confirms subjects (their frames and rows are written) and counts them in their sets, in one
    /// transaction (one synced write).
    package func confirm(_ subjects: [(destination: String, externalID: String, setName: String)]) throws {
        guard !subjects.isEmpty else { return }
        let added = Dictionary(subjects.map { ($0.setName, 1) }, uniquingKeysWith: +)
        try database.transaction(.readCommitted) { tx in
            for s in subjects {
                try tx.execute("UPDATE sink_subjects SET pending = 0 WHERE destination = ? AND external_id = ?",
                               [.text(s.destination), .text(s.externalID)])
            }
            for (name, n) in added.sorted(by: { $0.key < $1.key }) {
                try tx.execute("UPDATE sink_sets SET size = size + ? WHERE name = ?", [.integer(Int64(n)), .text(name)])
            }
        }
    }

    /// The external ids of a set's subjects still pending.
    package func pendingSubjects(setName: String) throws -> Set<String> {
        Set(try database.execute("SELECT external_id FROM sink_subjects WHERE set_name = ? AND pending = 1",
                                 [.text(setName)]).compactMap { $0[0].text })
    }

    /// Drops a set's pending subjects.
    package func dropPending(setName: String) throws {
        try database.execute("DELETE FROM sink_subjects WHERE set_name = ? AND pending = 1", [.text(setName)])
    }

    /// Subjects (of any destination) a filter sent since `since`, counted up to `atMost`.
    package func count(filter: String, since: Date, atMost: Int) throws -> Int {
        Int(try database.execute(
            // "filters contains ;name;", case-sensitive in SQLite and PostgreSQL alike (LIKE is not).
            """
            SELECT COUNT(*) FROM (SELECT 1 FROM sink_subjects
                WHERE length(replace(filters, ?, '')) < length(filters) AND created_at > ? LIMIT ?) AS recent
            """,
            [.text(";" + filter + ";"), .real(since.timeIntervalSince1970), .integer(Int64(atMost))])[0][0].integer ?? 0)
    }

    /// Every subject the sink holds (confirmed: its frames and row written; not those still pending).
    package func subjectCount() throws -> Int {
        Int(try database.execute("SELECT COUNT(*) FROM sink_subjects WHERE pending = 0")[0][0].integer ?? 0)
    }

    /// The folder of the set `name` while it is open.
    package func openSetFolder(name: String) throws -> String? {
        try database.execute("SELECT folder FROM sink_sets WHERE name = ? AND closed_at IS NULL", [.text(name)]).first?[0].text
    }

    /// Open sets that are full (`size >= maxSize`) or opened before `openedBefore`; those of
    /// (`filter`, `destination`) alone when given.
    package func setsDue(maxSize: Int, openedBefore: Date, of key: (filter: String, destination: String)? = nil) throws -> [SetRow] {
        var sql = "SELECT \(Self.setColumns) FROM sink_sets WHERE closed_at IS NULL AND (size >= ? OR opened_at < ?)"
        var parameters: [SQLValue] = [.integer(Int64(maxSize)), .real(openedBefore.timeIntervalSince1970)]
        if let key {
            sql += " AND filter = ? AND destination = ?"
            parameters += [.text(key.filter), .text(key.destination)]
        }
        return try database.execute(sql, parameters).map(Self.setRow)
    }

    /// The newest open set of (`filter`, `destination`).
    package func openSet(filter: String, destination: String) throws -> SetRow? {
        try database.execute(
            "SELECT \(Self.setColumns) FROM sink_sets WHERE closed_at IS NULL AND filter = ? AND destination = ? ORDER BY opened_at DESC LIMIT 1",
            [.text(filter), .text(destination)]).first.map(Self.setRow)
    }

    /// The set named `name`, open or closed.
    package func set(named name: String) throws -> SetRow? {
        try database.execute("SELECT \(Self.setColumns) FROM sink_sets WHERE name = ?", [.text(name)]).first.map(Self.setRow)
    }

    /// How many sets of (`filter`, `destination`) were opened since `since`.
    package func setsOpened(filter: String, destination: String, since: Date) throws -> Int {
        Int(try database.execute("SELECT COUNT(*) FROM sink_sets WHERE filter = ? AND destination = ? AND opened_at >= ?",
                                 [.text(filter), .text(destination), .real(since.timeIntervalSince1970)])[0][0].integer ?? 0)
    }

    /// Records a newly opened set.
    package func recordSet(name: String, destination: String, filter: String, folder: String, openedAt: Date) throws {
        try database.execute("INSERT INTO sink_sets (name, destination, filter, folder, opened_at) VALUES (?, ?, ?, ?, ?)",
                             [.text(name), .text(destination), .text(filter), .text(folder), .real(openedAt.timeIntervalSince1970)])
    }

    /// Records a set as closed.
    package func markClosed(name: String, at now: Date) throws {
        try database.execute("UPDATE sink_sets SET closed_at = ? WHERE name = ?", [.real(now.timeIntervalSince1970), .text(name)])
    }
}

extension StateStore {
    /// The folder sink's sets and subjects.
    package var sink: SinkLedger { SinkLedger(database: database) }
}
