import CRdKafka
import Foundation
import Synchronization

/// A Kafka producer over librdkafka: idempotent unless configured otherwise (no duplicates or
/// reordering from its own retries), each send resolved by the broker's delivery report, everything
/// flushed on close. The only code that touches librdkafka's producer API.
package final class KafkaProducer: @unchecked Sendable {
    // @unchecked: librdkafka handles are thread-safe; `running` is atomic and the poll thread ends
    // before the handle is destroyed.
    private let handle: OpaquePointer
    private let running = RunFlag()
    private let pollerDone = DispatchSemaphore(value: 0)
    private let closed = Mutex(false)

    package init(_ configuration: KafkaProducerConfiguration) throws(KafkaError) {
        var properties: [(String, String)] = [
            ("bootstrap.servers", configuration.brokers),
            ("enable.idempotence", "true"),
            ("client.id", "citsci"),
            ("linger.ms", "5"),
        ]
        properties += configuration.properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let conf = try RdKafkaConf.make(properties)
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
            guard let message, let opaque = message.pointee._private else { return }
            let pending = Unmanaged<PendingDelivery>.fromOpaque(opaque).takeRetainedValue()
            let m = message.pointee
            if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                pending.complete(.success(DeliveryReport(topic: pending.topic, partition: m.partition, offset: m.offset)))
            } else {
                pending.complete(.failure(KafkaError(m.err, "delivery", topic: pending.topic, partition: m.partition >= 0 ? m.partition : nil)))
            }
        }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: -1, reason: "cannot create producer: \(RdKafkaConf.errorText(errstr))")
        }
        self.handle = handle
        // Delivery reports are served by rd_kafka_poll: a thread of its own keeps them flowing.
        let shared = SharedHandle(pointer: handle)
        let thread = Thread { [shared, running, pollerDone] in
            while running.value.load(ordering: .relaxed) { rd_kafka_poll(shared.pointer, 50) }
            pollerDone.signal()
        }
        thread.name = "citsci-kafka-producer"
        thread.start()
    }

    deinit { close() }

    /// Sends one message and waits for the broker to acknowledge it.
    package func send(_ record: ProducerRecord) async throws(KafkaError) -> DeliveryReport {
        let result: Result<DeliveryReport, KafkaError> = await withCheckedContinuation { continuation in
            do throws(KafkaError) {
                try enqueue(record) { continuation.resume(returning: $0) }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }

    /// Queues a message; `completion` runs on the producer's thread with the delivery report.
    /// Waits (briefly, repeatedly) while librdkafka's local queue is full.
    package func enqueue(_ record: ProducerRecord, completion: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) throws(KafkaError) {
        let pending = Unmanaged.passRetained(PendingDelivery(topic: record.topic, completion: completion))
        var attempts = 0
        while true {
            var headers: OpaquePointer? = nil
            if !record.headers.isEmpty {
                headers = rd_kafka_headers_new(record.headers.count)
                for h in record.headers {
                    if let v = h.value {
                        v.withUnsafeBytes { _ = rd_kafka_header_add(headers, h.name, -1, $0.baseAddress, $0.count) }
                    } else {
                        _ = rd_kafka_header_add(headers, h.name, -1, nil, 0)
                    }
                }
            }
            let err: rd_kafka_resp_err_t = record.value.withUnsafeBytes { value in
                let send = { (key: UnsafeRawBufferPointer?) in
                    citsci_rd_kafka_produce(self.handle, record.topic, record.partition ?? RD_KAFKA_PARTITION_UA,
                                            value.baseAddress, value.count, key?.baseAddress, key?.count ?? 0,
                                            headers, record.timestamp ?? 0, pending.toOpaque())
                }
                if let key = record.key { return key.withUnsafeBytes { send($0) } }
                return send(nil)
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if let headers { rd_kafka_headers_destroy(headers) }  // not taken by librdkafka on failure
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL && attempts < 6000 {
                attempts += 1
                usleep(1000)  // the poll thread drains the queue as deliveries complete
                continue
            }
            pending.release()
            throw KafkaError(err, "produce", topic: record.topic, partition: record.partition)
        }
    }

    /// Waits until every queued message is delivered (or failed), at most `timeout`.
    package func flush(timeout: Duration = .seconds(30)) throws(KafkaError) {
        let ms = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let err = rd_kafka_flush(handle, ms)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, "flush: \(rd_kafka_outq_len(handle)) messages still queued")
        }
    }

    /// Flushes, then frees the handle.
    package func close(timeout: Duration = .seconds(30)) {
        closed.withLock { closed in
            guard !closed else { return }
            closed = true
            try? flush(timeout: timeout)
            running.value.store(false, ordering: .relaxed)
            pollerDone.wait()
            rd_kafka_destroy(handle)
        }
    }
}

/// One message awaiting its delivery report (kept alive by librdkafka's opaque pointer meanwhile).
private final class PendingDelivery: @unchecked Sendable {
    // @unchecked: immutable after init; completed exactly once, from the delivery callback.
    let topic: String
    let completion: @Sendable (Result<DeliveryReport, KafkaError>) -> Void
    init(topic: String, completion: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) {
        self.topic = topic
        self.completion = completion
    }
    func complete(_ r: Result<DeliveryReport, KafkaError>) { completion(r) }
}

/// A librdkafka handle handed to the poll thread (librdkafka handles are thread-safe).
private struct SharedHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Tells the poll thread to stop (shared by reference: `Atomic` cannot be copied into a closure).
private final class RunFlag: Sendable {
    let value = Atomic<Bool>(true)
}
