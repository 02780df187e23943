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
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The service: alerts in, subjects to Zooniverse, verdicts back out (configured by citsci.yaml).",
        discussion: """
        The configuration must name a source; --simulate runs on simulated Rubin alerts instead (with no file, or
        whatever source the file names). Everything the run needs is checked before it starts (folders, filters,
        the state store, the metrics address), each problem reported with its key and why. Alerts: from Kafka (offsets committed only after each message's subjects are durable), a folder
        of .avro files (watched for new ones), or the simulator. Every push_every_minutes the closed subject sets go
        to Zooniverse, and every pull_every_minutes classifications come back, are aggregated and published, when
        the file configures them. SIGTERM or Ctrl-C: finish what is in hand, commit, exit 0. SIGHUP: reload the
        filters (they are also re-read when their files change; a filter that no longer checks keeps its old
        version). --once: take the alerts there are, push and pull once, and exit (status 1 when any message went
        to dead letters). See `citsci config check`.
        """)

    @Option(help: "Configuration file (YAML).")
    var config: String = "citsci.yaml"

    @Flag(help: "One pass: the alerts there are (a Kafka source: until it has been idle 10 s), one push, one pull; then exit.")
    var once = false

    @Flag(help: "Run on simulated Rubin alerts (no data or broker needed), with or without a configuration file.")
    var simulate = false

    func run() async throws {
        // A SIGTERM while the service starts (checks, state store, consumer) is kept, not fatal: the
        // run then stops before it begins, with status 0, as it would a moment later.
        let startup = StartupSignals()
        defer { startup.cancel() }
        let exists = FileManager.default.fileExists(atPath: config)
        guard exists || simulate else {
            throw ValidationError("no configuration file \(config): give --config FILE (see examples/citsci.yaml), or --simulate to run on simulated alerts")
        }
        var loaded = exists ? try RunConfiguration.load(path: config) : RunConfiguration()
        if simulate {
            if case .simulate = loaded.source {} else { loaded.source = .simulate(count: 200, seed: 1) }
            loaded.sourceGiven = true
        }
        let cfg = loaded
        guard cfg.sourceGiven else {
            throw ValidationError("\(config) names no source: give source: {kafka: ...}, {folder: PATH} or {simulate: N} (docs/RUNNING.md), or --simulate to run on simulated alerts")
        }
        let problems = cfg.problems(file: exists ? config : "(no configuration file)")
        guard problems.isEmpty else {
            for p in problems { printError("citsci run: \(p)") }
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = cfg.logFormat == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: cfg.logLevel) ?? .info
            return RedactingLogHandler(handler)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "citsci")
        let parts = try Parts(cfg, once: once, logger: logger)
        logger.info("citsci run", metadata: ["source": "\(parts.sourceDescription)", "filters": "\(parts.pipeline.filters.filters.map(\.name))",
                                             "sink": "\(cfg.sink.folder)", "state": "\(parts.state.location)",
                                             "zooniverse": "\(cfg.zooniverse.map { "project \($0.project)" } ?? "off")"])
        let hangup = ReloadSignal {
            for e in parts.pipeline.filters.reload() { logger.error("\(e)") }
            logger.info("filters reloaded (SIGHUP)")
        }
        defer { hangup.cancel() }
        let progress = ProgressLine(pipeline: parts.pipeline)
        if startup.requested {
            logger.info("stopped before the service started (SIGTERM or SIGINT during start-up)")
            return
        }

        if once {
            startup.restoreDefault()  // a one-pass run stops on SIGTERM as any command does
            try await parts.ingest.run()
            if let push = parts.push { await push.round() }
            if let classifications = parts.classifications { await classifications.round() }
            progress.finish()
            printSummary(parts, cfg)
            let dead = parts.deadLetters.count
            if dead > 0 {
                printError("citsci run: \(dead) message\(dead == 1 ? "" : "s") went to dead letters (\(parts.deadLetterDescription)), each with its reason")
                throw ExitCode(1)
            }
            return
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: parts.ingest, successTerminationBehavior: parts.ingestEnds ? .ignore : .gracefullyShutdownGroup),
            .init(service: ClosureService { [filters = parts.pipeline.filters] in
                await cancelWhenGracefulShutdown {
                    await filters.watch { errors in
                        for e in errors { logger.error("\(e)") }
                        logger.info("filters reloaded (files changed)")
                    }
                }
            }, successTerminationBehavior: .ignore),
            .init(service: progress, successTerminationBehavior: .ignore),
        ]
        if let push = parts.push { services.append(.init(service: push)) }
        if let classifications = parts.classifications { services.append(.init(service: classifications)) }
        if let address = cfg.metricsAddress {
            let endpoint = HTTPEndpoint(host: address.host, port: address.port, insecure: cfg.metricsInsecure)
            services.append(.init(service: MetricsService(endpoint: endpoint, access: MetricsService.access(), logger: logger,
                                                          render: { registry.emitToString() })))
        }
        var groupConfiguration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // SIGTERM stops the service within a bound whatever it is doing: a stage still busy after the
        // grace period is cancelled (Kubernetes' default grace is 30 s; systemd's TimeoutStopSec 90 s).
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(20)
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
        progress.finish()
        printSummary(parts, cfg)
    }

    func printSummary(_ parts: Parts, _ cfg: RunConfiguration) {
        let sets = SubjectSetFolder.list(cfg.sink.folder)
        let subjects = (try? parts.state.sink.subjectCount()) ?? 0
        var line = "citsci run: \(subjects) subjects in \(sets.count) subject sets in \(cfg.sink.folder)/"
        if let first = sets.first { line += " (e.g. \(first)/manifest.csv)" }
        print(line)
        for f in parts.pipeline.filters.filters {
            let c = parts.pipeline.filters.counters(f.name)
            print("  filter \(f.name): \(c.matches) of \(c.evaluations) alerts matched")
        }
    }
}

/// The pieces `run` wires from a configuration.
struct Parts {
    let state: StateStore
    let pipeline: AlertPipeline
    let ingest: any RunnableOnce
    let ingestEnds: Bool
    let sourceDescription: String
    let push: PushService?
    let classifications: ClassificationService?
    /// Everything that went to dead letters in this run, and where it went.
    let deadLetters: CountingDeadLetters
    let deadLetterDescription: String

    init(_ cfg: RunConfiguration, once: Bool, logger: Logger) throws {
        state = try StateStore(path: cfg.state)
        let filters = FilterSet(folder: cfg.filters)  // the folder is checked by `problems` before this
        // At start a filter that does not check is an error (a reload keeps its old version instead).
        let errors = filters.reload()
        guard errors.isEmpty else { throw ValidationError(errors.map { "\($0)" }.joined(separator: "\n")) }
        guard !filters.filters.isEmpty else { throw ValidationError("no usable filter in \(cfg.filters)") }
        let sink = try FolderSink(root: cfg.sink.folder, state: state,
                                  options: .init(maxSetSize: cfg.sink.maxSetSize, maxSetAge: cfg.sink.maxSetAgeHours * 3600))
        pipeline = AlertPipeline(filters: filters, batcher: SubjectBatcher(sink: sink, state: state, lightCurve: cfg.sink.lightCurve))
        let schemas: (any WriterSchemaSource)? = try cfg.schemaRegistry.map(SchemaOptions.registry)
            ?? cfg.schemaFolder.map { try SchemaFolder(path: $0) }
        let kafkaSecrets = KafkaOptions.secrets
        switch (cfg.deadLetterTopic, cfg.source) {
        case (let topic?, .kafka(let brokers, _, _, _, let properties)):
            deadLetters = CountingDeadLetters(DeadLetterTopic(producer: try KafkaProducer(KafkaProducerConfiguration(brokers: brokers, properties: properties.merging(kafkaSecrets) { $1 })), topic: topic))
            deadLetterDescription = "topic \(topic)"
        default:
            let folder = cfg.deadLetterFolder ?? "dead-letters"
            deadLetters = CountingDeadLetters(LazyDeadLetterFolder(path: folder))
            deadLetterDescription = "\(folder)/"
        }
        switch cfg.source {
        case .kafka(let brokers, let topics, let group, let from, let properties):
            let props = properties.merging(kafkaSecrets) { $1 }
            let consumer = try KafkaConsumer(KafkaConsumerConfiguration(brokers: brokers, groupID: group, topics: topics,
                                                                        start: try StartOption.parse(from), properties: props))
            ingest = KafkaIngestService(consumer: consumer, schemas: schemas, pipeline: pipeline, deadLetters: deadLetters,
                                        queueCapacity: cfg.queueCapacity, idleTimeout: once ? .seconds(10) : nil, logger: logger)
            ingestEnds = false
            sourceDescription = "kafka \(brokers) \(topics.joined(separator: ","))"
        case .folder(let folder):
            ingest = FolderIngestService(folder: folder, schemas: schemas, pipeline: pipeline, deadLetters: deadLetters, once: once, logger: logger)
            ingestEnds = false
            sourceDescription = "folder \(folder)"
        case .simulate(let count, let seed):
            ingest = SimulatedIngestService(simulator: AlertSimulator(seed: seed), count: count, pipeline: pipeline, logger: logger)
            ingestEnds = true
            sourceDescription = "\(count) simulated Rubin alerts (seed \(seed))"
        }
        if let z = cfg.zooniverse {
            guard let credentials = PanoptesCredentials.fromEnvironment() else {
                throw ValidationError("zooniverse is configured but no credentials are set: PANOPTES_CLIENT_ID and PANOPTES_CLIENT_SECRET (or PANOPTES_USERNAME, PANOPTES_PASSWORD, PANOPTES_CLIENT_ID; or PANOPTES_TOKEN)")
            }
            var c = PanoptesClient.Configuration(endpoint: Environment.get("PANOPTES_ENDPOINT") ?? z.endpoint, credentials: credentials)
            c.requestsPerSecond = z.requestsPerSecond
            let client = PanoptesClient(c)
            var options = ZooniversePush.Options(project: z.project)
            options.workflow = z.workflow
            options.approved = z.approved
            push = PushService(push: ZooniversePush(client: client, state: state, options: options), sink: sink,
                               interval: .seconds(z.pushEveryMinutes * 60), logger: logger)
            let rule = RetirementRule(classifications: cfg.classifications.retireAfter, agreement: cfg.classifications.agreement,
                                      minimum: cfg.classifications.minimum)
            var publisher: ResultPublisher? = nil
            if let p = cfg.classifications.publish {
                let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: p.brokers, properties: p.properties.merging(kafkaSecrets) { $1 }))
                let id = try p.schemaRegistry.map {
                    try SchemaOptions.registry($0).register(schemaJSON: ClassificationResultRecord.schemaJSON, subject: p.topic + "-value")
                } ?? p.schemaID!
                var po = ResultPublisher.Options(topic: p.topic, schemaID: id, rule: rule)
                po.debounce = p.debounceSeconds
                po.lasairTopic = p.lasairTopic
                publisher = ResultPublisher(producer: producer, state: state, options: po)
            }
            classifications = ClassificationService(pull: ClassificationPull(client: client, state: state, project: z.project),
                                                    rule: rule, publisher: publisher,
                                                    interval: .seconds(cfg.classifications.pullEveryMinutes * 60), logger: logger)
        } else {
            push = nil
            classifications = nil
        }
    }
}

/// A service that can also run one round and return (for `run --once`).
protocol RunnableOnce: Service {}
extension KafkaIngestService: RunnableOnce {}
extension FolderIngestService: RunnableOnce {}
extension SimulatedIngestService: RunnableOnce {}

/// SIGTERM and SIGINT between the start of `run` and the service's own signal handling: remembered
/// (the default action would kill the process mid-start with a signal status) and honoured once
/// start-up is done. Its sources stay while the service runs, so no signal falls in a gap between
/// this handling and the service group's; both only note or act on it.
final class StartupSignals: @unchecked Sendable {
    // @unchecked: the sources are touched at init and cancel only; the flag is atomic.
    private final class Flag: Sendable { let raised = Atomic<Bool>(false) }
    private let flag = Flag()
    private var signals: StopSignals?

    init() {
        let flag = self.flag
        signals = StopSignals { _ in flag.raised.store(true, ordering: .relaxed) }
    }

    var requested: Bool { flag.raised.load(ordering: .relaxed) }

    /// Back to the default action (for a one-pass run, which has no service group to stop it).
    func restoreDefault() {
        cancel()
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
    }

    func cancel() {
        signals?.cancel()
        signals = nil
    }
}
