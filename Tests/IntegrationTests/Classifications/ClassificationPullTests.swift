import Foundation
import Testing
import TestSupport
@testable import Basics
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

/// Pulling classifications from the fake Panoptes: labels, pages, and resuming after a stop.
@Suite struct ClassificationPullTests {
    /// `n` classifications of workflow 47 in the API's form (answer indices), over 20 subjects and 30
    /// volunteers (some anonymous), each volunteer's later ones changing their answer.
    static func seed(_ n: Int, firstID: Int = 5000) -> [[String: Any]] {
        (0..<n).map { i in
            let user: Any = i % 7 == 0 ? NSNull() : String(100 + i % 30)
            return ["id": firstID + i, "created_at": String(format: "2026-11-20T%02d:%02d:%02d.000Z", (i / 3600) % 24, (i / 60) % 60, i % 60),
                    "annotations": [["task": "T0", "value": (i / 30) % 2 == 0 ? i % 2 : (i + 1) % 2], ["task": "T1", "value": [0, i % 3]]],
                    "metadata": ["workflow_version": "12.3"],
                    "links": ["project": "43", "workflow": "47", "user": user, "subjects": [String(9000 + i % 20)]]] as [String: Any]
        }
    }

    @Test(arguments: StoreEngine.available)
    func pullsInPagesResumesAfterAStopAndNeverCountsTwice(engine: StoreEngine) throws {
        let fake = try FakePanoptes()
        try fake.addClassifications(Self.seed(250))
        let store = try ThrowawayStore(engine)
        let state = store.state
        let client = PanoptesClientTests.client(fake)
        var pull = ClassificationPull(client: client, state: state, project: FakePanoptes.slug, workflows: ["47"])
        pull.maxPages = 1
        #expect(try pull.run() == .init(received: 100, new: 100, pages: 1, skipped: 0))
        #expect(try state.pullCursor(project: "43", workflow: "47") == 5099)
        // The server fails mid-pull: what was stored stays, the position with it.
        pull.maxPages = nil
        try fake.fault("500", method: "GET", path: "^/api/classifications/project$", count: 100)
        #expect(throws: PanoptesError.self) { try pull.run() }
        #expect(try state.classifications().count == 100)
        try fake.faults([["kind": "drop_after", "method": "GET", "path": "^/api/classifications/project$", "count": 1]])
        let rest = try pull.run()
        #expect(rest.new == 150 && rest.received == 150, "\(rest)")
        #expect(try pull.run().new == 0)
        let stored = try state.classifications()
        #expect(stored.map(\.id) == (5000..<5250).map(Int64.init))
        // Labels, not indices; the volunteer's id; anonymous ones alone.
        let first = try #require(stored.first)
        #expect(first.annotations[0].value == "Real" && first.annotations[1].value == ["Point source", "Point source"])
        #expect(first.userID == nil && first.volunteer == "anonymous-5000")
        #expect(stored[1].volunteer == "user:101" && stored[1].workflowVersion == "12.3")

        // The aggregate of the pulled classifications is that of the classifications themselves.
        var direct = Aggregator()
        let workflow = try client.workflow("47")
        for raw in Self.seed(250) {
            let json = try JSONValue.decode(Array(try JSONSerialization.data(withJSONObject: raw)))
            direct.add(try #require(Classification(api: json, workflow: workflow)))
        }
        var pulled = Aggregator()
        for c in stored { pulled.add(c) }
        #expect(pulled.results == direct.results)
        #expect(pulled.results.count == 20)
        #expect(pulled.results.allSatisfy { $0.tasks.map(\.kind) == [.question, .multiple] })

        // Every subject is due once; worked out from its own classifications, each result is the
        // whole pull's, and once recorded nothing is due until more come.
        let due = try state.subjectsDue()
        #expect(due == pulled.keys)
        var fromDue = Aggregator()
        for c in try state.classifications(of: due) { fromDue.add(c) }
        #expect(fromDue.results == pulled.results)
        try state.aggregated(fromDue.results.map { ($0.key, $0.classifications) })
        #expect(try state.subjectsDue().isEmpty)
    }

    static func classification(_ id: Int64, subjects: [String], workflow: String = "47") -> Classification {
        Classification(id: id, user: "user:\(id % 5)", workflowID: workflow, createdAt: Date(timeIntervalSince1970: 1_790_000_000 + Double(id)),
                       subjectIDs: subjects, annotations: [.init(task: "T0", value: "Real")])
    }

    /// A round reads only the subjects with new classifications; one stored while the round works
    /// (a pull beside it) keeps its subject due.
    @Test(arguments: StoreEngine.available)
    func subjectsWithNewClassificationsAreDueUntilTheirResultCountsThem(engine: StoreEngine) throws {
        let store = try ThrowawayStore(engine)
        let state = store.state
        let key = { (s: String) in Aggregator.Key(workflowID: "47", subjectID: s) }
        #expect(try state.store([Self.classification(1, subjects: ["a"]), Self.classification(2, subjects: ["a", "b"]),
                                 Self.classification(3, subjects: ["c"], workflow: "48")]) == 3)
        #expect(try state.store([Self.classification(2, subjects: ["a", "b"])]) == 0, "stored once")
        #expect(try state.subjectsDue() == [key("a"), key("b"), Aggregator.Key(workflowID: "48", subjectID: "c")])
        #expect(try state.subjectsDue(limit: 1) == [key("a")])
        #expect(try state.classifications(of: [key("a"), key("b")]).map(\.id) == [1, 2], "each once, oldest first")
        #expect(try state.classifications(of: [key("b")]).map(\.id) == [2])

        // a's result counted 2; a third arrives before it is recorded: a stays due, b does not.
        try state.store([Self.classification(4, subjects: ["a"])])
        try state.aggregated([(key("a"), 2), (key("b"), 1)])
        #expect(try state.subjectsDue() == [key("a"), Aggregator.Key(workflowID: "48", subjectID: "c")])
        try state.aggregated([(key("a"), 3), (Aggregator.Key(workflowID: "48", subjectID: "c"), 1)])
        #expect(try state.subjectsDue().isEmpty)
        try state.store([Self.classification(5, subjects: ["b"])])
        #expect(try state.subjectsDue() == [key("b")])
        #expect(try state.classifications(of: [key("b")]).map(\.id) == [2, 5])
    }

    /// A store made before subjects were indexed gets its classifications indexed, all due, when it migrates.
    @Test func anOlderStoreHasItsClassificationsIndexedWhenItMigrates() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-v6-\(UUID().uuidString).sqlite").path
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        do {
            let state = try StateStore(path: path)
            try state.store([Self.classification(1, subjects: ["a", "b"]), Self.classification(2, subjects: ["b"])])
            // Back to schema 6, as a citsci of before wrote it (migrations 7 to 12 undone).
            try state.database.execute("DROP TABLE classification_subjects; DROP TABLE aggregation_due; ALTER TABLE sink_subjects DROP COLUMN pending; ALTER TABLE zooniverse_sets DROP COLUMN adopted; DROP TABLE recent_alerts; DROP INDEX sink_subjects_previous; CREATE INDEX sink_subjects_object ON sink_subjects (object_id); ALTER TABLE sink_sets DROP COLUMN lane; PRAGMA user_version = 6")
        }
        let state = try StateStore(path: path)
        #expect(try state.schemaVersion == StateStore.migrations.count)
        #expect(try state.subjectsDue().map(\.subjectID) == ["a", "b"])
        #expect(try state.classifications(of: [Aggregator.Key(workflowID: "47", subjectID: "b")]).map(\.id) == [1, 2])
    }
}
