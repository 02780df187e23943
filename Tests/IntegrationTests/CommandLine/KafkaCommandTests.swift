import Foundation
import Testing
import TestSupport

/// `citsci replay` and `citsci consume` against a real broker (Tansu).
@Suite(.enabled(if: Paths.hasSharedData, "../shared/data is absent: Kafka CLI tests on real alerts skipped"), .timeLimit(.minutes(3)))
struct KafkaCommandTests {
    static let fast = ["--property", "session.timeout.ms=3000", "--property", "heartbeat.interval.ms=500"]

    func positions(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    @Test func replayedAlertsInEveryFramingAreConsumedBack() throws {
        let broker = try TansuBroker()
        try broker.createTopic("ztf", partitions: 3)
        try broker.createTopic("rubin", partitions: 2)
        let schemaDir = CLI.data("lsst-alert-packet/schema")
        let z = try CLI.run(["replay", "--brokers", broker.bootstrap, "--topic", "ztf", "--framing", "container",
                             CLI.data("ztf-alerts"), CLI.data("fink-client-datatest/avro_multi_alerts.avro")])
        #expect(z.status == 0, "\(z.stderr)")
        #expect(z.stdout.hasPrefix("replayed 47 messages to ztf"), "the 11-alert archive is split into 11 messages")
        let r = try CLI.run(["replay", "--brokers", broker.bootstrap, "--topic", "rubin", "--framing", "confluent",
                             "--schema-id", "900", "--schema-dir", schemaDir, CLI.data("rubin-9.0")])
        #expect(r.status == 0, "\(r.stderr)")
        let c = try CLI.run(["consume", "--brokers", broker.bootstrap, "--topic", "ztf", "--topic", "rubin", "--from", "earliest",
                             "--max", "114", "--schema-dir", schemaDir] + Self.fast)
        #expect(c.status == 0, "\(c.stderr)")
        let lines = c.stdout.split(separator: "\n")
        #expect(lines.count == 114)
        #expect(lines.filter { $0.contains(" rubin alert ") }.count == 67)
        #expect(Set(positions(c.stdout)).count == 114)
        #expect(c.stderr.contains("114 messages, 114 alerts, 0 dead-lettered"))
        // The same alerts as inspect gives from the files.
        let inspected = try CLI.run(["inspect", CLI.data("rubin-9.0")]).stdout.split(separator: "\n").map(String.init)
        let consumedRubin = lines.filter { $0.contains(" rubin alert ") }.map { $0.split(separator: " ", maxSplits: 1)[1] }.map(String.init)
        #expect(Set(consumedRubin) == Set(inspected))
    }

    @Test func reencodingOntoAnIncompatibleSchemaIsRefusedWithTheReason() throws {
        let broker = try TansuBroker()
        try broker.createTopic("t", partitions: 1)
        let r = try CLI.run(["replay", "--brokers", broker.bootstrap, "--topic", "t", "--framing", "confluent", "--schema-id", "1000",
                             "--schema-dir", CLI.data("lsst-alert-packet/schema"), CLI.data("rubin-9.0")])
        #expect(r.status != 0)
        #expect(r.stderr.contains("cannot be written with schema 1000"))
    }

    /// SIGTERM in the middle of a stream: the command commits what it printed and exits 0; the next
    /// run of the same group neither repeats a printed alert nor skips one.
    @Test func sigtermCommitsWhatIsDoneAndExitsCleanly() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("stream", partitions: 2)
        let total = 36 * 40
        let replay = try CLI.run(["replay", "--brokers", broker.bootstrap, "--topic", "stream", "--repeat", "40", CLI.data("ztf-alerts")])
        #expect(replay.status == 0, "\(replay.stderr)")

        let (process, out, err) = try CLI.start(["consume", "--brokers", broker.bootstrap, "--topic", "stream", "--group", "g",
                                                 "--dead-letter-dir", FileManager.default.temporaryDirectory.path + "/citsci-dl-unused"] + Self.fast)
        var printed = Data()
        let deadline = Date().addingTimeInterval(60)
        while String(decoding: printed, as: UTF8.self).split(separator: "\n").count < 100 && Date() < deadline {
            printed += out.fileHandleForReading.availableData
        }
        kill(process.processIdentifier, SIGTERM)
        printed += out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(stderr)")
        let first = Set(positions(String(decoding: printed, as: UTF8.self)))
        #expect(first.count >= 100 && first.count < total, "stopped in the middle: \(first.count) of \(total)")

        let rest = try CLI.run(["consume", "--brokers", broker.bootstrap, "--topic", "stream", "--group", "g",
                                "--max", String(total - first.count)] + Self.fast)
        #expect(rest.status == 0, "\(rest.stderr)")
        let second = Set(positions(rest.stdout))
        #expect(first.isDisjoint(with: second), "\(first.intersection(second).count) printed alerts came again")
        #expect(first.union(second).count == total, "\(total - first.union(second).count) alerts were skipped")
    }

    @Test func undecodableMessagesGoToTheDeadLetterFolder() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("in", partitions: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-dl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A garbage message between real ones (the producer API, since replay refuses undecodable files).
        _ = try CLI.run(["replay", "--brokers", broker.bootstrap, "--topic", "in", CLI.data("ztf-alerts/1095578115815010001.avro")])
        try await produceRaw(broker, topic: "in", value: [0x42, 0x42, 0x42])
        _ = try CLI.run(["replay", "--brokers", broker.bootstrap, "--topic", "in", CLI.data("ztf-alerts/1095578115815010002.avro")])
        let c = try CLI.run(["consume", "--brokers", broker.bootstrap, "--topic", "in", "--from", "earliest", "--max", "3",
                             "--dead-letter-dir", dir.path] + Self.fast)
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.split(separator: "\n").count == 2)
        #expect(c.stderr.contains("3 messages, 2 alerts, 1 dead-lettered"))
        #expect(Array(try Data(contentsOf: dir.appendingPathComponent("in-0-1.bin"))) == [0x42, 0x42, 0x42])
        let info = try String(contentsOf: dir.appendingPathComponent("in-0-1.json"), encoding: .utf8)
        #expect(info.contains("\"citsci.error.kind\":\"badMagicByte\""))
    }

    /// `consume --filters`: only matching alerts are printed, tagged with the filter; an edited filter
    /// takes effect on SIGHUP without restarting the consumer.
    @Test func filtersApplyAndReloadOnSighup() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("live", partitions: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let filter = dir.appendingPathComponent("f.yaml")
        try "name: none\nexpression: magnitude > 100\n".write(to: filter, atomically: true, encoding: .utf8)
        _ = try CLI.run(["replay", "--brokers", broker.bootstrap, "--topic", "live", CLI.data("ztf-alerts")])
        let (process, out, err) = try CLI.start(["consume", "--brokers", broker.bootstrap, "--topic", "live", "--group", "f",
                                                 "--filters", dir.path] + Self.fast)
        let printed = Locked(Data())
        out.fileHandleForReading.readabilityHandler = { h in let d = h.availableData; printed.mutate { $0 += d } }
        // The group has read the 36 alerts (its committed offset says so): none matched.
        try await waitUntil("group f to commit all 36 alerts") {
            try KafkaConsumer.committed(brokers: broker.bootstrap, group: "f", partitions: [.init(topic: "live", partition: 0)])
                == [.init(topic: "live", partition: 0): 36]
        }
        #expect(printed.value.isEmpty)
        let errors = Locked(Data())
        err.fileHandleForReading.readabilityHandler = { h in let d = h.availableData; errors.mutate { $0 += d } }
        try "name: all\nexpression: magnitude < 100\n".write(to: filter, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        try await waitUntil("the reload") { String(decoding: errors.value, as: UTF8.self).contains("filters reloaded") }
        _ = try CLI.run(["replay", "--brokers", broker.bootstrap, "--topic", "live", CLI.data("ztf-alerts")])
        let deadline = ContinuousClock.now + .seconds(20)
        while String(decoding: printed.value, as: UTF8.self).split(separator: "\n").count < 36 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        let lines = String(decoding: printed.value, as: UTF8.self).split(separator: "\n")
        err.fileHandleForReading.readabilityHandler = nil
        let stderr = String(decoding: errors.value + err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(lines.count == 36, "\(stderr)")
        #expect(lines.allSatisfy { $0.hasSuffix("]") && $0.contains(" [all@") })
        #expect(stderr.contains("filters reloaded"))
        #expect(stderr.contains("72 messages, 72 alerts, 0 dead-lettered"))
    }

    @Test func badOptionsAreExplained() throws {
        let r = try CLI.run(["consume", "--topic", "x", "--from", "yesterday"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--from yesterday: expected committed, earliest, latest or a UTC time"))
        let p = try CLI.run(["consume", "--topic", "x", "--property", "novalue"])
        #expect(p.stderr.contains("--property novalue: expected name=value"))
        let f = try CLI.run(["replay", "--topic", "x", "--framing", "confluent", CLI.data("rubin-9.0")])
        #expect(f.stderr.contains("--framing confluent needs --schema-id"))
    }
}

import Kafka

func produceRaw(_ broker: TansuBroker, topic: String, value: [UInt8]) async throws {
    let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: broker.bootstrap))
    defer { producer.close() }
    _ = try await producer.send(ProducerRecord(topic: topic, value: value))
}

