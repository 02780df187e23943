/// Reads Avro binary (already checked by `BinaryValidator`) straight into `AvroValue`s in the reader
/// schema's shape, by the flattened resolution plan: writer fields the reader lacks are skipped,
/// promotions and checked narrowings applied, defaults filled in.
///
/// It can also read a top-level record in part: the fields a caller defers (an alert's history and
/// forced photometry: hundreds of records each) are left null and read later, or never, from the
/// same bytes, at the offsets the validator found. Reading a Rubin LSSTCam alert's scalars that way
/// costs a few microseconds where the whole packet costs milliseconds.
package final class BinaryRecordReader: Sendable {
    let program: PlanProgram

    package init(plan: ResolutionPlan) {
        program = PlanProgram(plan)
    }

    /// Whether the top-level value is a record (only then can fields be read in part).
    package var topIsRecord: Bool { program.nodes[0].op == .record }

    /// The whole value occupying `bytes`.
    package func read(_ bytes: UnsafeRawBufferPointer) throws(AlertDecodingError) -> AvroValue {
        var cursor = BinaryCursor(bytes)
        return try walker { (w) throws(AlertDecodingError) in try w.value(0, &cursor) }
    }

    /// The top-level record with the reader fields for which `deferred` is true left `.null`, their
    /// writer fields not read. `writerFields` holds the start of each writer field and the record's
    /// end (`BinaryValidator.validate(_:fieldOffsets:)`).
    package func readTop(_ bytes: UnsafeRawBufferPointer, writerFields: [Int], deferred: [Bool]) throws(AlertDecodingError) -> AvroRecord {
        try walker { (w) throws(AlertDecodingError) in try w.record(0, bytes, writerFields: writerFields, deferred: deferred) }
    }

    /// Top-level reader field `slot` alone, read from the bytes of the writer field it comes from.
    package func readTopField(_ slot: Int, _ bytes: UnsafeRawBufferPointer, writerFields: [Int]) throws(AlertDecodingError) -> AvroValue {
        let root = program.nodes[0]
        let child = program.children[Int(root.first) + slot]
        let source = Int(program.fieldSources[Int(root.first) + slot])
        guard child >= 0 else { return program.constants[source] }
        var cursor = BinaryCursor(bytes, from: writerFields[source], to: writerFields[source + 1])
        return try walker { (w) throws(AlertDecodingError) in try w.value(child, &cursor) }
    }

    private func walker<R>(_ body: (Walker) throws(AlertDecodingError) -> R) throws(AlertDecodingError) -> R {
        try program.nodes.withUnsafeBufferPointer { (nodes) throws(AlertDecodingError) in
            try program.children.withUnsafeBufferPointer { (children) throws(AlertDecodingError) in
                try program.layout.withUnsafeBufferPointer { (layout) throws(AlertDecodingError) in
                    try body(Walker(nodes: nodes, children: children, layout: layout, program: program))
                }
            }
        }
    }

    private struct Walker {
        let nodes: UnsafeBufferPointer<FlatNode<PlanProgram.Op>>
        let children: UnsafeBufferPointer<Int32>
        let layout: UnsafeBufferPointer<Int32>
        let program: PlanProgram

        func value(_ index: Int32, _ c: inout BinaryCursor) throws(AlertDecodingError) -> AvroValue {
            let n = nodes[Int(index)]
            switch n.op {
            case .null:
                return .null
            case .boolean:
                try c.skip(1, what: "boolean")
                return .boolean(c.bytes[c.position - 1] != 0)
            case .int, .long:
                return .long(try c.readLong())
            case .intAsDouble, .longAsDouble:
                return .double(Double(try c.readLong()))
            case .longAsInt:
                let start = c.position
                let x = try c.readLong()
                guard x >= Int64(Int32.min) && x <= Int64(Int32.max) else {
                    throw AlertDecodingError(.schemaResolution, "\(program.paths[Int(n.a)]): \(x), written as long, does not fit the reader's int", offset: start)
                }
                return .long(x)
            case .float:
                return .double(Double(try c.readFloat()))
            case .double:
                return .double(try c.readDouble())
            case .doubleAsFloat:
                let start = c.position
                let x = try c.readDouble()
                guard !x.isFinite || abs(x) <= Double(Float.greatestFiniteMagnitude) else {
                    throw AlertDecodingError(.schemaResolution, "\(program.paths[Int(n.a)]): \(x), written as double, does not fit the reader's float", offset: start)
                }
                return .double(Double(Float(x)))
            case .string, .bytesAsString:
                return .string(String(decoding: try c.readLengthPrefixed(), as: UTF8.self))
            case .bytes, .stringAsBytes:
                return .bytes(Array(try c.readLengthPrefixed()))
            case .fixed:
                return .bytes(Array(try c.readBytes(Int(n.a))))
            case .enumeration:
                let start = c.position
                let i = try c.readLong()
                let symbols = program.enumSymbols[Int(n.a)]
                guard i >= 0, i < Int64(symbols.count), let symbol = symbols[Int(i)] else {
                    throw AlertDecodingError(.schemaResolution, "enum symbol #\(i) at \(program.paths[Int(n.first)]) is unknown to the reader schema", offset: start)
                }
                return .string(symbol)
            case .array:
                var items: [AvroValue] = []
                try blocks(&c) { (c: inout BinaryCursor) throws(AlertDecodingError) in items.append(try value(n.first, &c)) }
                return .array(items)
            case .map:
                var m: [String: AvroValue] = [:]
                try blocks(&c) { (c: inout BinaryCursor) throws(AlertDecodingError) in
                    let key = String(decoding: try c.readLengthPrefixed(), as: UTF8.self)
                    m[key] = try value(n.first, &c)
                }
                return .map(m)
            case .record:
                return .record(try record(index, &c))
            case .writerUnion:
                let start = c.position
                let d = try c.readLong()
                guard d >= 0, d < Int64(n.count), children[Int(n.first) + Int(d)] >= 0 else {
                    let names = program.unionNames[Int(n.a)]
                    let name = d >= 0 && Int(d) < names.count ? names[Int(d)] : "#\(d)"
                    let path = program.paths[Int(program.fieldSources[Int(n.first)])]
                    throw AlertDecodingError(.schemaResolution, "writer union branch \(name) at \(path) has no counterpart in the reader schema", offset: start)
                }
                return try value(children[Int(n.first) + Int(d)], &c)
            }
        }

        /// A record read whole, its writer fields in the writer's order.
        func record(_ index: Int32, _ c: inout BinaryCursor) throws(AlertDecodingError) -> AvroRecord {
            let n = nodes[Int(index)]
            if program.inOrder[Int(n.a)] {
                var values: [AvroValue] = []
                values.reserveCapacity(Int(n.count))
                for k in Int(n.first)..<Int(n.first + n.count) { values.append(try value(children[k], &c)) }
                return AvroRecord(schema: program.records[Int(n.a)], values: values)
            }
            let shared = program.sharedSources[Int(n.a)]
            if shared.isEmpty { return try permuted(n, &c) }
            // A writer field that fills several reader fields (a field and an alias of it): read
            // once per reader field, from where it starts.
            var values = program.templates[Int(n.a)]
            var starts: [Int] = []
            let (first, count) = program.recordLayouts[Int(n.a)]
            for k in Int(first)..<Int(first + count) {
                let source = layout[k]
                starts.append(c.position)
                if source >= 0 {
                    values[Int(source)] = try value(children[Int(n.first) + Int(source)], &c)
                } else {
                    try BinaryValidator(program: program.skips[Int(-source - 1)]).validate(&c)
                }
            }
            let end = c.position
            for (w, slot) in shared {
                var again = BinaryCursor(c.bytes, from: starts[Int(w)], to: end)
                values[Int(slot)] = try value(children[Int(n.first) + Int(slot)], &again)
            }
            return AvroRecord(schema: program.records[Int(n.a)], values: values)
        }

        /// A record whose writer fields come in another order than the reader's, or include fields
        /// the reader lacks (a broker's layout, an older version): each value is read straight into
        /// its reader slot, every slot written once (no placeholder copied in and overwritten).
        private func permuted(_ n: FlatNode<PlanProgram.Op>, _ c: inout BinaryCursor) throws(AlertDecodingError) -> AvroRecord {
            let count = Int(n.count), first = Int(n.first)
            let (layoutFirst, layoutCount) = program.recordLayouts[Int(n.a)]
            var failure: AlertDecodingError? = nil
            var cursor = c
            let values = [AvroValue](unsafeUninitializedCapacity: count) { buffer, initialized in
                let base = buffer.baseAddress!
                for k in 0..<count where children[first + k] < 0 {
                    (base + k).initialize(to: program.constants[Int(program.fieldSources[first + k])])
                }
                var k = Int(layoutFirst)
                do throws(AlertDecodingError) {
                    while k < Int(layoutFirst + layoutCount) {
                        let slot = Int(layout[k])
                        if slot >= 0 {
                            (base + slot).initialize(to: try value(children[first + slot], &cursor))
                        } else {
                            try BinaryValidator(program: program.skips[-slot - 1]).validate(&cursor)
                        }
                        k += 1
                    }
                    initialized = count
                } catch {
                    // Undo what was written: the defaults, and the fields read before the fault.
                    for j in 0..<count where children[first + j] < 0 { (base + j).deinitialize(count: 1) }
                    for j in Int(layoutFirst)..<k where layout[j] >= 0 { (base + Int(layout[j])).deinitialize(count: 1) }
                    initialized = 0
                    failure = error
                }
            }
            if let failure { throw failure }
            c = cursor
            return AvroRecord(schema: program.records[Int(n.a)], values: values)
        }

        /// The top record, fields for which `deferred` is true left null and not read.
        func record(_ index: Int32, _ bytes: UnsafeRawBufferPointer, writerFields: [Int], deferred: [Bool]) throws(AlertDecodingError) -> AvroRecord {
            let n = nodes[Int(index)]
            var values = program.templates[Int(n.a)]
            for slot in 0..<Int(n.count) where !deferred[slot] {
                let child = children[Int(n.first) + slot]
                guard child >= 0 else { continue }
                let source = Int(program.fieldSources[Int(n.first) + slot])
                var c = BinaryCursor(bytes, from: writerFields[source], to: writerFields[source + 1])
                values[slot] = try value(child, &c)
            }
            return AvroRecord(schema: program.records[Int(n.a)], values: values)
        }

        private func blocks(_ c: inout BinaryCursor, item: (inout BinaryCursor) throws(AlertDecodingError) -> Void) throws(AlertDecodingError) {
            while true {
                var count = try c.readLong()
                if count == 0 { return }
                if count < 0 {
                    count = -count
                    _ = try c.readLong()  // the block's size in bytes
                }
                for _ in 0..<count { try item(&c) }
            }
        }
    }
}
