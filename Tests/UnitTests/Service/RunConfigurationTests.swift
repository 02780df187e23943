import Foundation
import Testing
import TestSupport
import Yams
@testable import Basics
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

@Suite struct RunConfigurationTests {
    @Test func defaultsWorkOnALaptop() throws {
        let c = try RunConfiguration.parse("", path: "empty.yaml")
        #expect(c.source == .simulate(count: 200, seed: 1))
        #expect(c.sink.folder == "citsci-sink" && c.state == "citsci.sqlite" && c.zooniverse == nil && c.metricsListen == nil)
    }

    @Test func theShippedConfigurationsParse() throws {
        let example = try RunConfiguration.load(path: Paths.packageRoot.appendingPathComponent("examples/citsci.yaml").path)
        #expect(example.source == .simulate(count: 300, seed: 1) && example.filters == "examples/filters")
        // The ConfigMap in deploy/kubernetes holds a citsci.yaml: it must be one.
        let manifests = try String(contentsOf: Paths.packageRoot.appendingPathComponent("deploy/kubernetes/citsci.yaml"), encoding: .utf8)
        let docs = try Yams.load_all(yaml: manifests).compactMap { $0 as? [String: Any] }
        let config = try #require(docs.first { ($0["metadata"] as? [String: Any])?["name"] as? String == "citsci-config" })
        let text = try #require((config["data"] as? [String: Any])?["citsci.yaml"] as? String)
        let k8s = try RunConfiguration.parse(text, path: "deploy/kubernetes/citsci.yaml#citsci-config")
        #expect(k8s.source == .kafka(brokers: "kafka:9092", topics: ["alerts"], group: "citsci", from: "committed", properties: [:]))
        #expect(k8s.zooniverse?.project == "owner/slug" && k8s.classifications.publish?.topic == "zooniverse-results")
        #expect(k8s.metricsAddress?.port == 9464 && k8s.deadLetterTopic == "citsci-dead-letters" && k8s.logFormat == "json")
    }

    @Test func everyMistakeSaysWhere() throws {
        func error(_ text: String) -> String {
            do { _ = try RunConfiguration.parse(text, path: "c.yaml"); return "no error" } catch { return error.description }
        }
        #expect(error("sourse: {}\n") == "c.yaml:1:1: unknown key 'sourse' in the file (did you mean 'source'?); known: classifications, dead_letters, filters, log, metrics, pipeline, schemas, sink, source, state, zooniverse")
        #expect(error("source: {folder: a, simulate: 3}\n") == "c.yaml:1:9: source: give one of kafka, folder or simulate, not folder and simulate")
        #expect(error("source:\n  kafka: {brokers: \"h:9092\"}\n") == "c.yaml:2:10: source.kafka needs topics: a list of topic names")
        #expect(error("sink: {max_set_size: 20000}\n").hasPrefix("c.yaml:1:22: 'max_set_size' must be a whole number from 1 to 10000"))
        #expect(error("zooniverse: {workflow: \"1\"}\n") == "c.yaml:1:13: zooniverse needs project (an id or owner/slug)")
        #expect(error("zooniverse: {project: p}\nclassifications: {publish: {brokers: b, topic: t}}\n")
                == "c.yaml:2:28: classifications.publish needs schema_registry (the schema is registered there) or schema_id")
        #expect(error("metrics: {listen: nowhere}\n") == "c.yaml:1:19: metrics.listen must be host:port, e.g. 127.0.0.1:9464")
        #expect(error("source: [1, 2]\n") == "c.yaml:1:9: 'source' must be a mapping of keys")
        #expect(error("source:\n  kafka: {brokers: h, topics: [a], queue: 0}\n").hasPrefix("c.yaml:2:43: 'queue' must be a whole number from 1 to 100000"))
        #expect(error("state: postgresql://citsci:hunter2@db/citsci\n")
                == "c.yaml:1:8: state: the PostgreSQL password is a secret: set PGPASSWORD in the environment (or use ~/.pgpass) instead")
    }

    @Test func theKafkaQueueAndAPostgresStateAreRead() throws {
        let c = try RunConfiguration.parse("""
            source:
              kafka: {brokers: "k:9092", topics: [alerts], queue: 500, queue_mb: 64}
            state: postgresql://citsci@db:5432/citsci
            """, path: "c.yaml")
        #expect(c.queueCapacity == 500 && c.queueBytes == 64 << 20 && c.state == "postgresql://citsci@db:5432/citsci")
        let defaults = try RunConfiguration.parse("source: {kafka: {brokers: k, topics: [a]}}\n", path: "c.yaml")
        #expect(defaults.queueCapacity == 1000 && defaults.queueBytes == 256 << 20, "the defaults")
        #expect {
            try RunConfiguration.parse("source: {kafka: {brokers: k, topics: [a], queue_mb: 0}}\n", path: "c.yaml")
        } throws: { "\($0)" == "c.yaml:1:53: 'queue_mb' must be a whole number from 1 to 65536" }
    }

    @Test func thePipelinesWorkersAndBatchAreRead() throws {
        let c = try RunConfiguration.parse("pipeline: {workers: 3, batch: 64, recent_alerts: 500, recent_alerts_per_second: 7}\n", path: "c.yaml")
        #expect(c.workers == 3 && c.batch == 64 && c.recentAlerts == 500 && c.recentAlertsPerSecond == 7)
        let d = try RunConfiguration.parse("", path: "c.yaml")
        #expect(d.workers == ProcessInfo.processInfo.activeProcessorCount && d.batch == 256, "the defaults: every core, 256 a write")
        #expect(d.recentAlerts == 10_000 && d.recentAlertsPerSecond == 50)
        #expect(throws: RunConfiguration.Error.self) { try RunConfiguration.parse("pipeline: {recent_alerts_per_second: 0}\n", path: "c.yaml") }
        do {
            _ = try RunConfiguration.parse("pipeline: {workers: 0, bacth: 2}\n", path: "c.yaml")
            Issue.record("accepted")
        } catch {
            #expect(error.description.hasPrefix("c.yaml:1:"), "\(error)")
        }
    }
}
