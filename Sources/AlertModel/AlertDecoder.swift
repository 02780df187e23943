import Avro
import Glibc

/// Decodes alert packets in either framing into `Alert`s:
/// - Confluent wire format (Rubin): byte 0 = 0, a big-endian 4-byte schema id, then one Avro record;
///   the writer schema comes from `schemas` (a registry or a folder);
/// - an Avro object container file (ZTF: one per Kafka message; archives: many records).
///
/// Each message is first walked by a Swift validator (exact byte offsets for every fault, limits on
/// lengths and counts; where each top-level field starts), then read onto the project's reader schema
/// by the resolution plan (`BinaryRecordReader`): the scalars at once, the top-level arrays (history,
/// forced photometry) when first asked for. Writer schemas are compiled once and cached by id or by text.
///
/// Not thread-safe: give each decoding task its own decoder (they share nothing but the schema source).
package final class AlertDecoder {
    package let limits: DecodingLimits
    private let schemas: (any WriterSchemaSource)?
    private var byId: [UInt32: CompiledWriter] = [:]
    private var byText: [UInt64: [(text: [UInt8], writer: CompiledWriter)]] = [:]

    package init(schemas: (any WriterSchemaSource)? = nil, limits: DecodingLimits = DecodingLimits()) {
        self.schemas = schemas
        self.limits = limits
    }

    /// Distinct container schemas kept compiled (a real stream has a handful).
    static let maxCachedSchemas = 64

    package enum Framing: Sendable, Equatable {
        case confluent(schemaId: UInt32)
        case container
    }

    /// The framing of a message, from its first bytes.
    package static func framing(of bytes: UnsafeRawBufferPointer) throws(AlertDecodingError) -> Framing {
        guard !bytes.isEmpty else { throw AlertDecodingError(.empty, "message is empty", offset: 0) }
        if ContainerFile.isContainer(bytes) { return .container }
        guard bytes[0] == 0 else {
            throw AlertDecodingError(.badMagicByte, String(format: "first byte is 0x%02x: neither the Confluent wire format (0x00) nor an Avro container file ('Obj\\x01')", bytes[0]), offset: 0)
        }
        guard bytes.count >= 5 else {
            throw AlertDecodingError(.truncated, "Confluent header needs 5 bytes, message has \(bytes.count)", offset: bytes.count)
        }
        let id = UInt32(bytes[1]) << 24 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 8 | UInt32(bytes[4])
        return .confluent(schemaId: id)
    }

    /// Decodes every alert in a message (one for Confluent framing; one or more for a container).
    package func decode(_ message: [UInt8], source: String? = nil) throws(AlertDecodingError) -> [Alert] {
        var alerts: [Alert] = []
        try withBytes(message) { (bytes) throws(AlertDecodingError) in
            try forEachRecord(bytes, storage: message, source: source, keepBytes: false) { (_, alert, _) throws(AlertDecodingError) in
                alerts.append(alert)
            }
        }
        return alerts
    }

    /// The writer schema a message was written with.
    package func writerSchema(of message: [UInt8], source: String? = nil) throws(AlertDecodingError) -> AvroSchema {
        try withBytes(message) { (bytes) throws(AlertDecodingError) in
            switch try Self.framing(of: bytes) {
            case .confluent(let id):
                guard let schemas else {
                    throw AlertDecodingError(.schemaUnavailable, "Confluent-framed message (schema id \(id)) but no schema registry or schema folder is configured", offset: 1, source: source)
                }
                return try schemas.schema(id: id)
            case .container:
                let header = try ContainerFile(header: bytes, limits: limits)
                return try compiled(containerSchema: header.schemaJSON).writer
            }
        }
    }

    /// One record of a message as it was written: the writer schema and the record's own bytes.
    package struct RawRecord: Sendable {
        package let writer: AvroSchema
        /// The container's schema text, or nil for a Confluent-framed message.
        package let writerJSON: [UInt8]?
        package let schemaId: UInt32?
        /// The record's Avro binary encoding, exactly as written.
        package let bytes: [UInt8]
        package let alert: Alert
    }

    /// Every record of a message with its original bytes, for tools that re-frame alerts (`replay`).
    package func rawRecords(_ message: [UInt8], source: String? = nil) throws(AlertDecodingError) -> [RawRecord] {
        var out: [RawRecord] = []
        try withBytes(message) { (bytes) throws(AlertDecodingError) in
            let framing = try Self.framing(of: bytes)
            var json: [UInt8]? = nil
            if framing == .container { json = Array(try ContainerFile(header: bytes, limits: limits).schemaJSON) }
            try forEachRecord(bytes, storage: message, source: source, keepBytes: true) { (writer, alert, raw) throws(AlertDecodingError) in
                let id: UInt32? = if case .confluent(let i) = framing { i } else { nil }
                out.append(RawRecord(writer: writer.writer, writerJSON: json, schemaId: id, bytes: raw, alert: alert))
            }
        }
        return out
    }

    /// The message narrowed to its alert at `index`: a container of several records becomes a
    /// container of that one record (the same schema, null codec); a message holding one alert is
    /// returned as it is. For keeping one alert of an archive file without the whole file.
    package func alone(_ message: [UInt8], index: Int, source: String? = nil) throws(AlertDecodingError) -> [UInt8] {
        let records = try rawRecords(message, source: source)
        guard records.count > 1 else { return message }
        guard records.indices.contains(index), let json = records[index].writerJSON else {
            throw AlertDecodingError(.truncated, "no record \(index) in a message of \(records.count)", offset: 0, source: source)
        }
        return ContainerFile.write(schemaJSON: json, records: [records[index].bytes])
    }

    /// Calls `body` with each record of the message as an alert (and its bytes when `keepBytes`).
    /// `storage` holds `bytes`: alerts keep it (not a copy) for the parts they read later.
    private func forEachRecord(_ bytes: UnsafeRawBufferPointer, storage: [UInt8], source: String?, keepBytes: Bool,
                               _ body: (CompiledWriter, Alert, [UInt8]) throws(AlertDecodingError) -> Void) throws(AlertDecodingError) {
        do throws(AlertDecodingError) {
            switch try Self.framing(of: bytes) {
            case .confluent(let id):
                let writer = try compiled(schemaId: id)
                var cursor = BinaryCursor(bytes, from: 5)
                let alert = try writer.decodeAlert(&cursor, storage: RecordStorage(bytes: storage, offset: 0))
                guard cursor.position == bytes.count else {
                    throw AlertDecodingError(.trailingBytes, "\(bytes.count - cursor.position) bytes left after the record: the data does not match schema \(id)", offset: cursor.position)
                }
                try body(writer, alert, keepBytes ? Array(bytes[5..<cursor.position]) : [])
            case .container:
                let header = try ContainerFile(header: bytes, limits: limits)
                let writer = try compiled(containerSchema: header.schemaJSON)
                try header.forEachBlock(in: bytes, limits: limits) { (block) throws(AlertDecodingError) in
                    var cursor = BinaryCursor(block.data)
                    let compressed = header.codec != .null
                    for i in 0..<block.count {
                        let alert: Alert
                        let start = cursor.position
                        do throws(AlertDecodingError) {
                            // A decompressed block lives only for this call: alerts copy their record.
                            alert = try writer.decodeAlert(&cursor, storage: compressed ? nil : RecordStorage(bytes: storage, offset: block.dataOffset))
                        } catch {
                            throw compressed
                                ? AlertDecodingError(error.kind, "record \(i) of the \(header.codec.rawValue) block at byte \(block.dataOffset), at byte \(error.offset) of the decompressed block: \(error.reason)", offset: block.dataOffset)
                                : AlertDecodingError(error.kind, "record \(i) of the block: \(error.reason)", offset: block.dataOffset + error.offset)
                        }
                        try body(writer, alert, keepBytes ? Array(block.data[start..<cursor.position]) : [])
                    }
                    guard cursor.remaining == 0 else {
                        throw AlertDecodingError(.trailingBytes, "\(cursor.remaining) bytes left in the block after its \(block.count) records", offset: block.dataOffset + (compressed ? 0 : cursor.position))
                    }
                }
            }
        } catch {
            throw error.at(source: source)
        }
    }

    private func compiled(schemaId id: UInt32) throws(AlertDecodingError) -> CompiledWriter {
        if let hit = byId[id] { return hit }
        guard let schemas else {
            throw AlertDecodingError(.schemaUnavailable, "Confluent-framed message (schema id \(id)) but no schema registry or schema folder is configured", offset: 1)
        }
        let writer = try CompiledWriter(writer: try schemas.schema(id: id), limits: limits, versionHint: "\(id / 100).\(id % 100)")
        byId[id] = writer
        return writer
    }

    private func compiled(containerSchema text: UnsafeRawBufferPointer) throws(AlertDecodingError) -> CompiledWriter {
        let hash = Self.hash(text)
        if let bucket = byText[hash], let hit = bucket.first(where: { Self.same($0.text, text) }) { return hit.writer }
        let schema: AvroSchema
        do {
            schema = try AvroSchema.parse(json: String(decoding: text, as: UTF8.self))
        } catch {
            throw AlertDecodingError(.invalidSchema, "container's writer schema: \(error)", offset: 4)
        }
        var hint: String? = nil
        if case .record(let r) = schema, let m = r.name.firstMatch(of: /v(\d+)_(\d+)/) { hint = "\(m.1).\(m.2)" }
        let writer = try CompiledWriter(writer: schema, limits: limits, versionHint: hint)
        if byText.count >= Self.maxCachedSchemas { byText.removeAll() }  // bounded: a stream of junk schemas cannot grow it
        byText[hash, default: []].append((Array(text), writer))
        return writer
    }

    private static func same(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && a.withUnsafeBytes { memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 }
    }

    /// A fast 64-bit hash of a schema's text (tens of kB per ZTF message), checked by comparing bytes.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        var i = 0
        while i + 8 <= bytes.count {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01b3
            h ^= h >> 29
            i += 8
        }
        while i < bytes.count {
            h = (h ^ UInt64(bytes[i])) &* 0x0000_0100_0000_01b3
            i += 1
        }
        return h
    }
}

/// A writer schema made ready to decode: its validator, its reader and its resolution plan.
final class CompiledWriter {
    let writer: AvroSchema
    let mapping: AlertMapping
    let versionHint: String?
    private let validator: BinaryValidator
    private let reader: BinaryRecordReader
    /// Top-level reader fields read only when first asked for (arrays and maps).
    private let deferredSlots: [Int]
    private let deferred: [Bool]

    init(writer: AvroSchema, limits: DecodingLimits, versionHint: String?) throws(AlertDecodingError) {
        guard let survey = ReaderSchemas.survey(ofWriter: writer) else {
            throw AlertDecodingError(.unknownSurvey, "writer schema \(writer.description) is neither a ZTF alert (candidate, objectId) nor a Rubin alert (diaSource)", offset: 0)
        }
        let plan: ResolutionPlan
        let readerSchema = ReaderSchemas.schema(for: survey)
        do {
            plan = try SchemaResolver.plan(writer: writer, reader: .record(readerSchema))
        } catch {
            throw AlertDecodingError(.schemaResolution, error.description, offset: 0)
        }
        self.writer = writer
        self.mapping = AlertMapping(survey: survey)
        self.versionHint = survey == .rubin ? versionHint : nil
        // The validator also refuses what the reader would, so the deferred arrays read without fault.
        self.validator = BinaryValidator(schema: writer, plan: plan, limits: limits)
        let reader = BinaryRecordReader(plan: plan)
        self.reader = reader
        let slots = reader.topIsRecord ? readerSchema.fields.indices.filter { slot in
            switch readerSchema.fields[slot].type.nonNull {
            case .array, .map: true
            default: false
            }
        } : []
        deferredSlots = slots
        deferred = readerSchema.fields.indices.map { slots.contains($0) }
    }

    /// Validates one record at the cursor, leaves the cursor after it, and returns its alert, with
    /// the top-level arrays left in the record's bytes until first asked for: in `storage` when it
    /// holds the cursor's bytes, else in a copy of the record.
    func decodeAlert(_ cursor: inout BinaryCursor, storage: RecordStorage?) throws(AlertDecodingError) -> Alert {
        let start = cursor.position
        var fields = try validator.validate(fieldsOf: &cursor)
        let slice = UnsafeRawBufferPointer(rebasing: cursor.bytes[start..<cursor.position])
        do throws(AlertDecodingError) {
            if deferredSlots.isEmpty || fields.isEmpty {
                guard case .record(let record) = try reader.read(slice) else {
                    throw AlertDecodingError(.schemaResolution, "top-level value is not a record", offset: 0)
                }
                return try mapping.alert(from: record, schemaVersion: versionHint)
            }
            for i in fields.indices { fields[i] -= start }
            let head = try reader.readTop(slice, writerFields: fields, deferred: deferred)
            let kept = storage.map { RecordStorage(bytes: $0.bytes, offset: $0.offset + start, count: slice.count) }
                ?? RecordStorage(bytes: Array(slice), offset: 0)
            let parts = DeferredParts(record: kept, writerFields: fields, slots: deferredSlots, reader: reader, mapping: mapping)
            return try mapping.alert(from: head, schemaVersion: versionHint, deferred: parts)
        } catch {
            throw error.shifted(by: start)
        }
    }
}
