import Basics
import Foundation
import State
import Subjects
import WebServer

/// The sink's subject sets with their state on Zooniverse, and each subject as a volunteer will
/// see it: its frames, the flipbook blinking, the light curve drawn from its JSON, its hidden
/// metadata and provenance.
struct SubjectPages {
    let site: Site
    let layout: Layout
    static let setsPerPage = 50
    static let subjectsPerPage = 24

    func list(page: Int) async -> HTML {
        let state = site.state
        let result = await Site.blocking { () throws -> (Int, [SinkLedger.SetListing], [String: [ZooniverseLedger.SetOnZooniverse]]) in
            let sets = try state.sink.sets(limit: Self.setsPerPage, offset: page * Self.setsPerPage)
            return (try state.sink.setCount(), sets, try state.zooniverse.sets(named: sets.map(\.set.name)))
        }
        guard case .success(let (total, sets, onZooniverse)) = result else {
            return layout.page("Subjects", current: "/subjects", failure(result))
        }
        let rows: [HTML] = sets.map { s in
            let zooniverse: [HTML] = (onZooniverse[s.set.name] ?? []).map(zooniverseCell)
            return """
                <tr><td><a href="\(layout.link("/subjects/" + HTML.urlComponent(s.set.name)))">\(s.set.name)</a></td>
                <td>\(s.set.filter)</td><td>\(s.set.destination)</td>
                <td>\(DeadLetterPages.date(s.openedAt))</td><td>\(s.closedAt.map(DeadLetterPages.date) ?? "open")</td>
                <td class="n">\(HTML.number(Double(s.set.size)))</td>
                <td>\(zooniverse.isEmpty ? ["<span>not pushed</span>"] : zooniverse)</td></tr>
                """
        }
        let body: HTML = """
            <p>\(HTML.number(Double(total))) subject sets in the sink, newest first. A set closes when it is full or old
            enough; <code>citsci push</code> (or the service's push) sends the closed ones to Zooniverse.</p>
            <table><thead><tr><th>set</th><th>filter</th><th>destination</th><th>opened</th><th>closed</th>
            <th class="n">subjects</th><th>on Zooniverse</th></tr></thead>
            <tbody>\(rows.isEmpty ? ["<tr><td colspan=\"7\">none yet</td></tr>"] : rows)</tbody></table>
            \(pager("/subjects", page: page, shown: sets.count, per: Self.setsPerPage, total: total))
            """
        return layout.page("Subjects", current: "/subjects", body)
    }

    private func zooniverseCell(_ z: ZooniverseLedger.SetOnZooniverse) -> HTML {
        let total = z.subjects.values.reduce(0, +)
        let id: HTML = z.zooniverseID.map { id in
            "set <a href=\"\(site.zooniverse.setURL(project: z.project, set: id))\" rel=\"noopener\">\(id)</a>"
        } ?? "set not made yet"
        let phases: [HTML] = ZooniverseLedger.Phase.allCases.compactMap { p in
            z.subjects[p.rawValue].map { "<span class=\"phase-\(p.rawValue)\">\(p.rawValue) \(HTML.number(Double($0)))</span> " }
        }
        let held: [HTML] = z.held.sorted { $0.key < $1.key }.map { "<br><small>held \(HTML.number(Double($0.value))): \($0.key)</small>" }
        return "<div>project \(z.project), \(id) (\(z.phase.rawValue)); \(HTML.number(Double(total))) subjects: \(phases)\(held)</div>"
    }

    func set(_ name: String, page: Int) async -> HTTPServer.Response? {
        let state = site.state
        let found = await Site.blocking { () throws -> (SinkLedger.SetRow?, [ZooniverseLedger.SetOnZooniverse]) in
            guard let set = try state.sink.set(named: name) else { return (nil, []) }
            return (set, try state.zooniverse.sets(named: [name])[name] ?? [])
        }
        guard case .success(let (row, onZooniverse)) = found else {
            return site.page(layout.page("Subject set", current: "/subjects", failure(found)), status: 500)
        }
        guard let row else { return nil }
        let rows: [ManifestRow]
        do { rows = try Manifest.read(row.folder + "/" + Manifest.fileName) } catch {
            return site.page(layout.page("Subject set \(name)", current: "/subjects", "<pre class=\"error\">\(error.description)</pre>"))
        }
        let states = (await Site.blocking { try state.zooniverse.subjects(inSet: name, projects: onZooniverse.map(\.project)) }).value ?? [:]
        let newestFirst = Array(rows.reversed())
        let shown = newestFirst.dropFirst(page * Self.subjectsPerPage).prefix(Self.subjectsPerPage)
        let cards: [HTML] = shown.map { subject($0, set: row, zooniverse: states[$0.externalID]) }
        let body: HTML = """
            <p>Filter <strong>\(row.filter)</strong> → \(row.destination); \(HTML.number(Double(rows.count))) subjects in
            <code>\(row.folder)</code>, newest first. \((onZooniverse.map(zooniverseCell)))</p>
            <div class="subjects">\(cards.isEmpty ? ["<p>no subject in this set yet</p>"] : cards)</div>
            \(pager("/subjects/" + HTML.urlComponent(name), page: page, shown: shown.count, per: Self.subjectsPerPage, total: rows.count))
            """
        return site.page(layout.page("Subject set \(name)", current: "/subjects", body))
    }

    /// One subject as a volunteer sees it, then what only the science team sees.
    private func subject(_ row: ManifestRow, set: SinkLedger.SetRow, zooniverse: ZooniverseLedger.SubjectRef?) -> HTML {
        let images = row.frames.filter { $0.hasSuffix(".png") }
        func src(_ file: String) -> String { layout.link("/sink/" + HTML.urlComponent(set.name) + "/" + HTML.urlComponent(file)) }
        let frames: [HTML] = images.enumerated().map { i, f in "<figure><img src=\"\(src(f))\" alt=\"frame \(i + 1)\" loading=\"lazy\"><figcaption>\(i + 1)</figcaption></figure>" }
        // The blink: the frames stacked, each shown in turn (CSS only).
        let n = min(images.count, Layout.maxBlinkFrames)
        let blink: HTML = n > 1
            ? "<div class=\"blink b\(n)\" title=\"the frames in turn, as the flipbook plays\">\(images.prefix(n).enumerated().map { i, f -> HTML in "<img src=\"\(src(f))\" alt=\"\" style=\"animation-delay:\(Double(i - n) * Layout.blinkStep)s\">" })</div>"
            : ""
        let curve: HTML = row.frames.first { $0.hasSuffix("_lightcurve.json") }
            .flatMap { FileManager.default.contents(atPath: set.folder + "/" + $0) }
            .flatMap { LightCurveSVG.draw(Array($0)) } ?? ""
        let shown: [HTML] = row.metadata.filter { !$0.key.hasPrefix("#") && !$0.key.hasPrefix("!") }
            .map { "<dt>\($0.key)</dt><dd>\($0.value)</dd>" }
        let hidden: [HTML] = row.metadata.filter { $0.key.hasPrefix("#") || $0.key.hasPrefix("!") }
            .map { "<tr><th>\($0.key)</th><td>\($0.value)</td></tr>" }
        let state: HTML = zooniverse.map { z in
            let link: HTML = z.zooniverseID.map { id in
                " · subject <a href=\"\(site.zooniverse.subjectURL(subject: id))\" rel=\"noopener\">\(id)</a>"
            } ?? ""
            return "<p class=\"phase-\(z.phase.rawValue)\">\(z.phase.rawValue)\(z.reason.map { ": \($0)" } ?? "")\(link)</p>"
        } ?? "<p>not pushed</p>"
        return """
            <article class="subject" id="s\(row.externalID)"><h3>\(row.externalID)</h3>
            <div class="frames">\(frames)\(blink)</div>\(curve)
            <dl>\(shown)</dl>\(state)
            <details><summary>hidden metadata and provenance</summary><table>\(hidden)</table></details>
            </article>
            """
    }

    /// A frame or light curve of a set: only a plain file name of a set the sink knows.
    func file(set name: String, _ file: String) async -> HTTPServer.Response {
        guard Self.isPlainFileName(file), file.hasSuffix(".png") || file.hasSuffix(".json") else {
            return .text(404, "no such file: a set's files are /sink/<set>/<name>.png or .json\n")
        }
        let state = site.state
        guard case .success(let row?) = await Site.blocking({ try state.sink.set(named: name) }),
              let data = FileManager.default.contents(atPath: row.folder + "/" + file) else {
            return .text(404, "no file \(file) in set \(name)\n")
        }
        return .init(status: 200, headers: [("Content-Type", file.hasSuffix(".png") ? "image/png" : "application/json"),
                                            ("Cache-Control", "max-age=3600"), ("X-Content-Type-Options", "nosniff")], body: Array(data))
    }

    static func isPlainFileName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 200 && !s.hasPrefix(".") && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
    }

    private func failure<T>(_ r: Result<T, any Error>) -> HTML {
        if case .failure(let e) = r { return Site.storeFailure(e) }
        return ""
    }

    func pager(_ path: String, page: Int, shown: Int, per: Int, total: Int) -> HTML {
        var links: [HTML] = []
        if page > 0 { links.append("<a href=\"\(layout.link(path))?page=\(page - 1)\" rel=\"prev\">← newer</a>") }
        if (page + 1) * per < total { links.append("<a href=\"\(layout.link(path))?page=\(page + 1)\" rel=\"next\">older →</a>") }
        return links.isEmpty ? "" : "<nav class=\"pager\">\(links)</nav>"
    }
}

extension Result {
    var value: Success? { if case .success(let v) = self { v } else { nil } }
}
