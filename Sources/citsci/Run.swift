import Service
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
        bootstrapLogging(cfg)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "citsci")
        let service: CitSciService
        do { service = try CitSciService(cfg, once: once, logger: logger) } catch let error as StartupError {
            throw ValidationError(error.description)
        }
        logger.info("citsci run", metadata: ["source": "\(service.sourceDescription)", "filters": "\(service.pipeline.filters.filters.map(\.name))",
                                             "sink": "\(cfg.sink.folder)", "state": "\(service.state.location)",
                                             "zooniverse": "\(cfg.zooniverse.map { "project \($0.project)" } ?? "off")"])
        let hangup = ReloadSignal {
            for e in service.pipeline.filters.reload() { logger.error("\(e)") }
            logger.info("filters reloaded (SIGHUP)")
        }
        defer { hangup.cancel() }
        let progress = ProgressLine(pipeline: service.pipeline)
        if startup.requested {
            logger.info("stopped before the service started (SIGTERM or SIGINT during start-up)")
            return
        }

        if once {
            startup.restoreDefault()  // a one-pass run stops on SIGTERM as any command does
            try await service.runOnce()
            progress.finish()
            service.summary().forEach { print($0) }
            let dead = service.deadLetters.count
            if dead > 0 {
                printError("citsci run: \(dead) message\(dead == 1 ? "" : "s") went to dead letters (\(service.deadLetterDescription)), each with its reason")
                throw ExitCode(1)
            }
            return
        }
        try await service.run(signals: [.sigterm, .sigint], metrics: { registry.emitToString() },
                              extra: [.init(service: progress, successTerminationBehavior: .ignore)])
        progress.finish()
        service.summary().forEach { print($0) }
    }
}

/// The process's log handlers as the configuration says (text or JSON, the level), every message
/// through the redaction step: for `run` and `serve`.
func bootstrapLogging(_ cfg: RunConfiguration) {
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler = cfg.logFormat == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
        handler.logLevel = Logger.Level(rawValue: cfg.logLevel) ?? .info
        return RedactingLogHandler(handler)
    }
}
