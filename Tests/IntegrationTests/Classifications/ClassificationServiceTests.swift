import Kafka
import Foundation
import Logging
import Testing
import TestSupport
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

/// The service's classification round: pull from the fake Panoptes, aggregate what changed, publish
/// to Tansu — on each store engine.
@Suite struct ClassificationServiceTests {
    @Test(arguments: StoreEngine.available)
    func aRoundPublishesOnlyTheSubjectsThatGotClassifications(engine: StoreEngine) async throws {
        let fake = try FakePanoptes()
        try fake.addClassifications(ClassificationPullTests.seed(250))  // 20 subjects, 9000 to 9019
        let broker = try TansuBroker()
        try broker.createTopic("results", partitions: 1)
        let store = try ThrowawayStore(engine)
        let state = store.state
        let producer = try KafkaProducer(KafkaProducerConfiguration(brokers: broker.bootstrap))
        defer { producer.close() }
        var options = ResultPublisher.Options(topic: "results", schemaID: 7, rule: RetirementRule(classifications: 1000))
        options.debounce = 0
        let service = ClassificationService(
            pull: ClassificationPull(client: PanoptesClientTests.client(fake), state: state, project: FakePanoptes.slug, workflows: ["47"]),
            rule: options.rule, publisher: ResultPublisher(producer: producer, state: state, options: options),
            interval: .seconds(60), logger: Logger(label: "test"))

        let first = try #require(await service.round())
        #expect(first.published == 20 && first.unchanged == 0, "\(first)")
        #expect(try state.subjectsDue().isEmpty)
        let before = try state.published(workflow: "47", subject: "9003")
        #expect(before?.version == 13, "250 classifications over 20 subjects: 13 for 9000 to 9009, 12 for the others")

        // Nothing new: nothing to work out, nothing sent.
        #expect(try #require(await service.round()) == .init())

        // Ten more, on subjects 9000 to 9009: those ten are worked out again, each from all of its own.
        try fake.addClassifications(ClassificationPullTests.seed(10, firstID: 6000))
        let third = try #require(await service.round())
        #expect(third.published == 10 && third.unchanged == 0, "\(third)")
        #expect(try state.published(workflow: "47", subject: "9003")?.version == 14)
        #expect(try state.published(workflow: "47", subject: "9013")?.version == 12, "untouched")

        // The same results as aggregating every classification stored.
        var all = Aggregator(rule: options.rule)
        for c in try state.classifications() { all.add(c) }
        for r in all.results {
            #expect(try state.published(workflow: "47", subject: r.subjectID)?.version == Int64(r.classifications))
        }
    }
}
