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
        package var paused = false
        /// How many times the queue filled and paused the consumer.
        package var pauses = 0
    }

    private let queueState = Mutex(QueueState())
    package var queue: QueueState { queueState.withLock { $0 } }

    /// Two stages joined by a bounded queue (DESIGN.md rule 2): one task polls and decodes, another
    /// runs `handle` and marks messages done. When `capacity` decoded messages wait, the consumer's
    /// partitions are paused (it keeps polling, so it stays in the group) and they resume once the
    /// queue is half empty; what librdkafka had already fetched may still come, so the bound is
    /// soft by at most one fetch. Runs until the consumer closes, the task is cancelled, or `handle`
    /// throws; messages still queued then are not marked done and come again after a restart.
    package func runStaged(capacity: Int, _ handle: @escaping @Sendable (KafkaMessage, [Alert]) async throws -> Void) async throws {
        let (stream, continuation) = AsyncStream<(KafkaMessage, [Alert])>.makeStream()
        let consumer = self.consumer
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                defer { continuation.finish() }
                let decoder = AlertDecoder(schemas: schemas, limits: limits)
                for try await message in consumer.messages {
                    guard let alerts = try await decodeOrDeadLetter(message, decoder) else {
                        consumer.markDone(message)
                        continue
                    }
                    let pause = self.queueState.withLock { q in
                        q.depth += 1
                        guard q.depth >= capacity, !q.paused else { return false }
                        q.paused = true
                        q.pauses += 1
                        return true
                    }
                    if pause { consumer.pause() }
                    continuation.yield((message, alerts))
                }
            }
            group.addTask { [self] in
                for await (message, alerts) in stream {
                    try Task.checkCancellation()
                    try await handle(message, alerts)
                    consumer.markDone(message)
                    countsStore.withLock { $0.messages += 1; $0.alerts += alerts.count }
                    let resume = self.queueState.withLock { q in
                        q.depth -= 1
                        guard q.paused, q.depth <= capacity / 2 else { return false }
                        q.paused = false
                        return true
                    }
                    if resume { consumer.resume() }
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
