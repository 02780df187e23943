import Foundation

/// The window of recent alerts the service keeps for the filter playground: each alert's packet as
/// it arrived (so a rule can read anything in it, and its stamps can be drawn), newest kept, bounded
/// by count. Best effort: the pipeline never waits for it, and an alert missing from it loses
/// nothing but a playground example.
package struct RecentAlerts: Sendable {
    let database: any SQLDatabase

    /// One alert of the window.
    package struct Entry: Sendable, Equatable {
        package let survey: String
        package let alertID: Int64
        package let objectID: String?
        /// Seconds since 1970 when the service took it.
        package let receivedAt: Double
        /// Where it came from: `topic[partition]@offset` or a file path.
        package let source: String
        /// The message or file as it arrived, and the alert's place in it (a container file holds several).
        package let packet: [UInt8]
        package let index: Int

        package init(survey: String, alertID: Int64, objectID: String?, receivedAt: Double, source: String, packet: [UInt8], index: Int) {
            self.survey = survey
            self.alertID = alertID
            self.objectID = objectID
            self.receivedAt = receivedAt
            self.source = source
            self.packet = packet
            self.index = index
        }
    }

    /// Adds the entries (an alert already there stays as it was) and drops all but the newest `keep`.
    package func add(_ entries: [Entry], keep: Int) throws {
        guard !entries.isEmpty else { return }
        try database.transaction(.readCommitted) { tx in
            for e in entries {
                try tx.execute("""
                    INSERT INTO recent_alerts (survey, alert_id, object_id, received_at, source, packet, position)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (survey, alert_id) DO NOTHING
                    """, [.text(e.survey), .integer(e.alertID), e.objectID.map { .text($0) } ?? .null, .real(e.receivedAt),
                          .text(e.source), .blob(e.packet), .integer(Int64(e.index))])
            }
            // The oldest beyond `keep` go (ties on the time go together: the window is approximate there).
            if let edge = try tx.execute("SELECT received_at FROM recent_alerts ORDER BY received_at DESC LIMIT 1 OFFSET ?",
                                         [.integer(Int64(max(0, keep - 1)))]).first?.first?.real {
                try tx.execute("DELETE FROM recent_alerts WHERE received_at < ?", [.real(edge)])
            }
        }
    }

    /// Where a page of the window ended: the next page starts after it.
    package struct Position: Sendable, Equatable {
        let receivedAt: Double
        let survey: String
        let alertID: Int64
    }

    /// The newest `limit` alerts older than `after` (from the newest when nil), newest first, and
    /// where the page ended: a page of the window, read by its index (its packets are too big to
    /// read all at once, or to sort).
    package func latest(_ limit: Int, after: Position?) throws -> (entries: [Entry], end: Position?) {
        let rows = if let after {
            try database.execute("""
                SELECT \(Self.columns) FROM recent_alerts WHERE (received_at, survey, alert_id) < (?, ?, ?)
                ORDER BY received_at DESC, survey DESC, alert_id DESC LIMIT ?
                """, [.real(after.receivedAt), .text(after.survey), .integer(after.alertID), .integer(Int64(limit))])
        } else {
            try database.execute("""
                SELECT \(Self.columns) FROM recent_alerts ORDER BY received_at DESC, survey DESC, alert_id DESC LIMIT ?
                """, [.integer(Int64(limit))])
        }
        let entries = rows.map(Self.entry)
        return (entries, entries.last.map { Position(receivedAt: $0.receivedAt, survey: $0.survey, alertID: $0.alertID) })
    }

    /// The newest `limit` alerts after the newest `offset`, newest first.
    package func latest(_ limit: Int, offset: Int = 0) throws -> [Entry] {
        try database.execute("""
            SELECT \(Self.columns) FROM recent_alerts ORDER BY received_at DESC, survey DESC, alert_id DESC LIMIT ? OFFSET ?
            """, [.integer(Int64(limit)), .integer(Int64(offset))]).map(Self.entry)
    }

    static let columns = "survey, alert_id, object_id, received_at, source, packet, position"

    /// One alert of the window.
    package func entry(survey: String, alertID: Int64) throws -> Entry? {
        try database.execute("""
            SELECT \(Self.columns) FROM recent_alerts WHERE survey = ? AND alert_id = ?
            """, [.text(survey), .integer(alertID)]).first.map(Self.entry)
    }

    /// How many alerts the window holds.
    package func count() throws -> Int {
        Int(try database.execute("SELECT COUNT(*) FROM recent_alerts").first?.first?.integer ?? 0)
    }

    private static func entry(_ r: [SQLValue]) -> Entry {
        Entry(survey: r[0].text ?? "", alertID: r[1].integer ?? 0, objectID: r[2].text, receivedAt: r[3].real ?? 0,
              source: r[4].text ?? "", packet: r[5].blob ?? [], index: Int(r[6].integer ?? 0))
    }
}

extension StateStore {
    /// The window of recent alerts (the filter playground's examples).
    package var recent: RecentAlerts { RecentAlerts(database: database) }
}
