/// A tree (a resolution plan or a validator shape) laid out as an array of trivial nodes, so that
/// walking it per record costs no reference counting: the hot loops index into buffer pointers
/// instead of matching indirect enums, whose payloads are retained and released at every step.
struct FlatNode<Op: Sendable>: Sendable {
    var op: Op
    /// Meaning depends on `op`: a size, a count, or an index into a side table.
    var a: Int32 = 0
    /// First child in `children` (records, unions, arrays, maps).
    var first: Int32 = 0
    var count: Int32 = 0
}

/// The validator's program: the writer schema, and, when made with a resolution plan, what reading
/// onto the reader schema would refuse (a `long` out of the reader's `int` range, a `double` beyond
/// `float`, an enum symbol or a union branch the reader lacks), so that one walk finds both kinds of
/// fault and the reader never meets one, whichever fields it reads and whenever.
struct ValidatorProgram: Sendable {
    enum Op: UInt8 {
        case null, boolean, int, long, float, double, bytes, string, fixed, enumeration, array, map, union, record
        /// Narrowings the reader makes; `a` indexes `paths`.
        case longAsInt, doubleAsFloat
        /// A record of primitives and nullable primitives (most of an alert's records): its fields
        /// are `flatFields[a ..< a + count]`, walked in one loop without recursion.
        case flatRecord
    }
    /// A field of a flat record: its primitive, and which branch of its `[null, T]` union is null
    /// (-1: not a union).
    struct FlatField: Sendable {
        var op: Op
        var nullBranch: Int8
    }
    var nodes: [FlatNode<Op>] = []
    var children: [Int32] = []
    var flatFields: [FlatField] = []
    /// Enums and unions the reader reads only in part: `a` is 1 + an index here (0: all readable).
    var refusals: [(readable: [Bool], names: [String], path: String)] = []
    var paths: [String] = []

    init(_ schema: AvroSchema, plan: ResolutionPlan? = nil) {
        _ = add(schema, plan)
        flatten()
    }

    /// Turns records whose fields are all primitives or `[null, primitive]` unions (nothing the reader
    /// refuses) into flat records. The top record stays as it is: its fields' offsets are wanted.
    private mutating func flatten() {
        func isPrimitive(_ op: Op) -> Bool {
            switch op {
            case .null, .boolean, .int, .long, .float, .double, .bytes, .string: true
            default: false
            }
        }
        for i in nodes.indices.dropFirst() where nodes[i].op == .record {
            let n = nodes[i]
            var fields: [FlatField] = []
            for k in Int(n.first)..<Int(n.first + n.count) {
                let child = nodes[Int(children[k])]
                if isPrimitive(child.op) {
                    fields.append(FlatField(op: child.op, nullBranch: -1))
                } else if child.op == .union, child.count == 2, child.a == 0 {
                    let b0 = nodes[Int(children[Int(child.first)])].op, b1 = nodes[Int(children[Int(child.first) + 1])].op
                    if b0 == .null, isPrimitive(b1), b1 != .null {
                        fields.append(FlatField(op: b1, nullBranch: 0))
                    } else if b1 == .null, isPrimitive(b0), b0 != .null {
                        fields.append(FlatField(op: b0, nullBranch: 1))
                    } else {
                        break
                    }
                } else {
                    break
                }
            }
            guard fields.count == Int(n.count) else { continue }
            nodes[i] = FlatNode(op: .flatRecord, a: Int32(flatFields.count), first: n.first, count: n.count)
            flatFields += fields
        }
    }

    private mutating func add(_ s: AvroSchema, _ plan: ResolutionPlan?) -> Int32 {
        let index = Int32(nodes.count)
        nodes.append(FlatNode(op: .null))
        var node = FlatNode(op: Op.null)
        func kids(_ list: [(AvroSchema, ResolutionPlan?)]) -> (Int32, Int32) {
            let ids = list.map { add($0.0, $0.1) }
            let first = Int32(children.count)
            children += ids
            return (first, Int32(ids.count))
        }
        func refusal(_ readable: [Bool], _ names: [String], _ path: String) -> Int32 {
            guard readable.contains(false) else { return 0 }
            refusals.append((readable, names, path))
            return Int32(refusals.count)
        }
        switch (s, plan) {
        case (.null, _): node.op = .null
        case (.boolean, _): node.op = Op.boolean
        case (.int, _): node.op = Op.int
        case (.long, .longAsInt(let path)?):
            paths.append(path)
            node = FlatNode(op: Op.longAsInt, a: Int32(paths.count - 1))
        case (.long, _): node.op = Op.long
        case (.float, _): node.op = Op.float
        case (.double, .doubleAsFloat(let path)?):
            paths.append(path)
            node = FlatNode(op: Op.doubleAsFloat, a: Int32(paths.count - 1))
        case (.double, _): node.op = Op.double
        case (.bytes, _): node.op = Op.bytes
        case (.string, _): node.op = Op.string
        case (.fixed(_, let size), _): node = FlatNode(op: Op.fixed, a: Int32(size))
        case (.enumeration(_, let symbols), let p):
            var r: Int32 = 0
            if case .enumeration(let known, let path)? = p {
                r = refusal(known.map { $0 != nil }, symbols, path)
            }
            node = FlatNode(op: Op.enumeration, a: r, count: Int32(symbols.count))
        case (.array(let items), let p):
            var itemPlan: ResolutionPlan? = nil
            if case .array(let i)? = p { itemPlan = i }
            let (f, c) = kids([(items, itemPlan)]); node = FlatNode(op: Op.array, first: f, count: c)
        case (.map(let values), let p):
            var valuePlan: ResolutionPlan? = nil
            if case .map(let v)? = p { valuePlan = v }
            let (f, c) = kids([(values, valuePlan)]); node = FlatNode(op: Op.map, first: f, count: c)
        case (.union(let branches), let p):
            var plans = [ResolutionPlan?](repeating: nil, count: branches.count)
            var r: Int32 = 0
            if case .writerUnion(let bp, let names, let path)? = p {
                plans = bp
                r = refusal(bp.map { $0 != nil }, names, path)
            }
            let (f, c) = kids(Array(zip(branches, plans)))
            node = FlatNode(op: Op.union, a: r, first: f, count: c)
        case (.record(let rec), let p):
            var plans = [ResolutionPlan?](repeating: nil, count: rec.fields.count)
            if case .record(_, let sources, _)? = p {
                for source in sources {
                    if case .writer(let i, let fieldPlan) = source, plans[i] == nil { plans[i] = fieldPlan }
                }
            }
            let (f, c) = kids(Array(zip(rec.fields.map(\.type), plans)))
            node = FlatNode(op: Op.record, first: f, count: c)
        }
        nodes[Int(index)] = node
        return index
    }
}

/// The resolution plan's program (see `ResolutionPlan` for the rules it encodes).
struct PlanProgram: Sendable {
    enum Op: UInt8 {
        case null, boolean, int, intAsDouble, long, longAsDouble, float, double, string, stringAsBytes
        case bytes, bytesAsString, fixed, enumeration, array, map, record, writerUnion
        /// Narrowings: `a` indexes `paths` (for the message when a value does not fit).
        case longAsInt, doubleAsFloat
    }
    var nodes: [FlatNode<Op>] = []
    /// Record fields: child plan node, or -1 when the field takes a constant.
    var children: [Int32] = []
    /// Record fields: the writer's field index, or the constant's index when the child is -1.
    var fieldSources: [Int32] = []
    var constants: [AvroValue] = []
    var records: [AvroRecordSchema] = []
    var enumSymbols: [[String?]] = []
    /// Names and paths for messages about unresolvable union branches and enum symbols.
    var unionNames: [[String]] = []
    var paths: [String] = []
    /// Per record (same index as `records`), the writer's fields in the writer's order: the reader
    /// field each one fills, or `-1 - k` for a field the reader lacks, skipped with `skips[k]`; all
    /// records' in one array (`layout[recordLayouts[a].first ..< + count]`) for the hot loop.
    var layout: [Int32] = []
    var recordLayouts: [(first: Int32, count: Int32)] = []
    /// Per record: its values before any field is read (defaults in place, null elsewhere).
    var templates: [[AvroValue]] = []
    /// Per record: the writer's fields are the reader's, in the same order (the usual case: values
    /// are appended as read, with no placeholder written first and overwritten).
    var inOrder: [Bool] = []
    /// Per record: reader fields filled from a writer field that already fills an earlier one (a
    /// field and an alias of it), as (writer field, reader field): read again from the same bytes.
    var sharedSources: [[(writer: Int32, slot: Int32)]] = []
    var skips: [ValidatorProgram] = []
    init(_ plan: ResolutionPlan) { _ = add(plan) }

    private mutating func add(_ p: ResolutionPlan) -> Int32 {
        let index = Int32(nodes.count)
        nodes.append(FlatNode(op: .null))
        var node: FlatNode<Op>
        switch p {
        case .null: node = FlatNode(op: Op.null)
        case .boolean: node = FlatNode(op: Op.boolean)
        case .int: node = FlatNode(op: Op.int)
        case .intAsDouble: node = FlatNode(op: Op.intAsDouble)
        case .long: node = FlatNode(op: Op.long)
        case .longAsDouble: node = FlatNode(op: Op.longAsDouble)
        case .longAsInt(let path):
            paths.append(path)
            node = FlatNode(op: Op.longAsInt, a: Int32(paths.count - 1))
        case .doubleAsFloat(let path):
            paths.append(path)
            node = FlatNode(op: Op.doubleAsFloat, a: Int32(paths.count - 1))
        case .float: node = FlatNode(op: Op.float)
        case .double: node = FlatNode(op: Op.double)
        case .string: node = FlatNode(op: Op.string)
        case .stringAsBytes: node = FlatNode(op: Op.stringAsBytes)
        case .bytes: node = FlatNode(op: Op.bytes)
        case .bytesAsString: node = FlatNode(op: Op.bytesAsString)
        case .fixed(let size): node = FlatNode(op: Op.fixed, a: Int32(size))
        case .enumeration(let symbols, let path):
            enumSymbols.append(symbols)
            paths.append(path)
            node = FlatNode(op: Op.enumeration, a: Int32(enumSymbols.count - 1), first: Int32(paths.count - 1))
        case .array(let items):
            let child = add(items)
            node = FlatNode(op: Op.array, first: child)
        case .map(let values):
            let child = add(values)
            node = FlatNode(op: Op.map, first: child)
        case .record(let schema, let sources, let writer):
            let recordIndex = Int32(records.count)  // taken before the fields add records of their own
            records.append(schema)
            sharedSources.append([])
            recordLayouts.append((0, 0))
            templates.append([])
            inOrder.append(false)
            var layout: [Int32] = []
            var slotsOf = [[Int]](repeating: [], count: writer.fields.count)  // writer field → reader fields
            for (slot, source) in sources.enumerated() {
                if case .writer(let w, _) = source { slotsOf[w].append(slot) }
            }
            for (w, field) in writer.fields.enumerated() {
                let slots = slotsOf[w]
                if let slot = slots.first {
                    layout.append(Int32(slot))
                    sharedSources[Int(recordIndex)] += slots.dropFirst().map { (Int32(w), Int32($0)) }
                } else {
                    skips.append(ValidatorProgram(field.type))
                    layout.append(-Int32(skips.count))
                }
            }
            recordLayouts[Int(recordIndex)] = (Int32(self.layout.count), Int32(layout.count))
            self.layout += layout
            templates[Int(recordIndex)] = sources.map { if case .constant(let c) = $0 { c } else { .null } }
            inOrder[Int(recordIndex)] = layout == (0..<Int32(sources.count)).map { $0 } && sharedSources[Int(recordIndex)].isEmpty
            var kids: [Int32] = [], from: [Int32] = []
            for s in sources {
                switch s {
                case .writer(let i, let plan):
                    kids.append(add(plan))
                    from.append(Int32(i))
                case .constant(let c):
                    constants.append(c)
                    kids.append(-1)
                    from.append(Int32(constants.count - 1))
                }
            }
            node = FlatNode(op: Op.record, a: recordIndex, first: Int32(children.count), count: Int32(kids.count))
            children += kids
            fieldSources += from
        case .writerUnion(let branches, let names, let path):
            let kids = branches.map { $0.map { add($0) } ?? -1 }
            unionNames.append(names)
            paths.append(path)
            node = FlatNode(op: Op.writerUnion, a: Int32(unionNames.count - 1), first: Int32(children.count), count: Int32(kids.count))
            children += kids
            fieldSources += [Int32](repeating: Int32(paths.count - 1), count: kids.count)
        }
        nodes[Int(index)] = node
        return index
    }
}
