import Basics
import Foundation

/// Where a set's subjects go on Zooniverse. `project` nil: the folder sink only.
package struct SubjectDestination: Sendable, Hashable, CustomStringConvertible {
    package var project: String?
    package var workflow: String?
    package init(project: String?, workflow: String?) { self.project = project; self.workflow = workflow }
    /// "43/47", "43/-", or "-" (folder only): the key subjects are deduplicated by.
    package var description: String { project.map { "\($0)/\(workflow ?? "-")" } ?? "-" }
}

/// A subject set in the folder sink: `<root>/<name>/` holds its frames, its `manifest.csv` and this
/// description as `set.json`, which `citsci push` reads to know where the set goes.
package struct SubjectSetFolder: Sendable, Codable, Equatable {
    package var name: String
    package var filter: String
    package var project: String?
    package var workflow: String?
    package var frameColumns: Int
    package var metadataKeys: [String]
    package var openedAt: Date
    package var closedAt: Date?

    enum CodingKeys: String, CodingKey {
        case name, filter, project, workflow
        case frameColumns = "frame_columns", metadataKeys = "metadata_keys", openedAt = "opened_at", closedAt = "closed_at"
    }

    package static let fileName = "set.json"

    package var header: [String] { Manifest.header(frameColumns: frameColumns, metadataKeys: metadataKeys) }

    package static func read(folder: String) throws -> SubjectSetFolder {
        let path = folder + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CSVFileError(path: path, line: 0, reason: "missing: not a subject-set folder")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(SubjectSetFolder.self, from: data) } catch {
            throw CSVFileError(path: path, line: 0, reason: "not a valid set description: \(error)")
        }
    }

    /// Writes set.json atomically (a new file renamed over the old).
    package func write(folder: String) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: folder + "/" + Self.fileName), options: .atomic)
    }

    /// The closed sets among `list(root)`: those ready to push whole.
    package static func closed(in root: String) -> [String] {
        list(root).filter { (try? read(folder: $0).closedAt) != nil }
    }

    /// The subject-set folders under `root` (or `root` itself when it is one), by name.
    package static func list(_ root: String) -> [String] {
        let fm = FileManager.default
        if fm.fileExists(atPath: root + "/" + fileName) { return [root] }
        let names = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted()
        return names.map { root + "/" + $0 }.filter { fm.fileExists(atPath: $0 + "/" + fileName) }
    }
}
