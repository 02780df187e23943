import AlertModel
import Classifications
import Filters
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import State
import UnixSignals
import Subjects
import WebPages
import WebServer
import Zooniverse

/// The composition root: the whole service (`citsci run`) wired from one configuration — source,
/// pipeline, sink, state store, push, classifications, metrics — so the command line only parses
/// arguments and tests can run the service in their own process.
package struct CitSciService: Sendable {
    package let configuration: RunConfiguration
    package let state: StateStore
    package let pipeline: AlertPipeline
    /// Keeps the window of recent alerts (the filter playground's), unless the configuration says 0.
    package let recent: RecentAlertsRecorder?
    /// Writer schemas of Rubin packets (registry or folder), for the pages that decode the window.
    package let schemas: (any WriterSchemaSource)?
    package let ingest: any RunnableOnce
    /// The source ends by itself (the simulator): the service then keeps running its other stages.
    package let ingestEnds: Bool
    package let sourceDescription: String
    package let push: PushService?
    package let classifications: ClassificationService?
    /// Everything that went to dead letters in this run, and where it went.
    package let deadLetters: CountingDeadLetters
    package let deadLetterDescription: String
    let logger: Logger

    /// Wires the service. `once`: a Kafka source stops when idle; `clock` paces the push and the
    /// pull (tests pass a manual one); `environment` holds the Zooniverse credentials.
    package init(_ cfg: RunConfiguration, once: Bool = false, clock: any Clock<Duration> = ContinuousClock(),
                 environment: [String: String] = ProcessInfo.processInfo.environment,
                 logger: Logger = Logger(label: "citsci")) throws {
        configuration = cfg
        self.logger = logger
        state = try StateStore(path: cfg.state)
        let filters = FilterSet(folder: cfg.filters)  // the folder is checked by `problems` before this
        // At start a filter that does not check is an error (a reload keeps its old version instead).
        let errors = filters.reload()
        guard errors.isEmpty else { throw StartupError(errors.map { "\($0)" }.joined(separator: "\n")) }
        guard !filters.filters.isEmpty else { throw StartupError("no usable filter in \(cfg.filters)") }
        let sink = try FolderSink(root: cfg.sink.folder, state: state,
                                  options: .init(maxSetSize: cfg.sink.maxSetSize, maxSetAge: cfg.sink.maxSetAgeHours * 3600))
        recent = cfg.recentAlerts > 0 ? RecentAlertsRecorder(state: state, keep: cfg.recentAlerts, perSecond: cfg.recentAlertsPerSecond, logger: logger) : nil
        pipeline = AlertPipeline(filters: filters, batcher: SubjectBatcher(sink: sink, state: state, lightCurve: cfg.sink.lightCurve),
                                 recent: recent)
        schemas = try Environment.writerSchemas(cfg)
        let kafkaSecrets = Environment.kafkaSecrets
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
                                                                        start: try StartPosition.parse(from), properties: props))
            ingest = KafkaIngestService(consumer: consumer, schemas: schemas, pipeline: pipeline, deadLetters: deadLetters,
                                        queueCapacity: cfg.queueCapacity, queueBytes: cfg.queueBytes, workers: cfg.workers, batch: cfg.batch,
                                        idleTimeout: once ? .seconds(10) : nil, logger: logger)
            ingestEnds = false
            sourceDescription = "kafka \(brokers) \(topics.joined(separator: ","))"
        case .folder(let folder):
            ingest = FolderIngestService(folder: folder, schemas: schemas, pipeline: pipeline, deadLetters: deadLetters, once: once,
                                         workers: cfg.workers, logger: logger)
            ingestEnds = false
            sourceDescription = "folder \(folder)"
        case .simulate(let count, let seed):
            ingest = SimulatedIngestService(simulator: AlertSimulator(seed: seed), count: count, pipeline: pipeline, logger: logger)
            ingestEnds = true
            sourceDescription = "\(count) simulated Rubin alerts (seed \(seed))"
        }
        if let z = cfg.zooniverse {
            guard let credentials = PanoptesCredentials.fromEnvironment(environment) else {
                throw StartupError("zooniverse is configured but no credentials are set: PANOPTES_CLIENT_ID and PANOPTES_CLIENT_SECRET (or PANOPTES_USERNAME, PANOPTES_PASSWORD, PANOPTES_CLIENT_ID; or PANOPTES_TOKEN)")
            }
            var c = PanoptesClient.Configuration(endpoint: environment["PANOPTES_ENDPOINT"] ?? z.endpoint, credentials: credentials)
            c.requestsPerSecond = z.requestsPerSecond
            let client = PanoptesClient(c)
            var options = ZooniversePush.Options(project: z.project)
            options.workflow = z.workflow
            options.approved = z.approved
            push = PushService(push: ZooniversePush(client: client, state: state, options: options), sink: sink,
                               interval: .seconds(z.pushEveryMinutes * 60), clock: clock, logger: logger)
            let rule = cfg.retirementRule
            var publisher: ResultPublisher? = nil
            if let p = cfg.classifications.publish {
                let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: p.brokers, properties: p.properties.merging(kafkaSecrets) { $1 }))
                let id = try p.schemaRegistry.map {
                    try Environment.schemaRegistry($0).register(schemaJSON: ClassificationResultRecord.schemaJSON, subject: p.topic + "-value")
                } ?? p.schemaID!
                var po = ResultPublisher.Options(topic: p.topic, schemaID: id, rule: rule)
                po.debounce = p.debounceSeconds
                po.lasairTopic = p.lasairTopic
                publisher = ResultPublisher(producer: producer, state: state, options: po)
            }
            classifications = ClassificationService(pull: ClassificationPull(client: client, state: state, project: z.project),
                                                    rule: rule, publisher: publisher,
                                                    interval: .seconds(cfg.classifications.pullEveryMinutes * 60), clock: clock,
                                                    logger: logger)
        } else {
            push = nil
            classifications = nil
        }
    }

    /// One pass (`run --once`): the alerts there are, one push, one pull.
    package func runOnce() async throws {
        if let recent {
            async let window: Void = recent.run()
            do { try await ingest.run() } catch {
                recent.finish()
                try? await window
                throw error
            }
            recent.finish()
            try await window
        } else {
            try await ingest.run()
        }
        if let push { await push.round() }
        if let classifications { await classifications.round() }
    }

    /// The service group's members: ingest, filter reloads on file changes, the push and the pull
    /// on their schedules, and `/metrics` when the configuration names an address (`metrics`
    /// renders the registry's text). `extra` joins them (the progress line).
    package func services(metrics: (@Sendable () -> String)? = nil,
                          extra: [ServiceGroupConfiguration.ServiceConfiguration] = []) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let logger = self.logger
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ingest, successTerminationBehavior: ingestEnds ? .ignore : .gracefullyShutdownGroup),
            .init(service: ClosureService { [filters = pipeline.filters] in
                await cancelWhenGracefulShutdown {
                    await filters.watch { errors in
                        for e in errors { logger.error("\(e)") }
                        logger.info("filters reloaded (files changed)")
                    }
                }
            }, successTerminationBehavior: .ignore),
        ] + extra
        if let recent { services.append(.init(service: recent, successTerminationBehavior: .ignore)) }
        if let push { services.append(.init(service: push)) }
        if let classifications { services.append(.init(service: classifications)) }
        if let address = configuration.metricsAddress, let metrics {
            let endpoint = HTTPEndpoint(host: address.host, port: address.port, insecure: configuration.metricsInsecure)
            let site = Site(configuration, filters: pipeline.filters, state: state, schemas: schemas, metrics: metrics, consuming: true)
            services.append(.init(service: MetricsService(endpoint: endpoint, access: MetricsService.access(), logger: logger, render: metrics,
                                                          site: site)))
        }
        return services
    }

    /// Runs until the source ends (a folder with `once`), a signal in `signals` arrives, or the
    /// task is cancelled; a stage still busy 20 s after a graceful shutdown begins is cancelled
    /// (Kubernetes' default grace is 30 s; systemd's TimeoutStopSec 90 s).
    package func run(signals: [UnixSignal] = [], metrics: (@Sendable () -> String)? = nil,
                     extra: [ServiceGroupConfiguration.ServiceConfiguration] = []) async throws {
        var group = ServiceGroupConfiguration(services: services(metrics: metrics, extra: extra), gracefulShutdownSignals: signals, logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(20)
        try await ServiceGroup(configuration: group).run()
    }

    /// What the run made: subjects and sets in the sink, and each filter's matches.
    package func summary() -> [String] {
        let sets = SubjectSetFolder.list(configuration.sink.folder)
        let subjects = (try? state.sink.subjectCount()) ?? 0
        var line = "citsci run: \(subjects) subjects in \(sets.count) subject sets in \(configuration.sink.folder)/"
        if let first = sets.first { line += " (e.g. \(first)/manifest.csv)" }
        var lines = [line]
        for f in pipeline.filters.filters {
            let c = pipeline.filters.counters(f.name)
            lines.append("  filter \(f.name): \(c.matches) of \(c.evaluations) alerts matched")
        }
        return lines
    }
}

extension Site {
    /// The pages over a configuration's state store, sink, filters and dead letters.
    package init(_ cfg: RunConfiguration, filters: FilterSet, state: StateStore, schemas: (any WriterSchemaSource)?,
                 metrics: @escaping @Sendable () -> String, consuming: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(filters: filters, state: state, schemas: schemas, metrics: metrics,
                  deadLetterFolder: cfg.deadLetterTopic == nil ? cfg.deadLetterFolder ?? "dead-letters" : nil,
                  token: Site.token(environment: environment), playgroundAlerts: max(cfg.recentAlerts, 1),
                  zooniverse: ZooniverseLinks(project: cfg.zooniverse?.project, endpoint: cfg.zooniverse?.endpoint ?? "https://www.zooniverse.org"),
                  retirement: cfg.retirementRule, consuming: consuming)
    }
}

extension RunConfiguration {
    /// When a subject has had enough classifications.
    package var retirementRule: RetirementRule {
        RetirementRule(classifications: classifications.retireAfter, agreement: classifications.agreement, minimum: classifications.minimum)
    }
}

/// A service that can also run one round and return (for `run --once`).
package protocol RunnableOnce: Service {}
extension KafkaIngestService: RunnableOnce {}
extension FolderIngestService: RunnableOnce {}
extension SimulatedIngestService: RunnableOnce {}
