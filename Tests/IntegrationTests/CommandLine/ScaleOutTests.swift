import WebClient
@testable import State
import Foundation
import Glibc
import Testing
import TestSupport

/// Issue 8's many-machines test: two `citsci run` instances in one consumer group on a 4-partition
/// topic (Tansu), sharing a PostgreSQL state store (Debian's server, started by the test) and the
/// fake Panoptes server. One is killed (-9) midway and started again. Each instance must take a
/// share of the partitions, and every alert that passes the filter must end as exactly one subject.
/// In the soak's suite: it blocks for minutes, on a thread of `longTestExecutor`.
extension SoakTests {
    static let scaleOutSimulated = 800

    /// The instance's counter from its /metrics, summed over labels.
    static func counter(_ name: String, at url: String) -> Double {
        let text: String = (try? HTTPClient(timeout: 5).get(url).text) ?? ""
        var sum = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
            sum += line.split(separator: " ").last.flatMap { Double($0) } ?? 0
        }
        return sum
    }

    static func metricsURL(_ log: Locked<String>) throws -> String {
        let deadline = Date().addingTimeInterval(120)  // a debug build beside other tests starts slowly
        while Date() < deadline {
            if let r = log.value.range(of: #"http://127\.0\.0\.1:\d+/metrics"#, options: .regularExpression) { return String(log.value[r]) }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw FixtureError(message: "no metrics address in the log: \(log.value.suffix(1500))")
    }

    @Test(.enabled(if: PostgresServer.isInstalled, Comment(rawValue: PostgresServer.missingMessage)))
    func twoInstancesShareThePartitionsAndOnePostgresStore() async throws {
        try await withTaskExecutorPreference(longTestExecutor) { try Self.twoInstances() }
    }

    static func twoInstances() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-pair-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/filters", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.filter.write(toFile: dir + "/filters/soak.yaml", atomically: true, encoding: .utf8)
        let (expected, real, distinct) = try Self.expected(filters: dir + "/filters", simulated: Self.scaleOutSimulated)
        #expect(real == 375 && distinct == 374 + Self.scaleOutSimulated)

        let postgres = try PostgresServer()
        let url = try postgres.newDatabase()
        let broker = try TansuBroker()
        try broker.createTopic("alerts", partitions: 4)
        let fake = try FakePanoptes()
        try Self.replay(simulated: Self.scaleOutSimulated, into: broker, dir: dir)
        try Self.writeConfiguration(dir: dir, broker: broker, group: "pair", state: url)
        let env = Self.environment(fake)
        let check = try CLI.run(["config", "check", dir + "/citsci.yaml"], environment: env)
        #expect(check.status == 0 && check.stdout.contains("state: \(url) (PostgreSQL, reachable, schema up to date)"), "\(check.stdout)\(check.stderr)")
        let run = ["run", "--config", dir + "/citsci.yaml"]

        let (a, logA) = try CLI.startLogging(run, environment: env)
        var (b, logB) = try CLI.startLogging(run, environment: env)
        defer { for p in [a, b] where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let metricsA = try Self.metricsURL(logA)
        let metricsB = try Self.metricsURL(logB)

        // Both take messages; then b dies mid-run and comes back.
        var consumed = (a: 0.0, b: 0.0)
        let shared = Date().addingTimeInterval(60)
        while Date() < shared {
            consumed = (Self.counter("citsci_messages_total", at: metricsA), Self.counter("citsci_messages_total", at: metricsB))
            if consumed.a > 0 && consumed.b > 0 { break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        #expect(consumed.a > 0 && consumed.b > 0, "each instance consumed a share: \(consumed)")
        kill(b.processIdentifier, SIGKILL)
        b.waitUntilExit()
        let atKill = try Self.remote(fake).count
        (b, logB) = try CLI.startLogging(run, environment: env)

        var remote: [String: [(sets: [String], keys: [String])]] = [:]
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline {
            try Self.finishSets(fake)
            remote = try Self.remote(fake)
            if remote.values.filter({ $0.count == 1 && $0[0].sets.count == 1 }).count >= expected.count { break }
            Thread.sleep(forTimeInterval: 1)
        }
        for p in [a, b] { kill(p.processIdentifier, SIGTERM) }
        for p in [a, b] { p.waitUntilExit() }
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0, "a: \(logA.value.suffix(800)) b: \(logB.value.suffix(800))")
        for log in [logA.value, logB.value] {
            #expect(!log.contains("push failed") && !log.contains("classification round failed") , "\(log.suffix(1500))")
        }
        #expect(atKill < expected.count, "b was killed before the end: \(atKill) of \(expected.count)")

        // One store: every alert recorded once, whichever instance took it.
        let store = try StateStore(path: url)
        let recorded = try store.database.execute("SELECT COUNT(*), COUNT(DISTINCT alert_id) FROM alerts")[0]
        #expect(recorded == [.integer(Int64(distinct)), .integer(Int64(distinct))], "\(recorded)")

        #expect(Set(remote.keys) == expected, "missing \(expected.subtracting(remote.keys).count), extra \(Set(remote.keys).subtracting(expected).count); a: \(logA.value.suffix(1500)) b: \(logB.value.suffix(1500))")
        let twice = remote.filter { $0.value.count != 1 }.keys
        #expect(twice.isEmpty, "\(twice.count) alerts made more than one subject")
        #expect(remote.values.allSatisfy { $0.allSatisfy { $0.sets.count == 1 && $0.keys.count == 3 } }, "each in its set, three frames")
        let blobs = try fake.blobs()
        #expect(remote.values.flatMap { $0.flatMap(\.keys) }.allSatisfy { blobs[$0]?["sha256"] != nil }, "every frame uploaded")
        let dead = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/dead")) ?? []).count
        #expect(dead == 0, "\(dead) dead letters")
    }
}
