import WebClient
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

/// The Panoptes client against the strict fake: the requests the official client makes, and each fault.
@Suite struct PanoptesClientTests {
    static func client(_ fake: FakePanoptes, _ credentials: PanoptesCredentials = .clientCredentials(clientID: FakePanoptes.clientID, clientSecret: FakePanoptes.clientSecret),
                       timeout: Double = 10) -> PanoptesClient {
        var c = PanoptesClient.Configuration(endpoint: fake.endpoint, credentials: credentials)
        c.retry = RetryPolicy(attempts: 5, baseDelay: 0.05, maxDelay: 5)
        c.requestsPerSecond = 1000
        c.timeout = timeout
        return PanoptesClient(c)
    }

    func count(_ log: [[String: Any]], _ method: String, _ path: String) -> Int {
        log.filter { $0["method"] as? String == method && $0["path"] as? String == path }.count
    }

    @Test func theFakeRefusesWhatPanoptesRefuses() throws {
        let fake = try FakePanoptes()
        let client = Self.client(fake)
        _ = try client.me()
        let http = HTTPClient()
        let token = try #require(try client.bearer() as String?)
        let accept = ("Accept", "application/vnd.api+json; version=1"), auth = ("Authorization", "Bearer " + token)
        #expect(try http.get(fake.endpoint + "/api/me", headers: [auth]).status == 404, "no versioned Accept")
        #expect(try http.get(fake.endpoint + "/api/me", headers: [accept]).status == 401, "no token")
        #expect(try http.get(fake.endpoint + "/api/me", headers: [accept, ("Authorization", "Bearer nope")]).status == 401)
        let body = Array(#"{"subject_sets":{"display_name":"x","links":{"project":"43"}}}"#.utf8)
        #expect(try http.request("POST", fake.endpoint + "/api/subject_sets", headers: [accept, auth], body: body).status == 415)
        let set = try client.createSubjectSet(name: "strict", project: "43")
        let subject = try client.createSubject(project: "43", subjectSet: set.id, mimeTypes: ["image/png"], metadata: [:])
        let put = Array(#"{"subjects":{"metadata":{"a":"b"}}}"#.utf8)
        let json = ("Content-Type", "application/json")
        #expect(try http.request("PUT", fake.endpoint + "/api/subjects/\(subject.id)", headers: [accept, auth, json], body: put).status == 428)
        #expect(try http.request("PUT", fake.endpoint + "/api/subjects/\(subject.id)", headers: [accept, auth, json, ("If-Match", "\"stale\"")], body: put).status == 412)
        let bad = Array(#"{"subjects":{"locations":["image/tiff"],"links":{"project":"43"}}}"#.utf8)
        #expect(try http.request("POST", fake.endpoint + "/api/subjects", headers: [accept, auth, json], body: bad).status == 422)
        // The signed upload: no bearer token, the signed Content-Type, BlockBlob, a real PNG.
        let url = try #require(subject.locations.first?.url)
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]
        #expect(try http.request("PUT", url, headers: [("Content-Type", "image/png")], body: png).status == 400, "no x-ms-blob-type")
        #expect(try http.request("PUT", url, headers: [("Content-Type", "image/jpeg"), ("x-ms-blob-type", "BlockBlob")], body: png).status == 403)
        #expect(try http.request("PUT", url, headers: [("Content-Type", "image/png"), ("x-ms-blob-type", "BlockBlob"), auth], body: png).status == 400)
        #expect(try http.request("PUT", url + "x", headers: [("Content-Type", "image/png"), ("x-ms-blob-type", "BlockBlob")], body: png).status == 403)
        #expect(try http.request("PUT", url, headers: [("Content-Type", "image/png"), ("x-ms-blob-type", "BlockBlob")], body: [1, 2]).status == 400)
        try client.upload(png, mimeType: "image/png", to: url)
        let log = try fake.log()
        #expect(log.filter { ($0["path"] as? String ?? "").hasPrefix("/uploads/") && $0["authorization"] as? Bool == true }.count == 1,
                "only the deliberately wrong upload carried a token")
    }

    @Test func passwordFlowSignsInOnceThenRefreshes() throws {
        let fake = try FakePanoptes()
        try fake.configure(["token_ttl": 121])  // within the two-minute margin a second later
        let clock = Locked(Date())
        var c = Self.client(fake, .password(login: FakePanoptes.login, password: FakePanoptes.password, clientID: FakePanoptes.clientID)).configuration
        c.now = { clock.value }
        let client = PanoptesClient(c)
        #expect(try client.me().login == "pi")
        clock.mutate { $0 += 1.2 }
        #expect(try client.me().subjectLimit == 10_000)
        let log = try fake.log()
        #expect(count(log, "GET", "/users/sign_in") == 1 && count(log, "POST", "/users/sign_in") == 1)
        #expect(count(log, "POST", "/oauth/token") == 2, "a password grant, then a refresh-token grant")

        let wrong = Self.client(fake, .password(login: FakePanoptes.login, password: "wrong", clientID: FakePanoptes.clientID))
        #expect { try wrong.me() } throws: { e in
            let e = e as! PanoptesError
            return e.kind == .authentication && e.description.contains("Invalid login or password.")
        }
        let badToken = Self.client(fake, .token("not-a-token"))
        #expect { try badToken.me() } throws: { "\($0)".contains("cannot be refreshed") }
    }

    @Test func retriesServerErrorsAndHonoursRetryAfter() throws {
        let fake = try FakePanoptes()
        let client = Self.client(fake)
        _ = try client.me()
        try fake.fault("500", method: "GET", path: "^/api/me$", count: 2)
        _ = try client.me()
        #expect(client.retries == 2)
        try fake.fault("429", method: "GET", path: "^/api/me$", count: 1, retryAfter: 1)
        let start = Date()
        _ = try client.me()
        #expect(Date().timeIntervalSince(start) >= 0.9, "waited as Retry-After said")
        #expect(client.retries == 3)
        try fake.fault("503", method: "GET", path: "^/api/me$", count: 10)
        #expect { try client.me() } throws: { ($0 as! PanoptesError).status == 503 }
    }

    @Test func retriesDroppedAndSlowAnswersOnlyWhenSafe() throws {
        let fake = try FakePanoptes()
        let client = Self.client(fake, timeout: 1)
        _ = try client.me()
        try fake.fault("drop", method: "GET", path: "^/api/projects/43$", count: 2)
        #expect(try client.project("43").workflowIDs == ["47", "48"])
        try fake.fault("slow", method: "GET", path: "^/api/projects$", count: 1, delay: 2)
        #expect(try client.project(FakePanoptes.slug).id == "43")
        // Three GETs reached the server for the project; the first drop was on a reused connection,
        // which libcurl itself tries again once on a new one, so the client retried twice in all.
        #expect(try fake.log().filter { $0["path"] as? String == "/api/projects/43" }.count == 3)
        #expect(client.retries == 2)
        // A create whose answer is lost is not sent again: the caller looks for it first.
        try fake.fault("drop_after", method: "POST", path: "^/api/subject_sets$", count: 1)
        #expect { try client.createSubjectSet(name: "lost", project: "43") } throws: { ($0 as! PanoptesError).kind == .transport }
        #expect(try client.subjectSets(project: "43", displayName: "lost").count == 1)
        // ... nor after a 500; but a 429 (nothing done) is.
        try fake.fault("500", method: "POST", path: "^/api/subject_sets$", count: 1)
        #expect { try client.createSubjectSet(name: "refused", project: "43") } throws: { ($0 as! PanoptesError).status == 500 }
        try fake.fault("429", method: "POST", path: "^/api/subject_sets$", count: 1, retryAfter: 0)
        #expect(try client.createSubjectSet(name: "later", project: "43").displayName == "later")
        #expect(try client.subjectSets(project: "43").map(\.displayName).sorted() == ["later", "lost"])
    }

    /// Calls reuse the client's open connection; a create goes out on a connection of its own, so a
    /// connection that dies under it is not silently used to send it again (libcurl re-sends a
    /// request whose reused connection closed before any answer: a second subject).
    @Test func callsReuseConnectionsButACreateIsSentOnce() throws {
        let fake = try FakePanoptes()
        let client = Self.client(fake)
        _ = try client.me()
        for _ in 0..<20 { _ = try client.project("43") }
        let gets = try fake.log().filter { $0["path"] as? String == "/api/projects/43" }
        let connections = Set(gets.compactMap { $0["connection"] as? Int })
        #expect(gets.count == 20 && connections.count == 1, "20 calls on \(connections.count) connections")

        try fake.fault("drop", method: "POST", path: "^/api/subject_sets$", count: 1)
        #expect { try client.createSubjectSet(name: "once", project: "43") } throws: { ($0 as! PanoptesError).kind == .transport }
        let creates = try fake.log().filter { $0["method"] as? String == "POST" && $0["path"] as? String == "/api/subject_sets" }
        #expect(creates.count == 1, "the create reached the server \(creates.count) times")
        #expect(try client.subjectSets(project: "43", displayName: "once").isEmpty)
    }

    @Test func expiredUploadURLsAreRenewedAndLinksGoInHundreds() throws {
        let fake = try FakePanoptes()
        try fake.configure(["url_ttl": 60])
        let client = Self.client(fake)
        let set = try client.createSubjectSet(name: "s", project: "43")
        let subject = try client.createSubject(project: "43", subjectSet: nil, mimeTypes: ["image/png", "application/json"], metadata: ["#alert_id": "1"])
        try fake.configure(["clock_offset": 61])  // the server's clock a minute on: the URLs have expired
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 9]
        #expect { try client.upload(png, mimeType: "image/png", to: subject.locations[0].url) } throws: { ($0 as! PanoptesError).kind == .uploadExpired }
        let renewed = try client.renewLocations(of: subject, mimeTypes: ["image/png", "application/json"])
        #expect(renewed.locations.count == 2 && renewed.locations[0].url != subject.locations[0].url)
        try client.upload(png, mimeType: "image/png", to: renewed.locations[0].url)
        try client.upload(Array(#"{"data":[]}"#.utf8), mimeType: "application/json", to: renewed.locations[1].url)

        var ids: [String] = []
        for i in 0..<250 {
            ids.append(try client.createSubject(project: "43", subjectSet: nil, mimeTypes: ["image/png"], metadata: ["#alert_id": .string("\(i)")]).id)
        }
        try client.link(subjects: ids, toSet: set.id)
        #expect(try client.subjects(inSet: set.id).count == 250, "listed across three pages")
        try client.unlink(subjects: Array(ids.prefix(150)), fromSet: set.id)
        #expect(try client.subjectSet(set.id).memberCount == 100)
        let links = try fake.log().filter { $0["path"] as? String == "/api/subject_sets/\(set.id)/links/subjects" }
        #expect(links.count == 3)
    }
}
