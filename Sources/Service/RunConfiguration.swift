import Filters
import State
import Foundation
import Yams

/// `citsci.yaml`: everything `citsci run` needs, each part with a default that works on a laptop.
/// Secrets never go in the file: Zooniverse credentials come from PANOPTES_*, Kafka's SASL user and
/// password from CITSCI_KAFKA_USERNAME/PASSWORD, the registry's from CITSCI_SCHEMA_REGISTRY_*.
///
///     source:                       # one of: kafka, folder, simulate (default: simulate 200 alerts)
///       kafka: {brokers: "host:9092", topics: [alerts], group: citsci, from: committed,
///               queue: 1000, queue_mb: 256, properties: {security.protocol: SASL_SSL}}
///     schemas: {registry: URL}      # or {folder: PATH}, for Confluent-framed (Rubin) messages
///     filters: filters/
///     state: citsci.sqlite          # or postgresql://user@host/db, shared by several instances
///     sink: {folder: citsci-sink, max_set_size: 1000, max_set_age_hours: 24, light_curve: true}
///     dead_letters: {folder: dead-letters}      # or {topic: NAME} on the source's brokers
///     zooniverse: {project: owner/slug, workflow: "123", approved: false, endpoint: URL,
///                  push_every_minutes: 10, requests_per_second: 10}
///     classifications: {pull_every_minutes: 30, retire_after: 15, agreement: 0.8, minimum: 5,
///                       publish: {brokers: "host:9092", topic: zooniverse-results, schema_id: 1,
///                                 schema_registry: URL, lasair_topic: NAME, debounce_seconds: 300}}
///     metrics: {listen: "127.0.0.1:9464"}
///     pipeline: {workers: 2, batch: 256,   # decode/filter/render tasks (default: the cores);
///                                           # alerts per durable write (group commit)
///                recent_alerts: 10000,      # the window the filter playground runs over (0: none),
///                recent_alerts_per_second: 50}  # a sample of at most this many alerts a second
///     log: {format: text, level: info}
package struct RunConfiguration: Sendable, Equatable {
    package enum Source: Sendable, Equatable {
        case kafka(brokers: String, topics: [String], group: String, from: String, properties: [String: String])
        case folder(String)
        case simulate(count: Int, seed: UInt64)
    }

    package struct Sink: Sendable, Equatable {
        package var folder = "citsci-sink"
        package var maxSetSize = 1000
        package var maxSetAgeHours = 24.0
        package var lightCurve = true
    }

    package struct Zooniverse: Sendable, Equatable {
        package var project: String
        package var workflow: String?
        package var approved = false
        package var endpoint = "https://www.zooniverse.org"
        package var pushEveryMinutes = 10.0
        package var requestsPerSecond = 10.0

        package init(project: String, workflow: String? = nil, endpoint: String = "https://www.zooniverse.org") {
            self.project = project
            self.workflow = workflow
            self.endpoint = endpoint
        }
    }

    package struct Publish: Sendable, Equatable {
        package var brokers: String
        package var topic: String
        package var schemaID: UInt32?
        package var schemaRegistry: String?
        package var lasairTopic: String?
        package var debounceSeconds = 300.0
        package var properties: [String: String] = [:]
    }

    package struct Classifications: Sendable, Equatable {
        package var pullEveryMinutes = 30.0
        package var retireAfter: Int? = 15
        package var agreement: Double?
        package var minimum = 5
        package var publish: Publish?
    }

    package var source: Source = .simulate(count: 200, seed: 1)
    /// Decoded Kafka messages that may wait for the render stage before the consumer pauses. Large
    /// enough that a resume (a fresh fetch, about a second on Tansu) lands before the queue empties:
    /// at 64, pause/resume cycles held a 500 alerts/s stream to 100 alerts/s (docs/PERFORMANCE.md).
    package var queueCapacity = 1000
    /// The same queue's bound in bytes (of the messages it holds), so that its memory does not
    /// depend on the packets' size: 1,000 real LSSTCam packets are ~230 MB, simulated ones ~320 MB.
    package var queueBytes = 256 << 20
    /// Tasks that decode, filter and draw flipbooks in parallel (the cores, by default).
    package var workers = ProcessInfo.processInfo.activeProcessorCount
    /// At most this many messages per batch, made durable together (one synced write for the alerts
    /// that matched nothing, the most of a stream): an alert consumed waits at most for the batch
    /// before its own to be durable and its offset committable. 1: one write per message.
    package var batch = 256
    /// Alerts kept, whole, in the state store's window of recent alerts (the filter playground's
    /// examples on the web page); 0 keeps none.
    package var recentAlerts = 10_000
    /// At most this many alerts a second go into the window (a sample spread over each batch).
    package var recentAlertsPerSecond = 50
    package var schemaRegistry: String?
    package var schemaFolder: String?
    package var filters = "filters"
    package var state = "citsci.sqlite"
    package var sink = Sink()
    package var deadLetterFolder: String? = "dead-letters"
    package var deadLetterTopic: String?
    package var zooniverse: Zooniverse?
    package var classifications = Classifications()
    package var metricsListen: String?
    /// Serve metrics beyond loopback without a token (`metrics: {insecure: true}`).
    package var metricsInsecure = false
    package var logFormat = "text"
    /// Whether the file names a source (a file that names none is a mistake unless `--simulate`).
    package var sourceGiven = false
    /// Where each path-like key stands in the file (`"metrics.listen"` → line and column), for messages.
    package var positions: [String: Position] = [:]

    package struct Position: Sendable, Equatable {
        package let line: Int
        package let column: Int
    }
    package var logLevel = "info"

    package init() {}

    /// A configuration problem: where in the file and why.
    package struct Error: Swift.Error, CustomStringConvertible, Sendable {
        package let path: String
        package let line: Int
        package let column: Int
        package let reason: String
        package var description: String { "\(path):\(line):\(column): \(reason)" }
    }

    package static func load(path: String) throws(Error) -> RunConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Error(path: path, line: 0, column: 0, reason: "cannot read the file")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    package static func parse(_ text: String, path: String) throws(Error) -> RunConfiguration {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { return RunConfiguration() }
            root = node
        } catch {
            throw Error(path: path, line: 1, column: 1, reason: "not valid YAML: \(error)")
        }
        var reader = Reader(path: path)
        return try reader.configuration(root)
    }

    /// Walks the YAML tree with positions for every message.
    struct Reader {
        let path: String

        func fail(_ node: Node?, _ reason: String) -> Error {
            Error(path: path, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, reason: reason)
        }

        func mapping(_ node: Node, _ name: String, keys: Set<String>) throws(Error) -> Node.Mapping {
            guard let m = node.mapping else { throw fail(node, "'\(name)' must be a mapping of keys") }
            for key in m.keys {
                let k = key.string ?? ""
                if !keys.contains(k) {
                    let hint = closest(k, in: keys).map { " (did you mean '\($0)'?)" } ?? ""
                    throw fail(key, "unknown key '\(k)' in \(name)\(hint); known: \(keys.sorted().joined(separator: ", "))")
                }
            }
            return m
        }

        package func position(_ m: Node.Mapping, _ key: String) -> Position? {
            m[key].map { Position(line: $0.mark?.line ?? 1, column: $0.mark?.column ?? 1) }
        }

        func string(_ m: Node.Mapping, _ key: String) throws(Error) -> String? {
            guard let n = m[key] else { return nil }
            guard n.scalar != nil, let s = n.string else { throw fail(n, "'\(key)' must be text") }
            return s
        }

        func number(_ m: Node.Mapping, _ key: String, _ range: ClosedRange<Double>) throws(Error) -> Double? {
            guard let n = m[key] else { return nil }
            guard let d = n.float ?? n.int.map(Double.init), range.contains(d) else {
                throw fail(n, "'\(key)' must be a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return d
        }

        func int(_ m: Node.Mapping, _ key: String, _ range: ClosedRange<Int>) throws(Error) -> Int? {
            guard let n = m[key] else { return nil }
            guard let i = n.int, range.contains(i) else { throw fail(n, "'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound)") }
            return i
        }

        func bool(_ m: Node.Mapping, _ key: String) throws(Error) -> Bool? {
            guard let n = m[key] else { return nil }
            guard let b = n.bool else { throw fail(n, "'\(key)' must be true or false") }
            return b
        }

        func properties(_ m: Node.Mapping, _ key: String) throws(Error) -> [String: String] {
            guard let n = m[key] else { return [:] }
            guard let map = n.mapping else { throw fail(n, "'\(key)' must map librdkafka property names to values") }
            var out: [String: String] = [:]
            for (k, v) in map {
                guard let name = k.string, let value = v.string else { throw fail(v, "'\(key)': each value must be text") }
                if name.hasPrefix("sasl.password") || name.hasPrefix("sasl.username") || name.contains("secret") {
                    throw fail(k, "'\(name)' is a secret: set CITSCI_KAFKA_USERNAME / CITSCI_KAFKA_PASSWORD in the environment instead")
                }
                out[name] = value
            }
            return out
        }

        mutating func configuration(_ root: Node) throws(Error) -> RunConfiguration {
            var c = RunConfiguration()
            let top = try mapping(root, "the file", keys: ["source", "schemas", "filters", "state", "sink", "dead_letters", "zooniverse",
                                                          "classifications", "metrics", "pipeline", "log"])
            if let n = top["source"] {
                let m = try mapping(n, "source", keys: ["kafka", "folder", "simulate", "seed"])
                c.sourceGiven = true
                c.positions["source.folder"] = position(m, "folder")
                let given = ["kafka", "folder", "simulate"].filter { m[$0] != nil }
                guard given.count <= 1 else { throw fail(n, "source: give one of kafka, folder or simulate, not \(given.joined(separator: " and "))") }
                if let k = m["kafka"] {
                    let km = try mapping(k, "source.kafka", keys: ["brokers", "topics", "group", "from", "queue", "queue_mb", "properties"])
                    c.queueCapacity = try int(km, "queue", 1...100_000) ?? c.queueCapacity
                    c.queueBytes = try int(km, "queue_mb", 1...65_536).map { $0 << 20 } ?? c.queueBytes
                    guard let brokers = try string(km, "brokers") else { throw fail(k, "source.kafka needs brokers (host:port)") }
                    guard let t = km["topics"], let topics = t.sequence?.compactMap(\.string), !topics.isEmpty else {
                        throw fail(k, "source.kafka needs topics: a list of topic names")
                    }
                    c.source = .kafka(brokers: brokers, topics: topics, group: try string(km, "group") ?? "citsci",
                                      from: try string(km, "from") ?? "committed", properties: try properties(km, "properties"))
                } else if let folder = try string(m, "folder") {
                    c.source = .folder(folder)
                } else if m["simulate"] != nil {
                    c.source = .simulate(count: try int(m, "simulate", 1...10_000_000) ?? 200, seed: UInt64(try int(m, "seed", 0...Int.max) ?? 1))
                }
            }
            if let n = top["schemas"] {
                let m = try mapping(n, "schemas", keys: ["registry", "folder"])
                c.schemaRegistry = try string(m, "registry")
                c.schemaFolder = try string(m, "folder")
                c.positions["schemas.folder"] = position(m, "folder")
            }
            c.positions["filters"] = position(top, "filters")
            c.positions["state"] = position(top, "state")
            c.filters = try string(top, "filters") ?? c.filters
            c.state = try string(top, "state") ?? c.state
            if StateStore.isPostgreSQL(c.state), URLComponents(string: c.state)?.password != nil, let n = top["state"] {
                throw fail(n, "state: the PostgreSQL password is a secret: set PGPASSWORD in the environment (or use ~/.pgpass) instead")
            }
            if let n = top["sink"] {
                let m = try mapping(n, "sink", keys: ["folder", "max_set_size", "max_set_age_hours", "light_curve"])
                c.sink.folder = try string(m, "folder") ?? c.sink.folder
                c.positions["sink.folder"] = position(m, "folder")
                c.sink.maxSetSize = try int(m, "max_set_size", 1...10_000) ?? c.sink.maxSetSize
                c.sink.maxSetAgeHours = try number(m, "max_set_age_hours", 0.01...8760) ?? c.sink.maxSetAgeHours
                c.sink.lightCurve = try bool(m, "light_curve") ?? c.sink.lightCurve
            }
            if let n = top["dead_letters"] {
                let m = try mapping(n, "dead_letters", keys: ["folder", "topic"])
                c.deadLetterTopic = try string(m, "topic")
                c.deadLetterFolder = try string(m, "folder") ?? (c.deadLetterTopic == nil ? c.deadLetterFolder : nil)
                c.positions["dead_letters.folder"] = position(m, "folder")
            }
            if let n = top["zooniverse"] {
                let m = try mapping(n, "zooniverse", keys: ["project", "workflow", "approved", "endpoint", "push_every_minutes", "requests_per_second"])
                guard let project = try string(m, "project") else { throw fail(n, "zooniverse needs project (an id or owner/slug)") }
                var z = Zooniverse(project: project)
                z.workflow = try string(m, "workflow")
                z.approved = try bool(m, "approved") ?? false
                z.endpoint = try string(m, "endpoint") ?? z.endpoint
                z.pushEveryMinutes = try number(m, "push_every_minutes", 0.01...10_080) ?? z.pushEveryMinutes
                z.requestsPerSecond = try number(m, "requests_per_second", 0.1...1000) ?? z.requestsPerSecond
                c.zooniverse = z
            }
            if let n = top["classifications"] {
                let m = try mapping(n, "classifications", keys: ["pull_every_minutes", "retire_after", "agreement", "minimum", "publish"])
                c.classifications.pullEveryMinutes = try number(m, "pull_every_minutes", 0.01...10_080) ?? c.classifications.pullEveryMinutes
                if let r = try int(m, "retire_after", 0...1_000_000) { c.classifications.retireAfter = r == 0 ? nil : r }
                c.classifications.agreement = try number(m, "agreement", 0...1)
                c.classifications.minimum = try int(m, "minimum", 1...1_000_000) ?? c.classifications.minimum
                if let p = m["publish"] {
                    let pm = try mapping(p, "classifications.publish", keys: ["brokers", "topic", "schema_id", "schema_registry", "lasair_topic",
                                                                              "debounce_seconds", "properties"])
                    guard let brokers = try string(pm, "brokers"), let topic = try string(pm, "topic") else {
                        throw fail(p, "classifications.publish needs brokers and topic")
                    }
                    var pub = Publish(brokers: brokers, topic: topic)
                    pub.schemaID = try int(pm, "schema_id", 0...Int(UInt32.max)).map { UInt32($0) }
                    pub.schemaRegistry = try string(pm, "schema_registry")
                    guard pub.schemaID != nil || pub.schemaRegistry != nil else {
                        throw fail(p, "classifications.publish needs schema_registry (the schema is registered there) or schema_id")
                    }
                    pub.lasairTopic = try string(pm, "lasair_topic")
                    pub.debounceSeconds = try number(pm, "debounce_seconds", 0...86_400) ?? pub.debounceSeconds
                    pub.properties = try properties(pm, "properties")
                    c.classifications.publish = pub
                }
            }
            if let n = top["metrics"] {
                let m = try mapping(n, "metrics", keys: ["listen", "insecure"])
                c.metricsListen = try string(m, "listen")
                c.metricsInsecure = try bool(m, "insecure") ?? false
                c.positions["metrics.listen"] = position(m, "listen")
                if let l = c.metricsListen, Self.hostPort(l) == nil { throw fail(m["listen"], "metrics.listen must be host:port, e.g. 127.0.0.1:9464") }
            }
            if let n = top["pipeline"] {
                let m = try mapping(n, "pipeline", keys: ["workers", "batch", "recent_alerts", "recent_alerts_per_second"])
                c.workers = try int(m, "workers", 1...256) ?? c.workers
                c.batch = try int(m, "batch", 1...10_000) ?? c.batch
                c.recentAlerts = try int(m, "recent_alerts", 0...1_000_000) ?? c.recentAlerts
                c.recentAlertsPerSecond = try int(m, "recent_alerts_per_second", 1...100_000) ?? c.recentAlertsPerSecond
            }
            if let n = top["log"] {
                let m = try mapping(n, "log", keys: ["format", "level"])
                c.logFormat = try string(m, "format") ?? c.logFormat
                guard ["text", "json"].contains(c.logFormat) else { throw fail(m["format"], "log.format must be text or json") }
                c.logLevel = try string(m, "level") ?? c.logLevel
                guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(c.logLevel) else {
                    throw fail(m["level"], "log.level must be trace, debug, info, notice, warning, error or critical")
                }
            }
            return c
        }

        static func hostPort(_ s: String) -> (String, Int)? {
            guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else { return nil }
            return (String(s[..<colon]), port)
        }
    }

    /// `host:port` of the metrics listener.
    package var metricsAddress: (host: String, port: Int)? { metricsListen.flatMap(Self.hostPort) }

    /// `host:port` read as metrics.listen is: the last colon splits them, the port 0-65535.
    package static func hostPort(_ text: String) -> (host: String, port: Int)? { Reader.hostPort(text).map { ($0.0, $0.1) } }
}
