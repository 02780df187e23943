import Basics
import Subjects
import Zooniverse
import WebPages
import WebServer
import Classifications
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// Waits `interval` on `clock`, or less if a graceful shutdown begins; false then.
func pause(_ interval: Duration, on clock: any Clock<Duration>) async -> Bool {
    do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) } } catch { return false }
    return !Task.isShuttingDownGracefully
}

/// Every `interval`: closes the folder sink's due sets and pushes the closed ones to Zooniverse,
/// exactly once (see `ZooniversePush`). A failed round is logged and tried again next time; on
/// graceful shutdown, the round in progress finishes first (every step of it is recorded anyway).
/// Where instances share a PostgreSQL store, one pushes at a time; the others skip the round.
package struct PushService: Service {
    package let push: ZooniversePush
    package let sink: FolderSink
    package let interval: Duration
    /// Paces the rounds (a manual clock in tests).
    package let clock: any Clock<Duration>
    package let logger: Logger

    package init(push: ZooniversePush, sink: FolderSink, interval: Duration,
                 clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.clock = clock
        self.push = push
        self.sink = sink
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        repeat { await round() } while await pause(interval, on: clock)
    }

    /// One round: close the due sets, push the closed ones.
    package func round() async {
        let pushed = Counter(label: "citsci_subjects_pushed_total")
        let held = Gauge(label: "citsci_subjects_held")
        let failures = Counter(label: "citsci_push_failures_total")
        let retries = Gauge(label: "citsci_zooniverse_retries")
        defer { Gauge(label: "citsci_last_push_timestamp_seconds").record(Date().timeIntervalSince1970) }
        do {
            let report = try await offload { [push, sink] () throws -> ZooniversePush.Report? in
                try push.state.exclusively("zooniverse-push:" + push.options.project, wait: false) {
                    try sink.closeDue()
                    let folders = SubjectSetFolder.closed(in: sink.root)
                    return folders.isEmpty ? nil : try push.push(folders: folders)
                } ?? nil
            }
            if let report {
                pushed.increment(by: report.pushed)
                held.record(report.held.values.reduce(0, +))
                retries.record(report.retries)
                Gauge(label: "citsci_last_push_success").record(report.failed.isEmpty ? 1 : 0)
                if report.pushed > 0 || !report.failed.isEmpty || !report.held.isEmpty {
                    logger.info("pushed to Zooniverse", metadata: ["report": "\(report)"])
                }
            } else {
                Gauge(label: "citsci_last_push_success").record(1)
            }
        } catch {
            Gauge(label: "citsci_last_push_success").record(0)
            failures.increment()
            logger.error("push failed (tried again in \(interval)): \(error)")
        }
    }
}

/// Every `interval`: pulls new classifications, aggregates, and publishes what changed. Where
/// instances share a PostgreSQL store, one does the round; the others skip it.
package struct ClassificationService: Service {
    package let pull: ClassificationPull
    package let rule: RetirementRule
    package let publisher: ResultPublisher?
    package let interval: Duration
    /// Paces the rounds (a manual clock in tests).
    package let clock: any Clock<Duration>
    package let logger: Logger

    package init(pull: ClassificationPull, rule: RetirementRule, publisher: ResultPublisher?, interval: Duration,
                 clock: any Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.clock = clock
        self.pull = pull
        self.rule = rule
        self.publisher = publisher
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        repeat { await round() } while await pause(interval, on: clock)
    }

    /// One round: pull, aggregate, publish what changed. Returns what was published (nil when the
    /// round failed, another instance holds it, or nothing publishes).
    @discardableResult
    package func round() async -> ResultPublisher.Report? {
        let pulled = Counter(label: "citsci_classifications_pulled_total")
        let published = Counter(label: "citsci_results_published_total")
        let failures = Counter(label: "citsci_classification_failures_total")
        let success = Gauge(label: "citsci_last_pull_success")
        defer { Gauge(label: "citsci_last_pull_timestamp_seconds").record(Date().timeIntervalSince1970) }
        do {
            let outcome = try await pull.state.ifAlone("classifications") { [pull, rule, publisher, logger] () async throws -> ResultPublisher.Report? in
                // Only the subjects with new classifications are worked out again (each from all of
                // its own): a round's cost follows what changed, not the project's history.
                let (report, results) = try await offload {
                    let report = try pull.run()
                    let due = try pull.state.subjectsDue()
                    var aggregator = Aggregator(rule: rule)
                    for c in try pull.state.classifications(of: due) { aggregator.add(c) }
                    return (report, due.compactMap { aggregator.result($0) })
                }
                pulled.increment(by: report.new)
                var done = results
                var publishing: ResultPublisher.Report? = nil
                if let publisher {
                    let r = try await publisher.publish(results)
                    published.increment(by: r.published)
                    if r.published > 0 { logger.info("results published", metadata: ["report": "\(r)"]) }
                    let later = Set(r.later)
                    done.removeAll { later.contains($0.key) }
                    publishing = r
                }
                try pull.state.aggregated(done.map { ($0.key, $0.classifications) })
                if report.new > 0 { logger.info("classifications pulled", metadata: ["report": "\(report)"]) }
                return publishing
            } ?? nil
            success.record(1)
            return outcome
        } catch {
            success.record(0)
            failures.increment()
            logger.error("classification round failed (tried again in \(interval)): \(error)")
            return nil
        }
    }
}

/// `/metrics` (Prometheus text format) and `/healthz`. With a token (CITSCI_METRICS_TOKEN), `/metrics`
/// wants `Authorization: Bearer <token>` (Prometheus: `authorization: {credentials: ...}`); `/healthz`
/// says no more than ok and stays open for probes.
package struct MetricsService: Service {
    package let endpoint: HTTPEndpoint
    package let access: HTTPAccess
    package let render: @Sendable () -> String
    package let healthy: @Sendable () -> Bool
    package let logger: Logger
    /// The web pages, served beside `/metrics` (none: only `/metrics` and `/healthz`).
    package let site: Site?

    package init(endpoint: HTTPEndpoint, access: HTTPAccess, logger: Logger, render: @escaping @Sendable () -> String,
                healthy: @escaping @Sendable () -> Bool = { true }, site: Site? = nil) {
        self.endpoint = endpoint
        self.access = access
        self.render = render
        self.healthy = healthy
        self.logger = logger
        self.site = site
    }

    /// The access the environment sets: a bearer token from CITSCI_METRICS_TOKEN, or none.
    package static func access(environment: [String: String] = ProcessInfo.processInfo.environment) -> HTTPAccess {
        if let token = environment["CITSCI_METRICS_TOKEN"], !token.isEmpty {
            return .bearer(token, openPaths: ["/healthz"], hint: "CITSCI_METRICS_TOKEN")
        }
        return .open(hint: "CITSCI_METRICS_TOKEN")
    }

    package func run() async throws {
        let (render, healthy, logger, endpoint, site) = (self.render, self.healthy, self.logger, self.endpoint, self.site)
        var bounded = endpoint
        bounded.limits.maxBodyBytes = site == nil ? 0 : 64 * 1024  // a filter's expression is the only body taken
        let server = HTTPServer(endpoint: bounded, access: access, logger: logger, onRunning: { port in
            let address = HTTPEndpoint(host: endpoint.host, port: port)
            let pages = site == nil ? "" : ", the web page on http://\(address)/"
            logger.info("metrics on http://\(address)/metrics\(pages)")
        }) { request in
            if let site, let answer = await site.respond(request) { return answer }
            switch (request.method, request.path) {
            case ("GET", "/metrics"), ("HEAD", "/metrics"):
                return .init(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")], body: Array(render().utf8))
            case ("GET", "/healthz"), ("HEAD", "/healthz"):
                return healthy() ? .text(200, "ok\n") : .text(503, "unhealthy\n")
            case (_, "/metrics"), (_, "/healthz"):
                return .json(405, ["error": "GET only"])
            default:
                return .json(404, ["error": site == nil ? "GET /metrics or /healthz" : "GET /, /metrics or /healthz"])
            }
        }
        try await server.run()
    }
}
