import Filters
import State
import WebServer
import Foundation

/// One reason a configuration cannot work, with the key (and where it stands in the file).
package struct ConfigurationProblem: Error, CustomStringConvertible, Sendable, Equatable {
    package let file: String
    package let key: String
    package let position: RunConfiguration.Position?
    package let reason: String

    package var description: String { "\(file):\(withinFile)" }

    /// `line:col: key: reason` (or ` key: reason` without a position): the message after the file name.
    package var withinFile: String {
        (position.map { "\($0.line):\($0.column):" } ?? "") + " \(key): \(reason)"
    }
}

extension RunConfiguration {
    /// Everything `citsci run` will need that can be checked before it starts: folders that must
    /// exist or be writable, filters that compile, a state store that opens, a metrics address that
    /// binds. `config check` and `run` both call it, so a check passes only when the run would start.
    package func problems(file: String) -> [ConfigurationProblem] {
        var out: [ConfigurationProblem] = []
        func problem(_ key: String, _ reason: String) {
            out.append(ConfigurationProblem(file: file, key: key, position: positions[key], reason: reason))
        }
        if case .folder(let folder) = source {
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) {
                problem("source.folder", "\(folder) does not exist")
            } else if !FileManager.default.isReadableFile(atPath: folder) {
                problem("source.folder", "\(folder) cannot be read (permissions)")
            }
        }
        if let folder = schemaFolder, !FileManager.default.fileExists(atPath: folder) {
            problem("schemas.folder", "\(folder) does not exist")
        }
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: filters, isDirectory: &isDir) {
            problem("filters", "the folder \(filters) does not exist (see docs/FILTERS.md)")
        } else if !isDir.boolValue {
            problem("filters", "\(filters) is a file; name the folder that holds the filter files")
        } else {
            let set = FilterSet(folder: filters)
            let errors = set.reload()
            for e in errors { problem("filters", "\(e)") }
            if set.filters.isEmpty && errors.isEmpty { problem("filters", "no filter file (*.yaml) in \(filters)") }
        }
        if let reason = Self.unwritableFolder(sink.folder) { problem("sink.folder", reason) }
        if deadLetterTopic == nil, let folder = deadLetterFolder, let reason = Self.unwritableFolder(folder) {
            problem("dead_letters.folder", reason)
        }
        if !StateStore.isPostgreSQL(state) {
            if let reason = Self.unusableSQLite(state) { problem("state", reason) }
        }
        if let address = metricsAddress {
            let endpoint = HTTPEndpoint(host: address.host, port: address.port, insecure: metricsInsecure)
            do {
                try endpoint.checkExposure(MetricsService.access())
                try endpoint.checkBindable()
            } catch {
                problem("metrics.listen", error.description)
            }
        }
        return out
    }

    /// Why `path` cannot hold files citsci writes (nil: it can, or it can be made).
    static func unwritableFolder(_ path: String) -> String? {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { return "\(path) is a file, not a folder" }
            return FileManager.default.isWritableFile(atPath: path) ? nil : "\(path) is not writable (permissions)"
        }
        // Not there yet: it is made at start, if its nearest existing parent lets us.
        var parent = (path as NSString).deletingLastPathComponent
        if parent.isEmpty { parent = "." }
        while !FileManager.default.fileExists(atPath: parent, isDirectory: &isDir) {
            let up = (parent as NSString).deletingLastPathComponent
            if up == parent || up.isEmpty { break }
            parent = up
        }
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDir) else { return nil }
        guard isDir.boolValue else { return "\(path) cannot be made: \(parent) is a file" }
        return FileManager.default.isWritableFile(atPath: parent) ? nil : "\(path) cannot be made: \(parent) is not writable"
    }

    /// Why a SQLite state file cannot be used (nil: it can, or it can be made).
    static func unusableSQLite(_ path: String) -> String? {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { return "\(path) is a folder; name the state database file (e.g. citsci.sqlite)" }
            return StateStore.sqliteProblem(path: path)
        }
        let folder = (path as NSString).deletingLastPathComponent
        return unwritableFolder(folder.isEmpty ? "." : folder).map { "cannot create the state database: \($0)" }
    }
}
