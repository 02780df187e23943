import CPostgres
import Foundation

/// One libpq connection: the only code that touches libpq. Used by one thread at a time (the
/// pool hands it out and takes it back).
final class PostgresConnection: @unchecked Sendable {
    // @unchecked: one borrower at a time, which the pool guarantees.
    private let connection: OpaquePointer
    let location: String

    init(url: String, location: String) throws(SQLError) {
        self.location = location
        guard let conn = PQconnectdb(url) else { throw PostgresDatabase.error("connect", "out of memory", "connect to \(location)") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(conn))
            PQfinish(conn)
            throw PostgresDatabase.error("connect", message, "connect to \(location)")
        }
        // libpq prints notices ("relation already exists, skipping") on stderr by default.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        connection = conn
    }

    deinit { PQfinish(connection) }

    func reconnectIfLost() throws(SQLError) {
        guard PQstatus(connection) != CONNECTION_OK else { return }
        PQreset(connection)
        guard PQstatus(connection) == CONNECTION_OK else {
            throw PostgresDatabase.error("connect", Self.trimmed(PQerrorMessage(connection)), "reconnect to \(location)")
        }
    }

    /// One statement; without parameters, a script of several (the migrations).
    func run(_ sql: String, _ parameters: [SQLValue]) throws(SQLError) -> (rows: [[SQLValue]], changes: Int) {
        let text = PostgresDatabase.placeholders(sql)
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
                case .real(let v): bytes = Array(PostgresDatabase.float(v).utf8CString)
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
            throw PostgresDatabase.error("connection", Self.trimmed(PQerrorMessage(connection)), sql)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? "\(status)"
            throw PostgresDatabase.error(state, Self.trimmed(PQresultErrorMessage(result)), sql)
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
                case 700, 701, 1700: row.append(.real(PostgresDatabase.double(raw)))
                case 17: row.append(.blob(PostgresDatabase.bytea(raw)))
                default: row.append(.text(raw))
                }
            }
            rows.append(row)
        }
        return (rows, changes)
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "unknown error"
    }
}
