import AlertModel
import Basics
import Classifications
import Filters
import Foundation
import State
import WebServer

/// The pages and the few JSON answers behind them, over the running service's (or a stopped one's)
/// state: read-only for anyone who may reach the server; saving a filter needs the token.
package struct Site: Sendable {
    package let filters: FilterSet
    package let state: StateStore
    /// Writer schemas for the window's Rubin packets (its schema registry or folder).
    package let schemas: (any WriterSchemaSource)?
    /// The metrics registry's text (the stream page reads its figures from it).
    package let metrics: @Sendable () -> String
    /// The dead-letter folder, when dead letters go to one.
    package let deadLetterFolder: String?
    /// What saving a filter needs (`Authorization: Bearer <token>`); nil: saving is off.
    package let token: String?
    /// Alerts the playground runs a rule over, newest first.
    package let playgroundAlerts: Int
    /// Where sets and subjects are seen on Zooniverse.
    package let zooniverse: ZooniverseLinks
    /// When the results page calls a subject retired (the service's rule).
    package let retirement: RetirementRule
    /// Whether a pipeline runs beside the pages (`citsci run`), or they only look (`citsci serve`).
    package let consuming: Bool

    package init(filters: FilterSet, state: StateStore, schemas: (any WriterSchemaSource)?, metrics: @escaping @Sendable () -> String,
                 deadLetterFolder: String?, token: String?, playgroundAlerts: Int = 10_000,
                 zooniverse: ZooniverseLinks = ZooniverseLinks(project: nil), retirement: RetirementRule = RetirementRule(), consuming: Bool = true) {
        self.consuming = consuming
        self.zooniverse = zooniverse
        self.retirement = retirement
        self.filters = filters
        self.state = state
        self.schemas = schemas
        self.metrics = metrics
        self.deadLetterFolder = deadLetterFolder
        self.token = token
        self.playgroundAlerts = playgroundAlerts
    }

    /// The token from the environment (CITSCI_WEB_TOKEN), or nil.
    package static func token(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        environment["CITSCI_WEB_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The answer for a request the pages own; nil for any other path.
    package func respond(_ request: HTTPServer.Request) async -> HTTPServer.Response? {
        let layout = Layout(prefix: Self.prefix(request.headers["x-forwarded-prefix"]))
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (request.method, parts.first ?? "") {
        case ("GET", "") where parts.isEmpty: return page(await StreamPage(site: self, layout: layout).render())
        case ("GET", "api") where parts == ["api", "stream"]: return .json(200, StreamPage.snapshot(metrics()))
        case ("GET", "filters") where parts.count == 1: return page(FilterPages(site: self, layout: layout).list())
        case ("GET", "playground") where parts.count == 1: return page(FilterPages(site: self, layout: layout).playground(name: request.query["filter"]))
        case ("POST", "playground") where parts == ["playground", "check"]:
            return .json(200, FilterPages(site: self, layout: layout).check(String(decoding: request.body, as: UTF8.self)))
        case ("POST", "playground") where parts == ["playground", "run"]:
            let html = await FilterPages(site: self, layout: layout).run(String(decoding: request.body, as: UTF8.self))
            return page(html)
        case ("POST", "filters") where parts == ["filters", "save"]:
            return FilterPages(site: self, layout: layout).save(request)
        case ("GET", "window") where parts.count == 4:
            return await WindowFrames(site: self).frame(survey: parts[1], alertID: parts[2], file: parts[3])
        case ("GET", "subjects") where parts.count == 1: return page(await SubjectPages(site: self, layout: layout).list(page: Self.page(request)))
        case ("GET", "subjects") where parts.count == 2:
            return await SubjectPages(site: self, layout: layout).set(parts[1], page: Self.page(request)) ?? notFound(layout)
        case ("GET", "sink") where parts.count == 3: return await SubjectPages(site: self, layout: layout).file(set: parts[1], parts[2])
        case ("GET", "results") where parts.count == 1: return page(await ResultPages(site: self, layout: layout).list(page: Self.page(request)))
        case ("GET", "dead-letters") where parts.count == 1: return page(DeadLetterPages(site: self, layout: layout).list())
        case ("GET", "dead-letters") where parts.count == 2: return DeadLetterPages(site: self, layout: layout).download(parts[1])
        default:
            // A page's address with another method or a wrong tail: said here; anything else is not ours.
            guard parts.isEmpty || Self.sections.contains(parts[0]) else { return nil }
            guard !["GET", "HEAD"].contains(request.method) else { return notFound(layout) }
            return page(layout.page("Method not allowed", current: "", "<p>This address does not take \(request.method).</p>"), status: 405)
        }
    }

    /// Runs a blocking read (the state store, the sink's files) off Swift's cooperative pool, and off
    /// the pipeline's own blocking threads, so a page never holds up the ordered stage.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async -> Result<T, any Error> {
        do { return .success(try await offload(body)) } catch { return .failure(error) }
    }

    /// What a page says when the state store cannot be read.
    static func storeFailure(_ error: any Error) -> HTML {
        "<pre class=\"error\">cannot read the state store: \(String(describing: error))</pre>"
    }

    static let sections: Set<String> = ["api", "filters", "playground", "window", "subjects", "sink", "results", "dead-letters"]

    func notFound(_ layout: Layout) -> HTTPServer.Response {
        page(layout.page("Not found", current: "", "<p>No page at this address.</p>"), status: 404)
    }

    /// The `page` query value: a page number from 0, anything else the first page.
    static func page(_ request: HTTPServer.Request) -> Int {
        request.query["page"].flatMap { Int($0) }.map { min(max($0, 0), 100_000) } ?? 0
    }

    func page(_ html: HTML, status: Int = 200) -> HTTPServer.Response {
        HTTPServer.Response(status: status, headers: Self.pageHeaders, body: Array(html.raw.utf8))
    }

    /// No script from elsewhere, no framing by another site, no guessing of types.
    static let pageHeaders: [(String, String)] = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-store"),
    ]

    /// A proxy's path prefix, kept only when it is a plain path (`/citsci`), so a header cannot
    /// inject markup or a scheme.
    static func prefix(_ header: String?) -> String {
        guard var p = header?.trimmingCharacters(in: .whitespaces), !p.isEmpty else { return "" }
        while p.hasSuffix("/") { p.removeLast() }
        guard p.hasPrefix("/"), !p.hasPrefix("//"),
              p.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "/-_.~".unicodeScalars.contains($0) }) else { return "" }
        return p
    }
}
