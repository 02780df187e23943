import Foundation
import Synchronization
import Testing
import AlertModel
import Basics
import Kafka
import Service
import TestSupport

/// `AlertIngest.runStaged` on librdkafka's mock cluster with real (simulated Rubin) alert packets:
/// decoding and `prepare` on several tasks, batches handed over in the order the messages came,
/// each message marked done only after its batch was handled, and a bad packet dead-lettered.
@Suite(.timeLimit(.minutes(2))) struct AlertIngestTests {
    final class Letters: DeadLetterSink {
        let stored = Mutex<[DeadLetter]>([])
        func store(_ letter: DeadLetter) async throws { stored.withLock { $0.append(letter) } }
    }

    @Test func parallelStagesHandBatchesOverInOrderAndCommitAfterEachBatch() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("alerts", partitions: 2)
        let simulator = AlertSimulator(seed: 9, stampSize: 16)
        // Framed as Rubin frames them (the mock cluster keeps 5 MB a partition: container files,
        // each with its 270 kB schema, would not all fit).
        let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: cluster.bootstrap))
        var sent = 0
        for i in 0..<120 {
            // Message 50 is not an alert: it must become a dead letter, not stop the stream.
            let value = i == 50 ? Array("not an alert".utf8) : [0, 0, 0, 0, 1] + (try simulator.record(i))
            _ = try await producer.send(ProducerRecord(topic: "alerts", key: Array("k\(i % 7)".utf8), value: value))
            sent += 1
        }
        producer.close()
        let consumer = try testConsumer(brokers: cluster.bootstrap, group: "staged", topics: ["alerts"], start: .earliest)
        defer { consumer.close() }
        let letters = Letters()
        let ingest = AlertIngest(consumer: consumer, schemas: InMemorySchemas([1: simulator.writerSchema]), deadLetters: letters)
        let handled = Mutex<[(partition: Int32, offset: Int64)]>([])
        let batches = Mutex<[Int]>([])
        let committedBehind = Mutex(true)
        let task = Task(executorPreference: serviceTestExecutor) {
            try await ingest.runStaged(capacity: 64, workers: 3, batch: 16, executor: DedicatedTaskExecutor.blocking,
                                       prepare: { $0.alertId }) { staged in
                batches.withLock { $0.append(staged.count) }
                // Nothing of this batch is done before it returns.
                let inFlight = consumer.inFlight
                committedBehind.withLock { $0 = $0 && inFlight >= staged.count }
                handled.withLock { h in h += staged.map { ($0.message.partition, $0.message.offset) } }
                #expect(staged.allSatisfy { $0.items.count == 1 })
            }
        }
        try await waitUntil("every alert handled and the bad one dead-lettered", deadline: .seconds(60)) {
            handled.withLock { $0.count } == sent - 1 && letters.stored.withLock { $0.count } == 1
        }
        task.cancel()
        _ = await task.result
        let order = handled.withLock { $0 }
        for p in [Int32(0), 1] {
            let offsets = order.filter { $0.partition == p }.map(\.offset)
            #expect(offsets == offsets.sorted(), "partition \(p) was handed over out of order")
        }
        #expect(Set(order.map { "\($0.partition)/\($0.offset)" }).count == sent - 1, "a message came twice")
        #expect(batches.withLock { $0.contains { $0 > 1 } }, "messages were never batched: \(batches.withLock { $0 })")
        #expect(committedBehind.withLock { $0 }, "a message was marked done before its batch was handled")
        #expect(letters.stored.withLock { $0.first?.kind } == "badMagicByte")
        #expect(consumer.inFlight == 0, "every message is done")
    }
}
