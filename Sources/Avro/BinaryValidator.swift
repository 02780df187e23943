/// Limits that protect the decoder from hostile or corrupt input.
package struct DecodingLimits: Sendable {
    /// Largest `bytes`/`string` field (a cutout is tens of kB; 64 MiB is far beyond any real one).
    package var maxFieldBytes: Int = 64 << 20
    /// Most items in one array or map (Rubin histories hold hundreds).
    package var maxItems: Int = 1_000_000
    package init() {}
}

/// Walks Avro binary data with the writer schema without materialising it: it finds the exact end of
/// a record and the exact byte offset of any fault (truncation, an impossible union branch, a length
/// beyond the data or the limits) before Avro C sees the bytes.
package struct BinaryValidator: Sendable {
    let program: ValidatorProgram
    let limits: DecodingLimits

    /// With a `plan`, it also refuses what reading onto the plan's reader schema would refuse (a value
    /// the reader's narrower type cannot hold, an enum symbol or a union branch the reader lacks), at
    /// the byte where it is.
    package init(schema: AvroSchema, plan: ResolutionPlan? = nil, limits: DecodingLimits) {
        self.program = ValidatorProgram(schema, plan: plan)
        self.limits = limits
    }

    init(program: ValidatorProgram, limits: DecodingLimits = DecodingLimits()) {
        self.program = program
        self.limits = limits
    }

    /// Checks one record starting at the cursor, leaves the cursor just after it, and returns where
    /// each of its fields starts followed by where the record ends (empty when the schema is not a
    /// record), so that fields can be read later without walking the record again.
    package func validate(fieldsOf cursor: inout BinaryCursor) throws(AlertDecodingError) -> [Int] {
        guard program.nodes.first?.op == .record else {
            try validate(&cursor)
            return []
        }
        return try program.nodes.withUnsafeBufferPointer { (nodes) throws(AlertDecodingError) in
            try program.children.withUnsafeBufferPointer { (children) throws(AlertDecodingError) in
                let walker = Walker(nodes: nodes, children: children, program: program, limits: limits)
                let root = nodes[0]
                var offsets: [Int] = []
                offsets.reserveCapacity(Int(root.count) + 1)
                for k in Int(root.first)..<Int(root.first + root.count) {
                    offsets.append(cursor.position)
                    try walker.walk(children[k], &cursor)
                }
                offsets.append(cursor.position)
                return offsets
            }
        }
    }

    /// Checks one value starting at the cursor and leaves the cursor just after it.
    package func validate(_ cursor: inout BinaryCursor) throws(AlertDecodingError) {
        try program.nodes.withUnsafeBufferPointer { (nodes) throws(AlertDecodingError) in
            try program.children.withUnsafeBufferPointer { (children) throws(AlertDecodingError) in
                let walker = Walker(nodes: nodes, children: children, program: program, limits: limits)
                try walker.walk(0, &cursor)
            }
        }
    }

    private struct Walker {
        let nodes: UnsafeBufferPointer<FlatNode<ValidatorProgram.Op>>
        let children: UnsafeBufferPointer<Int32>
        let program: ValidatorProgram
        let limits: DecodingLimits

        func walk(_ index: Int32, _ c: inout BinaryCursor) throws(AlertDecodingError) {
            let n = nodes[Int(index)]
            switch n.op {
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
            case .longAsInt:
                let start = c.position
                let x = try c.readLong()
                guard x >= Int64(Int32.min) && x <= Int64(Int32.max) else {
                    throw AlertDecodingError(.schemaResolution, "\(program.paths[Int(n.a)]): \(x), written as long, does not fit the reader's int", offset: start)
                }
            case .doubleAsFloat:
                let start = c.position
                let x = try c.readDouble()
                guard !x.isFinite || abs(x) <= Double(Float.greatestFiniteMagnitude) else {
                    throw AlertDecodingError(.schemaResolution, "\(program.paths[Int(n.a)]): \(x), written as double, does not fit the reader's float", offset: start)
                }
            case .float:
                try c.skip(4, what: "float")
            case .double:
                try c.skip(8, what: "double")
            case .bytes:
                c.position += try c.readLength(limit: limits.maxFieldBytes, what: "bytes")
            case .string:
                c.position += try c.readLength(limit: limits.maxFieldBytes, what: "string")
            case .fixed:
                try c.skip(Int(n.a), what: "fixed")
            case .enumeration:
                let start = c.position
                let i = try c.readLong()
                guard i >= 0 && i < Int64(n.count) else {
                    throw AlertDecodingError(.dataDoesNotMatchSchema, "enum index \(i) outside 0..<\(n.count)", offset: start)
                }
                if n.a > 0 {
                    let r = program.refusals[Int(n.a) - 1]
                    guard r.readable[Int(i)] else {
                        throw AlertDecodingError(.schemaResolution, "enum symbol \(r.names[Int(i)]) at \(r.path) is unknown to the reader schema", offset: start)
                    }
                }
            case .array:
                let item = children[Int(n.first)]
                try blocks(&c, what: "array") { (c: inout BinaryCursor) throws(AlertDecodingError) in try walk(item, &c) }
            case .map:
                let value = children[Int(n.first)]
                try blocks(&c, what: "map") { (c: inout BinaryCursor) throws(AlertDecodingError) in
                    c.position += try c.readLength(limit: limits.maxFieldBytes, what: "map key")
                    try walk(value, &c)
                }
            case .union:
                let start = c.position
                let i = try c.readLong()
                guard i >= 0 && i < Int64(n.count) else {
                    throw AlertDecodingError(.dataDoesNotMatchSchema, "union branch \(i) outside 0..<\(n.count)", offset: start)
                }
                if n.a > 0 {
                    let r = program.refusals[Int(n.a) - 1]
                    guard r.readable[Int(i)] else {
                        throw AlertDecodingError(.schemaResolution, "writer union branch \(r.names[Int(i)]) at \(r.path) has no counterpart in the reader schema", offset: start)
                    }
                }
                let branch = children[Int(n.first) + Int(i)]
                // A nullable field's value (most of an alert's): read here rather than by recursion.
                switch nodes[Int(branch)].op {
                case .null: return
                case .float: try c.skip(4, what: "float")
                case .double: try c.skip(8, what: "double")
                case .long: _ = try c.readLong()
                default: try walk(branch, &c)
                }
            case .record:
                var k = Int(n.first)
                let end = k + Int(n.count)
                while k < end {
                    try walk(children[k], &c)
                    k += 1
                }
            case .flatRecord:
                try program.flatFields.withUnsafeBufferPointer { (fields) throws(AlertDecodingError) in
                    for k in Int(n.a)..<Int(n.a + n.count) {
                        let f = fields[k]
                        if f.nullBranch >= 0 {
                            let start = c.position
                            let branch = try c.readLong()
                            if branch == Int64(f.nullBranch) { continue }
                            guard branch == Int64(1 - f.nullBranch) else {
                                throw AlertDecodingError(.dataDoesNotMatchSchema, "union branch \(branch) outside 0..<2", offset: start)
                            }
                        }
                        try leaf(f.op, &c)
                    }
                }
            }
        }

        /// A primitive value, checked as `walk` checks it. `walk` keeps its own copy of these cases:
        /// made to call this one instead, the LSSTCam filter path fell from 8,900 to 6,800 alerts/s
        /// (the switch in `walk` is the hot loop of every nested value).
        @inline(__always)
        private func leaf(_ op: ValidatorProgram.Op, _ c: inout BinaryCursor) throws(AlertDecodingError) {
            switch op {
            case .float: try c.skip(4, what: "float")
            case .double: try c.skip(8, what: "double")
            case .long: _ = try c.readLong()
            case .null: return
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
            case .bytes: c.position += try c.readLength(limit: limits.maxFieldBytes, what: "bytes")
            case .string: c.position += try c.readLength(limit: limits.maxFieldBytes, what: "string")
            default: preconditionFailure("a flat record holds primitives only")
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
}
