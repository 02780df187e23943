import Foundation

/// A value bound to or read from the state store.
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    var integer: Int64? { if case .integer(let v) = self { v } else { nil } }
    var real: Double? { if case .real(let v) = self { v } else if case .integer(let v) = self { Double(v) } else { nil } }
    var text: String? { if case .text(let v) = self { v } else { nil } }
    var blob: [UInt8]? { if case .blob(let v) = self { v } else { nil } }
}

extension Array where Element == SQLValue {
    /// Column `index` of a row as text; a NULL or another type where the schema promises text is a
    /// damaged or foreign store, and says which column, instead of trapping.
    func text(_ index: Int, _ column: String) throws(SQLError) -> String {
        guard indices.contains(index), let value = self[index].text else {
            throw SQLError(engine: "state store", code: "shape", message: "column \(column) holds \(indices.contains(index) ? "\(self[index])" : "nothing"), not text: is the store damaged?", sql: column)
        }
        return value
    }
}

/// A failed database call: which engine, its code and message, and the statement.
package struct SQLError: Error, CustomStringConvertible, Sendable {
    package let engine: String
    package let code: String
    package let message: String
    package let sql: String
    package var description: String { "\(engine) error \(code): \(message) (in: \(sql.prefix(120)))" }
}

/// The state store's database: SQLite for one instance, PostgreSQL when several share the work.
///
/// Statements are written once, in the SQL both engines speak (`?` placeholders, `ON CONFLICT`
/// upserts, `INTEGER`/`REAL`/`BLOB` columns); each engine adapts what it must. A transaction runs
/// as if alone (SQLite's `BEGIN IMMEDIATE` runs them one at a time; PostgreSQL's SERIALIZABLE runs
/// them side by side and runs one again when it conflicted), so code reads-then-writes inside one
/// without races, and its body must do nothing but SQL (it may run more than once).
protocol SQLDatabase: AnyObject, Sendable {
    /// Where the database is, for messages (never with a password).
    var location: String { get }
    /// Runs a statement and returns the rows it gives.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws(SQLError) -> [[SQLValue]]
    /// Runs `body` in one transaction: all of it is durable, or none of it.
    func transaction<T>(_ isolation: Isolation, _ body: (SQLTransaction) throws -> T) throws -> T
    /// The schema version the database is at (0 when new).
    func schemaVersion() throws(SQLError) -> Int
    /// Applies `migrations[version...]` and records the version reached, atomically per engine;
    /// returns the version the database was at (above `migrations.count`: a newer citsci's).
    func migrate(_ migrations: [String]) throws -> Int
    /// Takes the named lock, held across every process sharing the database until `unlock`
    /// (waiting for it when `wait`); false when another holder has it and `wait` is false.
    func lock(_ name: String, wait: Bool) throws -> Bool
    func unlock(_ name: String)
}

extension SQLDatabase {
    @discardableResult
    func execute(_ sql: String) throws(SQLError) -> [[SQLValue]] { try execute(sql, []) }

    /// Runs `body` in one transaction as if no other ran at the same time.
    func transaction<T>(_ body: (SQLTransaction) throws -> T) throws -> T { try transaction(.serializable, body) }
}

/// How much a transaction must be kept apart from those running beside it (PostgreSQL; SQLite runs
/// them one at a time).
enum Isolation: Sendable {
    /// As if it ran alone: for a body that reads and then writes what it read.
    case serializable
    /// Each statement sees what is committed when it starts: for a body whose statements each stand
    /// alone (inserts that skip or update on conflict, `size = size + 1`), on the hot path, where
    /// a serializable transaction's bookkeeping and retries cost and buy nothing.
    case readCommitted
}

/// What a transaction body runs its statements on (the database's lock is already held).
struct SQLTransaction {
    let run: (String, [SQLValue]) throws(SQLError) -> [[SQLValue]]
    let changed: () -> Int

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue] = []) throws(SQLError) -> [[SQLValue]] {
        try run(sql, parameters)
    }

    /// Rows changed by the last statement.
    var changes: Int { changed() }
}

/// Many rows in one statement (`INSERT … VALUES (…), (…)`, `WHERE (a, b) IN (VALUES …)`): on
/// PostgreSQL each statement is a round trip and a plan, so a batch's rows go in a few.
enum SQLRows {
    /// Rows a statement carries at most (7 columns × 200 is far below either engine's limit on
    /// parameters).
    static let perStatement = 200

    /// `(?, ?), (?, ?)`: the placeholders of `count` rows of `width` values.
    static func placeholders(_ count: Int, width: Int) -> String {
        let row = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
        return Array(repeating: row, count: count).joined(separator: ", ")
    }

    /// The items in slices of at most `perStatement`, in order.
    static func chunks<T>(_ items: [T]) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: perStatement).map { items[$0..<min($0 + perStatement, items.count)] }
    }
}

/// Locks by name within one process (the database's own lock covers other processes).
final class NamedLocks: @unchecked Sendable {
    // @unchecked: `held` is read and written only under `condition`.
    private let condition = NSCondition()
    private var held: Set<String> = []

    /// Takes the lock (waiting for it when `wait`); false when not taken.
    func lock(_ name: String, wait: Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while held.contains(name) {
            if !wait { return false }
            condition.wait()
        }
        held.insert(name)
        return true
    }

    func unlock(_ name: String) {
        condition.lock()
        held.remove(name)
        condition.broadcast()
        condition.unlock()
    }
}

/// Opens the state store's database at `location`: a `postgresql://` (or `postgres://`) URL, or
/// a SQLite file path (":memory:" for a throwaway one).
func openDatabase(_ location: String) throws -> any SQLDatabase {
    if PostgresDatabase.handles(location) { return try PostgresDatabase(url: location) }
    let folder = (location as NSString).deletingLastPathComponent
    if location != ":memory:", !folder.isEmpty {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }
    return try SQLiteDatabase(path: location)
}
