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

/// The HTTP surfaces as a hostile client meets them: malformed requests, huge heads, lying lengths,
/// trickled bytes, crowds of connections. The server answers or closes; it never stops.
@Suite(.serialized) struct HTTPServerTests {
    static let echo: @Sendable (HTTPServer.Request) async -> HTTPServer.Response = { r in
        if r.path == "/healthz" { return .text(200, "ok\n") }
        return .json(200, ["path": .string(r.path), "query": .object(r.query.mapValues { .string($0) }), "bytes": .number(Double(r.body.count))])
    }

    static func health(_ port: Int) -> Int? { RawConnection.request(port: port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n") }

    @Test func queryStringsAreParsedTotally() {
        #expect(HTTPServer.query("=").isEmpty)
        #expect(HTTPServer.query("a=1&=&b") == ["a": "1", "b": ""])
        #expect(HTTPServer.query("&&&=&==") .isEmpty)
        #expect(HTTPServer.query("%zz=%&x=%41&y=a+b") == ["%zz": "%", "x": "A", "y": "a b"])
        #expect(HTTPServer.query(nil).isEmpty)
    }

    @Test func malformedRequestsNeverStopTheServer() async throws {
        let server = try await ServedHTTP.start(handler: Self.echo)
        let hostile = [
            "GET /healthz?= HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /metrics?a=1&=&b HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /?%zz=%%%&&== HTTP/1.1\r\nHost: t\r\n\r\n",
            "\r\n\r\n", "GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /\u{0}\u{1} HTTP/1.1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "GET / HTTP/1.1\r\nHost: t\r\n" + String(repeating: "X: y\r\n", count: 500) + "\r\n",
        ]
        let (answer, health) = try await offload {
            for request in hostile { _ = RawConnection.request(port: server.port, request, timeout: 3) }
            // The empty-key query reaches the handler as an empty dictionary, not a trap.
            let c = try RawConnection(port: server.port)
            c.send("GET /x?= HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            return (String(decoding: c.receive(timeout: 3), as: UTF8.self), Self.health(server.port))
        }
        #expect(answer.hasPrefix("HTTP/1.1 200") && answer.contains(#""query":{}"#), "\(answer)")
        #expect(health == 200)
        await server.stop()
    }

    @Test func oversizedHeadsAreRefused() async throws {
        let server = try await ServedHTTP.start(handler: Self.echo)
        let (status, headerStatus, health) = try await offload {
            let longTarget = "GET /" + String(repeating: "a", count: 20_000) + " HTTP/1.1\r\nHost: t\r\n\r\n"
            let bigHeader = "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "b", count: 100_000) + "\r\n\r\n"
            return (RawConnection.request(port: server.port, longTarget) ?? 0, RawConnection.request(port: server.port, bigHeader) ?? 0,
                    Self.health(server.port))
        }
        #expect((400...431).contains(status), "a 20 kB request target: \(status)")
        #expect((400...431).contains(headerStatus), "a 100 kB header: \(headerStatus)")
        #expect(health == 200)
        await server.stop()
    }

    @Test func bodiesAndCredentialsAreCheckedBeforeTheBodyIsRead() async throws {
        var limits = HTTPLimits()
        limits.maxBodyBytes = 64 * 1024
        let server = try await ServedHTTP.start(limits: limits, access: .bearer("t0ken-for-tests", openPaths: ["/healthz"]), handler: Self.echo)
        // The answer comes while the client has sent only the head: nothing waited for the body.
        let statuses = try await offload { () -> [Int?] in
            let tooBig = try RawConnection(port: server.port)
            tooBig.send("POST /x HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0ken-for-tests\r\nContent-Length: 100000000\r\n\r\n")
            let stranger = try RawConnection(port: server.port)
            stranger.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 8388608\r\n\r\n")
            let wrong = try RawConnection(port: server.port)
            wrong.send("GET /x HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t0ken-for-test\r\n\r\n")
            return [tooBig.status(timeout: 3), stranger.status(timeout: 3), wrong.status(timeout: 3), Self.health(server.port)]
        }
        #expect(statuses[0] == 413)
        #expect(statuses[1] == 401)
        #expect(statuses[2] == 401, "a token one character short")
        #expect(statuses[3] == 200, "an open path needs no token")
        let ok = try await offload {
            try HTTPClient(timeout: 5).request("POST", "http://127.0.0.1:\(server.port)/x?k=v", headers: [("Authorization", "Bearer t0ken-for-tests")],
                                               body: Array(repeating: 7, count: 1000))
        }
        #expect(ok.status == 200 && ok.text.contains(#""bytes":1000"#) && ok.text.contains(#""k":"v""#), "\(ok.text)")
        await server.stop()
    }

    @Test func unauthenticatedBigBodiesKeepMemoryBounded() async throws {
        let server = try await ServedHTTP.start(access: .basic(username: "u", password: "p"), handler: Self.echo)
        let before = HostileClients.residentBytes()
        let body = [UInt8](repeating: 0x41, count: 8 * 1024 * 1024)
        try await offload {
            DispatchQueue.concurrentPerform(iterations: 24) { _ in
                guard let c = try? RawConnection(port: server.port) else { return }
                c.send("POST /caesar HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n")
                c.send(body)  // the server may close before it is all sent
                _ = c.status(timeout: 2)
            }
        }
        let grown = HostileClients.residentBytes() - before
        #expect(grown < 64 * 1024 * 1024, "24 unauthenticated 8 MiB bodies grew the process by \(grown / 1_048_576) MiB")
        #expect(try await offload { Self.health(server.port) } == 401, "basic auth covers every path here")
        await server.stop()
    }

    @Test func aTrickledRequestIsDroppedAtItsDeadline() async throws {
        var limits = HTTPLimits()
        limits.requestTimeout = .milliseconds(1500)
        limits.idleTimeout = .seconds(30)
        let server = try await ServedHTTP.start(limits: limits, handler: Self.echo)
        let (closed, seconds, liarClosed, health) = try await offload {
            let slow = try RawConnection(port: server.port)
            let start = Date()
            var closed = false
            // One byte every 300 ms keeps an idle timer from ever firing; the request deadline does.
            for byte in Array("GET /healthz HTTP/1.1\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "z"), count: 40) {
                if !slow.send([byte]) { closed = true; break }
                Thread.sleep(forTimeInterval: 0.3)
                if Date().timeIntervalSince(start) > 6 { break }
            }
            closed = closed || slow.isClosedByServer(within: 1)
            let seconds = Date().timeIntervalSince(start)
            // A body shorter than its Content-Length ends the same way.
            let liar = try RawConnection(port: server.port)
            liar.send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten b")
            return (closed, seconds, liar.isClosedByServer(within: 5), Self.health(server.port))
        }
        #expect(closed, "still open after \(seconds) s")
        #expect(seconds < 6)
        #expect(liarClosed)
        #expect(health == 200)
        await server.stop()
    }

    @Test func healthAnswersWhileThreeHundredClientsTrickle() async throws {
        let server = try await ServedHTTP.start(handler: Self.echo)
        let (worst, statuses) = try await offload {
            try HostileClients.slowestAnswerUnderSlowloris(port: server.port, request: "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        }
        #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
        #expect(worst < 1.0, "slowest /healthz: \(worst) s")
        await server.stop()
    }

    @Test func fiveHundredParallelConnectionsAreAllAnswered() async throws {
        let server = try await ServedHTTP.start(handler: Self.echo)
        let statuses = try await offload {
            try HostileClients.parallel(port: server.port, request: "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        }
        #expect(statuses.filter { $0 == 200 }.count == 500)
        await server.stop()
    }

    @Test func hostileRequestBytesNeverStopTheServer() async throws {
        let server = try await ServedHTTP.start(handler: Self.echo)
        let seeds = [
            "GET /metrics?a=1&b=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n",
            "POST /caesar/consensus?workflow_id=47 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nAuthorization: Basic Y2Flc2FyOnB3\r\nContent-Length: 27\r\n\r\n{\"subject\":{\"id\":\"5\"},\"x\":1}",
        ].map { Array($0.utf8) }
        let answered = try await offload { () -> Int in
            var answered = 0
            Fuzz(seeds: seeds, count: 300).forEach { _, bytes in
                guard let c = try? RawConnection(port: server.port) else { return }
                c.send(bytes)
                if c.status(timeout: 0.3) != nil { answered += 1 }
            }
            return answered
        }
        #expect(answered > 0)
        #expect(Self.health(server.port) == 200)
        await server.stop()
    }

    @Test func exposureBeyondLoopbackNeedsCredentialsOrConsent() throws {
        let open = HTTPAccess.open(hint: "CITSCI_METRICS_TOKEN")
        #expect(throws: HTTPEndpoint.Error.self) { try HTTPEndpoint(host: "0.0.0.0", port: 9464).checkExposure(open) }
        do {
            try HTTPEndpoint(host: "0.0.0.0", port: 9464).checkExposure(open)
        } catch {
            #expect(error.description.contains("CITSCI_METRICS_TOKEN") && error.description.contains("insecure"))
        }
        try HTTPEndpoint(host: "0.0.0.0", port: 9464).checkExposure(.bearer("x"))
        try HTTPEndpoint(host: "0.0.0.0", port: 9464, insecure: true).checkExposure(open)
        for host in ["127.0.0.1", "127.3.2.1", "localhost", "::1"] { try HTTPEndpoint(host: host, port: 1).checkExposure(open) }
    }

    @Test func aPortInUseOrAForeignAddressIsRefusedWithTheReason() async throws {
        let server = try await ServedHTTP.start(handler: Self.echo)
        do {
            try HTTPEndpoint(host: "127.0.0.1", port: server.port).checkBindable()
            Issue.record("bound a port in use")
        } catch { #expect(error.description.contains("in use"), "\(error)") }
        do {
            try HTTPEndpoint(host: "192.0.2.1", port: 9464, insecure: true).checkBindable()  // TEST-NET-1: on no host
            Issue.record("bound an address not on this host")
        } catch { #expect(error.description.contains("not an address of this host"), "\(error)") }
        do {
            try HTTPEndpoint(host: "no-such-host.invalid", port: 9464).checkBindable()
            Issue.record("bound a name that does not resolve")
        } catch { #expect(error.description.contains("not an address of this host"), "\(error)") }
        await server.stop()
        try HTTPEndpoint(host: "127.0.0.1", port: 0).checkBindable()
    }

    @Test func credentialsCompareWholly() {
        #expect(HTTPAccess.constantTimeEqual("Bearer abc", "Bearer abc"))
        #expect(!HTTPAccess.constantTimeEqual("Bearer ab", "Bearer abc"))
        #expect(!HTTPAccess.constantTimeEqual("", "Bearer abc"))
        #expect(!HTTPAccess.constantTimeEqual("Bearer abd", "Bearer abc"))
        let basic = HTTPAccess.basic(username: "caesar", password: "pw")
        #expect(basic.allows(path: "/caesar", authorization: "Basic " + Data("caesar:pw".utf8).base64EncodedString()))
        #expect(!basic.allows(path: "/caesar", authorization: nil))
    }
}
