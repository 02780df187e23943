import Foundation
import Glibc

/// A real PostgreSQL server from Debian's packages (scripts/bootstrap installs `postgresql`) in a
/// throwaway folder on a free loopback port, stopped and removed when the value goes away. As
/// root (CI), the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
package final class PostgresServer: @unchecked Sendable {
    private let process: Process
    private let folder: String
    private let bin: String
    package let port: Int

    /// The folder of initdb and postgres, newest version first.
    package static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted { $0.compare($1, options: .numeric) == .orderedDescending }
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }()

    package static var isInstalled: Bool { binaries != nil }
    package static let missingMessage = "PostgreSQL is not installed: run scripts/bootstrap (apt install postgresql)"

    private static let asRoot = geteuid() == 0

    package init() throws {
        guard let bin = Self.binaries else { throw FixtureError(message: Self.missingMessage) }
        self.bin = bin
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if Self.asRoot { _ = try runCommand("/bin/chown", ["postgres:postgres", folder]) }
        _ = try Self.asServerUser(bin + "/initdb", ["-D", folder + "/data", "-A", "trust", "-U", "citsci", "-E", "UTF8", "--no-sync"])
        port = try TansuBroker.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.asRoot ? "/usr/sbin/runuser" : bin + "/postgres")
        let arguments = ["-D", folder + "/data", "-p", String(port), "-k", folder, "-h", "127.0.0.1", "-c", "fsync=off"]
        process.arguments = Self.asRoot ? ["-u", "postgres", "--", bin + "/postgres"] + arguments : arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !TansuBroker.accepts(port) {
            guard Date() < deadline, process.isRunning else { throw FixtureError(message: "PostgreSQL did not start on port \(port)") }
            usleep(50_000)
        }
        // Accepting connections comes a moment before accepting logins.
        while (try? runCommand(bin + "/pg_isready", ["-h", "127.0.0.1", "-p", String(port)])) == nil, Date() < deadline {
            usleep(50_000)
        }
    }

    /// A new, empty database on the server, as a URL for `state:`.
    package func newDatabase() throws -> String {
        let name = "citsci_" + UUID().uuidString.prefix(8).lowercased()
        _ = try runCommand(bin + "/createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "citsci", name])
        return "postgresql://citsci@127.0.0.1:\(port)/\(name)"
    }

    private static func asServerUser(_ executable: String, _ arguments: [String]) throws -> String {
        asRoot ? try runCommand("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments) : try runCommand(executable, arguments)
    }

    deinit {
        _ = try? Self.asServerUser(bin + "/pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"])
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }
}
