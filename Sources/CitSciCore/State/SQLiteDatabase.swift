import CSQLite
import Foundation
import Synchronization

/// A value bound to or read from SQLite.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var integer: Int64? { if case .integer(let v) = self { v } else { nil } }
    public var real: Double? { if case .real(let v) = self { v } else if case .integer(let v) = self { Double(v) } else { nil } }
    public var text: String? { if case .text(let v) = self { v } else { nil } }
    public var blob: [UInt8]? { if case .blob(let v) = self { v } else { nil } }
}

/// A failed SQLite call: the statement and SQLite's message.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String
    public var description: String { "SQLite error \(code): \(message) (in: \(sql.prefix(120)))" }
}

/// One SQLite connection: the only code that touches SQLite. Calls are serialised by a lock; the
/// database is in WAL mode with `synchronous = FULL`, so a committed transaction survives a crash
/// (DESIGN.md rule 1 relies on that).
public final class SQLiteDatabase: @unchecked Sendable {
    // @unchecked: the connection is used only under `lock`.
    fileprivate let handle: OpaquePointer
    private let lock = Mutex(())
    public let path: String

    public init(path: String) throws(SQLiteError) {
        var db: OpaquePointer? = nil
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message, sql: "open \(path)")
        }
        self.handle = db
        self.path = path
        sqlite3_busy_timeout(db, 10_000)
        try execute("PRAGMA journal_mode = WAL")
        try execute("PRAGMA synchronous = FULL")
        try execute("PRAGMA foreign_keys = ON")
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs a statement (or several, without parameters) and returns the rows it gives.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLValue] = []) throws(SQLiteError) -> [[SQLValue]] {
        let result: Result<[[SQLValue]], SQLiteError> = lock.withLock { _ in
            Result { () throws(SQLiteError) -> [[SQLValue]] in try run(sql, parameters) }
        }
        return try result.get()
    }

    /// Runs `body` in one transaction: all of it is durable, or none of it.
    public func transaction<T>(_ body: (Transaction) throws -> T) throws -> T {
        try lock.withLock { _ in
            _ = try run("BEGIN IMMEDIATE", [])
            do {
                let value = try body(Transaction(database: self))
                _ = try run("COMMIT", [])
                return value
            } catch {
                _ = try? run("ROLLBACK", [])
                throw error
            }
        }
    }

    /// Statements inside a transaction (the lock is already held).
    public struct Transaction {
        let database: SQLiteDatabase
        @discardableResult
        public func execute(_ sql: String, _ parameters: [SQLValue] = []) throws(SQLiteError) -> [[SQLValue]] {
            try database.run(sql, parameters)
        }
        /// Rows changed by the last statement.
        public var changes: Int { Int(sqlite3_changes(database.handle)) }
    }

    /// Rows changed by the last statement on this connection (use `Transaction.changes` when other
    /// threads share the connection).
    public var changes: Int { Int(sqlite3_changes(handle)) }

    fileprivate func run(_ sql: String, _ parameters: [SQLValue]) throws(SQLiteError) -> [[SQLValue]] {
        if parameters.isEmpty && sql.contains(";") {
            var err: UnsafeMutablePointer<CChar>? = nil
            let rc = sqlite3_exec(handle, sql, nil, nil, &err)
            guard rc == SQLITE_OK else {
                let message = err.map { String(cString: $0) } ?? "error"
                sqlite3_free(err)
                throw SQLiteError(code: rc, message: message, sql: sql)
            }
            return []
        }
        var statement: OpaquePointer? = nil
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw SQLiteError(code: sqlite3_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
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
            guard rc == SQLITE_OK else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql) }
        }
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql) }
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
}
