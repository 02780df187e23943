import State
import Foundation

/// The engines a state store runs on. Tests of the paths whose SQL both engines must speak take
/// each one as an argument (PostgreSQL only where its binaries are installed).
package enum StoreEngine: String, Sendable, CustomStringConvertible {
    case sqlite, postgresql

    package static var available: [StoreEngine] { PostgresServer.isInstalled ? [.sqlite, .postgresql] : [.sqlite] }
    package var description: String { rawValue }
}

/// A state store that goes away with the value: a SQLite file in the temporary folder, or a new
/// database on a throwaway PostgreSQL server.
package final class ThrowawayStore: @unchecked Sendable {
    package let state: StateStore
    package let location: String
    private let server: PostgresServer?

    package init(_ engine: StoreEngine) throws {
        switch engine {
        case .sqlite:
            server = nil
            location = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-store-\(UUID().uuidString).sqlite").path
        case .postgresql:
            let server = try PostgresServer()
            self.server = server
            location = try server.newDatabase()
        }
        state = try StateStore(path: location)
    }

    /// Another instance's store on the same database (SQLite: the same file).
    package func reopen() throws -> StateStore { try StateStore(path: location) }

    deinit {
        guard server == nil else { return }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: location + suffix) }
    }
}
