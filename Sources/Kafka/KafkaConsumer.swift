import CRdKafka
import Synchronization

/// A Kafka consumer in a consumer group, over librdkafka: the only code that touches its consumer
/// API. Messages come as an `AsyncSequence`; an offset is committed only after the caller marks the
/// message done with `markDone(_:)`, in order per partition (DESIGN.md rule 1). On a rebalance the
/// done offsets of revoked partitions are committed before they go; undone messages are left for
/// the new owner. So a crash or a stop can repeat a message whose effects were not all durable, and
/// never loses one (at-least-once).
///
/// One task iterates `messages`; any task may call `markDone`, `pause`, `resume`.
package final class KafkaConsumer: @unchecked Sendable {
    // @unchecked: librdkafka handles are thread-safe; the Swift state is in `core`, under a Mutex,
    // and `handle` is used under `pollLock` so that `close` cannot free it during a poll.
    private let handle: OpaquePointer
    private let core: ConsumerCore
    private let pollLock = Mutex(false)  // true once closed
    package let configuration: KafkaConsumerConfiguration
    /// Polls that found nothing buffered (a diagnostic for benchmarks).
    package let emptyPolls = Atomic<Int>(0)

    package init(_ configuration: KafkaConsumerConfiguration) throws(KafkaError) {
        self.configuration = configuration
        var properties: [(String, String)] = [
            ("bootstrap.servers", configuration.brokers),
            ("group.id", configuration.groupID),
            ("auto.offset.reset", configuration.start == .latest ? "latest" : "earliest"),
            ("enable.partition.eof", "false"),
            ("client.id", "citsci"),
            // librdkafka 2.x waits this long before fetching again once its prefetch queue is full
            // (default 1 s): a consumer that decodes slower than the broker sends then stalls.
            ("fetch.queue.backoff.ms", "100"),
        ]
        properties += configuration.properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        properties += [("enable.auto.commit", "false"), ("enable.auto.offset.store", "false")]
        let conf = try RdKafkaConf.make(properties)
        let core = ConsumerCore(start: configuration.start, commitInterval: configuration.commitInterval)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(core).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
            guard let rk, let partitions, let opaque else { return }
            Unmanaged<ConsumerCore>.fromOpaque(opaque).takeUnretainedValue().rebalance(rk, err, partitions)
        }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: -1, reason: "cannot create consumer: \(RdKafkaConf.errorText(errstr))")
        }
        self.handle = handle
        self.core = core
        rd_kafka_poll_set_consumer(handle)
        if configuration.readsAllPartitions {
            do throws(KafkaError) {
                let list = try Self.allPartitions(handle, configuration.topics)
                defer { rd_kafka_topic_partition_list_destroy(list) }
                core.rebalance(handle, RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS, list)
            } catch {
                destroyUnopened()
                throw error
            }
            return
        }
        let topics = rd_kafka_topic_partition_list_new(Int32(configuration.topics.count))
        defer { rd_kafka_topic_partition_list_destroy(topics) }
        for t in configuration.topics { rd_kafka_topic_partition_list_add(topics, t, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(handle, topics)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            destroyUnopened()
            throw KafkaError(err, "subscribe to \(configuration.topics.joined(separator: ","))")
        }
    }

    deinit { close() }

    /// Frees the handle of a consumer whose init fails after creating it (the deinit still runs then,
    /// and must not free it twice: that deadlocks in librdkafka).
    private func destroyUnopened() {
        pollLock.withLock { closed in
            rd_kafka_destroy(handle)
            closed = true
        }
    }

    /// Every partition of `topics`, from the brokers' metadata.
    private static func allPartitions(_ handle: OpaquePointer, _ topics: [String]) throws(KafkaError)
        -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        for name in topics {
            let topic = rd_kafka_topic_new(handle, name, nil)
            defer { rd_kafka_topic_destroy(topic) }
            var metadata: UnsafePointer<rd_kafka_metadata>? = nil
            let err = rd_kafka_metadata(handle, 0, topic, &metadata, 10_000)
            defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
            var failure = err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, "metadata of topic \(name)")
            if failure == nil, let m = metadata?.pointee, m.topic_cnt == 1 {
                let t = m.topics[0]
                if t.err != RD_KAFKA_RESP_ERR_NO_ERROR { failure = KafkaError(t.err, "metadata of topic \(name)") }
                for i in 0..<Int(t.partition_cnt) { rd_kafka_topic_partition_list_add(list, name, t.partitions[i].id) }
            } else if failure == nil {
                failure = KafkaError(code: -1, reason: "metadata of topic \(name): the brokers do not know it")
            }
            if let failure {
                rd_kafka_topic_partition_list_destroy(list)
                throw failure
            }
        }
        return list
    }

    /// A group's committed offsets (the next offset it will read) for the given partitions, asked of
    /// the broker without joining the group (no rebalance for its members); partitions with nothing
    /// committed are left out. For lag reports and for tests that wait for a consumer to catch up.
    package static func committed(brokers: String, group: String, partitions: [OffsetTracker.Partition],
                                  properties: [String: String] = [:], timeout: Duration = .seconds(10)) throws(KafkaError) -> [OffsetTracker.Partition: Int64] {
        let conf = try RdKafkaConf.make([("bootstrap.servers", brokers), ("group.id", group), ("client.id", "citsci-offsets")]
                                        + properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: -1, reason: "cannot create consumer: \(RdKafkaConf.errorText(errstr))")
        }
        defer { rd_kafka_destroy(handle) }
        return try committed(handle, partitions, timeout: timeout, context: "committed offsets of group \(group)")
    }

    /// The committed offsets `handle`'s group holds for `partitions` (those with none left out).
    private static func committed(_ handle: OpaquePointer, _ partitions: some Sequence<OffsetTracker.Partition>, timeout: Duration,
                                  context: String) throws(KafkaError) -> [OffsetTracker.Partition: Int64] {
        let list = ConsumerCore.list(Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let ms = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let err = rd_kafka_committed(handle, list, ms)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context) }
        var out: [OffsetTracker.Partition: Int64] = [:]
        for i in 0..<Int(list.pointee.cnt) {
            let e = list.pointee.elems[i]
            if e.offset >= 0 { out[.init(topic: String(cString: e.topic), partition: e.partition)] = e.offset }
        }
        return out
    }

    /// The messages, as they come; the sequence ends when the consumer is closed or the task cancelled.
    package var messages: Messages { Messages(consumer: self) }

    package struct Messages: AsyncSequence, Sendable {
        let consumer: KafkaConsumer
        package func makeAsyncIterator() -> Iterator { Iterator(consumer: consumer) }

        package struct Iterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            /// When the last message came: while a stream flows, an empty poll only means the next
            /// fetch is on its way, so the wait stays short; after a quiet second it backs off.
            var lastMessage = ContinuousClock.now

            package mutating func next() async throws -> KafkaMessage? {
                var idle = Duration.microseconds(250)
                while !Task.isCancelled {
                    switch try consumer.poll() {
                    case .message(let m):
                        lastMessage = .now
                        return m
                    case .closed:
                        return nil
                    case .nothing:
                        consumer.emptyPolls.add(1, ordering: .relaxed)
                        // librdkafka fetches in its own threads; polling never blocks a task's thread.
                        try? await Task.sleep(for: idle)
                        if ContinuousClock.now - lastMessage > .seconds(1) {
                            idle = Swift.min(idle * 2, .milliseconds(50))
                        }
                    }
                }
                return nil
            }
        }
    }

    enum PollResult { case message(KafkaMessage), nothing, closed }

    func poll() throws(KafkaError) -> PollResult {
        let result: Result<PollResult, KafkaError> = pollLock.withLock { closed in
            if closed { return .success(.closed) }
            guard let raw = rd_kafka_consumer_poll(handle, 0) else {
                core.commitIfDue(handle)
                return .success(.nothing)
            }
            defer { rd_kafka_message_destroy(raw) }
            let m = raw.pointee
            let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                var errstr = [CChar](repeating: 0, count: 512)
                let fatal = rd_kafka_fatal_error(handle, &errstr, errstr.count)
                if fatal != RD_KAFKA_RESP_ERR_NO_ERROR {
                    return .failure(KafkaError(code: fatal.rawValue, reason: "fatal consumer error: \(RdKafkaConf.errorText(errstr))"))
                }
                let reason = m.payload.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: m.len), as: UTF8.self) } ?? ""
                core.report(KafkaError(m.err, reason.isEmpty ? "consumer" : reason, topic: topic.isEmpty ? nil : topic,
                                       partition: m.partition >= 0 ? m.partition : nil))
                return .success(.nothing)
            }
            let message = KafkaMessage(
                topic: topic, partition: m.partition, offset: m.offset,
                key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
                value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? [],
                headers: Self.headers(of: raw), timestamp: Self.timestamp(of: raw))
            guard core.received(message) else {
                core.commitIfDue(handle)
                return .success(.nothing)  // before the start time: skipped, and counted done
            }
            return .success(.message(message))
        }
        return try result.get()
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var hdrs: OpaquePointer? = nil
        guard rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs else { return [] }
        var out: [KafkaHeader] = []
        var i = 0
        var name: UnsafePointer<CChar>? = nil
        var value: UnsafeRawPointer? = nil
        var size = 0
        while rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            out.append(KafkaHeader(name.map { String(cString: $0) } ?? "", value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
            i += 1
        }
        return out
    }

    private static func timestamp(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> Int64? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(message, &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts < 0 ? nil : ts
    }

    /// The message's effects are durable: its offset may be committed once all earlier ones are.
    package func markDone(_ message: KafkaMessage) {
        core.done(message)
        pollLock.withLock { closed in
            if !closed { core.commitIfDue(handle) }
        }
    }

    /// Commits every done offset now (synchronously).
    package func commit() throws(KafkaError) {
        let result: Result<Void, KafkaError> = pollLock.withLock { closed in
            if closed { return .success(()) }
            return Result { () throws(KafkaError) in try core.commitNow(handle, only: nil) }
        }
        try result.get()
    }

    /// Stops fetching from every assigned partition (backpressure); messages already buffered still come.
    package func pause() { setPaused(true) }
    package func resume() { setPaused(false) }

    private func setPaused(_ paused: Bool) {
        pollLock.withLock { closed in
            guard !closed else { return }
            core.setPaused(handle, paused)
        }
    }

    /// How many messages each assigned partition holds beyond what this consumer has taken: the
    /// broker's high watermark (as librdkafka last saw it in a fetch reply, no round trip) minus the
    /// consumer's position. Partitions with no fetch reply yet are left out.
    package func lag() -> [OffsetTracker.Partition: Int64] {
        pollLock.withLock { closed in
            guard !closed else { return [:] }
            let assigned = core.assignment
            guard !assigned.isEmpty else { return [:] }
            let list = ConsumerCore.list(Dictionary(uniqueKeysWithValues: assigned.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            guard rd_kafka_position(handle, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
            var out: [OffsetTracker.Partition: Int64] = [:]
            for i in 0..<Int(list.pointee.cnt) {
                let e = list.pointee.elems[i]
                var low: Int64 = 0, high: Int64 = 0
                guard rd_kafka_get_watermark_offsets(handle, e.topic, e.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                      high >= 0 else { continue }
                // No position yet (nothing taken): everything from the low watermark is waiting.
                let position = e.offset >= 0 ? e.offset : low
                out[.init(topic: String(cString: e.topic), partition: e.partition)] = max(0, high - position)
            }
            return out
        }
    }

    /// The group's committed offset of each assigned partition (the next offset to read), asked of
    /// the broker; partitions with nothing committed are left out.
    package func committed(timeout: Duration = .seconds(10)) throws(KafkaError) -> [OffsetTracker.Partition: Int64] {
        let result: Result<[OffsetTracker.Partition: Int64], KafkaError> = pollLock.withLock { closed in
            guard !closed else { return .success([:]) }
            let assigned = core.assignment
            guard !assigned.isEmpty else { return .success([:]) }
            return Result { () throws(KafkaError) in try Self.committed(handle, assigned, timeout: timeout, context: "committed offsets") }
        }
        return try result.get()
    }

    /// Partitions currently assigned to this member.
    package var assignment: Set<OffsetTracker.Partition> { core.assignment }

    /// Messages handed out and not yet marked done.
    package var inFlight: Int { core.inFlight }

    /// Non-fatal errors seen so far (broker down, unknown topic): librdkafka retries by itself.
    package var errors: [KafkaError] { core.errors }

    /// Commits what is done, leaves the group (its partitions go to the other members) and frees the handle.
    package func close() {
        pollLock.withLock { closed in
            guard !closed else { return }
            try? core.commitNow(handle, only: nil)
            rd_kafka_consumer_close(handle)
            rd_kafka_destroy(handle)
            closed = true
        }
    }
}

/// The consumer's Swift state, reached from librdkafka's rebalance callback through the opaque pointer.
final class ConsumerCore: @unchecked Sendable {
    // @unchecked: all mutable state is in `state`.
    private struct State {
        var tracker = OffsetTracker()
        var assigned: Set<OffsetTracker.Partition> = []
        var everAssigned: Set<OffsetTracker.Partition> = []
        var paused = false
        var lastCommit = ContinuousClock.now
        var errors: [KafkaError] = []
        /// Partitions still looking for the first message at or after the start time.
        var seekingTime: Set<OffsetTracker.Partition> = []
    }

    private let state = Mutex(State())
    private let start: StartPosition
    private let commitInterval: Duration

    init(start: StartPosition, commitInterval: Duration) {
        self.start = start
        self.commitInterval = commitInterval
    }

    /// Tracks a message handed out; false when it precedes the start time and is skipped instead.
    /// Some brokers (Tansu) answer offsets-for-times with the first offset, so the time is also
    /// checked here, per partition, until the first message at or after it.
    func received(_ m: KafkaMessage) -> Bool {
        state.withLock { s in
            let p = m.trackedPartition
            s.tracker.received(p, offset: m.offset)
            if s.seekingTime.contains(p), case .timestamp(let ms) = start {
                if let ts = m.timestamp, ts < ms {
                    s.tracker.done(p, offset: m.offset)
                    return false
                }
                s.seekingTime.remove(p)
            }
            return true
        }
    }
    func done(_ m: KafkaMessage) { state.withLock { $0.tracker.done(m.trackedPartition, offset: m.offset) } }
    func report(_ e: KafkaError) { state.withLock { s in if s.errors.count < 100 { s.errors.append(e) } } }
    var errors: [KafkaError] { state.withLock { $0.errors } }
    var assignment: Set<OffsetTracker.Partition> { state.withLock { $0.assigned } }
    var inFlight: Int { state.withLock { $0.tracker.inFlight } }

    func commitIfDue(_ rk: OpaquePointer) {
        let offsets: [OffsetTracker.Partition: Int64] = state.withLock { s in
            guard ContinuousClock.now - s.lastCommit >= commitInterval else { return [:] }
            s.lastCommit = .now
            return s.tracker.takeCommittable()
        }
        guard !offsets.isEmpty else { return }
        let list = Self.list(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_commit(rk, list, 1)  // async: a failure is covered by the next, higher commit
    }

    /// Synchronous commit of done offsets (all partitions, or only `only`).
    func commitNow(_ rk: OpaquePointer, only: Set<OffsetTracker.Partition>?) throws(KafkaError) {
        let offsets = state.withLock { s in
            s.lastCommit = .now
            return s.tracker.takeCommittable().filter { only?.contains($0.key) ?? true }
        }
        guard !offsets.isEmpty else { return }
        let list = Self.list(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(rk, list, 0)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(err, "commit of \(offsets.map { "\($0.key)@\($0.value)" }.sorted().joined(separator: ", "))")
        }
    }

    func setPaused(_ rk: OpaquePointer, _ paused: Bool) {
        let assigned = state.withLock { s -> Set<OffsetTracker.Partition> in
            s.paused = paused
            return s.assigned
        }
        guard !assigned.isEmpty else { return }
        let list = Self.list(Dictionary(uniqueKeysWithValues: assigned.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = paused ? rd_kafka_pause_partitions(rk, list) : rd_kafka_resume_partitions(rk, list)
    }

    /// librdkafka's rebalance callback (runs inside `rd_kafka_consumer_poll`, on the polling task).
    func rebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let partitions = Self.partitions(list)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let fresh = state.withLock { s in
                let fresh = partitions.filter { !s.everAssigned.contains($0) }
                s.everAssigned.formUnion(partitions)
                s.assigned.formUnion(partitions)
                if case .timestamp = start { s.seekingTime.formUnion(fresh) }
                return Set(fresh)
            }
            positionFreshPartitions(rk, list, fresh: fresh)
            if cooperative { _ = rd_kafka_incremental_assign(rk, list) } else { _ = rd_kafka_assign(rk, list) }
            if state.withLock({ $0.paused }) { _ = rd_kafka_pause_partitions(rk, list) }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            // Commit what is done before the partitions go; what is not done is redone by the new owner.
            try? commitNow(rk, only: Set(partitions))
            state.withLock { s in
                s.tracker.revoke(partitions)
                s.assigned.subtract(partitions)
            }
            if cooperative { _ = rd_kafka_incremental_unassign(rk, list) } else { _ = rd_kafka_assign(rk, nil) }
        default:
            report(KafkaError(err, "rebalance"))
            _ = rd_kafka_assign(rk, nil)
        }
    }

    /// Applies the start position to partitions this process has not read before.
    private func positionFreshPartitions(_ rk: OpaquePointer, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
                                         fresh: Set<OffsetTracker.Partition>) {
        guard start != .committed, !fresh.isEmpty else { return }
        for i in 0..<Int(list.pointee.cnt) {
            let e = list.pointee.elems[i]
            guard fresh.contains(.init(topic: String(cString: e.topic), partition: e.partition)) else { continue }
            switch start {
            case .earliest: list.pointee.elems[i].offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
            case .latest: list.pointee.elems[i].offset = Int64(RD_KAFKA_OFFSET_END)
            case .timestamp(let ms): list.pointee.elems[i].offset = ms
            case .committed: break
            }
        }
        if case .timestamp = start {
            let err = rd_kafka_offsets_for_times(rk, list, 10_000)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { report(KafkaError(err, "offsets for the start time")) }
            for i in 0..<Int(list.pointee.cnt) where list.pointee.elems[i].offset < 0 {
                // No message at or after the time: start at the end.
                list.pointee.elems[i].offset = Int64(RD_KAFKA_OFFSET_END)
            }
        }
    }

    static func partitions(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [OffsetTracker.Partition] {
        (0..<Int(list.pointee.cnt)).map { i in
            let e = list.pointee.elems[i]
            return .init(topic: String(cString: e.topic), partition: e.partition)
        }
    }

    static func list(_ offsets: [OffsetTracker.Partition: Int64]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        for (p, offset) in offsets {
            rd_kafka_topic_partition_list_add(list, p.topic, p.partition).pointee.offset = offset
        }
        return list
    }
}
