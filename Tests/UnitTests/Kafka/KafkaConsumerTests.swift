import Foundation
import Kafka
import Testing
import TestSupport

/// The consumer's own logic against librdkafka's in-process mock cluster (no broker to start):
/// offsets commit only as far as every earlier message is done, pause holds delivery, and a
/// rebalance hands partitions over with their done offsets committed first.
@Suite(.timeLimit(.minutes(2))) struct KafkaConsumerTests {
    func produce(_ cluster: KafkaMockCluster, topic: String, count: Int, from first: Int = 0) async throws {
        let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: cluster.bootstrap))
        defer { producer.close() }
        for i in first..<(first + count) {
            _ = try await producer.send(ProducerRecord(topic: topic, key: Array("k\(i)".utf8), value: Array("m\(i)".utf8)))
        }
    }

    @Test func commitsOnlyTheDonePrefixOfAPartition() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("t", partitions: 1)
        try await produce(cluster, topic: "t", count: 10)
        // No timed commits: only the explicit ones below.
        let consumer = try testConsumer(brokers: cluster.bootstrap, group: "g", topics: ["t"], start: .earliest,
                                        commitInterval: .seconds(3600))
        defer { consumer.close() }
        let messages = try await collect(consumer, count: 10, markDone: false).sorted { $0.offset < $1.offset }
        #expect(messages.map(\.offset) == Array(0..<10))
        for m in messages[3...] { consumer.markDone(m) }
        try consumer.commit()
        #expect(try consumer.committed().isEmpty, "offsets 0-2 are not done: nothing may be committed")
        consumer.markDone(messages[0])
        consumer.markDone(messages[1])
        try consumer.commit()
        #expect(try consumer.committed() == [.init(topic: "t", partition: 0): 2], "up to the first message not done")
        consumer.markDone(messages[2])
        try consumer.commit()
        #expect(try consumer.committed() == [.init(topic: "t", partition: 0): 10])
        #expect(consumer.inFlight == 0)
    }

    @Test func aConsumerThatReadsAllPartitionsJoinsNoGroup() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("t", partitions: 3)
        try await produce(cluster, topic: "t", count: 30)
        var configuration = KafkaConsumerConfiguration(brokers: cluster.bootstrap, groupID: "nobody", topics: ["t"], start: .earliest)
        configuration.readsAllPartitions = true
        let consumer = try KafkaConsumer(configuration)
        defer { consumer.close() }
        // Assigned at once, before any poll: no group join to wait for.
        #expect(consumer.assignment == Set((0..<3).map { OffsetTracker.Partition(topic: "t", partition: $0) }))
        let messages = try await collect(consumer, count: 30)
        #expect(Set(messages.map(\.value)) == Set((0..<30).map { Array("m\($0)".utf8) }))

        var unknown = configuration
        unknown.topics = ["no-such-topic"]
        #expect(throws: KafkaError.self) { try KafkaConsumer(unknown) }
    }

    @Test func aRestartResumesAfterTheLastDoneMessage() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("t", partitions: 2)
        try await produce(cluster, topic: "t", count: 40)
        let first = try testConsumer(brokers: cluster.bootstrap, group: "r", topics: ["t"])
        let taken = try await collect(first, count: 15)
        first.close()  // commits what is done
        let second = try testConsumer(brokers: cluster.bootstrap, group: "r", topics: ["t"])
        defer { second.close() }
        let rest = try await collect(second, count: 25)
        let a = Set(taken.map(\.value)), b = Set(rest.map(\.value))
        #expect(a.isDisjoint(with: b), "a done message came again")
        #expect(a.union(b).count == 40, "a message was lost")
    }

    @Test func pauseHoldsDeliveryAndResumeLosesNothing() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("bp", partitions: 2)
        try await produce(cluster, topic: "bp", count: 200)
        let consumer = try testConsumer(brokers: cluster.bootstrap, group: "bp", topics: ["bp"])
        defer { consumer.close() }
        var seen = try await collect(consumer, count: 20)
        consumer.pause()
        // librdkafka drops what it prefetched for paused partitions: nothing comes while paused.
        let whilePaused = try await collect(consumer, count: 1, timeout: .seconds(1))
        #expect(whilePaused.isEmpty, "\(whilePaused.count) messages arrived while paused")
        consumer.resume()
        seen += try await collect(consumer, count: 180)
        #expect(Set(seen.map(\.value)).count == 200)
        #expect(seen.count == 200, "no message twice")
    }

    /// librdkafka's mock refuses commits while a rebalance is in progress (Apache Kafka takes them
    /// until the group moves on to its new assignment; Tansu too: the Tansu suite checks that nothing
    /// repeats), so here only what was committed before B joined is sure not to come again.
    @Test func aRebalanceSplitsThePartitionsAndLosesNothing() async throws {
        let cluster = try KafkaMockCluster()
        try cluster.createTopic("shared", partitions: 4)
        try await produce(cluster, topic: "shared", count: 400)
        let a = try testConsumer(brokers: cluster.bootstrap, group: "pair", topics: ["shared"])
        // A alone: it takes every partition and 100 messages, all done.
        let before = try await collect(a, count: 100)
        try a.commit()
        let seenA = Locked(before)
        #expect(a.assignment.count == 4)
        // B joins: the partitions split between the two.
        let b = try testConsumer(brokers: cluster.bootstrap, group: "pair", topics: ["shared"])
        defer { b.close() }
        let seenB = Locked<[KafkaMessage]>([])
        let taskB = Task(executorPreference: serviceTestExecutor) { for try await m in b.messages { seenB.mutate { $0.append(m) }; b.markDone(m) } }
        let taskA = Task(executorPreference: serviceTestExecutor) { for try await m in a.messages { seenA.mutate { $0.append(m) }; a.markDone(m) } }
        try await waitUntil("both members to hold partitions") { !a.assignment.isEmpty && !b.assignment.isEmpty }
        #expect(a.assignment.isDisjoint(with: b.assignment))
        // A leaves: B takes everything, starting after what A did.
        taskA.cancel()
        _ = await taskA.result
        a.close()
        try await waitUntil("B to take every partition and the rest of the messages") {
            b.assignment.count == 4 && Set(seenA.value.map(\.value) + seenB.value.map(\.value)).count == 400
        }
        taskB.cancel()
        _ = await taskB.result
        let all = seenA.value.map(\.value) + seenB.value.map(\.value)
        #expect(Set(all).count == 400, "a message was lost")
        #expect(Set(seenB.value.map(\.value)).isDisjoint(with: before.map(\.value)), "a message committed before the rebalance came again")
    }
}
