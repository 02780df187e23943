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

/// Pushing subject-set folders: the data-rights gates both ways, faults mid-push, provenance links.
@Suite struct ZooniversePushTests {
    struct Fixture {
        let fake: FakePanoptes
        let dir: String
        let store: ThrowawayStore
        var state: StateStore { store.state }
        init(subjectLimit: Int = 10_000, engine: StoreEngine = .sqlite) throws {
            fake = try FakePanoptes(subjectLimit: subjectLimit)
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-pushlib-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            store = try ThrowawayStore(engine)
        }
        func push(approved: Bool = false, concurrency: Int = 4, configure: (inout ZooniversePush.Options) -> Void = { _ in }) throws -> ZooniversePush.Report {
            var options = ZooniversePush.Options(project: "43")
            options.approved = approved
            options.concurrency = concurrency
            configure(&options)
            return try ZooniversePush(client: PanoptesClientTests.client(fake), state: state, options: options)
                .push(folders: SubjectSetFolder.list(dir + "/sink"))
        }
        func remove() { try? FileManager.default.removeItem(atPath: dir) }

        /// #alert_id → the sets (by name) each server subject is in.
        func remote() throws -> [String: [[String]]] {
            let names = try fake.subjectSets().mapValues { $0["display_name"] as? String ?? "" }
            var out: [String: [[String]]] = [:]
            for s in try fake.subjects().values {
                let id = (s["metadata"] as? [String: Any])?["#alert_id"] as? String ?? "?"
                out[id, default: []].append(((s["links"] as? [String: Any])?["subject_sets"] as? [String] ?? []).map { names[$0] ?? $0 })
            }
            return out
        }
    }

    @Test func unapprovedProjectHoldsAHundredThenApprovalReleasesTheRest() throws {
        let f = try Fixture()
        defer { f.remove() }
        try SyntheticSubjects.make(root: f.dir + "/sink", sets: 1, perSet: 130)
        let first = try f.push()
        #expect(first.pushed == 100)
        #expect(first.held.count == 1 && first.held.first?.value == 30)
        #expect(first.held.first?.key.hasPrefix("data rights: the project is not approved yet, so it may hold 100 subjects in all") == true)
        #expect(try f.fake.subjects().count == 100, "nothing beyond the gate reached Zooniverse")
        let again = try f.push()
        #expect(again.pushed == 0 && again.held.first?.value == 30, "the gate still holds; the held are kept, not dropped")
        let approved = try f.push(approved: true)
        #expect(approved.pushed == 30 && approved.held.isEmpty)
        let remote = try f.remote()
        #expect(remote.count == 130 && remote.values.allSatisfy { $0 == [["synthetic-1"]] })
    }

    @Test func approvedProjectTakesAtMostABatchPerSet() throws {
        let f = try Fixture()
        defer { f.remove() }
        try SyntheticSubjects.make(root: f.dir + "/sink", sets: 1, perSet: 15)
        let r = try f.push(approved: true) { $0.batchLimit = 10 }  // 10,000 in production; 10 keeps the test small
        #expect(r.pushed == 10)
        #expect(r.held == ["data rights: 10 subjects per batch reached in synthetic-1": 5])
    }

    @Test func accountSubjectLimitIsCheckedBeforePushing() throws {
        let f = try Fixture(subjectLimit: 20)
        defer { f.remove() }
        try SyntheticSubjects.make(root: f.dir + "/sink", sets: 1, perSet: 30)
        let r = try f.push(approved: true)
        #expect(r.pushed == 20)
        #expect(r.failed.isEmpty, "refused up front, not failed half-way")
        #expect(r.held.first?.key == "Zooniverse account limit: pi has uploaded 0 of 20 subjects (ask Zooniverse to raise subject_limit)")
        #expect(try f.fake.log().filter { $0["path"] as? String == "/api/subjects" && $0["method"] as? String == "POST" }.count == 20)
        try f.fake.configure(["subject_limit": 100])
        #expect(try f.push(approved: true).pushed == 10)
        // The limit reached behind citsci's back (another uploader, after /api/me answered): Panoptes's
        // 403 holds the subjects, with its reason, instead of failing them.
        try SyntheticSubjects.make(root: f.dir + "/sink2", sets: 1, perSet: 5, firstID: 5_000_000, filter: "other")
        try f.fake.fault("slow", method: "POST", path: "^/api/subjects$", count: 1, delay: 1.5)
        let background = DispatchQueue(label: "other uploader")
        background.asyncAfter(deadline: .now() + 0.7) { try? f.fake.configure(["uploaded_subjects_count": 100]) }
        var options = ZooniversePush.Options(project: "43")
        options.approved = true
        options.concurrency = 1
        let report = try ZooniversePush(client: PanoptesClientTests.client(f.fake), state: f.state, options: options)
            .push(folders: SubjectSetFolder.list(f.dir + "/sink2"))
        #expect(report.pushed == 0 && report.failed.isEmpty, "\(report)")
        #expect(report.held == ["Zooniverse account limit: User has uploaded 100 subjects of 100 maximum": 5], "\(report)")
    }

    @Test func noNewSetWhileThreeAreIncompleteThenOneCompletes() throws {
        let f = try Fixture()
        defer { f.remove() }
        try SyntheticSubjects.make(root: f.dir + "/sink", sets: 4, perSet: 5)
        let first = try f.push(approved: true)
        #expect(first.pushed == 15)
        #expect(first.setsCreated.sorted() == ["citsci-staging", "synthetic-1", "synthetic-2", "synthetic-3"])
        #expect(first.held == ["3 subject sets are still incomplete (synthetic-1, synthetic-2, synthetic-3): no new set until one completes": 5])
        // Volunteers finish synthetic-1 on workflow 47.
        let id = try #require(try f.fake.subjectSets().first { $0.value["display_name"] as? String == "synthetic-1" }?.key)
        try f.fake.configure(["completeness": [id: ["47": 1.0]]])
        let second = try f.push(approved: true)
        #expect(second.pushed == 5 && second.held.isEmpty && second.setsCreated == ["synthetic-4"])
        let wf = try f.fake.state()["workflows"] as? [String: [String: Any]]
        #expect(((wf?["47"]?["links"] as? [String: Any])?["subject_sets"] as? [String])?.count == 4, "each set linked to its workflow")
    }

    @Test(arguments: StoreEngine.available)
    func faultsMidPushLeaveEverySubjectExactlyOnce(engine: StoreEngine) throws {
        let f = try Fixture(engine: engine)
        defer { f.remove() }
        let ids = try SyntheticSubjects.make(root: f.dir + "/sink", sets: 2, perSet: 40)
        try f.fake.configure(["url_ttl": 1])
        try f.fake.faults([
            ["kind": "drop_after", "method": "POST", "path": "^/api/subjects$", "count": 3],
            ["kind": "500", "method": "POST", "path": "^/api/subjects$", "count": 2],
            ["kind": "slow", "method": "PUT", "path": "^/uploads/", "count": 2, "delay": 1.3],  // its URL expires meanwhile
            ["kind": "429", "method": "PUT", "path": "^/uploads/", "count": 3, "retry_after": 0],
            ["kind": "503", "method": "POST", "path": "/links/subjects$", "count": 2],
            ["kind": "drop", "method": "GET", "path": "^/api/subjects$", "count": 1],
        ])
        let r = try f.push(approved: true)
        #expect(r.failed.isEmpty, "\(r.failed)")
        #expect(r.pushed == 80)
        #expect(r.retries > 0)
        let remote = try f.remote()
        #expect(Set(remote.keys) == Set(ids))
        #expect(remote.values.allSatisfy { $0.count == 1 }, "\(remote.filter { $0.value.count != 1 })")
        #expect(remote.values.allSatisfy { $0[0].count == 1 && $0[0][0].hasPrefix("synthetic-") }, "in its set, out of staging")
        let blobs = try f.fake.blobs()
        let missing = blobs.values.filter { $0["sha256"] == nil }.count
        #expect(blobs.count == 240 && missing == 0)
    }

    @Test func laterSubjectsOfAnObjectNameTheEarlierOnes() throws {
        let f = try Fixture()
        defer { f.remove() }
        try SyntheticSubjects.make(root: f.dir + "/sink", sets: 1, perSet: 6)
        _ = try f.push(approved: true, concurrency: 1)
        let subjects = try f.fake.subjects()
        let byAlert = Dictionary(uniqueKeysWithValues: subjects.map { (($0.value["metadata"] as! [String: Any])["#alert_id"] as! String, $0) })
        // Alerts 1000002 and 1000005 share their objects with 1000001 and 1000004.
        let meta = try #require(byAlert["1000002"]?.value["metadata"] as? [String: Any])
        #expect(meta["#previous_subject_ids"] as? String == byAlert["1000001"]?.key)
        #expect((byAlert["1000001"]?.value["metadata"] as? [String: Any])?["#previous_subject_ids"] == nil)
        #expect((byAlert["1000005"]?.value["metadata"] as? [String: Any])?["#previous_subject_ids"] as? String == byAlert["1000004"]?.key)
    }

    /// A push's cost must not grow with the project's history: a closed set's manifest is read once.
    @Test(arguments: StoreEngine.available)
    func aClosedSetsManifestIsReadOnceAnOpenOnesEveryPush(engine: StoreEngine) throws {
        let f = try Fixture(engine: engine)
        defer { f.remove() }
        let sink = f.dir + "/sink"
        try SyntheticSubjects.make(root: sink, sets: 2, perSet: 5)
        // The second set reopened: a set still filling, as `citsci push --include-open` sees it.
        var open = try SubjectSetFolder.read(folder: sink + "/synthetic-2")
        open.closedAt = nil
        try open.write(folder: sink + "/synthetic-2")
        let first = try f.push(approved: true)
        #expect(first.imported == 10 && first.pushed == 10)
        let recorded = try f.state.database.execute("SELECT folder, workflow, subjects FROM imported_manifests")
        #expect(recorded.map { [$0[0].text ?? "", $0[1].text ?? "", String($0[2].integer ?? -1)] }
                == [[sink + "/synthetic-1", FakePanoptes.workflow, "5"]], "only the closed set is recorded as read")

        // Spoil both manifests: the closed one is not read again, the open one is (and its fault is told).
        try Data("not a manifest\n".utf8).write(to: URL(fileURLWithPath: sink + "/synthetic-1/manifest.csv"))
        let manifest2 = try Data(contentsOf: URL(fileURLWithPath: sink + "/synthetic-2/manifest.csv"))
        try Data("not a manifest\n".utf8).write(to: URL(fileURLWithPath: sink + "/synthetic-2/manifest.csv"))
        #expect(throws: CSVFileError.self) { try f.push(approved: true) }
        try manifest2.write(to: URL(fileURLWithPath: sink + "/synthetic-2/manifest.csv"))
        let again = try f.push(approved: true)
        #expect(again.imported == 0 && again.pushed == 0 && again.alreadyDone == 10)
        #expect(try f.fake.subjects().count == 10)
    }

    /// Every call the push makes, carried out by the server with its answer lost; the push stops
    /// there (as a process killed at that moment would), and a new one (new client, same store)
    /// finishes the work: every subject exactly once, in its set, out of staging, nothing stuck.
    @Test(arguments: [("POST", "^/api/subject_sets$"), ("POST", "^/api/workflows/\\d+/links/subject_sets$"),
                      ("POST", "^/api/subjects$"), ("PUT", "^/uploads/"), ("POST", "^/api/subject_sets/\\d+/links/subjects$"),
                      ("DELETE", "^/api/subject_sets/\\d+/links/subjects/")])
    func aLostAnswerAtAnyCallIsFinishedByTheNextPush(method: String, path: String) throws {
        let f = try Fixture()
        defer { f.remove() }
        let ids = try SyntheticSubjects.make(root: f.dir + "/sink", sets: 2, perSet: 5)
        try f.fake.faults([["kind": "drop_after", "method": method, "path": path, "count": 1]])
        _ = try? f.push(approved: true, concurrency: 1) { $0.rounds = 1 }
        let fired = try f.fake.log().contains { ($0["method"] as? String) == method && ($0["path"] as? String)?.range(of: path, options: .regularExpression) != nil }
        #expect(fired, "the push never made that call")
        let r = try f.push(approved: true)
        #expect(r.failed.isEmpty, "\(r.failed)")
        let remote = try f.remote()
        #expect(Set(remote.keys) == Set(ids))
        #expect(remote.values.allSatisfy { $0.count == 1 && $0[0].count == 1 && $0[0][0].hasPrefix("synthetic-") },
                "each subject once, in its set and out of staging: \(remote.filter { $0.value.count != 1 || $0.value[0].count != 1 })")
        let states = try ZooniversePush.summary(state: f.state, project: FakePanoptes.project).states
        #expect(states == ["linked": 10], "\(states)")
        let sets = try f.fake.subjectSets().values.filter { ($0["display_name"] as? String)?.hasPrefix("synthetic-") == true }
        #expect(sets.count == 2 && sets.allSatisfy { ($0["links"] as? [String: Any])?["workflows"] as? [String] == [FakePanoptes.workflow] })
    }

    /// A state store lost (or a second one started) against a project that holds citsci's sets: they
    /// are adopted by name, and no subject Zooniverse already holds for the same alert and workflow is
    /// made again, whether it reached its set or was left in staging.
    @Test func aNewStateStoreAdoptsTheSetsAndRemakesNoSubject() throws {
        let f = try Fixture()
        defer { f.remove() }
        let ids = try SyntheticSubjects.make(root: f.dir + "/sink", sets: 2, perSet: 5)
        let first = try f.push(approved: true)
        #expect(first.pushed == 10)
        let created = try f.fake.log().filter { ($0["method"] as? String) == "POST" && ($0["path"] as? String) == "/api/subjects" }.count
        let fresh = try ThrowawayStore(.sqlite)
        var options = ZooniversePush.Options(project: FakePanoptes.project)
        options.approved = true
        let again = try ZooniversePush(client: PanoptesClientTests.client(f.fake), state: fresh.state, options: options)
            .push(folders: SubjectSetFolder.list(f.dir + "/sink"))
        #expect(Set(again.setsAdopted) == ["citsci-staging", "synthetic-1", "synthetic-2"], "\(again)")
        #expect(again.setsCreated.isEmpty && again.failed.isEmpty, "\(again)")
        let createdAfter = try f.fake.log().filter { ($0["method"] as? String) == "POST" && ($0["path"] as? String) == "/api/subjects" }.count
        #expect(createdAfter == created, "subjects made again: \(createdAfter - created)")
        #expect(try ZooniversePush.summary(state: fresh.state, project: FakePanoptes.project).states == ["linked": 10])
        #expect(Set(try f.remote().keys) == Set(ids))
    }

    @Test func subjectsLeftInStagingByALostStoreAreFoundNotRemade() throws {
        let f = try Fixture()
        defer { f.remove() }
        let ids = try SyntheticSubjects.make(root: f.dir + "/sink", sets: 1, perSet: 6)
        try f.fake.faults([["kind": "500", "method": "POST", "path": "^/api/subject_sets/\\d+/links/subjects$", "count": 1000]])
        #expect(throws: PanoptesError.self) { try f.push(approved: true) { $0.rounds = 1 } }
        #expect(try f.fake.subjects().count == 6, "made and uploaded, stranded in staging")
        try f.fake.faults([])
        let fresh = try ThrowawayStore(.sqlite)
        var options = ZooniversePush.Options(project: FakePanoptes.project)
        options.approved = true
        let again = try ZooniversePush(client: PanoptesClientTests.client(f.fake), state: fresh.state, options: options)
            .push(folders: SubjectSetFolder.list(f.dir + "/sink"))
        #expect(again.failed.isEmpty && again.pushed == 6, "\(again)")
        #expect(try f.fake.subjects().count == 6, "no subject made twice")
        let remote = try f.remote()
        #expect(Set(remote.keys) == Set(ids) && remote.values.allSatisfy { $0 == [["synthetic-1"]] }, "\(remote)")
    }
}
