import Basics
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The service's HTTP surfaces (`/metrics`, `/healthz`, Caesar's webhook) on Hummingbird and SwiftNIO:
/// no thread per connection, limits on the request line, headers and body enforced before the body
/// is read, credentials checked before the body, idle and whole-request deadlines, and a cap on open
/// connections. TLS is left to a proxy in front (Caesar posts to HTTPS URLs only).
///
/// Handlers see plain values (`Request` → `Response`). They run on the server's own threads
/// (`DedicatedTaskExecutor.http`), so a busy cooperative pool does not silence the server; a handler
/// that blocks (a database write) still offloads its work, so it does not hold those threads either.
package struct HTTPServer: Service {
    package struct Request: Sendable {
        package var method: String
        package var path: String
        package var query: [String: String]
        /// Header names in lower case.
        package var headers: [String: String]
        package var body: [UInt8]

        package init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    package struct Response: Sendable {
        package var status: Int
        package var headers: [(String, String)]
        package var body: [UInt8]
        package init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }
        package static func json(_ status: Int, _ doc: JSONValue) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")], body: doc.encoded())
        }
        package static func text(_ status: Int, _ text: String) -> Response {
            Response(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
        }
    }

    package let endpoint: HTTPEndpoint
    package let access: HTTPAccess
    package let logger: Logger
    let handler: @Sendable (Request) async -> Response
    let onRunning: @Sendable (Int) async -> Void

    /// `onRunning` is told the bound port (useful with port 0) once the server accepts connections.
    package init(endpoint: HTTPEndpoint, access: HTTPAccess = .open, logger: Logger,
                onRunning: @escaping @Sendable (Int) async -> Void = { _ in },
                handler: @escaping @Sendable (Request) async -> Response) {
        self.endpoint = endpoint
        self.access = access
        self.logger = logger
        self.onRunning = onRunning
        self.handler = handler
    }

    /// Serves until a graceful shutdown or cancellation; throws when the address cannot be bound.
    package func run() async throws {
        try endpoint.checkExposure(access)
        let (limits, access, handler) = (endpoint.limits, self.access, self.handler)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            await Self.respond(to: request, limits: limits, access: access, handler: handler)
        }
        var serverLogger = logger
        serverLogger.logLevel = .error  // Hummingbird logs every connection error at debug/info; a scan is not news.
        let app = Application(
            responder: responder,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(deadline: Self.timeAmount(limits.requestTimeout))],
                idleTimeout: Self.timeAmount(limits.idleTimeout),
                httpDecoderConfiguration: .init(maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes,
                                                maxHeaderFieldCount: limits.maxHeaderCount))),
            configuration: .init(address: .hostname(endpoint.host, port: endpoint.port), serverName: nil, backlog: 256,
                                 reuseAddress: true, availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
            onServerRunning: { [onRunning] channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: serverLogger)
        // The server runs in a task of its own, and a cancellation reaches it as a graceful shutdown:
        // cancelling NIO's accept loop while connections wait in its buffer traps ("Deinited
        // NIOAsyncWriter without calling finish()"). A graceful shutdown closes idle connections and
        // waits for the others, which the request deadline bounds.
        // On threads of its own: a pipeline stage blocking the cooperative pool must not silence /healthz.
        let group = ServiceGroup(configuration: .init(services: [app], logger: serverLogger))
        let running = Task(executorPreference: DedicatedTaskExecutor.http) { try await group.run() }
        let stop: @Sendable () -> Void = { Task { await group.triggerGracefulShutdown() } }
        do {
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler { try await running.value } onGracefulShutdown: { stop() }
            } onCancel: { stop() }
        } catch let error as IOError {
            throw HTTPEndpoint.Error(address: endpoint.description, reason: "cannot listen: \(error.description)")
        }
    }

    /// One request: path and method are the handler's business; size and credentials are checked
    /// here, from the head, before a byte of the body is read.
    static func respond(to request: Hummingbird.Request, limits: HTTPLimits, access: HTTPAccess,
                        handler: @Sendable (Request) async -> Response) async -> Hummingbird.Response {
        let target = request.uri.string
        guard target.utf8.count <= limits.maxTargetBytes else {
            return plain(.init(code: 414), "request target longer than \(limits.maxTargetBytes) bytes\n")
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let path = request.uri.path
        guard access.allows(path: path, authorization: headers["authorization"]) else {
            var fields = HTTPFields()
            fields[.wwwAuthenticate] = access.challenge
            fields[.contentType] = "application/json"
            return Hummingbird.Response(status: .unauthorized, headers: fields, body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"unauthorized\"}")))
        }
        if let declared = headers["content-length"] {
            guard let length = Int(declared), length >= 0 else { return plain(.badRequest, "bad Content-Length\n") }
            guard length <= limits.maxBodyBytes else { return plain(.contentTooLarge, "body larger than \(limits.maxBodyBytes) bytes\n") }
        }
        var body: [UInt8] = []
        do {
            var buffer = try await request.body.collect(upTo: limits.maxBodyBytes)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            return plain(.contentTooLarge, "body larger than \(limits.maxBodyBytes) bytes\n")
        }
        let answer = await handler(Request(method: request.method.rawValue, path: path, query: query(request.uri.query),
                                           headers: headers, body: body))
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
        }
        return Hummingbird.Response(status: .init(code: answer.status), headers: fields,
                                    body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    static func timeAmount(_ d: Duration) -> TimeAmount {
        .nanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Hummingbird.Response {
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; charset=utf-8"
        return Hummingbird.Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `a=1&b=&c`: every pair with a key, percent-decoded; empty and key-less pairs are dropped, a
    /// repeated key keeps its last value.
    package static func query(_ text: String?) -> [String: String] {
        guard let text, !text.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let rawKey = parts.first, !rawKey.isEmpty else { continue }
            let decode = { (s: Substring) in String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            out[decode(rawKey)] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return out
    }
}

/// Where a server listens and how much it accepts.
package struct HTTPEndpoint: Sendable, CustomStringConvertible {
    package var host: String
    package var port: Int
    package var limits: HTTPLimits
    /// Serve on a non-loopback address without credentials (an explicit operator choice).
    package var insecure: Bool

    package init(host: String = "127.0.0.1", port: Int, limits: HTTPLimits = HTTPLimits(), insecure: Bool = false) {
        self.host = host
        self.port = port
        self.limits = limits
        self.insecure = insecure
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Why a server cannot start there.
    package struct Error: Swift.Error, CustomStringConvertible, Sendable {
        package let address: String
        package let reason: String
        package var description: String { "\(address): \(reason)" }
    }

    /// 127.0.0.0/8, ::1 and localhost.
    package var isLoopback: Bool {
        let h = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }

    /// Binding beyond loopback with no credentials is refused unless `insecure` says it is meant.
    package func checkExposure(_ access: HTTPAccess) throws(Error) {
        guard !isLoopback, !access.isProtected, !insecure else { return }
        throw Error(address: description, reason: "refusing to serve on a non-loopback address without credentials: "
                    + "set \(access.credentialHint), or mark it insecure (--insecure, or insecure: true in the configuration) "
                    + "if something in front of it (a proxy, a network policy) does the checking")
    }

    /// Tries to bind the address now (then lets it go), so a configuration that cannot work fails at
    /// start with the reason instead of when the server starts.
    package func checkBindable() throws(Error) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw Error(address: description, reason: "not an address of this host (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw Error(address: description, reason: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = errno == EADDRINUSE ? "the port is in use by another program"
                : errno == EADDRNOTAVAIL ? "not an address of this host"
                : errno == EACCES ? "permission denied (ports below 1024 need privileges)"
                : String(cString: strerror(errno))
            throw Error(address: description, reason: "cannot listen: \(reason)")
        }
    }
}

/// What a server accepts, per connection and in all.
package struct HTTPLimits: Sendable {
    package var maxTargetBytes = 8 * 1024
    package var maxHeaderBytes = 16 * 1024
    package var maxHeaderCount = 100
    package var maxBodyBytes = 1024 * 1024
    /// A connection with no traffic for this long is closed.
    package var idleTimeout: Duration = .seconds(30)
    /// A request that has not fully arrived this long after the server began waiting for it is
    /// dropped (a client trickling bytes resets an idle timer, not this one).
    package var requestTimeout: Duration = .seconds(10)
    /// Connections open at once; past it new ones wait in the kernel's backlog.
    package var maxConnections = 1000

    package init() {}
}

/// Who may call: everyone, or the holders of HTTP basic credentials or a bearer token. Paths in
/// `openPaths` (a health probe) are served to anyone.
package struct HTTPAccess: Sendable {
    enum Scheme: Sendable { case open, basic(String), bearer(String) }
    let scheme: Scheme
    package let openPaths: Set<String>
    /// The environment variables that would set credentials, for the refusal message.
    package let credentialHint: String

    package static let open = HTTPAccess(scheme: .open, openPaths: [], credentialHint: "credentials")

    package static func basic(username: String, password: String, openPaths: Set<String> = [], hint: String = "credentials") -> HTTPAccess {
        HTTPAccess(scheme: .basic("Basic " + Data("\(username):\(password)".utf8).base64EncodedString()), openPaths: openPaths, credentialHint: hint)
    }

    package static func bearer(_ token: String, openPaths: Set<String> = [], hint: String = "a token") -> HTTPAccess {
        HTTPAccess(scheme: .bearer("Bearer " + token), openPaths: openPaths, credentialHint: hint)
    }

    /// No credentials, and `hint` names the variables that would set them.
    package static func open(hint: String) -> HTTPAccess { HTTPAccess(scheme: .open, openPaths: [], credentialHint: hint) }

    package var isProtected: Bool { if case .open = scheme { false } else { true } }

    package var challenge: String {
        switch scheme {
        case .basic: "Basic realm=\"citsci\""
        case .bearer, .open: "Bearer realm=\"citsci\""
        }
    }

    package func allows(path: String, authorization: String?) -> Bool {
        switch scheme {
        case .open: return true
        case .basic(let expected), .bearer(let expected):
            if openPaths.contains(path) { return true }
            return Self.constantTimeEqual(authorization ?? "", expected)
        }
    }

    /// Compares without stopping at the first difference, so the answer's timing says nothing of
    /// how much of a guess was right.
    package static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}

extension DedicatedTaskExecutor {
    /// The HTTP servers' threads, started on first use and kept for the process's life.
    package static let http = DedicatedTaskExecutor(threads: 2, name: "citsci-http")
}
