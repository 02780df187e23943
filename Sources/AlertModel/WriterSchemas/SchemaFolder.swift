import Avro
import Foundation
import Synchronization

/// Writer schemas from a local folder, in either of two layouts:
/// - `<id>.avsc`: one self-contained schema per id;
/// - the lsst-alert-packet tree, `<major>/<minor>/lsst.v<major>_<minor>.alert.avsc` with its sibling
///   named types, where Rubin's registry id is 100 × major + minor (702 = 7.2, 1101 = 11.1).
package final class SchemaFolder: WriterSchemaSource {
    package let root: URL
    private let cache = Mutex<[UInt32: AvroSchema]>([:])

    package init(path: String) throws(AlertDecodingError) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw AlertDecodingError(.schemaUnavailable, "schema folder \(path) does not exist", offset: 0)
        }
        self.root = URL(fileURLWithPath: path)
    }

    package func schema(id: UInt32) throws(AlertDecodingError) -> AvroSchema {
        if let hit = cache.withLock({ $0[id] }) { return hit }
        let loaded = try load(id: id)
        cache.withLock { $0[id] = loaded }
        return loaded
    }

    private func load(id: UInt32) throws(AlertDecodingError) -> AvroSchema {
        let flat = root.appendingPathComponent("\(id).avsc")
        if FileManager.default.fileExists(atPath: flat.path) {
            return try parseFiles([flat], main: flat)
        }
        let major = id / 100, minor = id % 100
        let dir = root.appendingPathComponent("\(major)/\(minor)")
        let main = dir.appendingPathComponent("lsst.v\(major)_\(minor).alert.avsc")
        guard FileManager.default.fileExists(atPath: main.path) else {
            throw AlertDecodingError(.unknownSchemaId,
                "schema id \(id): neither \(flat.lastPathComponent) nor \(major)/\(minor)/\(main.lastPathComponent) in \(root.path)", offset: 1)
        }
        let siblings = ((try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "avsc" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try parseFiles(siblings, main: main)
    }

    /// Parses files that refer to each other's named types, in whatever order resolves them.
    private func parseFiles(_ files: [URL], main: URL) throws(AlertDecodingError) -> AvroSchema {
        var named: [String: AvroSchema] = [:]
        // Keyed by file name: URLs of one file can differ ("a/../b"), names in one folder cannot.
        var parsed: [String: AvroSchema] = [:]
        var pending = files
        var lastError: Error? = nil
        while !pending.isEmpty {
            var progress = false
            for file in pending {
                do {
                    let data = try Data(contentsOf: file)
                    let (schema, defined) = try AvroSchema.parseDefining(data: data, namedTypes: named)
                    named.merge(defined) { a, _ in a }
                    parsed[file.lastPathComponent] = schema
                    progress = true
                } catch {
                    lastError = error
                }
            }
            pending.removeAll { parsed[$0.lastPathComponent] != nil }
            if !progress { break }
        }
        guard let schema = parsed[main.lastPathComponent] else {
            throw AlertDecodingError(.invalidSchema, "\(main.path): \(lastError.map { "\($0)" } ?? "not parsed")", offset: 0)
        }
        return schema
    }
}
