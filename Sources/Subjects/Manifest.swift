import Basics
import Foundation

/// One subject in a `manifest.csv`: its id, its frames (file names in the set's folder, in order)
/// and its metadata.
package struct ManifestRow: Sendable, Equatable {
    /// The alert id: Zooniverse's subject-set import upserts by it, and citsci's push dedupes by it.
    package var externalID: String
    package var frames: [String]
    package var metadata: [(key: String, value: String)]

    package init(externalID: String, frames: [String], metadata: [(key: String, value: String)]) {
        self.externalID = externalID
        self.frames = frames
        self.metadata = metadata
    }

    package func value(_ key: String) -> String? { metadata.first { $0.key == key }?.value }

    package static func == (a: ManifestRow, b: ManifestRow) -> Bool {
        a.externalID == b.externalID && a.frames == b.frames
            && a.metadata.map { [$0.key, $0.value] } == b.metadata.map { [$0.key, $0.value] }
    }
}

/// The `manifest.csv` of a subject set, in a layout both readers accept:
///
/// - Zooniverse's subject-set import reads `external_id`, every `location:*` column in order (the
///   MIME type from the file extension) and `metadata:<key>` columns, and ignores the rest;
/// - the Rubin notebooks' tools read `filename` and `objectId` / `diaObjectId`.
///
///     external_id,filename,objectId,diaObjectId,location:1,location:2,location:3,location:4,metadata:#alert_id,...
///
/// Each row names all its frames (not only the first row, a fault of the Rubin exporter); a row
/// with fewer frames than the set's widest leaves the remaining location cells empty.
package enum Manifest {
    package static let fileName = "manifest.csv"

    package static func header(frameColumns: Int, metadataKeys: [String]) -> [String] {
        ["external_id", "filename", "objectId", "diaObjectId"] + (0..<frameColumns).map { "location:\($0 + 1)" }
            + metadataKeys.map { "metadata:" + $0 }
    }

    /// A whole manifest: the header line, then a line per row.
    package static func text(header: [String], rows: [ManifestRow] = []) -> String {
        header.map(quote).joined(separator: ",") + "\n" + rows.map { line($0, header: header) }.joined()
    }

    /// The CSV line (with its newline) of a row under `header`.
    package static func line(_ row: ManifestRow, header: [String]) -> String {
        var cells: [String] = []
        var frame = 0
        for column in header {
            switch column {
            case "external_id": cells.append(row.externalID)
            case "filename": cells.append(row.frames.first ?? "")
            case "objectId": cells.append(row.value("#objectId") ?? "")
            case "diaObjectId": cells.append(row.value("#diaObjectId") ?? "")
            case _ where column.hasPrefix("location:"):
                cells.append(frame < row.frames.count ? row.frames[frame] : "")
                frame += 1
            case _ where column.hasPrefix("metadata:"):
                cells.append(row.value(String(column.dropFirst("metadata:".count))) ?? "")
            default: cells.append("")
            }
        }
        return cells.map(quote).joined(separator: ",") + "\n"
    }

    static func quote(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Reads a set's manifest. Every frame must exist in `folder` under exactly its name; a repeated
    /// `external_id` keeps its first row; a last line without its newline (a write cut short) is
    /// ignored. Errors say which line and why.
    package static func read(_ path: String) throws(CSVFileError) -> [ManifestRow] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CSVFileError(path: path, line: 0, reason: "cannot read the file")
        }
        let folder = (path as NSString).deletingLastPathComponent
        var text = String(decoding: data, as: UTF8.self)
        if !text.hasSuffix("\n"), let cut = text.lastIndex(of: "\n") { text = String(text[...cut]) }
        let records = try CSV.records(text, path: path)
        guard let header = records.first?.cells else { throw CSVFileError(path: path, line: 1, reason: "empty manifest") }
        guard let idColumn = header.firstIndex(of: "external_id") else {
            throw CSVFileError(path: path, line: 1, reason: "no external_id column")
        }
        let locations = header.indices.filter { header[$0].hasPrefix("location:") }
        guard !locations.isEmpty else { throw CSVFileError(path: path, line: 1, reason: "no location:N columns") }
        let metadata = header.indices.filter { header[$0].hasPrefix("metadata:") }
        // Names compared exactly with the folder's listing (not through a possibly case-folding file system).
        let present = Set((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        var rows: [ManifestRow] = []
        var seen = Set<String>()
        for record in records.dropFirst() {
            let cells = record.cells
            guard cells.count == header.count else {
                throw CSVFileError(path: path, line: record.line, reason: "\(cells.count) cells, the header has \(header.count)")
            }
            let id = cells[idColumn]
            guard !id.isEmpty else { throw CSVFileError(path: path, line: record.line, reason: "empty external_id") }
            guard seen.insert(id).inserted else { continue }
            var frames: [String] = []
            for c in locations where !cells[c].isEmpty {
                let name = cells[c]
                guard present.contains(name) else {
                    throw CSVFileError(path: path, line: record.line, reason: "frame '\(name)' (\(header[c])) is not a file in \(folder)")
                }
                frames.append(name)
            }
            guard !frames.isEmpty else { throw CSVFileError(path: path, line: record.line, reason: "no frames") }
            let meta = metadata.compactMap { c -> (key: String, value: String)? in
                cells[c].isEmpty ? nil : (String(header[c].dropFirst("metadata:".count)), cells[c])
            }
            rows.append(ManifestRow(externalID: id, frames: frames, metadata: meta))
        }
        return rows
    }
}
