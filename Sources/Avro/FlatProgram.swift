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

/// The validator's program.
struct ValidatorProgram: Sendable {
    enum Op: UInt8 { case null, boolean, int, long, float, double, bytes, string, fixed, enumeration, array, map, union, record }
    var nodes: [FlatNode<Op>] = []
    var children: [Int32] = []

    init(_ schema: AvroSchema) { _ = add(schema) }

    private mutating func add(_ s: AvroSchema) -> Int32 {
        let index = Int32(nodes.count)
        nodes.append(FlatNode(op: .null))
        var node = FlatNode(op: Op.null)
        func kids(_ list: [AvroSchema]) -> (Int32, Int32) {
            let ids = list.map { add($0) }
            let first = Int32(children.count)
            children += ids
            return (first, Int32(ids.count))
        }
        switch s {
        case .null: node.op = .null
        case .boolean: node.op = Op.boolean
        case .int: node.op = Op.int
        case .long: node.op = Op.long
        case .float: node.op = Op.float
        case .double: node.op = Op.double
        case .bytes: node.op = Op.bytes
        case .string: node.op = Op.string
        case .fixed(_, let size): node = FlatNode(op: Op.fixed, a: Int32(size))
        case .enumeration(_, let symbols): node = FlatNode(op: Op.enumeration, a: Int32(symbols.count))
        case .array(let items): let (f, c) = kids([items]); node = FlatNode(op: Op.array, first: f, count: c)
        case .map(let values): let (f, c) = kids([values]); node = FlatNode(op: Op.map, first: f, count: c)
        case .union(let branches): let (f, c) = kids(branches); node = FlatNode(op: Op.union, first: f, count: c)
        case .record(let r): let (f, c) = kids(r.fields.map(\.type)); node = FlatNode(op: Op.record, first: f, count: c)
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
        case .fixed: node = FlatNode(op: Op.fixed)
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
        case .record(let schema, let sources):
            let recordIndex = Int32(records.count)  // taken before the fields add records of their own
            records.append(schema)
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
