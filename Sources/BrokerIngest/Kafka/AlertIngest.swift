import Synchronization

/// Counts kept by an ingest loop.
public struct IngestCounts: Sendable, Equatable {
    public var messages = 0
    public var alerts = 0
    public var deadLettered = 0
}

/// Reads alert messages from a consumer, decodes them, hands the alerts to `handle`, and marks each
/// message done once its effects are durable: after `handle` returns, or after an undecodable
/// message is stored as a dead letter. So nothing is lost and every offset is committed in order.
public final class AlertIngest: Sendable {
    public let consumer: KafkaConsumer
    private let schemas: (any WriterSchemaSource)?
    private let deadLetters: any DeadLetterSink
    private let limits: DecodingLimits
    private let countsStore = Mutex(IngestCounts())

    public init(consumer: KafkaConsumer, schemas: (any WriterSchemaSource)?, deadLetters: any DeadLetterSink,
                limits: DecodingLimits = DecodingLimits()) {
        self.consumer = consumer
        self.schemas = schemas
        self.deadLetters = deadLetters
        self.limits = limits
    }

    public var counts: IngestCounts { countsStore.withLock { $0 } }

    /// Runs until `limit` messages are done, the task is cancelled, the consumer closes, or `handle`
    /// throws (that message is then not marked done: it comes again after a restart).
    public func run(limit: Int? = nil, _ handle: (KafkaMessage, [Alert]) async throws -> Void) async throws {
        let decoder = AlertDecoder(schemas: schemas, limits: limits)
        var handled = 0
        for try await message in consumer.messages {
            try await process(message, decoder, handle)
            consumer.markDone(message)
            handled += 1
            if let limit, handled >= limit { return }
        }
    }

    private func process(_ message: KafkaMessage, _ decoder: AlertDecoder,
                         _ handle: (KafkaMessage, [Alert]) async throws -> Void) async throws {
        let alerts: [Alert]
        do {
            alerts = try decoder.decode(message.value, source: message.position)
        } catch {
            try await deadLetters.store(DeadLetter(message: message, kind: error.kind.rawValue, reason: error.description))
            countsStore.withLock { $0.messages += 1; $0.deadLettered += 1 }
            return
        }
        try await handle(message, alerts)
        countsStore.withLock { $0.messages += 1; $0.alerts += alerts.count }
    }
}
