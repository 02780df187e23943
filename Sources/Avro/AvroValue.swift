/// A decoded Avro value, in the shape of the reader schema. `int` and `long` both decode to `.long`,
/// `float` and `double` to `.double`, enum symbols to `.string` and fixed to `.bytes`: the filters
/// need the value, not the writer's width.
package enum AvroValue: Sendable, Equatable {
    case null
    case boolean(Bool)
    case long(Int64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case array([AvroValue])
    case map([String: AvroValue])
    case record(AvroRecord)

    package var isNull: Bool { if case .null = self { true } else { false } }

    package var longValue: Int64? {
        switch self {
        case .long(let v): v
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: Int64(d)
        default: nil
        }
    }

    package var doubleValue: Double? {
        switch self {
        case .double(let d): d
        case .long(let v): Double(v)
        default: nil
        }
    }

    package var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    package var bytesValue: [UInt8]? { if case .bytes(let b) = self { b } else { nil } }
    package var arrayValue: [AvroValue]? { if case .array(let a) = self { a } else { nil } }
    package var recordValue: AvroRecord? { if case .record(let r) = self { r } else { nil } }
    package var boolValue: Bool? { if case .boolean(let b) = self { b } else { nil } }
}

/// A record value: its fields in the order of its schema, so that a field path compiled once against
/// the schema reads a field by index, never by name.
package struct AvroRecord: Sendable, Equatable {
    package let schema: AvroRecordSchema
    package var values: [AvroValue]

    package init(schema: AvroRecordSchema, values: [AvroValue]) {
        self.schema = schema
        self.values = values
    }

    /// The field of that name (a look-up by name: for tools and tests, not for the hot path).
    package subscript(name: String) -> AvroValue {
        guard let i = schema.index(of: name) else { return .null }
        return values[i]
    }

    package static func == (a: AvroRecord, b: AvroRecord) -> Bool {
        a.schema === b.schema && a.values == b.values
    }
}

extension AvroValue {
    /// Plain JSON for people and `jq` (bytes as `{"$bytes": N}` with their length unless `includeBytes`).
    package func jsonText(includeBytes: Bool = false) -> String {
        var out = ""
        write(to: &out, includeBytes: includeBytes)
        return out
    }

    func write(to out: inout String, includeBytes: Bool) {
        switch self {
        case .null: out += "null"
        case .boolean(let b): out += b ? "true" : "false"
        case .long(let v): out += String(v)
        case .double(let d):
            if d.isFinite { out += d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)" }
            else { out += "null" }
        case .string(let s): JSONText.appendString(s, to: &out)
        case .bytes(let b):
            if includeBytes {
                out += "\"" + base64(b) + "\""
            } else {
                out += "{\"$bytes\":\(b.count)}"
            }
        case .array(let items):
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                v.write(to: &out, includeBytes: includeBytes)
            }
            out += "]"
        case .map(let m):
            out += "{"
            for (i, key) in m.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSONText.appendString(key, to: &out)
                out += ":"
                m[key]!.write(to: &out, includeBytes: includeBytes)
            }
            out += "}"
        case .record(let r):
            out += "{"
            for (i, f) in r.schema.fields.enumerated() {
                if i > 0 { out += "," }
                JSONText.appendString(f.name, to: &out)
                out += ":"
                r.values[i].write(to: &out, includeBytes: includeBytes)
            }
            out += "}"
        }
    }
}

import Foundation

private func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

/// JSON string escaping shared by the JSON writers.
package enum JSONText {
    package static func appendString(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        out += "\""
    }
}
