import Kafka
import State
import Classifications
import Service
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

struct CaesarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caesar",
        abstract: "Receive the reductions Zooniverse's Caesar posts in real time.",
        subcommands: [CaesarListen.self])
}

struct CaesarListen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Serve an endpoint for Caesar's external effects; store each reduction once and publish what changed.",
        discussion: """
        Configure the workflow's subject rule effect in Caesar as `external` (or `external_with_basic_auth`) with
        url https://<your host>/caesar/<reducer_key> and the reducer key; Caesar posts only to HTTPS, so put a
        TLS-terminating proxy in front. Basic auth is required: set CITSCI_CAESAR_USERNAME and CITSCI_CAESAR_PASSWORD
        (the effect's credentials); --insecure accepts reductions from anyone (for a proxy that checks them itself), and
        a non-loopback --host without credentials needs it too. Caesar repeats its POST each time the rule holds: a repeated reduction is answered 200 "unchanged"
        and published no more. With --brokers and --topic, each change is published as a classification result
        (schemas/classification-result.avsc). SIGTERM or Ctrl-C stops it.
        """)

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port: Int = 8080

    @Flag(help: "Serve without credentials (anyone who reaches the port can post reductions).")
    var insecure = false

    @Option(help: "URL path Caesar posts to.")
    var path: String = "/caesar"

    @Option(help: "State store (SQLite).")
    var state: String = "citsci.sqlite"

    @Option(help: "Kafka bootstrap servers, to publish each change (optional).")
    var brokers: String?

    @Option(help: "Topic for the results.")
    var topic: String?

    @Option(help: "Schema id to frame records with.")
    var schemaId: UInt32 = 1

    @Option(name: .customLong("property"), help: "A librdkafka property, name=value (repeatable).")
    var properties: [String] = []

    func run() async throws {
        let store = try StateStore(path: state)
        var publisher: ResultPublisher? = nil
        var producer: KafkaProducer? = nil
        if let brokers {
            guard let topic else { throw ValidationError("--brokers needs --topic") }
            producer = try KafkaProducer(KafkaProducerConfiguration(brokers: brokers, properties: try KafkaOptions.parse(properties)))
            var options = ResultPublisher.Options(topic: topic, schemaID: schemaId, rule: RetirementRule(classifications: nil))
            options.debounce = 0  // Caesar decides when to post
            publisher = ResultPublisher(producer: producer!, state: store, options: options)
        }
        let listener: CaesarListener
        do {
            listener = try CaesarListener(state: store, path: path, host: host, port: port, insecure: insecure,
                                          publisher: publisher, producer: producer)
        } catch let error as StartupError { throw ValidationError(error.description) }
        defer { producer?.close() }
        let published = try await listener.run(signals: [.sigterm, .sigint]) { url in
            printError("citsci caesar: listening on \(url)")
        } onFailure: { subject, error in
            printError("citsci caesar: cannot publish subject \(subject): \(error) (stored; it goes out with its next change)")
        }
        printError("citsci caesar: stopped; \(published) results published")
    }
}
