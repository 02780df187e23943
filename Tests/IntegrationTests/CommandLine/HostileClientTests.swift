import WebClient
import Foundation
import Glibc
import Testing
import TestSupport

/// The running service's and `caesar listen`'s HTTP ports as an attacker meets them: every request
/// is answered or refused, the process stays up, and SIGTERM still stops it.
@Suite(.serialized) struct HostileClientTests {
    static func port(of url: String) throws -> Int {
        try #require(Int(url.split(separator: ":").last?.split(separator: "/").first ?? ""))
    }

    /// Requests that used to stop the service, and worse ones; all on one port.
    static func attack(_ port: Int, credentials: String? = nil) -> [String: Int?] {
        let auth = credentials.map { "Authorization: \($0)\r\n" } ?? ""
        var out: [String: Int?] = [:]
        for (name, request) in [
            ("empty query key", "GET /healthz?= HTTP/1.1\r\nHost: t\r\n\(auth)\r\n"),
            ("empty pair", "GET /metrics?a=1&=&b HTTP/1.1\r\nHost: t\r\n\(auth)\r\n"),
            ("caesar empty key", "POST /caesar?= HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"),
            ("traversal", "GET /../../../../etc/passwd HTTP/1.1\r\nHost: t\r\n\(auth)\r\n"),
            ("encoded traversal", "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: t\r\n\(auth)\r\n"),
            ("huge header", "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "b", count: 200_000))\r\n\r\n"),
            ("huge target", "GET /\(String(repeating: "a", count: 50_000)) HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("lying length", "POST /caesar HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            ("negative length", "POST /caesar HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n"),
            ("big unauthenticated body", "POST /caesar HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 8388608\r\n\r\n"),
            ("garbage", "\u{16}\u{3}\u{1}\u{0}\u{a5}\u{1}\u{0}\u{0}\u{a1}\u{3}\u{3}\r\n\r\n"),
        ] {
            out[name] = RawConnection.request(port: port, request, timeout: 5)
        }
        return out
    }

    @Test func theServiceStaysUpUnderAttack() throws {
        let dir = try CLI.temporaryFolder("hostile-run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            source: {simulate: 5}
            filters: \(CLI.exampleFilters)
            state: \(dir)/citsci.sqlite
            sink: {folder: \(dir)/sink}
            metrics: {listen: "127.0.0.1:0"}
            """.write(toFile: dir + "/citsci.yaml", atomically: true, encoding: .utf8)
        let (p, log) = try CLI.startLogging(["run", "--config", dir + "/citsci.yaml"])
        let url = try CLI.waitFor(#"http://127\.0\.0\.1:\d+/metrics"#, in: log, process: p)
        let port = try Self.port(of: url)

        let answers = Self.attack(port)
        #expect(answers["empty query key"] == 200, "\(answers)")
        #expect(answers["empty pair"] == 200, "\(answers)")
        #expect(answers["traversal"] == 404 && answers["encoded traversal"] == 404, "\(answers)")
        #expect(answers["big unauthenticated body"] == 413, "metrics takes no body: \(answers)")
        for name in ["huge header", "huge target"] { #expect((400...431).contains(answers[name]! ?? 0), "\(name): \(answers)") }
        let traversal = try RawConnection(port: port)
        traversal.send("GET /../../../../etc/passwd HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(!String(decoding: traversal.receive(timeout: 3), as: UTF8.self).contains("root:"))

        let (worst, statuses) = try HostileClients.slowestAnswerUnderSlowloris(port: port, request: "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(statuses.allSatisfy { $0 == 200 } && worst < 1.0, "slowest /healthz \(worst) s with 300 slow clients: \(statuses)")
        #expect(try HostileClients.parallel(port: port, request: "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").filter { $0 != nil }.count == 500)

        #expect(p.isRunning, "the service died: \(log.value.suffix(2000))")
        #expect(RawConnection.request(port: port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n") == 200)
        let status = CLI.terminate(p, timeout: 25)
        #expect(status == 0, "SIGTERM: \(String(describing: status)); \(log.value.suffix(1500))")
    }

    @Test func caesarListenStaysUpUnderAttackAndChecksCredentialsFirst() throws {
        let dir = try CLI.temporaryFolder("hostile-caesar")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["CITSCI_CAESAR_USERNAME": "caesar", "CITSCI_CAESAR_PASSWORD": "Caesar-pw-123"]
        let (p, log) = try CLI.startLogging(["caesar", "listen", "--port", "0", "--state", dir + "/s.sqlite"], environment: env)
        let url = try CLI.waitFor(#"http://127\.0\.0\.1:\d+/caesar"#, in: log, process: p)
        let port = try Self.port(of: url)
        let credentials = "Basic " + Data("caesar:Caesar-pw-123".utf8).base64EncodedString()

        let answers = Self.attack(port)
        #expect(answers["caesar empty key"] == 401, "no credentials, refused before anything else: \(answers)")
        #expect(answers["big unauthenticated body"] == 401, "refused from the head, body unread: \(answers)")
        #expect(answers["lying length"] == 401 || answers["lying length"] == 400, "\(answers)")

        // Authenticated hostile bodies: refused with a reason, never a trap.
        let http = HTTPClient(timeout: 10)
        for body in [#"{"subject_id": 1e19, "workflow_id": 1, "reducer_key": "k", "data": {}}"#,
                     #"{"subject": {"id": 1e308}, "reducible": {"id": -1e300, "type": "Workflow"}, "data": {}}"#,
                     String(repeating: "[", count: 100_000), #"{"data": {"a": "\#(String(repeating: "x", count: 500_000))"}}"#] {
            let r = try http.request("POST", url + "/k?=", headers: [("Content-Type", "application/json"), ("Authorization", credentials)], body: Array(body.utf8))
            #expect((400...422).contains(r.status), "\(body.prefix(60)): \(r.status) \(r.text.prefix(200))")
        }
        let big = try http.request("POST", url + "/k", headers: [("Content-Type", "application/json"), ("Authorization", credentials)],
                                   body: [UInt8](repeating: 32, count: 2 * 1024 * 1024))
        #expect(big.status == 413)

        // Unauthenticated 8 MiB bodies, 24 at once: refused from the head; the process does not grow by them.
        let before = HostileClients.residentBytes(of: p.processIdentifier)
        let body = [UInt8](repeating: 0x41, count: 8 * 1024 * 1024)
        DispatchQueue.concurrentPerform(iterations: 24) { _ in
            guard let c = try? RawConnection(port: port) else { return }
            c.send("POST /caesar/k HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n")
            c.send(body)
            _ = c.status(timeout: 2)
        }
        let grown = HostileClients.residentBytes(of: p.processIdentifier) - before
        #expect(grown < 64 * 1024 * 1024, "24 unauthenticated 8 MiB bodies grew caesar listen by \(grown / 1_048_576) MiB")

        let (worst, statuses) = try HostileClients.slowestAnswerUnderSlowloris(
            port: port, request: "GET /healthz HTTP/1.1\r\nHost: t\r\nAuthorization: \(credentials)\r\n\r\n")
        #expect(statuses.allSatisfy { $0 == 404 } && worst < 1.0, "slowest answer \(worst) s with 300 slow clients: \(statuses)")
        #expect(try HostileClients.parallel(port: port, request: "POST /caesar HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").filter { $0 != nil }.count == 500)
        #expect(p.isRunning, "caesar listen died: \(log.value.suffix(2000))")
        #expect(CLI.terminate(p, timeout: 25) == 0, "\(log.value.suffix(1500))")
    }

    @Test func caesarListenWithoutCredentialsNeedsConsent() throws {
        let dir = try CLI.temporaryFolder("caesar-open")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let refused = try CLI.run(["caesar", "listen", "--port", "0", "--state", dir + "/s.sqlite"],
                                  environment: ["CITSCI_CAESAR_USERNAME": "", "CITSCI_CAESAR_PASSWORD": ""], timeout: 30)
        #expect(refused.status != 0 && refused.stderr.contains("CITSCI_CAESAR_USERNAME") && refused.stderr.contains("--insecure"), "\(refused.stderr)")
        let wide = try CLI.run(["caesar", "listen", "--host", "0.0.0.0", "--port", "0", "--state", dir + "/s.sqlite"],
                               environment: ["CITSCI_CAESAR_USERNAME": "", "CITSCI_CAESAR_PASSWORD": ""], timeout: 30)
        #expect(wide.status != 0, "\(wide.stderr)")
        let (p, log) = try CLI.startLogging(["caesar", "listen", "--port", "0", "--insecure", "--state", dir + "/s.sqlite"],
                                            environment: ["CITSCI_CAESAR_USERNAME": "", "CITSCI_CAESAR_PASSWORD": ""])
        _ = try CLI.waitFor(#"listening on http://127\.0\.0\.1:\d+"#, in: log, process: p)
        #expect(CLI.terminate(p) == 0)
    }
}
