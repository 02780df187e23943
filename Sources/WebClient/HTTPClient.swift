import Basics
import CCurl
import Foundation

/// An HTTP response: status, headers (names lower-cased) and body.
package struct HTTPResponse: Sendable {
    package let status: Int
    package let headers: [String: String]
    package let body: [UInt8]
    /// Every `Set-Cookie` value, in order (they cannot be folded into one header).
    package var setCookies: [String] = []
    /// Whether the request needed a new connection (false: it reused an open one).
    package var openedConnection = true

    package init(status: Int, headers: [String: String], body: [UInt8], setCookies: [String] = []) {
        self.status = status
        self.headers = headers
        self.body = body
        self.setCookies = setCookies
    }

    package var text: String { String(decoding: body, as: UTF8.self) }
    /// The body for an error message: secrets removed (a server may echo the request), shortened.
    package var excerpt: String {
        let clean = Redaction.current.excerpt(text)
        return clean.isEmpty ? "(empty body)" : clean
    }
}

/// A request that did not get an HTTP answer (connection refused, time-out, DNS), with curl's reason.
package struct HTTPTransportError: Error, CustomStringConvertible, Sendable {
    package let method: String
    package let url: String
    package let reason: String
    package var description: String { Redaction.current.apply("\(method) \(url): \(reason)") }
}

/// A small blocking HTTP client over libcurl: the only code that touches libcurl. One easy handle per
/// request keeps it thread-safe; the connections (and DNS answers and TLS sessions) are shared by all
/// copies of a client, so calls to the same server reuse an open connection instead of a new
/// TCP and TLS handshake each. Callers run it off the cooperative pool where latency matters.
package struct HTTPClient: Sendable {
    package var timeout: Double
    package var connectTimeout: Double
    package var userAgent: String
    /// An answer whose body grows past this is cut off with an error: a hostile or broken server
    /// cannot make citsci allocate without bound (a Zooniverse export of a large project is a few
    /// hundred MB; API documents are far smaller).
    package var maxResponseBytes: Int
    /// Likewise for the header lines of one answer.
    package static let maxHeaderBytes = 256 * 1024

    package init(timeout: Double = 30, connectTimeout: Double = 10, userAgent: String = "citsci/0.1",
                maxResponseBytes: Int = 1 << 30) {
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.userAgent = userAgent
        self.maxResponseBytes = maxResponseBytes
        HTTPClient.globalInit
        connections = ConnectionCache()
    }

    private let connections: ConnectionCache

    /// Methods a server may have acted on when a reused connection dies before its answer. libcurl
    /// silently sends a request again when a reused connection turns out dead before the first byte
    /// of the answer; for these that could create a second subject, so they always go out on a new
    /// connection (which then serves later calls).
    static func mustNotRepeat(_ method: String) -> Bool { method == "POST" || method == "PATCH" }

    /// curl_global_init must run once before any thread uses curl.
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    package func request(_ method: String, _ url: String, headers: [(String, String)] = [],
                        body: [UInt8]? = nil) throws(HTTPTransportError) -> HTTPResponse {
        guard let handle = curl_easy_init() else {
            throw HTTPTransportError(method: method, url: url, reason: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }
        connections.use(in: handle)
        if Self.mustNotRepeat(method) { _ = citsci_curl_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1) }
        let sink = ResponseSink(limit: maxResponseBytes)
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in headers { list = curl_slist_append(list, "\(name): \(value)") }
        if body != nil && !headers.contains(where: { $0.0.lowercased() == "expect" }) {
            list = curl_slist_append(list, "Expect:")  // no 100-continue round trip
        }
        defer { curl_slist_free_all(list) }

        _ = citsci_curl_setopt_string(handle, CURLOPT_URL, url)
        _ = citsci_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        _ = citsci_curl_setopt_string(handle, CURLOPT_USERAGENT, userAgent)
        _ = citsci_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = citsci_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        _ = citsci_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        _ = citsci_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        _ = citsci_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
            let n = size * count
            guard sink.body.count + n <= sink.limit else { sink.overflow = true; return 0 }  // 0: curl stops the transfer
            if let data { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n)) }
            return n
        }
        _ = citsci_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)
        _ = citsci_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
            let n = size * count
            sink.headerBytes += n
            guard sink.headerBytes <= HTTPClient.maxHeaderBytes else { sink.overflow = true; return 0 }
            if let data {
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
                if line.hasPrefix("HTTP/") { sink.headers = [:]; sink.setCookies = [] }  // a new response (after 100 or a redirect)
                if let colon = line.firstIndex(of: ":") {
                    let name = line[..<colon].lowercased()
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                    sink.headers[name] = value
                    if name == "set-cookie" { sink.setCookies.append(value) }
                }
            }
            return n
        }
        _ = citsci_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer)

        let code: CURLcode = withExtendedLifetime(sink) {
            if let body {
                return body.withUnsafeBytes { raw in
                    _ = citsci_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(raw.count))
                    _ = citsci_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
                    return curl_easy_perform(handle)
                }
            }
            return curl_easy_perform(handle)
        }
        if sink.overflow {
            throw HTTPTransportError(method: method, url: url, reason: "the answer is larger than citsci accepts (\(maxResponseBytes) bytes of body, \(HTTPClient.maxHeaderBytes) of headers)")
        }
        guard code == CURLE_OK else {
            throw HTTPTransportError(method: method, url: url, reason: String(cString: curl_easy_strerror(code)))
        }
        var status = 0, opened = 0
        _ = citsci_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        _ = citsci_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &opened)
        var response = HTTPResponse(status: status, headers: sink.headers, body: sink.body, setCookies: sink.setCookies)
        response.openedConnection = opened > 0
        return response
    }

    package func get(_ url: String, headers: [(String, String)] = []) throws(HTTPTransportError) -> HTTPResponse {
        try request("GET", url, headers: headers)
    }

    /// The libcurl version string, for `citsci version`.
    package static var libraryVersion: String { String(cString: curl_version()) }
}

/// The connections, DNS answers and TLS sessions a client's requests share (libcurl's share
/// interface, locked per kind of data, so requests on several threads may use it at once).
private final class ConnectionCache: @unchecked Sendable {
    // @unchecked: libcurl locks the shared data itself (the mutexes set up in the shim).
    private let cache: UnsafeMutablePointer<citsci_curl_cache>?

    init() { cache = citsci_curl_cache_new() }
    deinit { citsci_curl_cache_free(cache) }

    /// Attaches the cache to an easy handle (without it, when it could not be made, the request
    /// simply opens its own connection).
    func use(in handle: UnsafeMutableRawPointer) {
        if let cache { _ = citsci_curl_use_cache(handle, cache) }
    }
}

/// Collects one response; reached from curl's C callbacks through the opaque pointer.
private final class ResponseSink {
    let limit: Int
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var setCookies: [String] = []
    var headerBytes = 0
    var overflow = false
    init(limit: Int) { self.limit = limit }
}
