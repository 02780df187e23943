/// Limits that protect the decoder from hostile or corrupt input.
public struct DecodingLimits: Sendable {
    /// Largest `bytes`/`string` field (a cutout is tens of kB; 64 MiB is far beyond any real one).
    public var maxFieldBytes: Int = 64 << 20
    /// Most items in one array or map (Rubin histories hold hundreds).
    public var maxItems: Int = 1_000_000
    public init() {}
}

/// Walks Avro binary data with the writer schema without materialising it: it finds the exact end of
/// a record and the exact byte offset of any fault (truncation, an impossible union branch, a length
/// beyond the data or the limits) before Avro C sees the bytes.
struct BinaryValidator: Sendable {
    indirect enum Shape: Sendable {
        case null, boolean, int, long, float, double, bytes, string
        case fixed(Int)
        case enumeration(symbols: Int)
        case array(Shape)
        case map(Shape)
        case union([Shape])
        case record([Shape])
    }

    let shape: Shape
    let limits: DecodingLimits

    init(schema: AvroSchema, limits: DecodingLimits) {
        self.shape = Self.shape(of: schema)
        self.limits = limits
    }

    static func shape(of schema: AvroSchema) -> Shape {
        switch schema {
        case .null: .null
        case .boolean: .boolean
        case .int: .int
        case .long: .long
        case .float: .float
        case .double: .double
        case .bytes: .bytes
        case .string: .string
        case .fixed(_, let size): .fixed(size)
        case .enumeration(_, let symbols): .enumeration(symbols: symbols.count)
        case .array(let items): .array(shape(of: items))
        case .map(let values): .map(shape(of: values))
        case .union(let branches): .union(branches.map(shape(of:)))
        case .record(let r): .record(r.fields.map { shape(of: $0.type) })
        }
    }

    /// Checks one value starting at the cursor and leaves the cursor just after it.
    func validate(_ cursor: inout BinaryCursor) throws(AlertDecodingError) {
        try walk(shape, &cursor)
    }

    private func walk(_ s: Shape, _ c: inout BinaryCursor) throws(AlertDecodingError) {
        switch s {
        case .null:
            return
        case .boolean:
            guard c.remaining >= 1 else { throw AlertDecodingError(.truncated, "boolean past the end", offset: c.position) }
            let b = c.bytes[c.position]
            guard b <= 1 else {
                throw AlertDecodingError(.dataDoesNotMatchSchema, "boolean byte is \(b), not 0 or 1", offset: c.position)
            }
            c.position += 1
        case .int:
            let start = c.position
            let v = try c.readLong()
            guard v >= Int64(Int32.min) && v <= Int64(Int32.max) else {
                throw AlertDecodingError(.dataDoesNotMatchSchema, "int value \(v) does not fit 32 bits", offset: start)
            }
        case .long:
            _ = try c.readLong()
        case .float:
            try c.skip(4, what: "float")
        case .double:
            try c.skip(8, what: "double")
        case .bytes:
            let n = try c.readLength(limit: limits.maxFieldBytes, what: "bytes")
            c.position += n
        case .string:
            let n = try c.readLength(limit: limits.maxFieldBytes, what: "string")
            c.position += n
        case .fixed(let size):
            try c.skip(size, what: "fixed")
        case .enumeration(let count):
            let start = c.position
            let i = try c.readLong()
            guard i >= 0 && i < count else {
                throw AlertDecodingError(.dataDoesNotMatchSchema, "enum index \(i) outside 0..<\(count)", offset: start)
            }
        case .array(let items):
            try blocks(&c, what: "array") { (c: inout BinaryCursor) throws(AlertDecodingError) in try walk(items, &c) }
        case .map(let values):
            try blocks(&c, what: "map") { (c: inout BinaryCursor) throws(AlertDecodingError) in
                let n = try c.readLength(limit: limits.maxFieldBytes, what: "map key")
                c.position += n
                try walk(values, &c)
            }
        case .union(let branches):
            let start = c.position
            let i = try c.readLong()
            guard i >= 0 && i < branches.count else {
                throw AlertDecodingError(.dataDoesNotMatchSchema, "union branch \(i) outside 0..<\(branches.count)", offset: start)
            }
            try walk(branches[Int(i)], &c)
        case .record(let fields):
            for f in fields { try walk(f, &c) }
        }
    }

    private func blocks(_ c: inout BinaryCursor, what: StaticString,
                        item: (inout BinaryCursor) throws(AlertDecodingError) -> Void) throws(AlertDecodingError) {
        var total = 0
        while true {
            let start = c.position
            var count = try c.readLong()
            if count == 0 { return }
            if count < 0 {
                count = -count  // a negative count is followed by the block's size in bytes
                let size = try c.readLong()
                guard size >= 0 && size <= Int64(c.remaining) else {
                    throw AlertDecodingError(.truncated, "\(what) block of \(size) bytes but only \(c.remaining) left", offset: start)
                }
            }
            guard count <= Int64(limits.maxItems - total) else {
                throw AlertDecodingError(.oversizedField, "\(what) of more than \(limits.maxItems) items", offset: start)
            }
            total += Int(count)
            for _ in 0..<count { try item(&c) }
        }
    }
}
