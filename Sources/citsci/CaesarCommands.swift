import Basics
import Avro
import AlertModel
import Kafka
import Stamps
import Filters
import State
import Subjects
import Zooniverse
import Classifications
import Service
import WebClient
import WebServer
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
        let changes = AsyncStream<(workflow: String, subject: String)>.makeStream()
        // A variable set to nothing is no credential (an empty password would protect nothing).
        let username = Environment.get("CITSCI_CAESAR_USERNAME").flatMap { $0.isEmpty ? nil : $0 }
        let password = Environment.get("CITSCI_CAESAR_PASSWORD").flatMap { $0.isEmpty ? nil : $0 }
        let receiver = CaesarReceiver(state: store, path: path, username: username, password: password) { reduction, _ in
            changes.continuation.yield((reduction.workflowID, reduction.subjectID))
        }
        guard receiver.access.isProtected || insecure else {
            throw ValidationError("caesar listen needs credentials: set CITSCI_CAESAR_USERNAME and CITSCI_CAESAR_PASSWORD "
                                  + "(the effect's external_with_basic_auth credentials), or pass --insecure to accept reductions from anyone")
        }
        let endpoint = HTTPEndpoint(host: host, port: port, insecure: insecure)
        try endpoint.checkExposure(receiver.access)
        try endpoint.checkBindable()
        defer { producer?.close() }
        let logger = Logger(label: "citsci.caesar")
        let server = HTTPServer(endpoint: endpoint, access: receiver.access, logger: logger, onRunning: { [path = receiver.path] port in
            printError("citsci caesar: listening on http://\(HTTPEndpoint(host: endpoint.host, port: port))\(path)")
        }) { request in
            (try? await offload { receiver.handle(request) }) ?? .json(500, ["error": "internal error"])
        }
        let published = SharedCount()
        let publishing = ClosureService { [publisher, producer] in
            await withGracefulShutdownHandler {
                for await change in changes.stream {
                    do {
                        guard let publisher, let result = try receiver.result(workflow: change.workflow, subject: change.subject) else { continue }
                        published.add(try await publisher.publish([result]).published)
                        try producer?.flush(timeout: .seconds(10))
                    } catch {
                        printError("citsci caesar: cannot publish subject \(change.subject): \(error) (stored; it goes out with its next change)")
                    }
                }
            } onGracefulShutdown: { changes.continuation.finish() }
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: server), .init(service: publishing)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        printError("citsci caesar: stopped; \(published.value) results published")
    }
}

/// A count shared between a service and the command that reports it.
final class SharedCount: Sendable {
    private let count = Mutex(0)
    func add(_ n: Int) { count.withLock { $0 += n } }
    var value: Int { count.withLock { $0 } }
}
