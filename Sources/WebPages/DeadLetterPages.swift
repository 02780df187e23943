import Basics
import Foundation
import WebServer

/// The dead letters in the folder: each with its reason, source and size, downloadable.
struct DeadLetterPages {
    let site: Site
    let layout: Layout
    static let shownLimit = 500

    struct Letter {
        let name: String  // the file name without .json
        let reason: String
        let kind: String
        let source: String
        let bytes: Int
        let modified: Date
    }

    func letters() -> [Letter] {
        guard let folder = site.deadLetterFolder,
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { $0.hasSuffix(".json") }.compactMap { name -> Letter? in
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let doc = try? JSONValue.decode(Array(data)) else { return nil }
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? nil
            // A file's dead letter names it as a topic `file_<name>` (its alert's index as the offset).
            let topic = doc["citsci.source.topic"]?.string ?? ""
            let source = topic.hasPrefix("file_") ? "file \(topic.dropFirst(5)), alert \(doc["citsci.source.offset"]?.string ?? "0")"
                : "\(topic) [\(doc["citsci.source.partition"]?.string ?? "")] @\(doc["citsci.source.offset"]?.string ?? "")"
            return Letter(name: String(name.dropLast(5)), reason: doc["citsci.error"]?.string ?? "", kind: doc["citsci.error.kind"]?.string ?? "",
                          source: source, bytes: doc["citsci.bytes"]?.int ?? 0, modified: modified ?? .distantPast)
        }.sorted { $0.modified > $1.modified }
    }

    func list() -> HTML {
        guard let folder = site.deadLetterFolder else {
            return layout.page("Dead letters", current: "/dead-letters", "<p>Dead letters go to a Kafka topic in this configuration: read them there.</p>")
        }
        let all = letters()
        let rows: [HTML] = all.prefix(Self.shownLimit).map { l in
            """
            <tr><td>\(Self.date(l.modified))</td><td>\(l.kind)</td><td>\(l.reason)</td><td>\(l.source)</td>
            <td class="n">\(HTML.number(Double(l.bytes)))</td>
            <td><a href="\(layout.link("/dead-letters/" + HTML.urlComponent(l.name + ".bin")))" download>bytes</a> ·
            <a href="\(layout.link("/dead-letters/" + HTML.urlComponent(l.name + ".json")))">reason</a></td></tr>
            """
        }
        let body: HTML = """
            <p>\(HTML.number(Double(all.count))) in <code>\(folder)</code>\(all.count > Self.shownLimit ? ", the newest \(Self.shownLimit) shown" : "").
            Each is kept whole, with the reason it could not be used.</p>
            <table><thead><tr><th>when</th><th>kind</th><th>reason</th><th>source</th><th class="n">bytes</th><th></th></tr></thead>
            <tbody>\(rows.isEmpty ? ["<tr><td colspan=\"6\">none</td></tr>"] : rows)</tbody></table>
            """
        return layout.page("Dead letters", current: "/dead-letters", body)
    }

    /// A dead letter's bytes or reason; only names of files in the folder (no path).
    func download(_ name: String) -> HTTPServer.Response {
        guard let folder = site.deadLetterFolder, !name.contains("/"), !name.hasPrefix("."),
              name.hasSuffix(".bin") || name.hasSuffix(".json"),
              let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(name)) else {
            return .text(404, "no such dead letter\n")
        }
        let type = name.hasSuffix(".json") ? "application/json" : "application/octet-stream"
        return .init(status: 200, headers: [("Content-Type", type), ("Content-Disposition", "attachment; filename=\"\(name)\""),
                                            ("X-Content-Type-Options", "nosniff")], body: Array(data))
    }

    /// A time as the pages show it: UTC, to the second ("2026-12-01 06:30:00 UTC").
    static func date(_ d: Date) -> String { d.formatted(utcSeconds) + " UTC" }

    // One style for every call (a DateFormatter made per call cost a few per row of a page).
    private static let utcSeconds = Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: TimeZone(identifier: "UTC")!)
        .year().month().day().time(includingFractionalSeconds: false)
}
