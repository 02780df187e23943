import Basics
import Classifications
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import State
import Synchronization
import UnixSignals
import WebServer

/// `citsci caesar listen`: Caesar's external reducer effects received over HTTP (Hummingbird),
/// stored, and each changed subject's result published when a publisher is given.
package struct CaesarListener: Sendable {
    let receiver: CaesarReceiver
    let endpoint: HTTPEndpoint
    let publisher: ResultPublisher?
    let producer: KafkaProducer?
    let changes: AsyncStream<(workflow: String, subject: String)>
    let continuation: AsyncStream<(workflow: String, subject: String)>.Continuation

    /// Credentials come from CITSCI_CAESAR_USERNAME and CITSCI_CAESAR_PASSWORD in `environment`;
    /// without them the listener starts only when `insecure` (anyone may post).
    package init(state: StateStore, path: String, host: String, port: Int, insecure: Bool,
                 publisher: ResultPublisher?, producer: KafkaProducer?,
                 environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let (changes, continuation) = AsyncStream<(workflow: String, subject: String)>.makeStream()
        self.changes = changes
        self.continuation = continuation
        // A variable set to nothing is no credential (an empty password would protect nothing).
        let username = environment["CITSCI_CAESAR_USERNAME"].flatMap { $0.isEmpty ? nil : $0 }
        let password = environment["CITSCI_CAESAR_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        receiver = CaesarReceiver(state: state, path: path, username: username, password: password) { reduction, _ in
            continuation.yield((reduction.workflowID, reduction.subjectID))
        }
        guard receiver.access.isProtected || insecure else {
            throw StartupError("caesar listen needs credentials: set CITSCI_CAESAR_USERNAME and CITSCI_CAESAR_PASSWORD "
                               + "(the effect's external_with_basic_auth credentials), or pass --insecure to accept reductions from anyone")
        }
        endpoint = HTTPEndpoint(host: host, port: port, insecure: insecure)
        try endpoint.checkExposure(receiver.access)
        try endpoint.checkBindable()
        self.publisher = publisher
        self.producer = producer
    }

    /// Serves until a signal in `signals` or cancellation; returns how many results were published.
    package func run(signals: [UnixSignal] = [], onListening: @escaping @Sendable (String) -> Void,
                     onFailure: @escaping @Sendable (String, any Error) -> Void) async throws -> Int {
        let logger = Logger(label: "citsci.caesar")
        let server = HTTPServer(endpoint: endpoint, access: receiver.access, logger: logger, onRunning: { [endpoint, path = receiver.path] port in
            onListening("http://\(HTTPEndpoint(host: endpoint.host, port: port))\(path)")
        }) { [receiver] request in
            (try? await offload { receiver.handle(request) }) ?? .json(500, ["error": "internal error"])
        }
        let published = Mutex(0)
        let publishing = ClosureService { [publisher, producer, receiver, changes, continuation] in
            await withGracefulShutdownHandler {
                for await change in changes {
                    do {
                        guard let publisher, let result = try receiver.result(workflow: change.workflow, subject: change.subject) else { continue }
                        let n = try await publisher.publish([result]).published
                        published.withLock { $0 += n }
                        try producer?.flush(timeout: .seconds(10))
                    } catch {
                        onFailure(change.subject, error)
                    }
                }
            } onGracefulShutdown: { continuation.finish() }
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: server), .init(service: publishing)],
                                                      gracefulShutdownSignals: signals, logger: logger))
        try await group.run()
        return published.withLock { $0 }
    }
}
