import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server for webhooks (Caesar's external effects): one request per connection,
/// bodies by Content-Length, bounded sizes and time-outs. TLS is left to a proxy in front (Caesar
/// posts to HTTPS URLs only).
public final class HTTPServer: @unchecked Sendable {
    // @unchecked: `listener` is written once in init and closed once in stop, under `lock`.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [String: String]
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: [UInt8]
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }
        public static func json(_ status: Int, _ doc: JSONValue) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")], body: doc.encoded())
        }
    }

    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    public static let maxHeaderBytes = 64 * 1024
    public static let maxBodyBytes = 8 * 1024 * 1024

    public let port: Int
    private var listener: Int32
    private let handler: @Sendable (Request) -> Response
    private let lock = NSLock()

    /// Listens on `host:port` (port 0: any free port, see `port`) and serves until `stop()`.
    public init(host: String = "127.0.0.1", port: Int = 0, handler: @escaping @Sendable (Request) -> Response) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Error(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            close(fd)
            throw Error(description: "\(host): not an IPv4 address")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 64) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Error(description: "cannot listen on \(host):\(port): \(reason)")
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: addr.sin_port))
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "citsci-http-\(self.port)"
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting connections.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard listener >= 0 else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        listener = -1
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return  // closed by stop()
            }
            DispatchQueue.global().async { [self] in serve(client) }
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let response: Response
        switch Self.read(fd) {
        case .success(let request): response = handler(request)
        case .failure(let e): response = .json(e.status, ["error": .string(e.message)])
        }
        write(fd, response)
        // A lingering close: the client may still be sending (a refused large body); closing with unread
        // data would reset the connection before it reads the answer.
        shutdown(fd, Int32(SHUT_WR))
        var drain = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &drain, socklen_t(MemoryLayout<timeval>.size))
        var sink = [UInt8](repeating: 0, count: 64 * 1024)
        var drained = 0
        while drained < 64 * 1024 * 1024 {
            let n = recv(fd, &sink, sink.count, 0)
            if n <= 0 { break }
            drained += n
        }
    }

    struct BadRequest: Swift.Error {
        let status: Int
        let message: String
    }

    static func read(_ fd: Int32) -> Result<Request, BadRequest> {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var headerEnd: Int? = nil
        while headerEnd == nil {
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { return .failure(BadRequest(status: 400, message: "connection closed or timed out before the headers ended")) }
            buffer += chunk[0..<n]
            if let r = find(buffer, [13, 10, 13, 10]) { headerEnd = r }
            if headerEnd == nil && buffer.count > maxHeaderBytes { return .failure(BadRequest(status: 431, message: "headers too large")) }
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
            return .failure(BadRequest(status: 400, message: "not an HTTP/1.x request line"))
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            return .failure(BadRequest(status: 411, message: "send the body with a Content-Length"))
        }
        let length = Int(headers["content-length"] ?? "0") ?? -1
        guard length >= 0 else { return .failure(BadRequest(status: 400, message: "bad Content-Length")) }
        guard length <= maxBodyBytes else { return .failure(BadRequest(status: 413, message: "body larger than \(maxBodyBytes) bytes")) }
        var body = Array(buffer[(headerEnd! + 4)...])
        while body.count < length {
            let n = recv(fd, &chunk, min(chunk.count, length - body.count), 0)
            guard n > 0 else { return .failure(BadRequest(status: 400, message: "body shorter than its Content-Length")) }
            body += chunk[0..<n]
        }
        let target = String(requestLine[1])
        let parts = target.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                query[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
        }
        return .success(Request(method: String(requestLine[0]), path: String(parts.first ?? ""), query: query,
                                headers: headers, body: Array(body.prefix(length))))
    }

    static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }

    private func write(_ fd: Int32, _ r: Response) {
        let reason = [200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
                      404: "Not Found", 405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large",
                      415: "Unsupported Media Type", 422: "Unprocessable Entity", 431: "Request Header Fields Too Large",
                      500: "Internal Server Error", 503: "Service Unavailable"][r.status] ?? "Status"
        var head = "HTTP/1.1 \(r.status) \(reason)\r\n"
        for (k, v) in r.headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(r.body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + r.body
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }
}
