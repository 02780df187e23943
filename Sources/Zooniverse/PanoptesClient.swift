import Basics
import WebClient
import Foundation
import Synchronization

/// A client of the Zooniverse Panoptes API (https://www.zooniverse.org/api) over libcurl, making the
/// requests the official panoptes-client makes: every API request with the versioned JSON:API
/// `Accept` (Panoptes answers 404 without it), JSON bodies with their `Content-Type` (415 without),
/// `If-Match` on updates (428/412), a bearer token refreshed two minutes before it expires.
///
/// Requests block (libcurl); call from a thread that may wait. Safe to share between threads.
package final class PanoptesClient: Sendable {
    package struct Configuration: Sendable {
        /// `https://www.zooniverse.org` (production) or `https://panoptes-staging.zooniverse.org`.
        package var endpoint: String
        package var credentials: PanoptesCredentials
        package var retry = RetryPolicy()
        package var requestsPerSecond: Double = 10
        package var timeout: Double = 60
        /// The client's clock, for token lifetimes (tests move it instead of waiting).
        package var now: @Sendable () -> Date = { Date() }

        package init(endpoint: String = "https://www.zooniverse.org", credentials: PanoptesCredentials) {
            self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            self.credentials = credentials
        }
    }

    /// A response document and its `ETag` (needed to update the resource).
    package struct Document: Sendable {
        package let body: JSONValue
        package let etag: String?
    }

    static let apiAccept = "application/vnd.api+json; version=1"

    package let configuration: Configuration
    let http: HTTPClient
    let limiter: RateLimiter
    private let token = Mutex<Token?>(nil)
    /// Retries made (429, 5xx, no answer), for reports and metrics.
    private let retryCount = Atomic<Int>(0)

    struct Token: Sendable {
        var access: String
        var refresh: String?
        var expires: Double
    }

    package init(_ configuration: Configuration) {
        self.configuration = configuration
        self.http = HTTPClient(timeout: configuration.timeout, connectTimeout: 10, userAgent: "citsci/0.1 (panoptes)")
        self.limiter = RateLimiter(perSecond: configuration.requestsPerSecond)
        if case .token(let t) = configuration.credentials {
            token.withLock { $0 = Token(access: t, refresh: nil, expires: .infinity) }
        }
    }

    package var retries: Int { retryCount.load(ordering: .relaxed) }

    // MARK: - Authentication

    /// A valid bearer token, logging in or refreshing when the current one is within two minutes of expiry.
    func bearer() throws(PanoptesError) -> String {
        let now = configuration.now().timeIntervalSince1970
        if let t = token.withLock({ $0 }), t.expires - 120 > now { return t.access }
        let fresh = try obtainToken(refreshing: token.withLock { $0 })
        token.withLock { $0 = fresh }
        return fresh.access
    }

    /// Logs in now (for `citsci zooniverse login`), returning the token's lifetime in seconds.
    @discardableResult
    package func login() throws(PanoptesError) -> Double {
        token.withLock { $0 = nil }
        _ = try bearer()
        return (token.withLock { $0?.expires } ?? 0) - configuration.now().timeIntervalSince1970
    }

    private func obtainToken(refreshing old: Token?) throws(PanoptesError) -> Token {
        let url = configuration.endpoint + "/oauth/token"
        var form: [(String, String)]
        var cookie: String? = nil
        switch configuration.credentials {
        case .token:
            throw PanoptesError(kind: .authentication, method: "POST", url: url, message: "the bearer token expired or was refused, and a token cannot be refreshed: set PANOPTES_CLIENT_ID and PANOPTES_CLIENT_SECRET")
        case .clientCredentials(let id, let secret):
            form = [("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)]
        case .password(let login, let password, let id):
            if let refresh = old?.refresh {
                form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", id)]
            } else {
                cookie = try signIn(login: login, password: password)
                form = [("grant_type", "password"), ("client_id", id)]
            }
        }
        var headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")]
        if let cookie { headers.append(("Cookie", cookie)) }
        let response = try send("POST", url, headers: headers, body: Array(Self.formEncode(form).utf8), idempotent: false)
        guard (200..<300).contains(response.status) else {
            // A refused refresh token: start again from the password.
            if old?.refresh != nil, case .password = configuration.credentials { return try obtainToken(refreshing: nil) }
            throw PanoptesError(kind: .authentication, method: "POST", url: url,
                                message: "HTTP \(response.status): \(PanoptesError.message(from: response))")
        }
        guard let doc = try? JSONValue.decode(response.body), let access = doc["access_token"]?.string else {
            throw PanoptesError(kind: .badResponse, method: "POST", url: url, message: "no access_token in \(response.excerpt)")
        }
        // Doorkeeper says 7200; a missing, negative or absurd lifetime is held to a minute..a day.
        let lifetime = min(max(doc["expires_in"]?.number ?? 7200, 60), 86_400)
        return Token(access: access, refresh: doc["refresh_token"]?.string, expires: configuration.now().timeIntervalSince1970 + lifetime)
    }

    /// The session sign-in of panoptes-python: CSRF token from GET, credentials POSTed with it, then
    /// the token request with the cookies as they stand after sign-in. Rails keeps the session in the
    /// cookie and signing in writes a new one carrying the user; the cookie from the GET carries none,
    /// and the password grant would be refused with it (`invalid_grant`).
    private func signIn(login: String, password: String) throws(PanoptesError) -> String {
        let url = configuration.endpoint + "/users/sign_in"
        let jsonHeaders = [("Accept", "application/json"), ("Content-Type", "application/json")]
        var jar = CookieJar()
        let first = try send("GET", url, headers: jsonHeaders, body: nil, idempotent: true)
        jar.take(first)
        guard let csrf = first.headers["x-csrf-token"], let cookie = jar.header else {
            throw PanoptesError(kind: .authentication, method: "GET", url: url, message: "no CSRF token or session cookie (HTTP \(first.status))")
        }
        let body: JSONValue = ["authenticity_token": .string(csrf),
                               "user": ["login": .string(login), "password": .string(password), "remember_me": .bool(true)]]
        let second = try send("POST", url, headers: jsonHeaders + [("Cookie", cookie)], body: body.encoded(), idempotent: false)
        guard second.status == 200 else {
            throw PanoptesError(kind: .authentication, method: "POST", url: url,
                                message: "HTTP \(second.status): \(PanoptesError.message(from: second))")
        }
        jar.take(second)
        guard let signedIn = jar.header else {
            throw PanoptesError(kind: .authentication, method: "POST", url: url, message: "sign-in left no session cookie")
        }
        return signedIn
    }

    static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    static func percentEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    // MARK: - Requests

    /// One API request (`path` under /api), retried as the policy says. A request that is not
    /// `idempotent` (a create) is retried only when the server said it did nothing (429): after a
    /// dropped connection or a 5xx the caller must look before creating again.
    package func api(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil,
                    ifMatch: String? = nil, idempotent: Bool? = nil) throws(PanoptesError) -> Document {
        var url = configuration.endpoint + "/api" + path
        if !query.isEmpty { url += "?" + Self.formEncode(query) }
        let safe = idempotent ?? (method == "GET" || method == "PUT" || method == "DELETE")
        var refreshed = false
        while true {
            var headers = [("Accept", Self.apiAccept), ("Authorization", "Bearer " + (try bearer()))]
            if body != nil || method == "PUT" || method == "DELETE" { headers.append(("Content-Type", "application/json")) }
            if let ifMatch { headers.append(("If-Match", ifMatch)) }
            let response = try send(method, url, headers: headers, body: body?.encoded(), idempotent: safe)
            if response.status == 401 && !refreshed {
                // The token was refused (revoked or expired early): log in again, once.
                refreshed = true
                token.withLock { $0 = $0.map { Token(access: "", refresh: $0.refresh, expires: 0) } }
                continue
            }
            guard (200..<300).contains(response.status) else {
                throw PanoptesError(kind: .http(status: response.status), method: method, url: url,
                                    message: PanoptesError.message(from: response))
            }
            if response.body.isEmpty { return Document(body: .null, etag: response.headers["etag"]) }
            guard let doc = try? JSONValue.decode(response.body) else {
                throw PanoptesError(kind: .badResponse, method: method, url: url, message: "not JSON: \(response.excerpt)")
            }
            return Document(body: doc, etag: response.headers["etag"])
        }
    }

    /// Sends with the rate limit and the retry policy; an error status that is not retried is returned.
    func send(_ method: String, _ url: String, headers: [(String, String)], body: [UInt8]?,
              idempotent: Bool) throws(PanoptesError) -> HTTPResponse {
        let policy = configuration.retry
        var attempt = 1
        while true {
            limiter.acquire()
            let response: HTTPResponse
            do {
                response = try http.request(method, url, headers: headers, body: body)
            } catch {
                guard idempotent, attempt < policy.attempts else {
                    throw PanoptesError(kind: .transport, method: method, url: Self.redacted(url), message: error.reason)
                }
                retryCount.add(1, ordering: .relaxed)
                Thread.sleep(forTimeInterval: policy.delay(after: attempt, retryAfter: nil))
                attempt += 1
                continue
            }
            let again = response.status == 429 || (idempotent && RetryPolicy.retryable(status: response.status))
            guard again, attempt < policy.attempts else { return response }
            retryCount.add(1, ordering: .relaxed)
            Thread.sleep(forTimeInterval: policy.delay(after: attempt, retryAfter: response.headers["retry-after"]))
            attempt += 1
        }
    }

    /// A signed URL without its signature, for messages.
    static func redacted(_ url: String) -> String {
        guard let q = url.firstIndex(of: "?"), url.contains("sig=") else { return url }
        return String(url[..<q]) + "?…"
    }
}
