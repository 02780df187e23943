/// A fault in a filter: what, where (file:line:column, the line, a caret under the fault) and, for
/// an unknown name, the nearest known one.
package struct FilterError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Kind: String, Sendable { case syntax, unknownField, unknownFunction, type, arity, file }
    package let kind: Kind
    package let reason: String
    /// Offset and length in the expression's text (UTF-8).
    package let offset: Int
    package let length: Int
    package var suggestion: String?
    /// Filled in when the error is placed in a file.
    package var file: String?
    package var line: Int?
    package var column: Int?
    package var sourceLine: String?

    init(_ kind: Kind, _ reason: String, offset: Int, length: Int, suggestion: String? = nil) {
        self.kind = kind
        self.reason = reason
        self.offset = offset
        self.length = length
        self.suggestion = suggestion
    }

    /// `file:line:column: error: reason`, the line, a caret, and "did you mean".
    package var description: String {
        var out = ""
        if let file { out += "\(file):" }
        if let line, let column { out += "\(line):\(column): " } else if file != nil { out += " " }
        out += "error: \(reason)"
        if let sourceLine, let column {
            out += "\n    \(sourceLine)\n    " + String(repeating: " ", count: max(0, column - 1)) + String(repeating: "^", count: max(1, length))
        }
        if let suggestion { out += "\n    did you mean '\(suggestion)'?" }
        return out
    }

    /// Places the error in `text` (the expression), whose lines start at `line`:`column` of `file`.
    package func placed(in text: String, file: String?, line: Int = 1, column: Int = 1) -> FilterError {
        var e = self
        let bytes = Array(text.utf8)
        let upTo = bytes.prefix(min(offset, bytes.count))
        let newlines = upTo.filter { $0 == 10 }.count
        let lineStart = (upTo.lastIndex(of: 10).map { $0 + 1 }) ?? 0
        let lineEnd = bytes[lineStart...].firstIndex(of: 10) ?? bytes.count
        let col = String(decoding: bytes[lineStart..<min(offset, bytes.count)], as: UTF8.self).count + 1
        e.file = file
        e.line = line + newlines
        // A YAML block scalar is indented uniformly: every line of the expression starts at `column`.
        e.column = column + col - 1
        let prefix = String(repeating: " ", count: max(0, column - 1))
        e.sourceLine = prefix + String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
        return e
    }
}

/// The closest of `candidates` to `name` by edit distance, if close enough to be a likely typo.
package func closest(_ name: String, in candidates: some Sequence<String>) -> String? {
    let a = Array(name.lowercased())
    var best: (String, Int)? = nil
    for c in candidates {
        let b = Array(c.lowercased())
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var prev = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        let d = row[b.count]
        if d <= max(2, a.count / 3), best == nil || d < best!.1 { best = (c, d) }
    }
    return best?.0
}
