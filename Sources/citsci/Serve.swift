import ArgumentParser
import Filters
import Foundation
import Logging
import Service
import ServiceLifecycle
import State
import WebPages
import WebServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The web page over an existing state store and sink, without consuming: for looking.",
        discussion: """
        Serves the same pages as `citsci run` (filters and their playground, subject sets and subjects, results,
        dead letters) from the configuration's state store, sink, filters folder and dead-letter folder, on
        metrics.listen (or --listen; loopback by default). Nothing is consumed, pushed or pulled; saving a filter
        (with CITSCI_WEB_TOKEN) writes the file, which a running service reloads. SIGTERM or Ctrl-C stops it.
        """)

    @Option(help: "Configuration file (YAML).")
    var config: String = "citsci.yaml"

    @Option(help: "host:port to serve on (default: the file's metrics.listen, else 127.0.0.1:9464).")
    var listen: String?

    func run() async throws {
        guard FileManager.default.fileExists(atPath: config) else {
            throw ValidationError("no configuration file \(config): give --config FILE (the one `citsci run` uses)")
        }
        let cfg = try RunConfiguration.load(path: config)
        let text = listen ?? cfg.metricsListen ?? "127.0.0.1:9464"
        guard let (host, port) = RunConfiguration.hostPort(text) else {
            throw ValidationError("--listen must be host:port, e.g. 127.0.0.1:9464 (got '\(text)')")
        }
        let endpoint = HTTPEndpoint(host: host, port: port, insecure: cfg.metricsInsecure)
        do {
            try endpoint.checkExposure(MetricsService.access())
            try endpoint.checkBindable()
        } catch {
            throw ValidationError("cannot serve on \(text): \(error)")
        }
        // Looking must not make an empty store where the service keeps its own.
        if !StateStore.isPostgreSQL(cfg.state), !FileManager.default.fileExists(atPath: cfg.state) {
            throw ValidationError("no state store at \(cfg.state) (the file's state): nothing to look at yet; `citsci run --config \(config)` makes it")
        }
        bootstrapLogging(cfg)
        let logger = Logger(label: "citsci")
        let state = try StateStore(path: cfg.state)
        let filters = FilterSet(folder: cfg.filters)
        for e in filters.reload() { logger.warning("\(e)") }
        let site = Site(cfg, filters: filters, state: state, schemas: try Environment.writerSchemas(cfg), metrics: { "" }, consuming: false)
        let server = MetricsService(endpoint: endpoint, access: MetricsService.access(), logger: logger, render: { "" }, site: site)
        let watcher = FilterWatcher(filters: filters, logger: logger)
        var group = ServiceGroupConfiguration(services: [.init(service: server), .init(service: watcher, successTerminationBehavior: .ignore)],
                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
    }
}

/// Re-reads the filters when their files change, so the pages show what was saved.
struct FilterWatcher: Service {
    let filters: FilterSet
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await filters.watch { errors in
                for e in errors { logger.error("\(e)") }
            }
        }
    }
}
