import Foundation
import Testing
import TestSupport
@testable import CitSciCore

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
    }
}
