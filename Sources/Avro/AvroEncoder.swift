/// Avro binary encoding of a value onto a schema, matching record fields by name, so a record
/// decoded with one schema (e.g. the reader schema) can be written with another (a registered
/// writer schema). Encoding is a few plain rules, done in Swift; decoding is Avro C's job.
package enum AvroEncoder {
    package struct Error: Swift.Error, CustomStringConvertible, Sendable {
        package let path: String
        package let reason: String
        package var description: String { "cannot encode \(path.isEmpty ? "(top record)" : path): \(reason)" }
    }

    package static func encode(_ value: AvroValue, as schema: AvroSchema) throws(Error) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        try write(value, schema, "", &out)
        return out
    }

    static func long(_ v: Int64, _ out: inout [UInt8]) {
        var u = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        while u >= 0x80 {
            out.append(UInt8(u & 0x7f) | 0x80)
            u >>= 7
        }
        out.append(UInt8(u))
    }

    package static func bytes(_ b: some Collection<UInt8>, _ out: inout [UInt8]) {
        long(Int64(b.count), &out)
        out.append(contentsOf: b)
    }

    private static func write(_ v: AvroValue, _ s: AvroSchema, _ path: String, _ out: inout [UInt8]) throws(Error) {
        func mismatch() -> Error { Error(path: path, reason: "value \(v.jsonText().prefix(60)) does not fit \(s.description)") }
        switch (s, v) {
        case (.null, .null): return
        case (.boolean, .boolean(let b)): out.append(b ? 1 : 0)
        case (.int, .long(let x)):
            guard x >= Int64(Int32.min) && x <= Int64(Int32.max) else { throw Error(path: path, reason: "\(x) does not fit an int") }
            long(x, &out)
        case (.long, .long(let x)): long(x, &out)
        case (.float, _):
            guard let d = v.doubleValue else { throw mismatch() }
            withUnsafeBytes(of: Float(d).bitPattern.littleEndian) { out.append(contentsOf: $0) }
        case (.double, _):
            guard let d = v.doubleValue else { throw mismatch() }
            withUnsafeBytes(of: d.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        case (.string, .string(let t)): bytes(Array(t.utf8), &out)
        case (.bytes, .bytes(let b)): bytes(b, &out)
        case (.string, .bytes(let b)): bytes(b, &out)
        case (.bytes, .string(let t)): bytes(Array(t.utf8), &out)
        case (.fixed(_, let size), .bytes(let b)):
            guard b.count == size else { throw Error(path: path, reason: "\(b.count) bytes for fixed(\(size))") }
            out.append(contentsOf: b)
        case (.enumeration(_, let symbols), .string(let t)):
            guard let i = symbols.firstIndex(of: t) else { throw Error(path: path, reason: "'\(t)' is not one of \(symbols)") }
            long(Int64(i), &out)
        case (.array(let items), .array(let list)):
            if !list.isEmpty {
                long(Int64(list.count), &out)
                for (i, x) in list.enumerated() { try write(x, items, "\(path)[\(i)]", &out) }
            }
            out.append(0)
        case (.map(let values), .map(let m)):
            if !m.isEmpty {
                long(Int64(m.count), &out)
                for key in m.keys.sorted() {
                    bytes(Array(key.utf8), &out)
                    try write(m[key]!, values, "\(path){\(key)}", &out)
                }
            }
            out.append(0)
        case (.record(let r), .record(let value)):
            for f in r.fields {
                let fpath = path.isEmpty ? f.name : path + "." + f.name
                let x: AvroValue
                if let i = value.schema.index(of: f.name) {
                    x = value.values[i]
                } else if let d = f.defaultValue {
                    x = d
                } else {
                    x = .null
                }
                try write(x, f.type, fpath, &out)
            }
        case (.union(let branches), _):
            guard let i = branches.firstIndex(where: { fits(v, $0) }) else {
                throw Error(path: path, reason: "no branch of \(s.description) takes \(v.jsonText().prefix(60))")
            }
            long(Int64(i), &out)
            try write(v, branches[i], path, &out)
        default:
            throw mismatch()
        }
    }

    private static func fits(_ v: AvroValue, _ s: AvroSchema) -> Bool {
        switch (s, v) {
        case (.null, .null), (.boolean, .boolean), (.long, .long), (.double, .double), (.float, .double),
             (.double, .long), (.float, .long), (.string, .string), (.bytes, .bytes), (.array, .array),
             (.map, .map), (.record, .record), (.enumeration, .string): true
        case (.int, .long(let x)): x >= Int64(Int32.min) && x <= Int64(Int32.max)
        case (.fixed(_, let n), .bytes(let b)): b.count == n
        default: false
        }
    }
}
