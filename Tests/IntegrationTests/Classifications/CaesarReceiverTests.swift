import Basics
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

/// Caesar's external-effect POSTs: parsed, checked, stored once per content, over a real socket.
@Suite struct CaesarReceiverTests {
    func request(_ body: [UInt8], path: String = "/caesar/consensus", headers: [String: String] = ["content-type": "application/json"],
                 method: String = "POST") -> HTTPServer.Request {
        HTTPServer.Request(method: method, path: path, query: [:], headers: headers, body: body)
    }

    @Test(arguments: StoreEngine.available)
    func storesOncePerContentAndRefusesWhatItCannotUse(engine: StoreEngine) throws {
        let changes = Locked<[String]>([])
        let store = try ThrowawayStore(engine)
        let receiver = CaesarReceiver(state: store.state, username: "caesar", password: "pw") { r, v in
            changes.mutate { $0.append("\(r.subjectID)/\(r.reducerKey)/\(v)") }
        }
        let auth = ["content-type": "application/json", "authorization": "Basic " + Data("caesar:pw".utf8).base64EncodedString()]
        let consensus = #"{"most_likely": "Real", "num_votes": 3, "agreement": 0.75}"#
        #expect(receiver.handle(request(CaesarPost.body(subject: 5, data: consensus), headers: auth)).status == 201)
        #expect(receiver.handle(request(CaesarPost.body(subject: 5, data: consensus), headers: auth)).body == Array(#"{"status":"unchanged"}"#.utf8),
                "Caesar repeats the POST while its rule holds")
        let newer = #"{"most_likely": "Real", "num_votes": 4, "agreement": 0.8}"#
        let third = receiver.handle(request(CaesarPost.body(subject: 5, data: newer), headers: auth))
        #expect(third.status == 201 && String(decoding: third.body, as: UTF8.self).contains(#""version":2"#))
        #expect(receiver.handle(request(CaesarPost.body(subject: 5, data: #"{"classifications": 5, "extracts": 5}"#), path: "/caesar/count", headers: auth)).status == 201)
        #expect(changes.value == ["5/consensus/1", "5/consensus/2", "5/count/1"])

        #expect(receiver.handle(request(CaesarPost.body(subject: 5, data: consensus))).status == 401, "no credentials")
        #expect(receiver.handle(request(CaesarPost.body(subject: 5, data: consensus), headers: ["authorization": auth["authorization"]!])).status == 415)
        #expect(receiver.handle(request(Array("{not json".utf8), headers: auth)).status == 400)
        #expect(receiver.handle(request(Array(#"{"data": {}}"#.utf8), headers: auth)).status == 422)
        #expect(receiver.handle(request(CaesarPost.body(subject: 5, data: consensus), path: "/caesar", headers: auth)).status == 422, "no reducer key")
        #expect(receiver.handle(request([], headers: auth, method: "GET")).status == 405)
        #expect(receiver.handle(request([], path: "/other", headers: auth)).status == 404)

        let result = try #require(try receiver.result(workflow: "47", subject: "5"))
        #expect(result.volunteers == 5 && result.classifications == 3)
        #expect(result.tasks.map(\.task) == ["consensus"])
        #expect(result.tasks[0].mostLikely == "Real" && result.tasks[0].numVotes == 4 && result.tasks[0].agreement == 0.8)
        #expect(result.metadata["#alert_id"] == "170")
        #expect(ClassificationResultRecord.Origin(metadata: result.metadata).objectID == "3001")
    }

    @Test func questionCountsBecomeATally() throws {
        let receiver = CaesarReceiver(state: try StateStore(path: ":memory:"))
        let r = receiver.handle(request(CaesarPost.body(subject: 8, data: #"{"0": 3, "1": 1}"#), path: "/caesar/T0_counts"))
        #expect(r.status == 201)
        let t = try #require(try receiver.result(workflow: "47", subject: "8")?.tasks.first)
        #expect(t.counts == ["0": 3, "1": 1] && t.mostLikely == "0" && t.agreement == 0.75 && t.volunteers == 4)
    }

    @Test func servesOverASocket() async throws {
        let receiver = CaesarReceiver(state: try StateStore(path: ":memory:"))
        let server = try await ServedHTTP.start { request in (try? await offload { receiver.handle(request) }) ?? .json(500, [:]) }
        let http = HTTPClient(timeout: 5)
        let url = "http://127.0.0.1:\(server.port)/caesar/consensus"
        // Blocking client calls run off the cooperative pool, where the server's handlers run.
        try await offload {
        let first = try http.request("POST", url, headers: [("Content-Type", "application/json")],
                                     body: CaesarPost.body(subject: 9, data: #"{"most_likely": "Bogus", "num_votes": 2, "agreement": 1.0}"#))
        #expect(first.status == 201, "\(first.text)")
        let again = try http.request("POST", url, headers: [("Content-Type", "application/json")],
                                     body: CaesarPost.body(subject: 9, data: #"{"most_likely": "Bogus", "num_votes": 2, "agreement": 1.0}"#))
        #expect(again.status == 200 && again.text == #"{"status":"unchanged"}"#)
        let big = try http.request("POST", url, headers: [("Content-Type", "application/json")], body: [UInt8](repeating: 32, count: HTTPLimits().maxBodyBytes + 1))
        #expect(big.status == 413)
        // Many at once.
        DispatchQueue.concurrentPerform(iterations: 20) { i in
            _ = try? http.request("POST", url, headers: [("Content-Type", "application/json")],
                                  body: CaesarPost.body(subject: 100 + i, data: #"{"most_likely": "Real", "num_votes": 1, "agreement": 1.0}"#))
        }
        }
        #expect(try receiver.state.database.execute("SELECT COUNT(*) FROM caesar_reductions")[0][0].integer == 21)
        await server.stop()
    }

    @Test func hostileNumbersAndShapesAreRefusedNotTrapped() throws {
        let receiver = CaesarReceiver(state: try StateStore(path: ":memory:"))
        for body in [#"{"subject_id": 1e19, "workflow_id": 1, "reducer_key": "k", "data": {}}"#,
                     #"{"subject_id": -1e300, "workflow_id": 1e308, "reducer_key": "k", "data": {}}"#,
                     #"{"subject_id": 2.5, "workflow_id": "1", "reducer_key": "k", "data": {}}"#] {
            let r = receiver.handle(request(Array(body.utf8), path: "/caesar"))
            #expect(r.status == 422, "\(body): \(r.status)")
        }
        // Counts that no count reducer sends: huge, negative, fractional. Stored, read back without a trap.
        for (i, data) in [#"{"0": 1e300, "1": 1}"#, #"{"0": -5}"#, #"{"0": 2.5}"#, #"{"classifications": 1e300}"#,
                          #"{"most_likely": "x", "num_votes": 1e300}"#, #"{"0": 9007199254740992, "1": 9007199254740992}"#].enumerated() {
            #expect(receiver.handle(request(CaesarPost.body(subject: 900 + i, data: data), path: "/caesar/k")).status == 201)
            _ = try receiver.result(workflow: "47", subject: "\(900 + i)")
        }
        #expect(JSONValue.number(1e19).id == nil && JSONValue.number(42).id == "42" && JSONValue.number(4.5).id == nil)
    }

    @Test func fuzzedBodiesNeverTrap() throws {
        let receiver = CaesarReceiver(state: try StateStore(path: ":memory:"))
        let seeds = [CaesarPost.body(subject: 5, data: #"{"most_likely": "Real", "num_votes": 3, "agreement": 0.75}"#),
                     CaesarPost.body(subject: 6, data: #"{"0": 3, "1": 1}"#),
                     Array(#"{"subject_id": 7, "workflow_id": 47, "reducer_key": "c", "data": {"classifications": 5, "extracts": 5}}"#.utf8)]
        var stored = 0
        Fuzz(seeds: seeds, count: 1500).forEach { _, body in
            let r = receiver.handle(request(body, path: "/caesar/fz"))
            #expect([200, 201, 400, 422].contains(r.status))
            if r.status == 201 { stored += 1 }
        }
        #expect(stored > 0)
        for row in try receiver.state.database.execute("SELECT workflow, subject FROM caesar_reductions") {
            _ = try receiver.result(workflow: row[0].text ?? "", subject: row[1].text ?? "")
        }
    }
}
