import Basics
import Kafka
import Foundation
import Testing
import TestSupport
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

/// Aggregates out to Kafka: what a downstream consumer reads with fastavro and the schema file alone.
@Suite struct ResultPublisherTests {
    @Test func embeddedSchemaIsTheFileInSchemas() throws {
        let file = try String(contentsOf: Paths.packageRoot.appendingPathComponent("schemas/classification-result.avsc"), encoding: .utf8)
        #expect(file.trimmingCharacters(in: .whitespacesAndNewlines) == ClassificationResultRecord.schemaJSON.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func result(_ subject: String, votes: [(String, String)], metadata: [String: JSONValue], at t: Double = 1_790_000_000,
                rule: RetirementRule = RetirementRule(classifications: 3)) -> SubjectResult {
        var a = Aggregator(rule: rule)
        for (i, v) in votes.enumerated() {
            a.add(Classification(id: Int64(i + 1) + (Int64(subject) ?? 0) * 100, user: v.0, workflowID: "47", workflowVersion: "12.3",
                                 createdAt: Date(timeIntervalSince1970: t + Double(i)), subjectIDs: [subject],
                                 annotations: [.init(task: "T0", value: .string(v.1))], subjectMetadata: [subject: metadata]))
        }
        return a.results[0]
    }

    @Test(arguments: StoreEngine.available)
    func publishesChangesKeyedByObjectAndAConsumerDecodesThemWithTheSchemaFile(engine: StoreEngine) async throws {
        let broker = try TansuBroker()
        try broker.createTopic("results", partitions: 2)
        try broker.createTopic("lasair", partitions: 1)
        let store = try ThrowawayStore(engine)
        let state = store.state
        let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: broker.bootstrap))
        defer { producer.close() }
        var options = ResultPublisher.Options(topic: "results", schemaID: 7, rule: RetirementRule(classifications: 3))
        options.lasairTopic = "lasair"
        options.projectID = "43"
        options.projectSlug = "pi/alerts"
        let publisher = ResultPublisher(producer: producer, state: state, options: options)
        let rubin: [String: JSONValue] = ["#alert_id": "170", "#survey": "rubin", "#diaSourceId": "170", "#diaObjectId": "3001",
                                          "#object_id": "3001", "#filter": "bright;all", "#filter_version": "bright=ab;all=cd",
                                          "#render": "zscale asinh 300px grey nearest"]
        let ztf: [String: JSONValue] = ["objectId": "ZTF23abjrdem"]  // another project's visible key
        let t0 = Date(timeIntervalSince1970: 1_790_000_100)
        let first = [result("11", votes: [("ann", "Real"), ("bob", "Real")], metadata: rubin),
                     result("12", votes: [("ann", "Bogus")], metadata: ztf)]
        #expect(try await publisher.publish(first, now: t0) == .init(published: 2, retired: 0, unchanged: 0, debounced: 0))
        #expect(try await publisher.publish(first, now: t0.addingTimeInterval(1)) == .init(published: 0, retired: 0, unchanged: 2, debounced: 0))
        // A new vote within the debounce interval waits; one that retires the subject goes at once.
        let more = [result("11", votes: [("ann", "Real"), ("bob", "Real"), ("cat", "Bogus")], metadata: rubin),
                    result("12", votes: [("ann", "Bogus"), ("dan", "Bogus")], metadata: ztf)]
        #expect(more[0].retired && !more[1].retired)
        #expect(try await publisher.publish(more, now: t0.addingTimeInterval(2)) == .init(published: 1, retired: 1, unchanged: 0, debounced: 1, later: [more[1].key]))
        #expect(try await publisher.publish(more, now: t0.addingTimeInterval(400)) == .init(published: 1, retired: 0, unchanged: 1, debounced: 0))
        try producer.flush()

        let out = try runCommand("/usr/bin/env", ["python3", Paths.fixtures.appendingPathComponent("read_results.py").path,
                                                  "--brokers", broker.bootstrap, "--topic", "results", "--count", "4",
                                                  "--schema", Paths.packageRoot.appendingPathComponent("schemas/classification-result.avsc").path])
        let messages = try out.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(messages.count == 4)
        #expect(messages.allSatisfy { $0["schema_id"] as? Int == 7 })
        let records = messages.map { $0["record"] as! [String: Any] }
        let retired = try #require(records.first { $0["subjectId"] as? String == "11" && $0["retired"] as? Bool == true })
        #expect(retired["version"] as? Int == 3 && retired["volunteers"] as? Int == 3)
        #expect(retired["alertId"] as? String == "170" && retired["objectId"] as? String == "3001" && retired["survey"] as? String == "rubin")
        #expect(retired["filters"] as? [String] == ["bright", "all"] && retired["render"] as? String == "zscale asinh 300px grey nearest")
        #expect(retired["projectId"] as? String == "43" && retired["workflowVersion"] as? String == "12.3")
        #expect(retired["retirementRule"] as? String == "classifications>=3")
        let task = try #require((retired["tasks"] as? [[String: Any]])?.first)
        #expect(task["mostLikely"] as? String == "Real" && task["numVotes"] as? Int == 2)
        #expect(abs((task["agreement"] as? Double ?? 0) - 2.0 / 3.0) < 1e-12)
        let answers = try #require(task["answers"] as? [[String: Any]])
        #expect(answers.map { $0["answer"] as? String } == ["Real", "Bogus"])
        #expect(messages.filter { $0["key"] as? String == "3001" }.count == 2, "keyed by the object id")
        #expect(messages.filter { $0["key"] as? String == "ZTF23abjrdem" }.count == 2)
        #expect(records.first { $0["subjectId"] as? String == "12" }?["survey"] as? String == "ztf")

        let lasair = try await collect(try testConsumer(broker, group: "lasair-check", topics: ["lasair"], start: .earliest), count: 4, timeout: .seconds(30))
        let last = try #require(lasair.last)
        let annotation = try #require(try JSONSerialization.jsonObject(with: Data(last.value)) as? [String: Any])
        #expect(Set(annotation.keys) == ["objectId", "topic", "classification", "version", "explanation", "classdict", "url"])
        #expect(annotation["topic"] as? String == "lasair")
        #expect((annotation["url"] as? String)?.hasPrefix("https://www.zooniverse.org/projects/pi/alerts/talk/subjects/") == true)
        #expect(annotation["classification"] as? String != nil && (annotation["classdict"] as? [String: Any])?["volunteers"] != nil)
    }
}
