import Avro
import AlertModel
import Kafka
import ArgumentParser
import Foundation
import Synchronization

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Produce archived alerts into a Kafka topic, framed as a survey sends them.",
        discussion: """
        --framing as-is sends each file's bytes unchanged (one message per file). --framing container sends one
        Avro container file per alert, as ZTF does (multi-alert archives are split). --framing confluent sends
        the Confluent wire format with --schema-id, as Rubin does: records written with another schema are
        re-encoded with the schema registered under that id (from --schema-dir or --schema-registry).
        Messages are keyed by alert id. Every file is decoded first: a file that does not decode is reported
        and not sent.
        """)

    enum Framing: String, ExpressibleByArgument { case asIs = "as-is", container, confluent }

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var schemaOptions: SchemaOptions

    @Option(help: "Topic to produce to.")
    var topic: String

    @Option(help: "as-is, container (ZTF) or confluent (Rubin).")
    var framing: Framing = .asIs

    @Option(help: "Schema id for --framing confluent.")
    var schemaId: UInt32?

    @Option(help: "At most this many messages per second (default: as fast as the broker takes them).")
    var rate: Double?

    @Option(help: "Send the whole set this many times.")
    var `repeat`: Int = 1

    @Argument(help: "Alert files or folders.")
    var files: [String]

    package func validate() throws {
        if framing == .confluent && schemaId == nil { throw ValidationError("--framing confluent needs --schema-id") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
    }

    func run() async throws {
        let schemas = try schemaOptions.source()
        let messages = try frame(schemas: schemas)
        guard !messages.isEmpty else { throw ValidationError("nothing to send") }
        let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: kafka.brokers, properties: try kafka.parsedProperties()))
        let failures = Mutex<[String]>([])
        let clock = ContinuousClock()
        let start = clock.now
        var sent = 0
        for _ in 0..<`repeat` {
            for (key, value) in messages {
                if let rate { try await clock.sleep(until: start + .seconds(Double(sent) / rate)) }
                try producer.enqueue(ProducerRecord(topic: topic, key: Array(key.utf8), value: value)) { result in
                    if case .failure(let e) = result { failures.withLock { $0.append("\(key): \(e)") } }
                }
                sent += 1
            }
        }
        // Wait as long as librdkafka may still deliver (message.timeout.ms, 300 s by default): a slow
        // broker is not a failed replay; a message it gives up on comes back through the callback.
        try producer.flush(timeout: .seconds(310))
        producer.close()
        let seconds = (clock.now - start) / .seconds(1)
        let failed = failures.withLock { $0 }
        for f in failed.prefix(10) { printError("citsci replay: not delivered: \(f)") }
        print(String(format: "replayed %d messages to %@ in %.2f s (%.0f messages/s), %d not delivered",
                     sent - failed.count, topic, seconds, Double(sent) / max(seconds, 1e-9), failed.count))
        if !failed.isEmpty { throw ExitCode(1) }
    }

    /// (key, framed bytes) for every message to send.
    private func frame(schemas: (any WriterSchemaSource)?) throws -> [(String, [UInt8])] {
        let decoder = AlertDecoder(schemas: schemas)
        let target: AvroSchema? = try schemaId.map { id in
            guard let schemas else { throw ValidationError("--framing confluent needs --schema-dir or --schema-registry") }
            return try schemas.schema(id: id)
        }
        var out: [(String, [UInt8])] = []
        var bad = 0
        for path in try AlertFiles.expand(files) {
            let bytes = try AlertFiles.read(path)
            let records: [AlertDecoder.RawRecord]
            do {
                records = try decoder.rawRecords(bytes, source: path)
            } catch {
                printError("citsci replay: skipped \(error)")
                bad += 1
                continue
            }
            switch framing {
            case .asIs:
                out.append((records.first.map { String($0.alert.alertId) } ?? path, bytes))
            case .container:
                for r in records {
                    let single = records.count == 1 && r.writerJSON != nil
                    out.append((String(r.alert.alertId),
                                single ? bytes : ContainerFile.write(schemaJSON: r.writerJSON ?? Array(r.writer.jsonText.utf8), records: [r.bytes])))
                }
            case .confluent:
                let id = schemaId!
                let header: [UInt8] = [0, UInt8(id >> 24), UInt8(id >> 16 & 0xff), UInt8(id >> 8 & 0xff), UInt8(id & 0xff)]
                for r in records {
                    let body: [UInt8]
                    if r.schemaId == id || r.writer.jsonText == target!.jsonText {
                        body = r.bytes
                    } else {
                        do {
                            body = try AvroEncoder.encode(.record(r.alert.record), as: target!)
                        } catch {
                            throw ValidationError("\(path): alert \(r.alert.alertId) cannot be written with schema \(id): \(error)")
                        }
                    }
                    out.append((String(r.alert.alertId), header + body))
                }
            }
        }
        if bad > 0 { printError("citsci replay: \(bad) files could not be decoded and were not sent") }
        return out
    }
}
