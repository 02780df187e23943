import WebServer
import Foundation
import Logging

/// An `HTTPServer` running in the test process on a free loopback port until `stop()`.
package final class ServedHTTP: Sendable {
    package let port: Int
    let task: Task<Void, any Error>

    init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    /// Starts the server and returns once it accepts connections (or throws what stopped it).
    package static func start(limits: HTTPLimits = HTTPLimits(), access: HTTPAccess = .open,
                             handler: @escaping @Sendable (HTTPServer.Request) async -> HTTPServer.Response) async throws -> ServedHTTP {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = HTTPServer(endpoint: HTTPEndpoint(host: "127.0.0.1", port: 0, limits: limits), access: access,
                                logger: Logger(label: "test-http"), onRunning: { continuation.yield($0) }, handler: handler)
        let task = Task {
            defer { continuation.finish() }
            try await server.run()
        }
        for await port in ports { return ServedHTTP(port: port, task: task) }
        _ = try await task.value
        throw FixtureError(message: "the HTTP server stopped before it listened")
    }

    package func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// A client that writes exactly the bytes it is given (no HTTP library tidying them up), for
/// hostile requests: malformed lines, lying lengths, trickled bytes.
package final class RawConnection: @unchecked Sendable {
    // @unchecked: one test uses one connection from one thread at a time.
    let fd: Int32

    package init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw FixtureError(message: "connect to 127.0.0.1:\(port): \(reason)")
        }
    }

    deinit { close(fd) }

    /// Sends bytes; false when the server has closed the connection.
    @discardableResult
    package func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    package func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// What the server sends until it closes the connection or `timeout` passes with nothing new.
    package func receive(timeout: Double = 5) -> [UInt8] {
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return out
    }

    /// The status code of the first answer, when its head came within `timeout` (it does not wait
    /// for a kept-alive connection to close).
    package func status(timeout: Double = 5) -> Int? {
        let deadline = Date().addingTimeInterval(timeout)
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while Date() < deadline {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { break }
            if n > 0 {
                out += chunk[0..<n]
                if out.count >= 4, String(decoding: out, as: UTF8.self).contains("\r\n\r\n") { break }
            }
        }
        return RawConnection.status(of: out)
    }

    package static func status(of answer: [UInt8]) -> Int? {
        let text = String(decoding: answer.prefix(64), as: UTF8.self)
        guard text.hasPrefix("HTTP/1.") else { return nil }
        let parts = text.split(separator: " ")
        return parts.count > 1 ? Int(parts[1]) : nil
    }

    /// Whether the server has closed its side (a read returns end of file within `timeout`).
    package func isClosedByServer(within timeout: Double) -> Bool {
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    /// One request on a new connection: the status of its answer.
    package static func request(port: Int, _ text: String, timeout: Double = 5) -> Int? {
        guard let c = try? RawConnection(port: port) else { return nil }
        c.send(text)
        return c.status(timeout: timeout)
    }
}

/// Crowds of hostile clients, for the tests of every server (in-process or a `citsci` process).
package enum HostileClients {
    /// The slowest of ten `request`s (each on a new connection) while 300 other connections trickle
    /// a header byte every 0.5 s, and the statuses they got. Blocking: call it off the cooperative pool.
    package static func slowestAnswerUnderSlowloris(port: Int, request: String) throws -> (worst: Double, statuses: [Int?]) {
        let slow = try (0..<300).map { _ in try RawConnection(port: port) }
        for c in slow { c.send("GET /healthz HTTP/1.1\r\nX-Slow: ") }
        let done = Locked(false)
        DispatchQueue.global().async {
            while !done.value {
                for c in slow { c.send("a") }
                usleep(500_000)
            }
        }
        defer { done.mutate { $0 = true } }
        var worst = 0.0, statuses: [Int?] = []
        for _ in 0..<10 {
            let t = Date()
            statuses.append(RawConnection.request(port: port, request))
            worst = max(worst, Date().timeIntervalSince(t))
            usleep(200_000)
        }
        return (worst, statuses)
    }

    /// `count` connections opened at once, each sending `request`: the status each got.
    package static func parallel(port: Int, request: String, count: Int = 500) throws -> [Int?] {
        let connections = try (0..<count).map { _ in try RawConnection(port: port) }
        for c in connections { c.send(request) }
        return connections.map { $0.status(timeout: 10) }
    }

    /// A process's resident memory (VmRSS), in bytes; this process by default.
    package static func residentBytes(of pid: Int32 = getpid()) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}
