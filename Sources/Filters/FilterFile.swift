import AlertModel
import Stamps
import Foundation
import Yams

/// A PI's filter file (YAML):
///
///     name: bright-transients
///     description: New bright transients for volunteers to vet
///     owner: pi@example.org
///     survey: rubin                 # optional: rubin or ztf (default: every survey whose fields fit)
///     enabled: true
///     expression: |
///       diaSource.snr > 10 AND reliability > 0.8
///     destination: {project: 1234, workflow: 5678, subject_set: "{filter}-{date}-{n}"}
///     flipbook: {kind: triplet, interval: zscale, stretch: asinh, size: 300}
///     limits: {per_hour: 100, per_night: 1000}
package final class FilterFile: Sendable {
    package struct Destination: Sendable, Equatable {
        package var project: String?
        package var workflow: String?
        /// Subject-set names: {filter}, {date} (UTC night, yyyy-MM-dd) and {n} (sequence) are filled in.
        package var subjectSet: String = "{filter}-{date}-{n}"
    }

    /// How the filter's matches are drawn, checked when the file is read (a typo is an error with
    /// its place and the closest word, never a silent default).
    package struct Flipbook: Sendable, Equatable {
        package var kind: FlipbookKind = .triplet
        package var interval: Interval = .zscale()
        package var stretch: Stretch = .linear
        /// Frames are size × size pixels.
        package var size = 300

        package static let sizes = 16...2048
        package static let keys = ["kind", "interval", "stretch", "size"]
        package static let intervals = ["zscale", "minmax", "percentile", "percentile(99.5)", "zscale(0.25)"]
        package static let stretches = ["linear", "asinh", "log", "sqrt", "asinh(0.1)", "log(1000)"]

        package init(kind: FlipbookKind = .triplet, interval: Interval = .zscale(), stretch: Stretch = .linear, size: Int = 300) {
            self.kind = kind
            self.interval = interval
            self.stretch = stretch
            self.size = size
        }
    }

    package let path: String
    package let name: String
    package let description: String?
    package let owner: String?
    package let enabled: Bool
    package let destination: Destination
    package let flipbook: Flipbook
    package let perHour: Int?
    package let perNight: Int?
    /// A hash of the file's text, stamped on everything the filter produces.
    package let version: String
    package let rule: FilterRule

    package static func load(path: String, resources: FilterResources = FilterResources()) throws(FilterError) -> FilterFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FilterError(.file, "cannot read: \(error.localizedDescription)", offset: 0, length: 0).inFile(path, line: 1, column: 1)
        }
        return try FilterFile(text: text, path: path, resources: resources)
    }

    package init(text: String, path: String, resources: FilterResources = FilterResources()) throws(FilterError) {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw FilterError(.file, "the file is empty", offset: 0, length: 0).inFile(path, line: 1, column: 1)
            }
            root = node
        } catch let e as FilterError {
            throw e
        } catch let e as YamlError {
            throw FilterError(.file, "not valid YAML: \(e)", offset: 0, length: 0).inFile(path, line: 1, column: 1)
        } catch {
            throw FilterError(.file, "not valid YAML: \(error)", offset: 0, length: 0).inFile(path, line: 1, column: 1)
        }
        guard let map = root.mapping else { throw Self.error(path, root, "the file must be a mapping of keys (name, expression, ...)") }
        let known: Set<String> = ["name", "description", "owner", "survey", "enabled", "expression", "destination", "flipbook", "limits"]
        for key in map.keys {
            guard let k = key.string, known.contains(k) else {
                throw Self.error(path, key, "unknown key '\(key.string ?? "?")'", suggestion: closest(key.string ?? "", in: known))
            }
        }
        func string(_ key: String, in m: Node.Mapping? = nil) throws(FilterError) -> String? {
            guard let n = (m ?? map)[key] else { return nil }
            guard let s = n.string, n.scalar != nil else { throw Self.error(path, n, "'\(key)' must be text") }
            return s
        }
        func int(_ key: String, in m: Node.Mapping) throws(FilterError) -> Int? {
            guard let n = m[key] else { return nil }
            guard let i = n.int, i > 0 else { throw Self.error(path, n, "'\(key)' must be a positive whole number") }
            return i
        }
        guard let name = try string("name"), !name.isEmpty else { throw Self.error(path, root, "a filter needs a 'name'") }
        guard let exprNode = map["expression"], let expression = exprNode.string else { throw Self.error(path, root, "a filter needs an 'expression'") }
        var surveys: [Survey]? = nil
        if let s = try string("survey") {
            guard let survey = Survey(rawValue: s) else { throw Self.error(path, map["survey"]!, "survey must be rubin or ztf, not '\(s)'") }
            surveys = [survey]
        }
        var enabled = true
        if let n = map["enabled"] {
            guard let b = n.bool else { throw Self.error(path, n, "'enabled' must be true or false") }
            enabled = b
        }
        var destination = Destination()
        if let n = map["destination"] {
            guard let m = n.mapping else { throw Self.error(path, n, "'destination' must hold project, workflow, subject_set") }
            destination.project = try string("project", in: m)
            destination.workflow = try string("workflow", in: m)
            destination.subjectSet = try string("subject_set", in: m) ?? destination.subjectSet
        }
        var flipbook = Flipbook()
        if let n = map["flipbook"] {
            guard let m = n.mapping else { throw Self.error(path, n, "'flipbook' must hold kind, interval, stretch, size") }
            for (key, _) in m {
                guard let k = key.string, Flipbook.keys.contains(k) else {
                    throw Self.error(path, key, "unknown flipbook key '\(key.string ?? "?")': a flipbook has kind, interval, stretch, size",
                                     suggestion: closest(key.string ?? "", in: Flipbook.keys))
                }
            }
            if let text = try string("kind", in: m) {
                guard let kind = FlipbookKind(rawValue: text) else {
                    throw Self.error(path, m["kind"]!, "flipbook kind '\(text)': must be triplet, blink or composite",
                                     suggestion: closest(text, in: FlipbookKind.allCases.map(\.rawValue)))
                }
                flipbook.kind = kind
            }
            if let text = try string("interval", in: m) {
                guard let interval = Interval(text) else {
                    throw Self.error(path, m["interval"]!, "interval '\(text)': must be zscale, minmax or percentile(P) with 0 < P <= 100",
                                     suggestion: closest(text, in: Flipbook.intervals))
                }
                flipbook.interval = interval
            }
            if let text = try string("stretch", in: m) {
                guard let stretch = Stretch(text) else {
                    throw Self.error(path, m["stretch"]!, "stretch '\(text)': must be linear, asinh, log or sqrt",
                                     suggestion: closest(text, in: Flipbook.stretches))
                }
                flipbook.stretch = stretch
            }
            if let size = try int("size", in: m) {
                guard Flipbook.sizes.contains(size) else {
                    throw Self.error(path, m["size"]!, "flipbook size \(size): must be \(Flipbook.sizes.lowerBound) to \(Flipbook.sizes.upperBound) pixels")
                }
                flipbook.size = size
            }
        }
        var perHour: Int? = nil, perNight: Int? = nil
        if let n = map["limits"] {
            guard let m = n.mapping else { throw Self.error(path, n, "'limits' must hold per_hour and/or per_night") }
            perHour = try int("per_hour", in: m)
            perNight = try int("per_night", in: m)
        }
        // Where the expression's text starts in the file, so errors point into the file.
        let (line, column) = Self.locate(expression, in: text, from: exprNode.mark?.line ?? 1)
        do throws(FilterError) {
            self.rule = try FilterRule(name: name, expression: expression, surveys: surveys, resources: resources)
        } catch {
            throw error.placed(in: expression, file: path, line: line, column: column)
        }
        self.path = path
        self.name = name
        self.description = try string("description")
        self.owner = try string("owner")
        self.enabled = enabled
        self.destination = destination
        self.flipbook = flipbook
        self.perHour = perHour
        self.perNight = perNight
        self.version = Self.hash(text)
    }

    static func error(_ path: String, _ node: Node, _ reason: String, suggestion: String? = nil) -> FilterError {
        FilterError(.file, reason, offset: 0, length: 0, suggestion: suggestion).inFile(path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    /// Line and column of the expression's first line in the file, at or after `line`.
    static func locate(_ expression: String, in text: String, from line: Int) -> (Int, Int) {
        let first = expression.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? expression
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for n in max(0, line - 1)..<lines.count {
            if let r = lines[n].range(of: first) {
                return (n + 1, lines[n].distance(from: lines[n].startIndex, to: r.lowerBound) + 1)
            }
        }
        return (line, 1)
    }

    /// FNV-1a 64 of the text, in hex: the filter's version.
    static func hash(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return String(h, radix: 16).leftPadded(16)
    }
}

extension FilterError {
    func inFile(_ path: String, line: Int, column: Int) -> FilterError {
        var e = self
        e.file = path
        e.line = line
        e.column = column
        return e
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
