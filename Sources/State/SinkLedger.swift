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
        /// Which of its (filter, destination)'s lanes it is in: instances sharing the store fill
        /// their own lane's set side by side (0 for one instance).
        package let lane: Int
    }

    static let setColumns = "name, folder, filter, destination, size, lane"
    static let setColumnCount = setColumns.split(separator: ",").count

    static func setRow(_ r: [SQLValue]) throws -> SetRow {
        SetRow(name: try r.text(0, "sink_sets.name"), folder: try r.text(1, "sink_sets.folder"),
               filter: try r.text(2, "sink_sets.filter"), destination: try r.text(3, "sink_sets.destination"),
               size: Int(r[4].integer ?? 0), lane: Int(r[5].integer ?? 0))
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
        for chunk in SQLRows.chunks(Array(Set(keys))) {
            let sql = """
                SELECT destination, external_id, set_name, pending FROM sink_subjects
                WHERE (destination, external_id) IN (VALUES \(SQLRows.placeholders(chunk.count, width: 2)))
                """
            for r in try database.execute(sql, chunk.flatMap { [SQLValue.text($0.destination), .text($0.externalID)] }) {
                let key = Key(destination: try r.text(0, "sink_subjects.destination"), externalID: try r.text(1, "sink_subjects.external_id"))
                found[key] = (try r.text(2, "sink_subjects.set_name"), r[3].integer == 1)
            }
        }
        return found
    }

    /// An object's subjects for one destination.
    package struct ObjectKey: Sendable, Hashable {
        package let destination: String
        package let objectID: String
        package init(destination: String, objectID: String) {
            self.destination = destination
            self.objectID = objectID
        }
    }

    /// The external ids of each object's latest `limit` confirmed subjects for its destination,
    /// oldest first, in a few queries (asked for every subject of a batch: one query a subject was
    /// the largest share of PostgreSQL's work in a run).
    package func previousSubjects(_ objects: [ObjectKey], limit: Int) throws -> [ObjectKey: [String]] {
        var found: [ObjectKey: [String]] = [:]
        guard limit > 0 else { return found }
        for chunk in SQLRows.chunks(Array(Set(objects))) {
            // One arm per object, each read newest first by its index and stopped at `limit`, so an
            // object with years of subjects costs no more than a new one.
            let arm = """
                SELECT * FROM (SELECT destination, object_id, external_id, created_at FROM sink_subjects
                    WHERE destination = ? AND object_id = ? AND pending = 0 ORDER BY created_at DESC, external_id DESC LIMIT ?) AS latest
                """
            let sql = Array(repeating: arm, count: chunk.count).joined(separator: " UNION ALL ")
            var rows: [ObjectKey: [(at: Double, id: String)]] = [:]
            for r in try database.execute(sql, chunk.flatMap { [SQLValue.text($0.destination), .text($0.objectID), .integer(Int64(limit))] }) {
                let key = ObjectKey(destination: try r.text(0, "sink_subjects.destination"), objectID: try r.text(1, "sink_subjects.object_id"))
                rows[key, default: []].append((r[3].real ?? 0, try r.text(2, "sink_subjects.external_id")))
            }
            for (key, subjects) in rows {
                found[key] = subjects.sorted { ($0.at, $0.id) < ($1.at, $1.id) }.map(\.id)
            }
        }
        return found
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
        let at = SQLValue.real(now.timeIntervalSince1970)
        try database.transaction(.readCommitted) { tx in
            for chunk in SQLRows.chunks(subjects) {
                try tx.execute("""
                    INSERT INTO sink_subjects (destination, external_id, set_name, object_id, filters, created_at, pending)
                    VALUES \(SQLRows.placeholders(chunk.count, width: 7))
                    """, chunk.flatMap { s in
                        [.text(s.destination), .text(s.externalID), .text(s.setName), s.objectID.map(SQLValue.text) ?? .null,
                         .text(";" + s.filters.joined(separator: ";") + ";"), at, .integer(1)]
                    })
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
            for chunk in SQLRows.chunks(subjects) {
                try tx.execute("""
                    UPDATE sink_subjects SET pending = 0
                    WHERE (destination, external_id) IN (VALUES \(SQLRows.placeholders(chunk.count, width: 2)))
                    """, chunk.flatMap { [SQLValue.text($0.destination), .text($0.externalID)] })
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

    /// Open sets that are full (`size >= maxSize`) or opened before `openedBefore`; those of one
    /// (`filter`, `destination`, `lane`) alone when given.
    package func setsDue(maxSize: Int, openedBefore: Date, of key: (filter: String, destination: String, lane: Int)? = nil) throws -> [SetRow] {
        var sql = "SELECT \(Self.setColumns) FROM sink_sets WHERE closed_at IS NULL AND (size >= ? OR opened_at < ?)"
        var parameters: [SQLValue] = [.integer(Int64(maxSize)), .real(openedBefore.timeIntervalSince1970)]
        if let key {
            sql += " AND filter = ? AND destination = ? AND lane = ?"
            parameters += [.text(key.filter), .text(key.destination), .integer(Int64(key.lane))]
        }
        return try database.execute(sql, parameters).map(Self.setRow)
    }

    /// The newest open set of (`filter`, `destination`) in `lane`.
    package func openSet(filter: String, destination: String, lane: Int = 0) throws -> SetRow? {
        try database.execute(
            """
            SELECT \(Self.setColumns) FROM sink_sets WHERE closed_at IS NULL AND filter = ? AND destination = ? AND lane = ?
            ORDER BY opened_at DESC LIMIT 1
            """,
            [.text(filter), .text(destination), .integer(Int64(lane))]).first.map(Self.setRow)
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
    package func recordSet(name: String, destination: String, filter: String, folder: String, openedAt: Date, lane: Int = 0) throws {
        try database.execute("INSERT INTO sink_sets (name, destination, filter, folder, opened_at, lane) VALUES (?, ?, ?, ?, ?, ?)",
                             [.text(name), .text(destination), .text(filter), .text(folder), .real(openedAt.timeIntervalSince1970),
                              .integer(Int64(lane))])
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
