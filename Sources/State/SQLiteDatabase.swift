import Basics
import CSQLite
import Foundation
import Synchronization

/// One SQLite connection: the only code that touches SQLite. Calls are serialised by a lock; the
/// database is in WAL mode with `synchronous = FULL`, so a committed transaction survives a crash
/// (DESIGN.md rule 1 relies on that). One process uses it; several instances share PostgreSQL.
final class SQLiteDatabase: SQLDatabase, @unchecked Sendable {
    // @unchecked: the connection is used only under `lock`.
    fileprivate let handle: OpaquePointer
    private let lock = Mutex(())
    private let named = NamedLocks()
    let path: String
    var location: String { path }

    package init(path: String) throws(SQLError) {
        // A store in a folder not made yet (state: data/citsci.sqlite) gets its folder, as the sink does.
        let folder = (path as NSString).deletingLastPathComponent
        if path != ":memory:", !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw SQLError(engine: "SQLite", code: "open", message: "\(path): cannot make its folder \(folder): \(FolderError.reason(of: error))", sql: "open \(path)")
            }
        }
        var db: OpaquePointer? = nil
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw Self.error(rc, "\(path): \(message)", "open \(path)")
        }
        self.handle = db
        self.path = path
        sqlite3_busy_timeout(db, 10_000)
        do {
            try execute("PRAGMA journal_mode = WAL")
            try execute("PRAGMA synchronous = FULL")
            try execute("PRAGMA foreign_keys = ON")
            // 32 MiB of page cache instead of SQLite's 2 MiB: a long run's store outgrows the default
            // and every look-up then reads pages back from the kernel (a third of the service's time at
            // 100,000 alerts). Bounded, so memory stays flat.
            try execute("PRAGMA cache_size = -32768")
            // Reads the schema: a file that is not a database (or a damaged one) fails here, at open.
            try execute("SELECT count(*) FROM sqlite_master")
        } catch {
            // The message names the file: the first statement is where a bad file shows, and the
            // statement alone does not say which file it was.
            let hint = error.code == String(SQLITE_NOTADB) || error.code == String(SQLITE_CORRUPT)
                ? " (the file is not a SQLite database, or it is damaged: move it aside to start a new store, or restore a backup)" : ""
            throw SQLError(engine: "SQLite", code: error.code, message: "\(path): \(error.message)\(hint)", sql: "open \(path)")
        }
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs a statement (or several, without parameters) and returns the rows it gives.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue] = []) throws(SQLError) -> [[SQLValue]] {
        let result: Result<[[SQLValue]], SQLError> = lock.withLock { _ in
            Result { () throws(SQLError) -> [[SQLValue]] in try run(sql, parameters) }
        }
        return try result.get()
    }

    /// Runs `body` in one transaction: all of it is durable, or none of it. Transactions run one at
    /// a time (`BEGIN IMMEDIATE`), whatever the isolation asked.
    func transaction<T>(_ isolation: Isolation, _ body: (SQLTransaction) throws -> T) throws -> T {
        try lock.withLock { _ in
            _ = try run("BEGIN IMMEDIATE", [])
            do {
                let value = try body(SQLTransaction(run: { (sql, parameters) throws(SQLError) in try self.run(sql, parameters) },
                                                    changed: { Int(sqlite3_changes(self.handle)) }))
                _ = try run("COMMIT", [])
                return value
            } catch {
                _ = try? run("ROLLBACK", [])
                throw error
            }
        }
    }

    func schemaVersion() throws(SQLError) -> Int { Int(try execute("PRAGMA user_version")[0][0].integer ?? 0) }

    func migrate(_ migrations: [String]) throws -> Int {
        let version = try schemaVersion()
        for n in version..<max(version, migrations.count) {
            try transaction { tx in
                try tx.execute(migrations[n] + ";")
                try tx.execute("PRAGMA user_version = \(n + 1)")
            }
        }
        return version
    }

    /// One process holds a SQLite file, so the lock is this process's.
    func lock(_ name: String, wait: Bool) -> Bool { named.lock(name, wait: wait) }
    func unlock(_ name: String) { named.unlock(name) }

    fileprivate func run(_ sql: String, _ parameters: [SQLValue]) throws(SQLError) -> [[SQLValue]] {
        if parameters.isEmpty && sql.contains(";") {
            var err: UnsafeMutablePointer<CChar>? = nil
            let rc = sqlite3_exec(handle, sql, nil, nil, &err)
            guard rc == SQLITE_OK else {
                let message = err.map { String(cString: $0) } ?? "error"
                sqlite3_free(err)
                throw Self.error(rc, message, sql)
            }
            return []
        }
        var statement: OpaquePointer? = nil
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw Self.error(sqlite3_errcode(handle), String(cString: sqlite3_errmsg(handle)), sql)
        }
        defer { sqlite3_finalize(statement) }
        for (i, p) in parameters.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch p {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .real(let v): rc = sqlite3_bind_double(statement, index, v)
            case .text(let v): rc = citsci_sqlite_bind_text(statement, index, v, Int32(v.utf8.count))
            case .blob(let v): rc = v.withUnsafeBytes { citsci_sqlite_bind_blob(statement, index, $0.baseAddress, Int32($0.count)) }
            }
            guard rc == SQLITE_OK else { throw Self.error(rc, String(cString: sqlite3_errmsg(handle)), sql) }
        }
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw Self.error(rc, String(cString: sqlite3_errmsg(handle)), sql) }
            var row: [SQLValue] = []
            for c in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, c) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, c)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, c)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite3_column_text(statement, c))))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(statement, c))
                    row.append(.blob(n == 0 ? [] : Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(statement, c), count: n))))
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        return rows
    }

    private static func error(_ code: Int32, _ message: String, _ sql: String) -> SQLError {
        SQLError(engine: "SQLite", code: String(code), message: message, sql: sql)
    }
}
