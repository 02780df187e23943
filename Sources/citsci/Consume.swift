import Kafka
import Filters
import Service
import ArgumentParser
import Foundation

struct Consume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consume alerts from Kafka, decode them and print one line per alert (like inspect).",
        discussion: """
        Offsets are committed only for messages whose alerts were printed (or dead-lettered), in order per
        partition; SIGTERM or Ctrl-C commits them and exits 0. A restart therefore repeats at most the
        messages that were not yet printed (at-least-once), and never skips one. Undecodable messages go
        to --dead-letter-topic, or to --dead-letter-dir (default ./dead-letters), with the reason.
        """)

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var schemaOptions: SchemaOptions

    @Option(help: "Topic to read (repeatable; a name starting with ^ is a regular expression).")
    var topic: [String]

    @Option(help: "Consumer group id.")
    var group: String = "citsci-consume"

    @Option(help: "Where to start: committed (default), earliest, latest, or a UTC time such as 2026-11-01T00:00Z.")
    var from: String = "committed"

    @Option(help: "Stop after this many messages.")
    var max: Int?

    @Flag(help: "Print each whole decoded alert as JSON.")
    var json = false

    @Option(help: "Kafka topic for undecodable messages.")
    var deadLetterTopic: String?

    @Option(help: "Folder for undecodable messages (when no --dead-letter-topic).")
    var deadLetterDir: String = "dead-letters"

    @Option(help: "A folder of filter files: print only the alerts they match, with the filters' names. Reloaded on change and on SIGHUP.")
    var filters: String?

    func run() async throws {
        let properties = try kafka.parsedProperties()
        let consumer = try KafkaConsumer(KafkaConsumerConfiguration(
            brokers: kafka.brokers, groupID: group, topics: topic, start: try StartOption.parse(from), properties: properties))
        var producer: KafkaProducer? = nil
        let sink: any DeadLetterSink
        if let deadLetterTopic {
            let p = try KafkaProducer(KafkaProducerConfiguration(brokers: kafka.brokers, properties: properties))
            producer = p
            sink = DeadLetterTopic(producer: p, topic: deadLetterTopic)
        } else {
            sink = try DeadLetterFolder(path: deadLetterDir)
        }
        let ingest = AlertIngest(consumer: consumer, schemas: try schemaOptions.source(), deadLetters: sink)
        let limit = max
        let asJSON = json
        let filterSet = filters.map { FilterSet(folder: $0) }
        if let filterSet {
            let errors = filterSet.reload()
            for e in errors { printError("\(e)") }
            guard !filterSet.filters.isEmpty else { throw ValidationError("no usable filter in \(filters!)") }
            printError("citsci consume: \(filterSet.filters.count) filters: \(filterSet.filters.map(\.name).joined(separator: ", "))")
        }
        let watcher = Task {
            await filterSet?.watch { errors in
                for e in errors { printError("\(e)") }
                printError("citsci consume: filters reloaded\(errors.isEmpty ? "" : " (files in error keep their previous version)")")
            }
        }
        let hangup = ReloadSignal {
            guard let filterSet else { return }
            for e in filterSet.reload() { printError("\(e)") }
            printError("citsci consume: filters reloaded (SIGHUP)")
        }
        defer { hangup.cancel(); watcher.cancel() }
        let work = Task {
            try await ingest.run(limit: limit) { message, alerts in
                var text = ""
                for alert in alerts {
                    var tag = ""
                    if let filterSet {
                        let hits = filterSet.matches(alert)
                        if hits.isEmpty { continue }
                        tag = " [" + hits.map { "\($0.name)@\($0.version.prefix(8))" }.joined(separator: ",") + "]"
                    }
                    text += (asJSON ? AlertJSON.line(alert) : "\(message.position) \(alert.summary)\(tag)") + "\n"
                }
                // Unbuffered: once written, the message is done and its offset may be committed.
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
        let signals = StopSignals { _ in work.cancel() }
        defer { signals.cancel() }
        let outcome = await work.result
        consumer.close()
        producer?.close()
        for e in consumer.errors.prefix(5) { printError("citsci consume: broker reported: \(e)") }
        let c = ingest.counts
        printError("citsci consume: \(c.messages) messages, \(c.alerts) alerts, \(c.deadLettered) dead-lettered")
        if case .failure(let error) = outcome, !(error is CancellationError) {
            throw error
        }
    }
}
