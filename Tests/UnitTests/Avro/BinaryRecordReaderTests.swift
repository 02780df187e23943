import Testing
@testable import Avro

/// The Swift reader of Avro binary: whole records and top-level fields read in part agree, and what
/// the reader schema cannot hold is refused by the validator's walk, at its byte, with its path.
@Suite struct BinaryRecordReaderTests {
    static let writer = #"""
    {"type":"record","name":"topLevelRecord","fields":[
      {"name":"id","type":["long","null"]},
      {"name":"extra","type":["string","null"]},
      {"name":"history","type":[{"type":"array","items":[{"type":"record","name":"point","fields":[
         {"name":"mjd","type":["double","null"]},{"name":"band","type":["string","null"]},
         {"name":"n","type":["long","null"]}]},"null"]},"null"]},
      {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B","C"]}},
      {"name":"ratio","type":"double"}]}
    """#
    static let reader = #"""
    {"type":"record","name":"alert","fields":[
      {"name":"id","type":"long"},
      {"name":"history","type":["null",{"type":"array","items":{"type":"record","name":"point","fields":[
         {"name":"mjd","type":"double"},{"name":"band","type":["null","string"]},{"name":"n","type":"int"}]}}]},
      {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}},
      {"name":"ratio","type":"float"},
      {"name":"added","type":"string","default":"none"}]}
    """#

    struct Fixture {
        let writer: AvroSchema, plan: ResolutionPlan
        init() throws {
            writer = try AvroSchema.parse(json: BinaryRecordReaderTests.writer)
            plan = try SchemaResolver.plan(writer: writer, reader: try AvroSchema.parse(json: BinaryRecordReaderTests.reader))
        }
        func encode(n: Int64 = 7, kind: String = "B", ratio: Double = 0.25, nullItem: Bool = false) throws -> [UInt8] {
            guard case .record(let w) = writer, case .array(let items)? = w.fields[2].type.nonNullBranch,
                  case .record(let point)? = items.nonNullBranch else { throw AvroSchemaError(path: "$", reason: "fixture") }
            let p1 = AvroValue.record(AvroRecord(schema: point, values: [.double(60000.5), .string("g"), .long(n)]))
            let p2 = AvroValue.record(AvroRecord(schema: point, values: [.double(60001.5), .null, .long(1)]))
            let history: [AvroValue] = nullItem ? [p1, .null] : [p1, p2]
            return try AvroEncoder.encode(.record(AvroRecord(schema: w, values: [.long(42), .string("broker column"), .array(history), .string(kind), .double(ratio)])), as: writer)
        }
    }

    func validator(_ f: Fixture) -> BinaryValidator { BinaryValidator(schema: f.writer, plan: f.plan, limits: DecodingLimits()) }

    @Test func aRecordReadInPartThenFieldByFieldEqualsTheWholeRecord() throws {
        let f = try Fixture()
        let bytes = try f.encode()
        let reader = BinaryRecordReader(plan: f.plan)
        try bytes.withUnsafeBytes { raw in
            var cursor = BinaryCursor(raw)
            let fields = try validator(f).validate(fieldsOf: &cursor)
            #expect(fields.count == 6 && fields.last == bytes.count)
            guard case .record(let whole) = try reader.read(raw) else { Issue.record("not a record"); return }
            #expect(whole["id"] == .long(42))
            #expect(whole["kind"] == .string("B"))
            #expect(whole["ratio"] == .double(0.25))
            #expect(whole["added"] == .string("none"), "a reader field the writer lacks takes its default")
            #expect(whole["history"].arrayValue?.count == 2)
            #expect(whole["history"].arrayValue?[1].recordValue?["band"] == .null)
            let deferred = [false, true, false, false, false]
            var head = try reader.readTop(raw, writerFields: fields, deferred: deferred)
            #expect(head["history"] == .null, "a deferred field is not read")
            #expect(head["id"] == .long(42) && head["added"] == .string("none"))
            head.values[1] = try reader.readTopField(1, raw, writerFields: fields)
            let same = head == whole
            #expect(same)
        }
    }

    enum Fault: CaseIterable, Sendable {
        case nullItem, longBeyondInt, unknownSymbol, doubleBeyondFloat

        func bytes(_ f: Fixture) throws -> [UInt8] {
            switch self {
            case .nullItem: try f.encode(nullItem: true)
            case .longBeyondInt: try f.encode(n: 1 << 40)
            case .unknownSymbol: try f.encode(kind: "C")
            case .doubleBeyondFloat: try f.encode(ratio: 1e300)
            }
        }

        var message: String {
            switch self {
            case .nullItem: "writer union branch null at history[] has no counterpart"
            case .longBeyondInt: "history[].n: 1099511627776, written as long, does not fit the reader's int"
            case .unknownSymbol: "enum symbol C at kind is unknown to the reader schema"
            case .doubleBeyondFloat: "ratio: 1e+300, written as double, does not fit the reader's float"
            }
        }
    }

    @Test(arguments: Fault.allCases)
    func whatTheReaderCannotHoldIsRefusedByTheValidator(fault: Fault) throws {
        let what = "\(fault)", message = fault.message
        let f = try Fixture()
        let bytes = try fault.bytes(f)
        do {
            try bytes.withUnsafeBytes { raw in
                var cursor = BinaryCursor(raw)
                _ = try validator(f).validate(fieldsOf: &cursor)
            }
            Issue.record("\(what) was accepted")
        } catch let e as AlertDecodingError {
            #expect(e.kind == .schemaResolution, "\(what): \(e)")
            #expect(e.reason.contains(message), "\(what): \(e.reason)")
            #expect(e.offset > 0 && e.offset < bytes.count)
        }
        // Without the plan, the writer's own schema accepts the same bytes.
        try bytes.withUnsafeBytes { raw in
            var cursor = BinaryCursor(raw)
            try BinaryValidator(schema: f.writer, limits: DecodingLimits()).validate(&cursor)
            #expect(cursor.position == bytes.count)
        }
    }
}

private extension AvroSchema {
    var nonNullBranch: AvroSchema? {
        if case .union(let b) = self { return b.first { if case .null = $0 { false } else { true } } }
        return self
    }
}
