import Foundation
import Synchronization

/// The state store that several citsci instances share (DESIGN.md rule 7), on PostgreSQL: a pool
/// of connections, so the instance's stages (the pipeline's ordered stage, the push, the pull, the
/// Caesar listener) do not queue behind one another, and no lock shared by all instances.
///
/// Transactions run as PostgreSQL's SERIALIZABLE unless they say they need less: the result is as
/// if they ran one at a time, as under SQLite's `BEGIN IMMEDIATE`, yet instances wait for each other
/// only when they touch the same rows; a transaction that conflicted is run again (its body does
/// nothing but SQL). The statements are the ones written for SQLite: `?` placeholders become `$n`,
/// and the migrations' column types become PostgreSQL's (`BIGINT`, `DOUBLE PRECISION`, `BYTEA`).
/// The password comes from the URL, `PGPASSWORD` or `~/.pgpass` (libpq's own rules), and never
/// appears in `location`.
final class PostgresDatabase: SQLDatabase, Sendable {
    private let pool: Pool
    private let named = NamedLocks()
    /// The connection holding each named lock (a session advisory lock lives on its connection).
    private let holders = Mutex<[String: PostgresConnection]>([:])
    let location: String

    /// Connections per instance: the stages that use the store at once, the named locks held
    /// (each keeps its connection), and a few to spare. Two instances use 20 of PostgreSQL's default 100.
    static let poolSize = 10
    /// Tries of a transaction that keeps conflicting with others before its error is given up.
    static let maxAttempts = 20

    static func handles(_ location: String) -> Bool {
        location.hasPrefix("postgresql://") || location.hasPrefix("postgres://")
    }

    init(url: String) throws(SQLError) {
        location = Self.redacted(url)
        pool = Pool(url: url, location: location, capacity: Self.poolSize)
        // The first connection now: a wrong URL or an unreachable server is said at start.
        try pool.give(pool.take())
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(SQLError) -> [[SQLValue]] {
        let connection = try pool.take()
        defer { pool.give(connection) }
        return try connection.run(sql, parameters).rows
    }

    func transaction<T>(_ isolation: Isolation, _ body: (SQLTransaction) throws -> T) throws -> T {
        let connection = try pool.take()
        defer { pool.give(connection) }
        var attempt = 1
        while true {
            do {
                return try Self.once(on: connection, isolation, body)
            } catch let error as SQLError where Self.conflicted(error) && attempt < Self.maxAttempts {
                // Another transaction won: wait a moment that grows with the tries, and run it again.
                usleep(UInt32.random(in: 0...UInt32(min(attempt, 10) * 2_000)))
                attempt += 1
            }
        }
    }

    private static func once<T>(on connection: PostgresConnection, _ isolation: Isolation,
                                _ body: (SQLTransaction) throws -> T) throws -> T {
        _ = try connection.run(isolation == .serializable ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN", [])
        do {
            var changes = 0
            let tx = SQLTransaction(run: { (sql, parameters) throws(SQLError) in
                let r = try connection.run(sql, parameters)
                changes = r.changes
                return r.rows
            }, changed: { changes })
            let value = try body(tx)
            _ = try connection.run("COMMIT", [])
            return value
        } catch {
            _ = try? connection.run("ROLLBACK", [])
            throw error
        }
    }

    /// A serialization failure or a deadlock: nothing was done, and trying again may succeed.
    static func conflicted(_ error: SQLError) -> Bool { error.code == "40001" || error.code == "40P01" }

    func schemaVersion() throws(SQLError) -> Int {
        let rows = try execute("SELECT to_regclass('citsci_schema') IS NOT NULL")
        guard rows.first?.first?.integer == 1 else { return 0 }
        return Int(try execute("SELECT version FROM citsci_schema").first?.first?.integer ?? 0)
    }

    /// All pending migrations in one transaction (PostgreSQL's DDL is transactional), behind a lock
    /// of their own, so two instances starting together migrate once. (Read committed: each
    /// statement sees what the instance before it committed while this one waited for the lock.)
    func migrate(_ migrations: [String]) throws -> Int {
        try transaction(.readCommitted) { tx in
            try tx.execute("SELECT pg_advisory_xact_lock(?)", [.integer(Self.key("migrations"))])
            try tx.execute("CREATE TABLE IF NOT EXISTS citsci_schema (version BIGINT NOT NULL)")
            let version = Int(try tx.execute("SELECT version FROM citsci_schema").first?.first?.integer ?? 0)
            if version == 0 { try tx.execute("INSERT INTO citsci_schema (version) VALUES (0)") }
            for n in version..<max(version, migrations.count) {
                try tx.execute(Self.postgresTypes(migrations[n]))
                try tx.execute("UPDATE citsci_schema SET version = ?", [.integer(Int64(n + 1))])
            }
            return version
        }
    }

    /// A session advisory lock, on a connection kept for it: held until `unlock`, or until the
    /// process dies and its connection closes, so a crashed instance never leaves the work locked.
    /// Threads of this process wait for each other before taking a connection.
    func lock(_ name: String, wait: Bool) throws -> Bool {
        guard named.lock(name, wait: wait) else { return false }
        do {
            let connection = try pool.take()
            do {
                let key = SQLValue.integer(Self.key(name))
                let taken = try connection.run(wait ? "SELECT 1 FROM (SELECT pg_advisory_lock(?)) AS taken" : "SELECT pg_try_advisory_lock(?)", [key])
                if taken.rows.first?.first?.integer == 1 {
                    holders.withLock { $0[name] = connection }
                    return true
                }
                pool.give(connection)
            } catch {
                pool.give(connection)
                throw error
            }
        } catch {
            named.unlock(name)
            throw error
        }
        named.unlock(name)
        return false
    }

    func unlock(_ name: String) {
        if let connection = holders.withLock({ $0.removeValue(forKey: name) }) {
            _ = try? connection.run("SELECT pg_advisory_unlock(?)", [.integer(Self.key(name))])
            pool.give(connection)
        }
        named.unlock(name)
    }

    /// Connections made as they are needed, up to `capacity`; a borrower beyond it waits for one back.
    final class Pool: @unchecked Sendable {
        // @unchecked: `idle` and `open` are read and written only under `condition`.
        private let condition = NSCondition()
        private var idle: [PostgresConnection] = []
        private var open = 0
        private let url: String
        private let location: String
        let capacity: Int

        init(url: String, location: String, capacity: Int) {
            self.url = url
            self.location = location
            self.capacity = capacity
        }

        /// A connection that is up (one lost since its last use is reset first).
        func take() throws(SQLError) -> PostgresConnection {
            condition.lock()
            while idle.isEmpty && open >= capacity { condition.wait() }
            if let connection = idle.popLast() {
                condition.unlock()
                do { try connection.reconnectIfLost() } catch {
                    give(connection)
                    throw error
                }
                return connection
            }
            open += 1
            condition.unlock()
            do { return try PostgresConnection(url: url, location: location) } catch {
                condition.lock()
                open -= 1
                condition.signal()
                condition.unlock()
                throw error
            }
        }

        func give(_ connection: PostgresConnection) {
            condition.lock()
            idle.append(connection)
            condition.signal()
            condition.unlock()
        }

        /// Connections open now (idle or lent).
        var count: Int { condition.lock(); defer { condition.unlock() }; return open }
    }

    /// Connections this instance has open, for tests.
    var openConnections: Int { pool.count }

    // MARK: - Text in and out

    /// `?` becomes `$1`, `$2`…; `?N` becomes `$N`; inside quoted strings nothing changes.
    static func placeholders(_ sql: String) -> String {
        guard sql.contains("?") else { return sql }
        var out = "", next = 0, quoted = false
        var chars = sql.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if c == "'" { quoted.toggle() }
            guard c == "?", !quoted else { out.append(c); continue }
            var digits = ""
            while let d = chars.next() {
                if d.isASCII, d.isNumber { digits.append(d) } else { pending = d; break }
            }
            if digits.isEmpty { next += 1; digits = String(next) }
            out += "$" + digits
        }
        return out
    }

    /// The migrations' SQLite column types as PostgreSQL's (SQLite's INTEGER is 64-bit, REAL is double).
    static func postgresTypes(_ ddl: String) -> String {
        var s = ddl
        for (from, to) in [("INTEGER", "BIGINT"), ("REAL", "DOUBLE PRECISION"), ("BLOB", "BYTEA")] {
            s = s.replacingOccurrences(of: "\\b\(from)\\b", with: to, options: .regularExpression)
        }
        return s
    }

    static func float(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "Infinity" : "-Infinity" }
        return "\(v)"
    }

    static func double(_ raw: String) -> Double {
        switch raw {
        case "NaN": .nan
        case "Infinity": .infinity
        case "-Infinity": -.infinity
        default: Double(raw) ?? .nan
        }
    }

    /// bytea's text output: `\x` and two hex digits a byte.
    static func bytea(_ raw: String) -> [UInt8] {
        let hex = Array(raw.utf8.dropFirst(2))
        var out: [UInt8] = []
        out.reserveCapacity(hex.count / 2)
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        var i = 0
        while i + 1 < hex.count { out.append(nibble(hex[i]) << 4 | nibble(hex[i + 1])); i += 2 }
        return out
    }

    /// A stable 64-bit key for an advisory lock name (FNV-1a).
    static func key(_ name: String) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in ("citsci:" + name).utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int64(bitPattern: h)
    }

    static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.password != nil else { return url }
        c.password = "***"
        return c.string ?? "postgresql://…"
    }

    static func error(_ code: String, _ message: String, _ sql: String) -> SQLError {
        SQLError(engine: "PostgreSQL", code: code, message: message, sql: sql)
    }
}
