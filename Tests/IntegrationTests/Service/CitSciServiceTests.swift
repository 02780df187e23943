import Filters
import Foundation
import Service
import Subjects
import Testing
import TestSupport
import Zooniverse

/// The whole service (`citsci run`'s composition root) in the test process: simulated alerts in,
/// subject sets in a temporary sink and state store, pushed to the fake Panoptes on a manual
/// clock, stopped by cancelling its task.
@Suite struct CitSciServiceTests {
    var filters: String { Paths.packageRoot.appendingPathComponent("examples/filters").path }

    func configuration(_ dir: String, fake: FakePanoptes?) -> RunConfiguration {
        var cfg = RunConfiguration()
        cfg.source = .folder(dir + "/alerts")
        cfg.sourceGiven = true
        cfg.filters = filters
        cfg.state = dir + "/citsci.sqlite"
        cfg.sink.folder = dir + "/sink"
        cfg.sink.maxSetSize = 5
        cfg.deadLetterFolder = dir + "/dead"
        if let fake {
            cfg.zooniverse = .init(project: FakePanoptes.project, workflow: FakePanoptes.workflow, endpoint: fake.endpoint)
            cfg.classifications.pullEveryMinutes = 10
        }
        return cfg
    }

    /// Alerts of the simulator the example filters send to volunteers.
    func expectedSubjects(count: Int, seed: UInt64) throws -> Int {
        let set = FilterSet(folder: filters)
        #expect(set.reload().isEmpty)
        return try AlertSimulator(seed: seed).alerts(0..<count).filter { !set.matches($0).isEmpty }.count
    }

    func closedSubjects(_ sink: String) throws -> Int {
        try SubjectSetFolder.closed(in: sink).reduce(0) { $0 + (try Manifest.read($1 + "/manifest.csv")).count }
    }

    @Test func pushesOnlyWhenItsClockSaysAndStopsWhenCancelled() async throws {
        // The service's tasks and this test's waits run on threads of their own: the suite's
        // blocking tests (kill -9 runs, soaks) can hold the cooperative pool's two threads for minutes.
        // The deadlines are generous for the same reason: with the whole suite on two cores, 60
        // alerts have taken over a minute to pass; alone they take a few seconds.
        try await withTaskExecutorPreference(serviceTestExecutor) {
            let fake = try FakePanoptes()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-service-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try FileManager.default.createDirectory(atPath: dir + "/alerts", withIntermediateDirectories: true)
            let clock = ManualClock()
            let service = try CitSciService(configuration(dir, fake: fake), clock: clock,
                                            environment: ["PANOPTES_CLIENT_ID": FakePanoptes.clientID,
                                                          "PANOPTES_CLIENT_SECRET": FakePanoptes.clientSecret])
            let expected = try expectedSubjects(count: 60, seed: 7)
            #expect(expected > 10)
            let run = Task(executorPreference: serviceTestExecutor) { try await service.run() }

            // The push and the pull run their first round at once (nothing to do yet), then wait on the clock.
            try await waitUntil("the push and the pull waiting on the clock", deadline: .seconds(300)) { clock.sleeping == 2 }
            let simulator = AlertSimulator(seed: 7)
            try Data(simulator.container(try (0..<60).map { try simulator.record($0) }))
                .write(to: URL(fileURLWithPath: dir + "/alerts/night.avro"), options: .atomic)
            try await waitUntil("\(expected) subjects in the sink", deadline: .seconds(300)) { try service.state.sink.subjectCount() == expected }
            let project = FakePanoptes.project
            #expect(try ZooniversePush.summary(state: service.state, project: project).states.isEmpty,
                    "no push while the clock stands still")
            #expect((try fake.state()["subjects"] as? [String: Any])?.isEmpty == true)

            // Ten minutes on: one more round each; the push closes the full sets and pushes them.
            clock.advance(by: .seconds(600))
            #expect(clock.sleeping == 0)
            try await waitUntil("the second rounds to end", deadline: .seconds(300)) { clock.sleeping == 2 }
            let summary = try ZooniversePush.summary(state: service.state, project: project)
            let linked = summary.states["linked"] ?? 0
            let closed = try closedSubjects(dir + "/sink")
            #expect(closed >= 10 && linked + summary.states["held", default: 0] == closed,
                    "every subject of a closed set is on Zooniverse or held with a reason: \(summary), \(closed) in closed sets")
            #expect(linked > 0)
            let onZooniverse = (try fake.state()["subjects"] as? [String: Any])?.count ?? -1
            #expect(onZooniverse == linked, "the fake holds what the store says was linked")

            run.cancel()
            _ = await run.result
            #expect(clock.sleeping == 0, "nothing is left waiting once the service has stopped")
    
        }
    }

    @Test func aFilterThatDoesNotCheckStopsTheStartWithItsReason() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-service-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/filters", withIntermediateDirectories: true)
        try "name: broken\nexpression: diaSource.psfFlux >\n".write(toFile: dir + "/filters/broken.yaml", atomically: true, encoding: .utf8)
        var cfg = configuration(dir, fake: nil)
        cfg.filters = dir + "/filters"
        #expect { try CitSciService(cfg) } throws: { "\($0)".contains("broken.yaml") }
    }
}
