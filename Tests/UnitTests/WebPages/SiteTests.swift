import AlertModel
import Basics
import Filters
import Foundation
import State
import Testing
import TestSupport
import WebPages
import WebServer

/// The pages as a browser gets them: every outside value escaped, the playground's check and run,
/// saving only with the token and only into the filters folder, addresses that are not pages left
/// to the server. (A real browser drives them in the integration tests.)
@Suite struct SiteTests {
    static let hostile = "<script>window.__pwned=1</script>"

    /// A filters folder (the examples and one whose texts hold markup) and an in-memory store.
    func makeSite(token: String? = "sekrit", window: [String] = [], metrics: String = "") throws -> (Site, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-site-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: Paths.packageRoot.appendingPathComponent("examples/filters").path) {
            try FileManager.default.copyItem(atPath: Paths.packageRoot.appendingPathComponent("examples/filters/\(name)").path,
                                             toPath: "\(folder)/\(name)")
        }
        try """
            name: "x\(Self.hostile)"
            description: "\(Self.hostile)"
            owner: "<b>pi</b>"
            expression: snr > 5
            destination: {project: "1", workflow: "2"}
            """.write(toFile: "\(folder)/hostile.yaml", atomically: true, encoding: .utf8)
        let filters = FilterSet(folder: folder)
        #expect(filters.reload().isEmpty)
        let state = try StateStore(path: ":memory:")
        var entries: [RecentAlerts.Entry] = []
        for (i, path) in window.enumerated() {
            let bytes = try Paths.bytes(path)
            let alerts = try AlertDecoder().decode(bytes)
            for (k, a) in alerts.enumerated() {
                entries.append(.init(survey: a.survey.rawValue, alertID: a.alertId, objectID: a.objectId, receivedAt: Double(i),
                                     source: path, packet: bytes, index: k))
            }
        }
        try state.recent.add(entries, keep: 10_000)
        return (Site(filters: filters, state: state, schemas: nil, metrics: { metrics }, deadLetterFolder: nil, token: token), folder)
    }

    func get(_ site: Site, _ path: String, headers: [String: String] = [:]) async throws -> (Int, String) {
        let r = try #require(await site.respond(HTTPServer.Request(method: "GET", path: path, headers: headers)))
        return (r.status, String(decoding: r.body, as: UTF8.self))
    }

    func post(_ site: Site, _ path: String, _ body: String, headers: [String: String] = [:]) async throws -> HTTPServer.Response {
        try #require(await site.respond(HTTPServer.Request(method: "POST", path: path, headers: headers, body: Array(body.utf8))))
    }

    @Test func everyOutsideValueIsEscaped() async throws {
        let (site, _) = try makeSite()
        let (status, page) = try await get(site, "/filters")
        #expect(status == 200)
        #expect(!page.contains("<script>window"), "markup from a filter file reached the page")
        #expect(page.contains("x&lt;script&gt;window.__pwned=1&lt;/script&gt;"))
        #expect(page.contains("&lt;b&gt;pi&lt;/b&gt;"))
        let playground = try await get(site, "/playground")
        #expect(playground.0 == 200)
        let chosen = try #require(await site.respond(HTTPServer.Request(method: "GET", path: "/playground", query: ["filter": "x" + Self.hostile])))
        let text = String(decoding: chosen.body, as: UTF8.self)
        #expect(!text.contains("<script>window") && text.contains("value=\"x&lt;script&gt;"))
        let interpolated: HTML = "<td>\(Self.hostile)</td><td>\("a\"b'c&")</td>"
        #expect(interpolated.raw == "<td>&lt;script&gt;window.__pwned=1&lt;/script&gt;</td><td>a&quot;b&#39;c&amp;</td>")
    }

    @Test func aProxyPrefixLeadsEveryLinkAndCannotInjectMarkup() async throws {
        let (site, _) = try makeSite()
        let (_, page) = try await get(site, "/filters", headers: ["x-forwarded-prefix": "/citsci/"])
        #expect(page.contains("href=\"/citsci/playground\"") && page.contains("data-prefix=\"/citsci\""))
        for bad in ["\"><script>", "//evil.example", "https://evil.example", "/a b"] {
            let (_, p) = try await get(site, "/", headers: ["x-forwarded-prefix": bad])
            #expect(p.contains("data-prefix=\"\"") && !p.contains("evil"), "prefix \(bad) was used")
        }
    }

    @Test func theCheckSaysWhereAndSuggests() async throws {
        let (site, _) = try makeSite()
        let r = try await post(site, "/playground/check", "snr > 5\n  and magnitdue < 19")
        let doc = try JSONValue.decode(r.body)
        #expect(doc["ok"] == .bool(false))
        #expect(doc["line"]?.int == 2 && doc["column"]?.int == 7)
        #expect(doc["suggestion"]?.string == "magnitude")
        #expect(doc["message"]?.string?.contains("      ^^^^^^^^^") == true, "\(doc)")
        let good = try JSONValue.decode(try await post(site, "/playground/check", "snr > 5 and magnitude < 19").body)
        #expect(good["ok"] == .bool(true) && good["clauses"]?.array?.count == 2)
    }

    @Test(.enabled(if: Paths.hasSharedData, Comment(rawValue: Paths.missingDataMessage)))
    func thePlaygroundRunsOverTheWindowAsTheFilterWould() async throws {
        let files = Paths.avroFiles("ztf-fink-distributed")
        let (site, _) = try makeSite(window: files)
        let expression = "candidate.rb > 0.5 and magnitude < 19"
        let rule = try FilterRule(name: "t", expression: expression)
        var expected = 0, firstClause = 0
        var seen: Set<Int64> = []  // the window holds an alert once (one is in two of the files)
        for f in files {
            for a in try AlertDecoder().decode(try Paths.bytes(f)) where seen.insert(a.alertId).inserted {
                if rule.matches(a) { expected += 1 }
                if rule.clauses[0].passes(a) == true { firstClause += 1 }
            }
        }
        #expect(expected > 0 && expected < files.count)
        let html = String(decoding: try await post(site, "/playground/run", expression).body, as: UTF8.self)
        #expect(html.contains("data-matches=\"\(expected)\" data-read=\"\(seen.count)\""), "\(html.prefix(400))")
        #expect(html.contains("<td class=\"n\">\(HTML.number(Double(firstClause)))</td>"))
        let frames = html.components(separatedBy: "src=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        #expect(frames.count == 3 * min(expected, 24))
        let png = try #require(await site.respond(HTTPServer.Request(method: "GET", path: String(frames[0]))))
        #expect(png.status == 200 && png.body.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let missing = try #require(await site.respond(HTTPServer.Request(method: "GET", path: "/window/ztf/1/0.png")))
        #expect(missing.status == 404)
        let typo = String(decoding: try await post(site, "/playground/run", "magnitdue < 19").body, as: UTF8.self)
        #expect(typo.contains("did you mean &#39;magnitude&#39;?"))
    }

    @Test func savingNeedsTheTokenAndStaysInTheFiltersFolder() async throws {
        let (site, folder) = try makeSite(token: "sekrit")
        let doc = #"{"name": "new-one", "expression": "snr > 7", "description": "from the page", "project": "9", "workflow": "10"}"#
        #expect(try await post(site, "/filters/save", doc).status == 401)
        #expect(try await post(site, "/filters/save", doc, headers: ["authorization": "Bearer wrong"]).status == 401)
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/new-one.yaml"))
        for name in ["../escape", "a/b", ".hidden", "", String(repeating: "a", count: 65)] {
            let bad = #"{"name": "\#(name)", "expression": "snr > 7"}"#
            #expect(try await post(site, "/filters/save", bad, headers: ["authorization": "Bearer sekrit"]).status == 400, "\(name)")
        }
        let invalid = try await post(site, "/filters/save", #"{"name": "bad", "expression": "snr >"}"#, headers: ["authorization": "Bearer sekrit"])
        #expect(invalid.status == 422 && !FileManager.default.fileExists(atPath: "\(folder)/bad.yaml"))
        let ok = try await post(site, "/filters/save", doc, headers: ["authorization": "Bearer sekrit"])
        #expect(ok.status == 200, "\(String(decoding: ok.body, as: UTF8.self))")
        let saved = try #require(site.filters.filters.first { $0.name == "new-one" }, "the service reloaded it")
        #expect(saved.rule.expression == "snr > 7" && saved.destination.workflow == "10" && saved.description == "from the page")
        // An existing filter is edited in its own file, its other keys kept.
        let edit = #"{"name": "bright-transients", "expression": "magnitude < 16"}"#
        #expect(try await post(site, "/filters/save", edit, headers: ["authorization": "Bearer sekrit"]).status == 200)
        let bright = try #require(site.filters.filters.first { $0.name == "bright-transients" })
        #expect(bright.path.hasSuffix("bright-transients.yaml") && bright.rule.expression == "magnitude < 16")
        #expect(bright.perHour == 500 && bright.destination.workflow == "5678")
        let (off, _) = try makeSite(token: nil)
        #expect(try await post(off, "/filters/save", doc, headers: ["authorization": "Bearer sekrit"]).status == 403)
    }

    @Test func otherAddressesAreLeftToTheServer() async throws {
        let (site, _) = try makeSite(metrics: "citsci_alerts_total 12\ncitsci_consumer_lag{topic=\"alerts\",partition=\"3\"} 40\n")
        #expect(await site.respond(HTTPServer.Request(method: "GET", path: "/metrics")) == nil)
        #expect(await site.respond(HTTPServer.Request(method: "GET", path: "/healthz")) == nil)
        #expect(try await get(site, "/filters/nothing").0 == 404)
        #expect(try await post(site, "/filters", "").status == 405)
        let stream = try JSONValue.decode(try #require(await site.respond(HTTPServer.Request(method: "GET", path: "/api/stream"))).body)
        #expect(stream["totals"]?["citsci_alerts_total"]?.int == 12)
        #expect(stream["lag"]?[0]?["partition"]?.string == "3" && stream["lag"]?[0]?["lag"]?.int == 40)
        let (status, page) = try await get(site, "/")
        #expect(status == 200 && page.contains("data-metric=\"citsci_alerts_total\">12<"))
    }
}
