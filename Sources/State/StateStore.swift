import AlertModel
import Foundation

/// citsci's durable state (SQLite by default, PostgreSQL when several instances share the work):
/// which alerts were seen and what became of each, the recent cutouts of each object for blinks,
/// subjects, classifications. Schema changes are numbered migrations, applied in order when the
/// store opens (the database records how far it has come).
package final class StateStore: Sendable {
    let database: any SQLDatabase

    /// Migration n brings a database from version n to n + 1. Never edit one that has shipped: add one.
    static let migrations: [String] = [
        """
        CREATE TABLE alerts (
            survey TEXT NOT NULL,
            alert_id INTEGER NOT NULL,
            object_id TEXT,
            mjd REAL,
            outcome TEXT NOT NULL CHECK (outcome IN ('matched', 'filtered_out', 'refused', 'dead_lettered')),
            filters TEXT NOT NULL DEFAULT '',
            recorded_at REAL NOT NULL,
            PRIMARY KEY (survey, alert_id)
        );
        CREATE INDEX alerts_object ON alerts (survey, object_id);
        CREATE TABLE cutouts (
            survey TEXT NOT NULL,
            object_id TEXT NOT NULL,
            alert_id INTEGER NOT NULL,
            mjd REAL NOT NULL,
            band TEXT,
            science BLOB,
            template BLOB,
            difference BLOB,
            PRIMARY KEY (survey, object_id, alert_id)
        );
        CREATE INDEX cutouts_age ON cutouts (mjd);
        """,
        // 2: subject sets and subjects — the folder sink's batches, and each subject's way to Zooniverse.
        """
        CREATE TABLE sink_sets (
            name TEXT PRIMARY KEY,
            destination TEXT NOT NULL,
            filter TEXT NOT NULL,
            folder TEXT NOT NULL,
            opened_at REAL NOT NULL,
            closed_at REAL,
            size INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE sink_subjects (
            destination TEXT NOT NULL,
            external_id TEXT NOT NULL,
            set_name TEXT NOT NULL,
            object_id TEXT,
            filters TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (destination, external_id)
        );
        CREATE INDEX sink_subjects_object ON sink_subjects (object_id);
        CREATE INDEX sink_subjects_time ON sink_subjects (created_at);
        CREATE TABLE zooniverse_sets (
            project TEXT NOT NULL,
            name TEXT NOT NULL,
            workflow TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL CHECK (state IN ('creating', 'created', 'workflow_linked')),
            zooniverse_id TEXT,
            updated_at REAL NOT NULL,
            PRIMARY KEY (project, name)
        );
        CREATE TABLE subjects (
            project TEXT NOT NULL,
            workflow TEXT NOT NULL DEFAULT '',
            external_id TEXT NOT NULL,
            set_name TEXT NOT NULL,
            folder TEXT NOT NULL,
            object_id TEXT,
            frames TEXT NOT NULL,
            metadata TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('ready', 'held', 'creating', 'created', 'uploaded', 'linked')),
            reason TEXT,
            zooniverse_id TEXT,
            upload_urls TEXT,
            frames_uploaded INTEGER NOT NULL DEFAULT 0,
            staged INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (project, workflow, external_id)
        );
        CREATE INDEX subjects_state ON subjects (project, state);
        CREATE INDEX subjects_object ON subjects (project, object_id);
        """,
        // 3: classifications pulled back, where each pull stopped, and what was published.
        // ("user" quoted since PostgreSQL came: the same column to SQLite.)
        """
        CREATE TABLE classifications (
            id INTEGER PRIMARY KEY,
            project TEXT NOT NULL DEFAULT '',
            workflow TEXT NOT NULL,
            workflow_version TEXT,
            "user" TEXT NOT NULL,
            user_id TEXT,
            created_at REAL NOT NULL,
            gold_standard INTEGER NOT NULL DEFAULT 0,
            expert INTEGER NOT NULL DEFAULT 0,
            subject_ids TEXT NOT NULL,
            annotations TEXT NOT NULL,
            subject_data TEXT
        );
        CREATE INDEX classifications_workflow ON classifications (workflow, id);
        CREATE TABLE classification_cursors (
            project TEXT NOT NULL,
            workflow TEXT NOT NULL,
            last_id INTEGER NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (project, workflow)
        );
        CREATE TABLE published_results (
            workflow TEXT NOT NULL,
            subject TEXT NOT NULL,
            version INTEGER NOT NULL,
            retired INTEGER NOT NULL,
            published_at REAL NOT NULL,
            PRIMARY KEY (workflow, subject)
        );
        CREATE INDEX subjects_zooniverse ON subjects (zooniverse_id);
        """,
        // 4: reductions Caesar posts (external effects), each kept once per content.
        """
        CREATE TABLE caesar_reductions (
            workflow TEXT NOT NULL,
            subject TEXT NOT NULL,
            reducer_key TEXT NOT NULL,
            data TEXT NOT NULL,
            subject_metadata TEXT,
            version INTEGER NOT NULL,
            received_at REAL NOT NULL,
            PRIMARY KEY (workflow, subject, reducer_key)
        );
        """,
        // 5: the closed sets' manifests already read into `subjects`, so a push reads each once
        // (rereading every set each round made a push's cost grow with the project's history).
        """
        CREATE TABLE imported_manifests (
            project TEXT NOT NULL,
            workflow TEXT NOT NULL,
            folder TEXT NOT NULL,
            set_name TEXT NOT NULL,
            subjects INTEGER NOT NULL,
            imported_at REAL NOT NULL,
            PRIMARY KEY (project, workflow, folder)
        );
        """,
        // 6: a push round reads the few subjects still staged and counts one set's subjects without
        // walking every subject the project ever had.
        """
        DROP INDEX subjects_state;
        CREATE INDEX subjects_state ON subjects (project, state, staged);
        CREATE INDEX subjects_set ON subjects (project, set_name, state);
        """,
        // 7: which classifications are of which subject, and the subjects whose result must be worked
        // out again, so a classification round reads the subjects that changed, not every
        // classification ever pulled. (Filled for older stores when this migration runs: `init`.)
        """
        CREATE TABLE classification_subjects (
            workflow TEXT NOT NULL,
            subject TEXT NOT NULL,
            classification_id INTEGER NOT NULL,
            PRIMARY KEY (workflow, subject, classification_id)
        );
        CREATE TABLE aggregation_due (
            workflow TEXT NOT NULL,
            subject TEXT NOT NULL,
            PRIMARY KEY (workflow, subject)
        );
        """,
        // 8: the sink records a subject (pending) before writing its frames and manifest row, so a
        // crash in between is finished in the same set, not repeated in another.
        """
        ALTER TABLE sink_subjects ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
        """,
        // 9: a subject set found on Zooniverse rather than created by this store (a lost or new
        // state store): its subjects may be there already, so each is looked for before it is made.
        """
        ALTER TABLE zooniverse_sets ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0;
        """,
        // 10: the window of recent alerts, whole packets, for the filter playground (`RecentAlerts`).
        """
        CREATE TABLE recent_alerts (
            survey TEXT NOT NULL,
            alert_id INTEGER NOT NULL,
            object_id TEXT,
            received_at REAL NOT NULL,
            source TEXT NOT NULL,
            packet BLOB NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (survey, alert_id)
        );
        CREATE INDEX recent_alerts_age ON recent_alerts (received_at);
        """,
        // 11: the window read newest first in pages by its index alone (a sort of whole packets for
        // each page made the playground's run over 10,000 ZTF alerts take 2.7 s); the results page's
        // last classified subjects found by walking classifications from the newest.
        """
        DROP INDEX recent_alerts_age;
        CREATE INDEX recent_alerts_order ON recent_alerts (received_at, survey, alert_id);
        CREATE INDEX classification_subjects_newest ON classification_subjects (classification_id);
        """,
        // 12: an object's previous subjects for a destination found by one index (by the object
        // alone, PostgreSQL read and sorted all its subjects for each new one: the largest share of
        // its work in a run); a set's lane (instances fill a filter's sets side by side, each in a
        // lane of its own, instead of waiting for one another's set).
        """
        DROP INDEX sink_subjects_object;
        CREATE INDEX sink_subjects_previous ON sink_subjects (destination, object_id, created_at, external_id);
        ALTER TABLE sink_sets ADD COLUMN lane INTEGER NOT NULL DEFAULT 0;
        """,
    ]

    package enum Outcome: String, Sendable {
        case matched
        case filteredOut = "filtered_out"
        case refused
        case deadLettered = "dead_lettered"
    }

    package struct Error: Swift.Error, CustomStringConvertible, Sendable {
        package let reason: String
        package var description: String { reason }
    }

    /// Opens (creating it and its folder if needed) and migrates the store at `path`: a SQLite file
    /// (":memory:" for a throwaway one) or a `postgresql://` URL.
    package init(path: String) throws {
        database = try openDatabase(path)
        let version = try database.migrate(Self.migrations)  // the version it was at
        guard version <= Self.migrations.count else {
            throw Error(reason: "\(database.location) is at schema version \(version), newer than this citsci knows (\(Self.migrations.count)): upgrade citsci")
        }
        if version > 0 && version < 7 { try indexStoredClassifications() }
    }

    /// Whether `location` names a PostgreSQL database (a `postgresql://` URL) rather than a SQLite file.
    package static func isPostgreSQL(_ location: String) -> Bool { PostgresDatabase.handles(location) }

    /// Why the existing file at `path` is not a SQLite database (nil: it is one), without migrating it.
    package static func sqliteProblem(path: String) -> String? {
        do { _ = try SQLiteDatabase(path: path) } catch { return error.message }
        return nil
    }

    /// Where the store is, for messages (never with a password).
    package var location: String { database.location }

    package var schemaVersion: Int { get throws { try database.schemaVersion() } }

    /// Runs `body` as the only holder of `name` among every instance sharing the store (for work
    /// one instance does for all, such as pushing to Zooniverse); nil when another holds it and
    /// `wait` is false.
    package func exclusively<T>(_ name: String, wait: Bool = true, _ body: () throws -> T) throws -> T? {
        guard try database.lock(name, wait: wait) else { return nil }
        defer { database.unlock(name) }
        return try body()
    }

    /// `exclusively` for a body that awaits; never waits for the lock.
    package func ifAlone<T: Sendable>(_ name: String, _ body: () async throws -> T) async throws -> T? {
        guard try database.lock(name, wait: false) else { return nil }
        defer { database.unlock(name) }
        return try await body()
    }

    /// Records what became of an alert, once: false when its id was recorded before (ZTF packets
    /// have arrived twice, and Rubin's test stream repeated whole nights), and then nothing changes.
    @discardableResult
    package func record(_ alert: Alert, outcome: Outcome, filters: [String] = []) throws -> Bool {
        try database.transaction(.readCommitted) { tx in
            try Self.insertOutcome(tx, alert, outcome, filters, at: .real(Date().timeIntervalSince1970))
            return tx.changes == 1
        }
    }

    /// Records what became of many alerts in one transaction (one synced write: group commit).
    /// Each is recorded once, as `record` does.
    package func record(_ outcomes: [(alert: Alert, outcome: Outcome, filters: [String])]) throws {
        guard !outcomes.isEmpty else { return }
        let now = SQLValue.real(Date().timeIntervalSince1970)
        try database.transaction(.readCommitted) { tx in
            for chunk in SQLRows.chunks(outcomes) {
                try tx.execute("""
                    INSERT INTO alerts (survey, alert_id, object_id, mjd, outcome, filters, recorded_at)
                    VALUES \(SQLRows.placeholders(chunk.count, width: 7)) ON CONFLICT DO NOTHING
                    """, chunk.flatMap { Self.outcomeRow($0.alert, $0.outcome, $0.filters, at: now) })
            }
        }
    }

    /// An alert's outcome row, unless its id is recorded already.
    private static func insertOutcome(_ tx: SQLTransaction, _ alert: Alert, _ outcome: Outcome, _ filters: [String], at now: SQLValue) throws {
        try tx.execute(
            "INSERT INTO alerts (survey, alert_id, object_id, mjd, outcome, filters, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            outcomeRow(alert, outcome, filters, at: now))
    }

    private static func outcomeRow(_ alert: Alert, _ outcome: Outcome, _ filters: [String], at now: SQLValue) -> [SQLValue] {
        [.text(alert.survey.rawValue), .integer(alert.alertId), alert.objectId.map(SQLValue.text) ?? .null,
         alert.mjd.isFinite ? .real(alert.mjd) : .null, .text(outcome.rawValue), .text(filters.joined(separator: ",")), now]
    }

    /// What became of an alert, if it was seen.
    package func outcome(of alertId: Int64, survey: Survey) throws -> (outcome: Outcome, filters: [String])? {
        let rows = try database.execute("SELECT outcome, filters FROM alerts WHERE survey = ? AND alert_id = ?",
                                        [.text(survey.rawValue), .integer(alertId)])
        guard let row = rows.first, let o = row[0].text.flatMap(Outcome.init) else { return nil }
        let filters = row[1].text.map { $0.split(separator: ",").map(String.init) } ?? []
        return (o, filters)
    }

    package typealias StoredCutouts = AlertModel.StoredCutouts

    /// Keeps the alert's stamps for its object: at most `perObject` alerts per object (the newest),
    /// none older than `maxAgeDays` before the newest alert stored. In one transaction.
    package func remember(_ alert: Alert, perObject: Int = 5, maxAgeDays: Double = 30) throws {
        guard let object = alert.objectId, alert.mjd.isFinite else { return }
        let survey = SQLValue.text(alert.survey.rawValue)
        try database.transaction(.readCommitted) { tx in
            try tx.execute(
                """
                INSERT INTO cutouts (survey, object_id, alert_id, mjd, band, science, template, difference) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (survey, object_id, alert_id) DO UPDATE SET mjd = excluded.mjd, band = excluded.band,
                    science = excluded.science, template = excluded.template, difference = excluded.difference
                """,
                [survey, .text(object), .integer(alert.alertId), .real(alert.mjd), alert.band.map(SQLValue.text) ?? .null,
                 alert.cutouts.science.map { .blob($0.data) } ?? .null, alert.cutouts.template.map { .blob($0.data) } ?? .null,
                 alert.cutouts.difference.map { .blob($0.data) } ?? .null])
            try tx.execute("""
                DELETE FROM cutouts WHERE survey = ?1 AND object_id = ?2 AND alert_id NOT IN (
                    SELECT alert_id FROM cutouts WHERE survey = ?1 AND object_id = ?2 ORDER BY mjd DESC LIMIT ?3)
                """, [survey, .text(object), .integer(Int64(perObject))])
            try tx.execute("DELETE FROM cutouts WHERE mjd < (SELECT MAX(mjd) FROM cutouts) - ?", [.real(maxAgeDays)])
        }
    }

    /// The object's stored stamps, oldest first.
    package func recentCutouts(object: String, survey: Survey) throws -> [StoredCutouts] {
        try database.execute(
            "SELECT alert_id, mjd, band, science, template, difference FROM cutouts WHERE survey = ? AND object_id = ? ORDER BY mjd",
            [.text(survey.rawValue), .text(object)]
        ).map { r in
            StoredCutouts(alertId: r[0].integer ?? 0, objectId: object, mjd: r[1].real ?? .nan, band: r[2].text,
                          science: r[3].blob, template: r[4].blob, difference: r[5].blob)
        }
    }

    package func cutoutCount() throws -> Int { Int(try database.execute("SELECT COUNT(*) FROM cutouts")[0][0].integer ?? 0) }
}
