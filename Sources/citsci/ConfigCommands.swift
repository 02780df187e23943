import Filters
import State
import Zooniverse
import Classifications
import Service
import ArgumentParser
import Foundation

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check a citsci.yaml before running it.",
        subcommands: [ConfigCheck.self])
}

struct ConfigCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration: keys, values, the filters it names, folders, and the credentials it needs (never printed).")

    @Argument(help: "Configuration file.")
    var file: String = "citsci.yaml"

    func run() throws {
        let cfg = try RunConfiguration.load(path: file)
        // What `run` checks before it starts (folders, filters, state store, metrics address), then the rest.
        var problems: [String] = cfg.problems(file: file).map(\.withinFile)
        var notes: [String] = []
        if !cfg.sourceGiven { problems.append("names no source: give source: {kafka: ...}, {folder: PATH} or {simulate: N} (or run with --simulate)") }
        switch cfg.source {
        case .kafka(let brokers, let topics, let group, let from, let properties):
            notes.append("source: Kafka \(brokers), topics \(topics.joined(separator: ", ")), group \(group), from \(from)")
            if properties["security.protocol"]?.uppercased().hasPrefix("SASL") == true,
               Environment.get("CITSCI_KAFKA_USERNAME") == nil || Environment.get("CITSCI_KAFKA_PASSWORD") == nil {
                problems.append("source.kafka uses SASL but CITSCI_KAFKA_USERNAME / CITSCI_KAFKA_PASSWORD are not set")
            }
        case .folder(let folder):
            notes.append("source: folder \(folder) (\(FolderIngestService.avroFiles(folder).count) .avro files now)")
        case .simulate(let count, let seed):
            notes.append("source: \(count) simulated Rubin alerts (seed \(seed))")
        }
        if FileManager.default.fileExists(atPath: cfg.filters) {
            let set = FilterSet(folder: cfg.filters)
            _ = set.reload()
            notes.append("filters: \(set.filters.count) in \(cfg.filters): \(set.filters.map(\.name).joined(separator: ", "))")
        }
        notes.append("sink: \(cfg.sink.folder) (sets of at most \(cfg.sink.maxSetSize), closed after \(cfg.sink.maxSetAgeHours) h)")
        if StateStore.isPostgreSQL(cfg.state) {
            do { notes.append("state: \(try StateStore(path: cfg.state).location) (PostgreSQL, reachable, schema up to date)") }
            catch { problems.append("state: \(error)") }
        } else {
            notes.append("state: \(cfg.state)")
        }
        if let z = cfg.zooniverse {
            notes.append("zooniverse: project \(z.project)\(z.workflow.map { ", workflow \($0)" } ?? ""), \(z.approved ? "approved" : "not approved: at most 100 subjects"), push every \(z.pushEveryMinutes) min")
            if let credentials = PanoptesCredentials.fromEnvironment() {
                notes.append("zooniverse credentials: \(credentials) (from the environment)")
            } else {
                problems.append("zooniverse is configured but no credentials are set: PANOPTES_CLIENT_ID and PANOPTES_CLIENT_SECRET (or PANOPTES_USERNAME, PANOPTES_PASSWORD, PANOPTES_CLIENT_ID; or PANOPTES_TOKEN)")
            }
            let c = cfg.classifications
            notes.append("classifications: pulled every \(c.pullEveryMinutes) min, retirement \(RetirementRule(classifications: c.retireAfter, agreement: c.agreement, minimum: c.minimum))"
                         + (c.publish.map { ", published to \($0.brokers) \($0.topic)" } ?? ", not published"))
        } else {
            notes.append("zooniverse: off (subject sets stay in the folder sink; `citsci push` sends them)")
            if cfg.classifications.publish != nil { problems.append("classifications.publish needs zooniverse (classifications come from its project)") }
        }
        if let m = cfg.metricsListen {
            let token = MetricsService.access().isProtected
            notes.append("metrics: http://\(m)/metrics (\(token ? "bearer token from CITSCI_METRICS_TOKEN" : "no token")) and /healthz")
        }
        for n in notes { print("  " + n) }
        if !problems.isEmpty {
            for p in problems { printError("\(file): \(p)") }
            throw ExitCode(1)
        }
        print("\(file): ok")
    }
}
