import CPostgres
import Foundation
import Synchronization

/// One PostgreSQL connection (libpq): the state store that several citsci instances share
/// (DESIGN.md rule 7). The only code that touches libpq.
///
/// The statements are the ones written for SQLite: `?` placeholders become `$n`, and the
/// migrations' column types become PostgreSQL's (`BIGINT`, `DOUBLE PRECISION`, `BYTEA`). Every
/// transaction first takes one advisory lock, so transactions from all instances run one at a time
/// as SQLite's `BEGIN IMMEDIATE` makes them: the store's read-then-write steps need no other care.
/// The password comes from the URL, `PGPASSWORD` or `~/.pgpass` (libpq's own rules), and never
/// appears in `location`.
final class PostgresDatabase: SQLDatabase, @unchecked Sendable {
    // @unchecked: the connection is used only under `lock`.
    private let connection: OpaquePointer
    private let lock = Mutex(())
    private let named = NamedLocks()
    let location: String

    static func handles(_ location: String) -> Bool {
        location.hasPrefix("postgresql://") || location.hasPrefix("postgres://")
    }

    init(url: String) throws(SQLError) {
        location = Self.redacted(url)
        guard let conn = PQconnectdb(url) else { throw Self.error("connect", "out of memory", "connect to \(location)") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(conn))
            PQfinish(conn)
            throw Self.error("connect", message, "connect to \(location)")
        }
        // libpq prints notices ("relation already exists, skipping") on stderr by default.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        connection = conn
    }

    deinit { PQfinish(connection) }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(SQLError) -> [[SQLValue]] {
        let result: Result<[[SQLValue]], SQLError> = lock.withLock { _ in
            Result { () throws(SQLError) -> [[SQLValue]] in
                try reconnectIfLost()
                return try run(sql, parameters).rows
            }
        }
        return try result.get()
    }

    func transaction<T>(_ body: (SQLTransaction) throws -> T) throws -> T {
        try lock.withLock { _ in
            try reconnectIfLost()
            _ = try run("BEGIN", [])
            do {
                _ = try run("SELECT pg_advisory_xact_lock(?)", [.integer(Self.key("transactions"))])
                var changes = 0
                let tx = SQLTransaction(run: { (sql, parameters) throws(SQLError) in
                    let r = try self.run(sql, parameters)
                    changes = r.changes
                    return r.rows
                }, changed: { changes })
                let value = try body(tx)
                _ = try run("COMMIT", [])
                return value
            } catch {
                _ = try? run("ROLLBACK", [])
                throw error
            }
        }
    }

    func schemaVersion() throws(SQLError) -> Int {
        let rows = try execute("SELECT to_regclass('citsci_schema') IS NOT NULL")
        guard rows.first?.first?.integer == 1 else { return 0 }
        return Int(try execute("SELECT version FROM citsci_schema").first?.first?.integer ?? 0)
    }

    /// All pending migrations in one transaction (PostgreSQL's DDL is transactional). Transactions
    /// run one at a time across instances, so two instances starting together migrate once.
    func migrate(_ migrations: [String]) throws -> Int {
        try transaction { tx in
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

    /// A session advisory lock: held until `unlock`, or until the process dies and its connection
    /// closes, so a crashed instance never leaves the work locked.
    func lock(_ name: String, wait: Bool) throws -> Bool {
        guard named.lock(name, wait: wait) else { return false }
        do {
            let key = SQLValue.integer(Self.key(name))
            let taken = try execute(wait ? "SELECT 1 FROM (SELECT pg_advisory_lock(?)) AS taken" : "SELECT pg_try_advisory_lock(?)", [key])
            if taken.first?.first?.integer == 1 { return true }
        } catch {
            named.unlock(name)
            throw error
        }
        named.unlock(name)
        return false
    }

    func unlock(_ name: String) {
        _ = try? execute("SELECT pg_advisory_unlock(?)", [.integer(Self.key(name))])
        named.unlock(name)
    }

    // MARK: - libpq

    private func reconnectIfLost() throws(SQLError) {
        guard PQstatus(connection) != CONNECTION_OK else { return }
        PQreset(connection)
        guard PQstatus(connection) == CONNECTION_OK else {
            throw Self.error("connect", Self.trimmed(PQerrorMessage(connection)), "reconnect to \(location)")
        }
    }

    /// One statement; without parameters, a script of several (the migrations).
    private func run(_ sql: String, _ parameters: [SQLValue]) throws(SQLError) -> (rows: [[SQLValue]], changes: Int) {
        let text = Self.placeholders(sql)
        let result: OpaquePointer?
        if parameters.isEmpty {
            result = PQexec(connection, text)
        } else {
            // Text for everything but bytes, all in one buffer; the server infers each parameter's
            // type from its place.
            var buffer: [CChar] = []
            var starts: [Int?] = [], lengths: [Int32] = [], formats: [Int32] = [], types: [Oid] = []
            for p in parameters {
                let bytes: [CChar]?
                switch p {
                case .null: bytes = nil
                case .integer(let v): bytes = Array(String(v).utf8CString)
                case .real(let v): bytes = Array(Self.float(v).utf8CString)
                case .text(let v): bytes = Array(v.utf8CString)
                case .blob(let v): bytes = v.map { CChar(bitPattern: $0) }
                }
                let isBlob = if case .blob = p { true } else { false }
                starts.append(bytes.map { _ in buffer.count })
                buffer += bytes ?? []
                lengths.append(Int32(isBlob ? bytes?.count ?? 0 : 0))
                formats.append(isBlob ? 1 : 0)
                types.append(isBlob ? 17 : 0)  // bytea
            }
            buffer.append(0)  // never empty, so an empty blob still has an address (nil would be NULL)
            result = buffer.withUnsafeBufferPointer { base in
                let pointers = starts.map { $0.map { UnsafePointer(base.baseAddress! + $0) } }
                return PQexecParams(connection, text, Int32(parameters.count), types, pointers, lengths, formats, 0)
            }
        }
        guard let result else {
            throw Self.error("connection", Self.trimmed(PQerrorMessage(connection)), sql)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? "\(status)"
            throw Self.error(state, Self.trimmed(PQresultErrorMessage(result)), sql)
        }
        let changes = Int(String(cString: PQcmdTuples(result))) ?? 0
        var rows: [[SQLValue]] = []
        let columns = PQnfields(result)
        for r in 0..<PQntuples(result) {
            var row: [SQLValue] = []
            row.reserveCapacity(Int(columns))
            for c in 0..<columns {
                if PQgetisnull(result, r, c) == 1 { row.append(.null); continue }
                let raw = String(cString: PQgetvalue(result, r, c))
                switch PQftype(result, c) {
                case 16: row.append(.integer(raw == "t" ? 1 : 0))
                case 20, 21, 23, 26: row.append(Int64(raw).map(SQLValue.integer) ?? .text(raw))
                case 700, 701, 1700: row.append(.real(Self.double(raw)))
                case 17: row.append(.blob(Self.bytea(raw)))
                default: row.append(.text(raw))
                }
            }
            rows.append(row)
        }
        return (rows, changes)
    }

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

    private static func error(_ code: String, _ message: String, _ sql: String) -> SQLError {
        SQLError(engine: "PostgreSQL", code: code, message: message, sql: sql)
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "unknown error"
    }
}
