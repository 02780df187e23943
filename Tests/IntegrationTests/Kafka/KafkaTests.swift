import Synchronization
import Foundation
import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

/// The consumer and producer against a real broker (Tansu), with real alerts.
@Suite(needsSharedData, .timeLimit(.minutes(3))) struct KafkaTests {
    /// Real ZTF container files and Rubin Confluent messages, keyed by file name.
    static func realMessages() throws -> [(key: String, value: [UInt8])] {
        let ztf = try Paths.avroFiles("ztf-alerts").map { (key: $0, value: try Paths.bytes($0)) }
        let dir = "pittgoogle-samples/lsst-confluent"
        let rubin = try FileManager.default.contentsOfDirectory(atPath: Paths.data(dir)).sorted()
            .map { (key: "\(dir)/\($0)", value: try Paths.bytes("\(dir)/\($0)")) }
        return ztf + rubin
    }

    func produce(_ broker: TansuBroker, topic: String, _ messages: [(key: String, value: [UInt8])]) async throws -> [DeliveryReport] {
        let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: broker.bootstrap))
        defer { producer.close() }
        var reports: [DeliveryReport] = []
        for m in messages {
            reports.append(try await producer.send(ProducerRecord(topic: topic, key: Array(m.key.utf8), value: m.value,
                                                                  headers: [KafkaHeader("source", m.key)])))
        }
        return reports
    }

    @Test func producedAlertsComeBackWhole() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("alerts", partitions: 4)
        let sent = try Self.realMessages()
        let reports = try await produce(broker, topic: "alerts", sent)
        #expect(Set(reports.map(\.partition)).count > 1, "keys spread over partitions")

        let consumer = try testConsumer(broker, group: "whole", topics: ["alerts"])
        defer { consumer.close() }
        let received = try await collect(consumer, count: sent.count)
        #expect(received.count == sent.count)
        let schemas = try SchemaFolder(path: Paths.data("lsst-alert-packet/schema"))
        let byKey = Dictionary(uniqueKeysWithValues: sent.map { ($0.key, $0.value) })
        for m in received {
            let key = String(decoding: m.key ?? [], as: UTF8.self)
            let original = try #require(byKey[key])
            #expect(m.value == original, "\(key): bytes changed")
            #expect(m.headers == [KafkaHeader("source", key)])
            #expect(m.timestamp != nil)
            let a = try AlertDecoder(schemas: schemas).decode(m.value)
            let b = try AlertDecoder(schemas: schemas).decode(original)
            #expect(a.map(\.record) == b.map(\.record))
        }
        #expect(Set(received.map { "\($0.partition)@\($0.offset)" }).count == sent.count)
    }

    @Test func restartResumesAtTheCommittedOffsets() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("stream", partitions: 3)
        let payloads = (0..<600).map { (key: "k\($0)", value: Array("message \($0)".utf8)) }
        _ = try await produce(broker, topic: "stream", payloads)

        let first = try testConsumer(broker, group: "resume", topics: ["stream"])
        let part1 = try await collect(first, count: 250)
        first.close()
        #expect(part1.count == 250)

        let second = try testConsumer(broker, group: "resume", topics: ["stream"])
        defer { second.close() }
        let part2 = try await collect(second, count: 350)
        let seen1 = Set(part1.map(\.value)), seen2 = Set(part2.map(\.value))
        #expect(part2.count == 350)
        #expect(seen1.isDisjoint(with: seen2), "a processed message was repeated")
        #expect(seen1.union(seen2).count == 600, "a message was lost")
    }

    @Test func undoneMessagesComeAgainAfterARestart() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("single", partitions: 1)
        _ = try await produce(broker, topic: "single", (0..<20).map { (key: "k", value: [UInt8($0)]) })
        let first = try testConsumer(broker, group: "undone", topics: ["single"])
        let got = try await collect(first, count: 20, markDone: false)
        // Done out of order: 0-4 and 6-9; 5 is not, so only 0-4 may be committed.
        for m in got where m.offset < 10 && m.offset != 5 { first.markDone(m) }
        first.close()
        let second = try testConsumer(broker, group: "undone", topics: ["single"])
        defer { second.close() }
        let again = try await collect(second, count: 15)
        #expect(again.map(\.offset) == Array(5..<20))
    }

    @Test func twoMembersSplitThePartitionsAndOneTakesOverWhenTheOtherLeaves() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("shared", partitions: 4)
        let total = 800
        _ = try await produce(broker, topic: "shared", (0..<total).map { (key: "k\($0)", value: Array("m\($0)".utf8)) })

        let a = try testConsumer(broker, group: "pair", topics: ["shared"])
        let b = try testConsumer(broker, group: "pair", topics: ["shared"])
        defer { b.close() }
        let seenA = Locked<[KafkaMessage]>([]), seenB = Locked<[KafkaMessage]>([])
        // Both members consume slowly until each holds partitions, then A leaves.
        let taskA = Task {
            for try await m in a.messages {
                seenA.mutate { $0.append(m) }
                a.markDone(m)
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        let taskB = Task {
            for try await m in b.messages {
                seenB.mutate { $0.append(m) }
                b.markDone(m)
                if seenB.value.count < 100 { try await Task.sleep(for: .milliseconds(5)) }
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while (a.assignment.isEmpty || b.assignment.isEmpty || seenA.value.isEmpty || seenB.value.isEmpty) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!a.assignment.isEmpty && !b.assignment.isEmpty, "both members should hold partitions")
        #expect(a.assignment.isDisjoint(with: b.assignment))
        taskA.cancel()
        _ = await taskA.result
        a.close()
        while Set(seenA.value.map(\.value) + seenB.value.map(\.value)).count < total && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        taskB.cancel()
        _ = await taskB.result
        let all = seenA.value.map(\.value) + seenB.value.map(\.value)
        #expect(Set(all).count == total, "a message was lost")
        #expect(b.assignment.count == 4, "the remaining member takes every partition")
        #expect(all.count - Set(all).count == 0, "every message was marked done before A left: none may repeat")
    }

    @Test func undecodableMessagesGoToTheDeadLetterTopicAndTheStreamGoesOn() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("in", partitions: 2)
        try broker.createTopic("dead", partitions: 1)
        let good = try Self.realMessages().prefix(5)
        let garbage: [(key: String, value: [UInt8])] = [
            (key: "garbage", value: Array("{\"hello\": 1}".utf8)),
            (key: "unknown-id", value: [0, 0, 0, 0x10, 0x92, 1, 2, 3]),
            (key: "truncated", value: Array(good.first!.value.prefix(900))),
        ]
        _ = try await produce(broker, topic: "in", Array(good) + garbage)
        let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: broker.bootstrap))
        defer { producer.close() }
        let consumer = try testConsumer(broker, group: "dl", topics: ["in"])
        let ingest = AlertIngest(consumer: consumer, schemas: try SchemaFolder(path: Paths.data("lsst-alert-packet/schema")),
                                 deadLetters: DeadLetterTopic(producer: producer, topic: "dead"))
        let run = Task { try await ingest.run { _, _ in } }
        let deadline = ContinuousClock.now + .seconds(60)
        while ingest.counts.messages < 8 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        run.cancel()
        _ = await run.result
        consumer.close()
        #expect(ingest.counts == IngestCounts(messages: 8, alerts: 5, deadLettered: 3))

        let reader = try testConsumer(broker, group: "dl-reader", topics: ["dead"])
        defer { reader.close() }
        let dead = try await collect(reader, count: 3)
        #expect(dead.count == 3)
        func header(_ m: KafkaMessage, _ name: String) -> String? {
            m.headers.first { $0.name == name }.flatMap { $0.value }.map { String(decoding: $0, as: UTF8.self) }
        }
        let byKey = Dictionary(uniqueKeysWithValues: dead.map { (String(decoding: $0.key ?? [], as: UTF8.self), $0) })
        #expect(header(byKey["garbage"]!, "citsci.error.kind") == "badMagicByte")
        #expect(header(byKey["unknown-id"]!, "citsci.error.kind") == "unknownSchemaId")
        #expect(header(byKey["truncated"]!, "citsci.error.kind") == "truncated")
        for (key, m) in byKey {
            let original = garbage.first { $0.key == key }!.value
            #expect(m.value == original, "the dead letter keeps the original bytes")
            #expect(header(m, "citsci.source.topic") == "in")
            #expect(header(m, "source") == key, "original headers kept")
            #expect(header(m, "citsci.error")?.contains("in[") == true, "the reason names the source position")
        }
    }

    /// Brokers upstream compress their batches; librdkafka must have been built with every codec
    /// (zstd and lz4 need their libraries at configure time), and the broker must pass them through.
    @Test(arguments: ["gzip", "snappy", "lz4", "zstd"])
    func compressedBatchesFromAnotherProducerComeBackWhole(_ codec: String) async throws {
        let broker = try TansuBroker()
        try broker.createTopic("compressed", partitions: 1)
        let sent = try Self.realMessages()
        let byPath = Dictionary(uniqueKeysWithValues: sent.map { (Paths.data($0.key), $0.value) })
        let out = try runPython("produce_compressed.py", ["--brokers", broker.bootstrap, "--topic", "compressed",
                                                          "--codec", codec] + byPath.keys.sorted())
        #expect(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "\(sent.count)")
        let consumer = try testConsumer(broker, group: "c-\(codec)", topics: ["compressed"])
        defer { consumer.close() }
        let received = try await collect(consumer, count: sent.count)
        #expect(received.count == sent.count)
        let schemas = try SchemaFolder(path: Paths.data("lsst-alert-packet/schema"))
        for m in received {
            let key = String(decoding: m.key ?? [], as: UTF8.self)
            #expect(m.value == byPath[key], "\(codec) \(key): bytes changed")
            #expect(try !AlertDecoder(schemas: schemas).decode(m.value).isEmpty, "\(key)")
        }
    }

    @Test func startFromEarliestIgnoresCommittedOffsets() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("replay", partitions: 1)
        _ = try await produce(broker, topic: "replay", (0..<10).map { (key: "k", value: [UInt8($0)]) })
        let first = try testConsumer(broker, group: "g", topics: ["replay"])
        _ = try await collect(first, count: 10)
        first.close()
        let again = try testConsumer(broker, group: "g", topics: ["replay"], start: .earliest)
        defer { again.close() }
        #expect(try await collect(again, count: 10).count == 10)
    }
}

extension KafkaTests {
    @Test func pauseStopsDeliveryAndResumeLosesNothing() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("bp", partitions: 2)
        _ = try await produce(broker, topic: "bp", (0..<200).map { (key: "k\($0)", value: Array("m\($0)".utf8)) })
        let consumer = try testConsumer(broker, group: "bp", topics: ["bp"])
        defer { consumer.close() }
        var seen = try await collect(consumer, count: 20)
        consumer.pause()
        // While paused nothing new arrives (librdkafka drops what it prefetched for paused partitions).
        let whilePaused = try await collect(consumer, count: 1, timeout: .seconds(2))
        #expect(whilePaused.isEmpty, "\(whilePaused.count) messages arrived while paused")
        consumer.resume()
        seen += try await collect(consumer, count: 180)
        #expect(Set(seen.map(\.value)).count == 200)
        #expect(seen.count == 200)
    }

    @Test func startAtATimeReadsOnlyLaterMessages() async throws {
        let broker = try TansuBroker()
        try broker.createTopic("night", partitions: 2)
        let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: broker.bootstrap))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for i in 0..<30 {  // 20 from yesterday, 10 from the last minute, keys spread over partitions
            let ts = i < 20 ? now - 86_400_000 + Int64(i) : now - 60_000 + Int64(i)
            _ = try await producer.send(ProducerRecord(topic: "night", key: Array("k\(i)".utf8), value: [UInt8(i)], timestamp: ts))
        }
        producer.close()
        let consumer = try testConsumer(broker, group: "since", topics: ["night"], start: .timestamp(now - 3_600_000))
        defer { consumer.close() }
        let got = try await collect(consumer, count: 10)
        #expect(got.map { Int($0.value[0]) }.sorted() == Array(20..<30))
        let extra = try await collect(consumer, count: 1, timeout: .seconds(2))
        #expect(extra.isEmpty)
    }

    @Test func regexSubscriptionFindsEveryMatchingTopic() async throws {
        let broker = try TansuBroker()
        for t in ["alerts-ztf", "alerts-rubin", "other"] { try broker.createTopic(t, partitions: 1) }
        for t in ["alerts-ztf", "alerts-rubin", "other"] { _ = try await produce(broker, topic: t, [(key: t, value: Array(t.utf8))]) }
        let consumer = try testConsumer(broker, group: "re", topics: ["^alerts-.*"])
        defer { consumer.close() }
        let got = try await collect(consumer, count: 2)
        #expect(Set(got.map(\.topic)) == ["alerts-ztf", "alerts-rubin"])
    }
}

@Suite struct KafkaConfigurationTests {
    @Test func anUnknownLibrdkafkaPropertyIsNamed() {
        do {
            _ = try KafkaConsumer(KafkaConsumerConfiguration(brokers: "127.0.0.1:1", groupID: "g", topics: ["t"],
                                                             properties: ["sesion.timeout.ms": "3000"]))
            Issue.record("a misspelt property was accepted")
        } catch {
            #expect(error.reason.hasPrefix("configuration property sesion.timeout.ms: No such configuration property"))
        }
        do {
            _ = try KafkaProducer(KafkaProducerConfiguration(brokers: "127.0.0.1:1", properties: ["acks": "some"]))
            Issue.record("an invalid value was accepted")
        } catch {
            #expect(error.reason.contains("configuration property acks"))
        }
    }

    @Test func sendToAnUnreachableBrokerFailsWithTheReason() async throws {
        let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: "127.0.0.1:1", properties: ["message.timeout.ms": "1500"]))
        defer { producer.close(timeout: .seconds(1)) }
        do {
            _ = try await producer.send(ProducerRecord(topic: "t", value: [1]))
            Issue.record("delivered to nowhere")
        } catch {
            #expect(error.topic == "t")
            #expect(error.reason.contains("delivery"))
        }
    }
}


extension KafkaTests {
    /// The two-stage loop: a slow render stage fills the bounded queue, which pauses the consumer;
    /// it resumes as the queue drains, every message is handled once, and lag falls to zero. Bound by
    /// a count of messages, or by their bytes (the count then out of reach).
    @Test(arguments: [QueueBound.messages(3), .bytes(messages: 3)])
    func stagedIngestPausesOnAFullQueueAndLosesNothing(_ bound: QueueBound) async throws {
        let broker = try TansuBroker()
        try broker.createTopic("staged", partitions: 2)
        let sent = try Self.realMessages()
        _ = try await produce(broker, topic: "staged", sent)
        let consumer = try testConsumer(broker, group: "staged", topics: ["staged"])
        defer { consumer.close() }
        let ingest = AlertIngest(consumer: consumer, schemas: try SchemaFolder(path: Paths.data("lsst-alert-packet/schema")),
                                 deadLetters: try DeadLetterFolder(path: NSTemporaryDirectory() + "staged-\(UUID())"))
        let handled = Handled()
        let largest = sent.map(\.value.count).max() ?? 0
        let (capacity, capacityBytes) = switch bound {
        case .messages(let n): (n, Int.max)
        case .bytes(let n): (sent.count + 1, n * largest)
        }
        let run = Task {
            try await ingest.runStaged(capacity: capacity, capacityBytes: capacityBytes, prepare: { $0 }) { staged in
                for s in staged {
                    try await Task.sleep(for: .milliseconds(40))  // a render stage slower than decoding
                    handled.add(String(decoding: s.message.key ?? [], as: UTF8.self), s.items.count)
                }
            }
        }
        var maxDepth = 0, maxBytes = 0, maxLag: Int64 = 0
        let deadline = ContinuousClock.now + .seconds(90)
        while handled.count < sent.count && ContinuousClock.now < deadline {
            let q = ingest.queue
            maxDepth = max(maxDepth, q.depth)
            maxBytes = max(maxBytes, q.bytes)
            maxLag = max(maxLag, consumer.lag().values.reduce(0, +))
            try await Task.sleep(for: .milliseconds(10))
        }
        // Everything handled, nothing in flight, no lag: no message is left to come again.
        run.cancel()
        _ = await run.result
        #expect(handled.keys.sorted() == sent.map(\.key).sorted(), "every message handled exactly once")
        #expect(ingest.queue.pauses > 0, "the queue filled and paused the consumer")
        switch bound {
        case .messages(let n): #expect(maxDepth <= n + 20, "the queue stays near its bound (\(maxDepth))")
        case .bytes(let n): #expect(maxBytes <= (n + 20) * largest, "the queue's bytes stay near their bound (\(maxBytes))")
        }
        #expect(maxLag > 0, "lag was visible while the stage lagged")
        #expect(consumer.lag().values.allSatisfy { $0 == 0 }, "nothing left behind: \(consumer.lag())")
        #expect(ingest.counts.messages == sent.count && consumer.inFlight == 0 && ingest.queue.bytes == 0)
    }
}

/// What bounds the staged ingest's queue in `stagedIngestPausesOnAFullQueueAndLosesNothing`.
enum QueueBound: Sendable, CustomTestStringConvertible {
    case messages(Int)
    /// This many of the largest messages' bytes.
    case bytes(messages: Int)
    var testDescription: String {
        switch self {
        case .messages(let n): "\(n) messages"
        case .bytes(let n): "\(n) largest messages' bytes"
        }
    }
}

/// Messages a test handler saw, from any task.
final class Handled: Sendable {
    private let state = Mutex<[String]>([])
    func add(_ key: String, _ alerts: Int) { state.withLock { $0.append(key) } }
    var keys: [String] { state.withLock { $0 } }
    var count: Int { state.withLock { $0.count } }
}
