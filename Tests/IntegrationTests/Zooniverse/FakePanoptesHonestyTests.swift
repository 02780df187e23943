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

/// The fake Panoptes held to the real thing. The official client (panoptes-client from PyPI) drives
/// it through every operation citsci's push makes, and nothing it sends may be refused; the fake
/// must refuse what Panoptes' models and controllers refuse (Tests/Fixtures/sdk_against_fake.py).
@Suite struct FakePanoptesHonestyTests {
    /// The client id panoptes-client sends when none is given (its `_endpoint_client_ids['default']`).
    static let sdkClientID = "ce310d45f951de68c4cc8ef46ca38cc0a008f607a2026680295757bfef99f43c"

    @Test func theOfficialClientIsServedAndTheFakeRefusesWhatPanoptesRefuses() throws {
        let fake = try FakePanoptes(clientID: Self.sdkClientID)
        let out = try runCommand("/usr/bin/env", ["python3", Paths.fixtures.appendingPathComponent("sdk_against_fake.py").path,
                                                  fake.endpoint, FakePanoptes.login, FakePanoptes.password, FakePanoptes.project, FakePanoptes.workflow])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
        #expect((doc["failures"] as? [String])?.isEmpty == true, "\(doc["failures"] ?? "")")
        #expect((doc["ok"] as? [String])?.count == 11, "\(doc["ok"] ?? "")")
        let refused = doc["refused"] as? [String: String] ?? [:]
        #expect(Set(refused.keys) == ["set name unique per project", "set on a workflow once", "subject in a set once",
                                      "removing a subject not in the set"], "\(refused)")
    }

    /// citsci's own client on the points the SDK showed: sign-in keeps the cookie sign-in sets (the
    /// fake rotates it, as Rails does), and repeated links, removals and retirements are done, not errors.
    @Test func citsciSignsInAsTheSDKDoesAndRepeatsAreHarmless() throws {
        let fake = try FakePanoptes()
        let client = PanoptesClientTests.client(fake, .password(login: FakePanoptes.login, password: FakePanoptes.password, clientID: FakePanoptes.clientID))
        #expect(try client.me().login == FakePanoptes.login)
        let set = try client.createSubjectSet(name: "repeat", project: FakePanoptes.project)
        try client.link(subjectSet: set.id, toWorkflow: FakePanoptes.workflow)
        try client.link(subjectSet: set.id, toWorkflow: FakePanoptes.workflow)  // read first: nothing sent
        let subject = try client.createSubject(project: FakePanoptes.project, subjectSet: nil, mimeTypes: ["image/png"], metadata: ["#alert_id": "1"])
        try client.link(subjects: [subject.id], toSet: set.id)
        try client.link(subjects: [subject.id], toSet: set.id)  // 400 "already been taken" → done
        try client.unlink(subjects: [subject.id], fromSet: set.id)
        try client.unlink(subjects: [subject.id], fromSet: set.id)  // 404 → read → nothing left to remove
        try client.retire(subjects: [subject.id], workflow: FakePanoptes.workflow)
        try client.retire(subjects: [subject.id], workflow: FakePanoptes.workflow)
        #expect(try client.subjectSet(set.id).workflowIDs == [FakePanoptes.workflow])
        #expect(try client.subjects(inSet: set.id).isEmpty)
        // A lost answer to each of them: the call the client repeats is taken as done.
        try fake.faults([["kind": "drop_after", "method": "POST", "path": "/links/subjects$", "count": 1],
                         ["kind": "drop_after", "method": "DELETE", "path": "/links/subjects/", "count": 1],
                         ["kind": "drop_after", "method": "POST", "path": "/retired_subjects$", "count": 1]])
        try client.link(subjects: [subject.id], toSet: set.id)
        try client.unlink(subjects: [subject.id], fromSet: set.id)
        try client.retire(subjects: [subject.id], workflow: FakePanoptes.workflow)
        #expect(try client.subjects(inSet: set.id).isEmpty)
    }
}
