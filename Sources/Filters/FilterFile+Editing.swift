import Foundation
import Yams

extension FilterFile {
    /// A filter file's text with `changes` made (a key, or `parent.key` one level down, set to a
    /// text value), every other key kept in its place; comments are not kept. `text` nil starts an
    /// empty file. The result is not checked: load it with `init(text:path:resources:)`.
    package static func editedText(_ text: String?, setting changes: [(key: String, value: String)]) throws -> String {
        var map = Node.Mapping([])
        if let text, let root = try Yams.compose(yaml: text) {
            guard let m = root.mapping else { throw FilterError(.file, "the file must be a mapping of keys (name, expression, ...)", offset: 0, length: 0) }
            map = m
        }
        func scalar(_ value: String) -> Node {
            Node(value, .implicit, value.contains("\n") ? .literal : .doubleQuoted)
        }
        for (key, value) in changes {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 1 {
                map[Node(parts[0])] = scalar(value)
            } else {
                var inner = map[Node(parts[0])]?.mapping ?? Node.Mapping([])
                inner[Node(parts[1])] = scalar(value)
                map[Node(parts[0])] = .mapping(inner)
            }
        }
        return try Yams.serialize(node: .mapping(map))
    }
}
