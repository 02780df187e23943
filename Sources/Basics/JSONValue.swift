import Foundation

/// Any JSON value: the shape of Panoptes documents and of subject metadata, which PIs extend freely.
package enum JSONValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    package init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    package subscript(key: String) -> JSONValue? { if case .object(let o) = self { o[key] } else { nil } }
    package subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { a[index] } else { nil }
    }
    package var string: String? { if case .string(let s) = self { s } else { nil } }
    package var number: Double? { if case .number(let n) = self { n } else { nil } }
    package var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    package var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    /// Panoptes sends ids as strings; a whole number is accepted too.
    package var id: String? {
        switch self {
        case .string(let s): s
        case .number: int.map { String($0) }
        default: nil
        }
    }
    /// A whole number a double holds exactly (|n| ≤ 2^53), as an Int; nil for anything else, so a
    /// hostile `1e300` or `2.5` is refused instead of trapping in a conversion.
    package var int: Int? {
        guard case .number(let n) = self, n == n.rounded(), abs(n) <= 9_007_199_254_740_992 else { return nil }
        return Int(n)
    }

    /// Compact JSON text (keys sorted, so equal values give equal bytes).
    package var description: String { String(decoding: encoded(), as: UTF8.self) }

    package func encoded() -> [UInt8] { JSONWriter.write(self) }

    package static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONParser.parse(bytes)
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral {
    package init(stringLiteral value: String) { self = .string(value) }
    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    package init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}
