import Basics
import Classifications
import Foundation
import State
import WebServer

/// What volunteers said, newest first: per subject (grouped by object) the counts, the consensus
/// and its agreement, whether it is retired, next to its stamps and a link to it on Zooniverse.
struct ResultPages {
    let site: Site
    let layout: Layout
    static let perPage = 50

    struct Row {
        let result: SubjectResult
        let subject: ZooniverseLedger.Subject?
    }

    func list(page: Int) async -> HTML {
        let (state, rule) = (site.state, site.retirement)
        let read = await Site.blocking { () throws -> (Bool, [Row]) in
                var keys = try state.lastClassifiedSubjects(limit: Self.perPage + 1, offset: page * Self.perPage)
                let more = keys.count > Self.perPage
                keys = Array(keys.prefix(Self.perPage))
                var aggregator = Aggregator(rule: rule)
                for c in try state.classifications(of: keys) { aggregator.add(c) }
                let rows = try keys.compactMap { key -> Row? in
                    guard let result = aggregator.result(key) else { return nil }
                    return Row(result: result, subject: try state.zooniverse.subject(zooniverseID: key.subjectID)?.subject)
                }
                return (more, rows)
        }
        let more: Bool, rows: [Row]
        switch read {
        case .success(let r): (more, rows) = r
        case .failure(let e): return layout.page("Results", current: "/results", Site.storeFailure(e))
        }
        var lastObject: String? = nil
        let lines: [HTML] = rows.map { row in
            let object = Self.objectID(row)
            let first = object != lastObject
            lastObject = object
            return line(row, object: object, firstOfObject: first)
        }
        let body: HTML = """
            <p>Subjects classified, the last classified first; retirement: \(site.retirement.description).
            Each volunteer counts once, by their latest classification.</p>
            <table class="results"><thead><tr><th>object</th><th>stamps</th><th>subject</th><th class="n">volunteers</th>
            <th>consensus</th><th>counts</th><th>retired</th><th>last</th></tr></thead>
            <tbody>\(lines.isEmpty ? ["<tr><td colspan=\"8\">no classification pulled yet</td></tr>"] : lines)</tbody></table>
            \(SubjectPages(site: site, layout: layout).pager("/results", page: page, shown: rows.count, per: Self.perPage, total: page * Self.perPage + rows.count + (more ? 1 : 0)))
            """
        return layout.page("Results", current: "/results", body)
    }

    static func objectID(_ row: Row) -> String {
        let m = row.result.metadata
        return row.subject?.objectID ?? m["#object_id"]?.string ?? m["#diaObjectId"]?.id ?? m["#objectId"]?.string ?? "?"
    }

    private func line(_ row: Row, object: String, firstOfObject: Bool) -> HTML {
        let r = row.result
        let stamps: [HTML] = (row.subject.map { s in
            s.frames.filter { $0.name.hasSuffix(".png") }.prefix(3).map { f -> HTML in
                "<img class=\"stamp\" src=\"\(layout.link("/sink/" + HTML.urlComponent(s.setName) + "/" + HTML.urlComponent(f.name)))\" alt=\"\" loading=\"lazy\">"
            }
        }) ?? []
        let task = r.tasks.first { $0.kind == .question || $0.kind == .multiple || $0.kind == .survey } ?? r.tasks.first
        let consensus: HTML = task.flatMap { t in
            t.mostLikely.map { "<strong>\($0)</strong> \(t.agreement.map { HTML.number($0 * 100) + "%" } ?? "")" as HTML }
        } ?? "-"
        let counts: HTML = HTML(text: task.map { t in
            t.counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }.joined(separator: " · ")
        } ?? "")
        let setLink: HTML = row.subject.map { s in
            " <small>in <a href=\"\(layout.link("/subjects/" + HTML.urlComponent(s.setName)))#s\(HTML.urlComponent(s.externalID))\">\(s.setName)</a></small>"
        } ?? ""
        return """
            <tr\(firstOfObject ? " class=\"object\"" : "")><td>\(firstOfObject ? HTML(text: object) : "")</td><td>\(stamps)</td>
            <td><a href="\(site.zooniverse.subjectURL(subject: r.subjectID))" rel="noopener">\(r.subjectID)</a>\(setLink)<br><small>workflow \(r.workflowID)</small></td>
            <td class="n">\(r.volunteers)</td><td>\(consensus)</td><td>\(counts)</td><td>\(r.retired ? "yes" : "no")</td>
            <td>\(DeadLetterPages.date(r.updatedAt))</td></tr>
            """
    }
}
