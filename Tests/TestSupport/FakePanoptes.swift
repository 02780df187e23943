import WebClient
import Foundation
import Glibc

/// The strict fake Panoptes server (Tests/Fixtures/fake_panoptes.py) on a free loopback port,
/// killed when the value goes away. Its admin endpoints let a test read what the server holds,
/// change its limits and inject faults.
package final class FakePanoptes: @unchecked Sendable {
    let process = Process()
    package let port: Int
    package var endpoint: String { "http://127.0.0.1:\(port)" }
    package static let clientID = "test-client", clientSecret = "test-secret", login = "pi", password = "hunter2"
    package static let project = "43", workflow = "47", otherWorkflow = "48", slug = "pi/alerts"
    let http = HTTPClient(timeout: 30)

    /// `clientID`: the OAuth client the server knows (the official SDK sends its own built-in id).
    package init(subjectLimit: Int = 10_000, clientID: String = FakePanoptes.clientID) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Paths.fixtures.appendingPathComponent("fake_panoptes.py").path,
                             "--subject-limit", String(subjectLimit), "--client-id", clientID]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = [UInt8]()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard let b = byte.first else { throw FixtureError(message: "fake_panoptes.py exited before printing its port") }
            if b == UInt8(ascii: "\n") { break }
            line.append(b)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)) else {
            throw FixtureError(message: "fake_panoptes.py printed \(String(decoding: line, as: UTF8.self)), not a port")
        }
        self.port = port
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Everything the server holds, as JSON.
    package func state() throws -> [String: Any] {
        let r = try http.get(endpoint + "/__admin/state")
        guard r.status == 200, let o = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any] else {
            throw FixtureError(message: "fake Panoptes state: \(r.status) \(r.text)")
        }
        return o
    }

    /// The requests the server saw: method, path, status.
    package func log() throws -> [[String: Any]] {
        let r = try http.get(endpoint + "/__admin/log")
        return (try JSONSerialization.jsonObject(with: Data(r.body)) as? [[String: Any]]) ?? []
    }

    /// Changes subject_limit, uploaded_subjects_count, token_ttl, url_ttl or completeness.
    package func configure(_ settings: [String: Any]) throws { try post("/__admin/config", settings) }

    /// Makes the next `count` requests matching `method` and the `path` regex fail as `kind`
    /// (500, 502, 503, 429, slow, drop — no answer —, drop_after — done, then no answer).
    package func fault(_ kind: String, method: String, path: String, count: Int = 1, retryAfter: Int? = nil, delay: Double? = nil) throws {
        var f: [String: Any] = ["kind": kind, "method": method, "path": path, "count": count]
        if let retryAfter { f["retry_after"] = retryAfter }
        if let delay { f["delay"] = delay }
        try faults([f])
    }

    /// Several faults at once (each a dictionary as `fault` makes), replacing those set before.
    package func faults(_ list: [[String: Any]]) throws { try post("/__admin/faults", ["faults": list]) }

    /// Subjects by id, each with its metadata, locations and sets.
    package func subjects() throws -> [String: [String: Any]] { try state()["subjects"] as? [String: [String: Any]] ?? [:] }
    package func subjectSets() throws -> [String: [String: Any]] { try state()["subject_sets"] as? [String: [String: Any]] ?? [:] }
    package func blobs() throws -> [String: [String: Any]] { try state()["blobs"] as? [String: [String: Any]] ?? [:] }

    /// Classifications for `GET /api/classifications/project`, in the API's form.
    package func addClassifications(_ list: [[String: Any]]) throws { try post("/__admin/classifications", ["classifications": list]) }

    func post(_ path: String, _ body: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: body)
        let r = try http.request("POST", endpoint + path, headers: [("Content-Type", "application/json")], body: Array(data))
        guard r.status < 300 else { throw FixtureError(message: "fake Panoptes \(path): \(r.status) \(r.text)") }
    }
}
