import Avro
import AlertModel
import Synchronization

/// Counts kept by an ingest loop.
package struct IngestCounts: Sendable, Equatable {
    package var messages = 0
    package var alerts = 0
    package var deadLettered = 0
}

/// Reads alert messages from a consumer, decodes them, hands the alerts to `handle`, and marks each
/// message done once its effects are durable: after `handle` returns, or after an undecodable
/// message is stored as a dead letter. So nothing is lost and every offset is committed in order.
package final class AlertIngest: Sendable {
    package let consumer: KafkaConsumer
    private let schemas: (any WriterSchemaSource)?
    private let deadLetters: any DeadLetterSink
    private let limits: DecodingLimits
    private let countsStore = Mutex(IngestCounts())

    package init(consumer: KafkaConsumer, schemas: (any WriterSchemaSource)?, deadLetters: any DeadLetterSink,
                limits: DecodingLimits = DecodingLimits()) {
        self.consumer = consumer
        self.schemas = schemas
        self.deadLetters = deadLetters
        self.limits = limits
    }

    package var counts: IngestCounts { countsStore.withLock { $0 } }

    /// Runs until `limit` messages are done, the task is cancelled, the consumer closes, or `handle`
    /// throws (that message is then not marked done: it comes again after a restart).
    package func run(limit: Int? = nil, _ handle: (KafkaMessage, [Alert]) async throws -> Void) async throws {
        let decoder = AlertDecoder(schemas: schemas, limits: limits)
        var handled = 0
        for try await message in consumer.messages {
            try await process(message, decoder, handle)
            consumer.markDone(message)
            handled += 1
            if let limit, handled >= limit { return }
        }
    }

    /// The decoded messages waiting for `handle`, and whether the consumer is paused because of them.
    package struct QueueState: Sendable, Equatable {
        package var depth = 0
        /// The bytes of the waiting messages (what a decoded alert keeps of its message).
        package var bytes = 0
        package var paused = false
        /// How many times the queue filled and paused the consumer.
        package var pauses = 0
    }

    private let queueState = Mutex(QueueState())
    package var queue: QueueState { queueState.withLock { $0 } }

    /// A message and what `prepare` made of each of its alerts.
    package struct Staged<Prepared: Sendable>: Sendable {
        package let message: KafkaMessage
        package let items: [Prepared]
    }

    /// Two stages joined by a bounded queue (DESIGN.md rule 2). The first polls a batch of the
    /// messages that have arrived (up to `batch`), decodes them and runs `prepare` on each alert,
    /// split over `workers` child tasks (the cores); the second hands each batch, in the order the
    /// messages came, to `handle`, then marks its messages done, so one durable write can cover a
    /// whole batch (group commit) and an alert waits at most for the batch before it. `handle` runs
    /// on `executor` when given (blocking work kept off the cooperative pool).
    ///
    /// When `capacity` decoded messages, or messages of `capacityBytes` bytes, wait, the consumer's
    /// partitions are paused (it keeps polling, so it stays in the group) and they resume once the
    /// queue is under half of both; what librdkafka had already fetched may still come, so the
    /// bound is soft by one fetch and one batch. The bytes bound the memory whatever the packets'
    /// size (a count alone lets 1,000 LSSTCam packets hold 230 MB, 1,000 ZTF ones 60 MB). Runs
    /// until the consumer closes, the task is cancelled, or `handle` throws; messages still queued
    /// then are not marked done and come again after a restart.
    package func runStaged<Prepared: Sendable>(
        capacity: Int, capacityBytes: Int = .max, workers: Int = 1, batch: Int = 1, executor: (any TaskExecutor)? = nil,
        prepare: @escaping @Sendable (Alert) -> Prepared,
        handle: @escaping @Sendable ([Staged<Prepared>]) async throws -> Void
    ) async throws {
        let workers = max(1, workers), batch = max(1, batch)
        let (stream, continuation) = AsyncStream<[Staged<Prepared>]>.makeStream()
        let consumer = self.consumer
        let decoders = DecoderPool((0..<workers).map { _ in AlertDecoder(schemas: schemas, limits: limits) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                defer { continuation.finish() }
                var iterator = consumer.messages.makeAsyncIterator()
                while let first = try await iterator.next() {
                    var messages = [first]
                    while messages.count < batch, case .message(let m) = try consumer.poll() { messages.append(m) }
                    let staged = try await stage(messages, decoders: decoders, prepare: prepare)
                    let bytes = Self.bytes(of: staged)
                    let pause = self.queueState.withLock { q in
                        q.depth += staged.count
                        q.bytes += bytes
                        guard q.depth >= capacity || q.bytes >= capacityBytes, !q.paused else { return false }
                        q.paused = true
                        q.pauses += 1
                        return true
                    }
                    if pause { consumer.pause() }
                    if !staged.isEmpty { continuation.yield(staged) }
                }
            }
            group.addTask { [self] in
                try await withTaskExecutorPreference(executor) {
                    for await staged in stream {
                        try Task.checkCancellation()
                        try await handle(staged)
                        for s in staged { consumer.markDone(s.message) }
                        countsStore.withLock { c in
                            c.messages += staged.count
                            c.alerts += staged.reduce(0) { $0 + $1.items.count }
                        }
                        let bytes = Self.bytes(of: staged)
                        let resume = self.queueState.withLock { q in
                            q.depth -= staged.count
                            q.bytes -= bytes
                            guard q.paused, q.depth <= capacity / 2, q.bytes <= capacityBytes / 2 else { return false }
                            q.paused = false
                            return true
                        }
                        if resume { consumer.resume() }
                    }
                }
            }
            do {
                try await group.next()
                try await group.next()
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// What a batch adds to the queue's bytes and takes off again: one definition, so the two
    /// cannot drift apart and leave the consumer paused.
    private static func bytes<Prepared>(of staged: [Staged<Prepared>]) -> Int {
        staged.reduce(0) { $0 + $1.message.value.count }
    }

    /// `runStaged` one message at a time, alerts as decoded.
    package func runStaged(capacity: Int, _ handle: @escaping @Sendable (KafkaMessage, [Alert]) async throws -> Void) async throws {
        try await runStaged(capacity: capacity, prepare: { $0 }) { staged in
            for s in staged { try await handle(s.message, s.items) }
        }
    }

    /// Decodes the messages and prepares their alerts on up to `decoders.count` child tasks, each with
    /// its own decoder; returns them in the messages' order. An undecodable message is stored as a
    /// dead letter, marked done and left out.
    private func stage<Prepared: Sendable>(_ messages: [KafkaMessage], decoders: DecoderPool,
                                           prepare: @escaping @Sendable (Alert) -> Prepared) async throws -> [Staged<Prepared>] {
        let chunks = min(decoders.count, messages.count)
        let size = (messages.count + chunks - 1) / chunks
        var parts = [[Staged<Prepared>]](repeating: [], count: chunks)
        try await withThrowingTaskGroup(of: (Int, [Staged<Prepared>]).self) { group in
            for c in 0..<chunks {
                let slice = Array(messages[(c * size)..<min(messages.count, (c + 1) * size)])
                group.addTask { [self] in
                    var out: [Staged<Prepared>] = []
                    for message in slice {
                        guard let alerts = try await decodeOrDeadLetter(message, decoders[c]) else {
                            consumer.markDone(message)
                            continue
                        }
                        out.append(Staged(message: message, items: alerts.map(prepare)))
                    }
                    return (c, out)
                }
            }
            for try await (c, part) in group { parts[c] = part }
        }
        return parts.flatMap { $0 }
    }

    /// The message's alerts, or nil once an undecodable message is stored as a dead letter (and counted).
    private func decodeOrDeadLetter(_ message: KafkaMessage, _ decoder: AlertDecoder) async throws -> [Alert]? {
        let decoded = Result { () throws(AlertDecodingError) in try decoder.decode(message.value, source: message.position) }
        switch decoded {
        case .success(let alerts):
            return alerts
        case .failure(let error):
            try await deadLetters.store(DeadLetter(message: message, kind: error.kind.rawValue, reason: error.description))
            countsStore.withLock { $0.messages += 1; $0.deadLettered += 1 }
            return nil
        }
    }

    private func process(_ message: KafkaMessage, _ decoder: AlertDecoder,
                         _ handle: (KafkaMessage, [Alert]) async throws -> Void) async throws {
        guard let alerts = try await decodeOrDeadLetter(message, decoder) else { return }
        try await handle(message, alerts)
        countsStore.withLock { $0.messages += 1; $0.alerts += alerts.count }
    }
}
