import Avro
import Glibc

/// Decodes alert packets in either framing into `Alert`s:
/// - Confluent wire format (Rubin): byte 0 = 0, a big-endian 4-byte schema id, then one Avro record;
///   the writer schema comes from `schemas` (a registry or a folder);
/// - an Avro object container file (ZTF: one per Kafka message; archives: many records).
///
/// Each message is first walked by a Swift validator (exact byte offsets for every fault, limits on
/// lengths and counts), then decoded by Avro C with the writer schema, then resolved onto the
/// project's reader schema. Writer schemas are compiled once and cached by id or by text.
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
            try forEachRecord(bytes, source: source) { (writer, record) throws(AlertDecodingError) in
                alerts.append(try writer.mapping.alert(from: record, schemaVersion: writer.versionHint))
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
            try forEachRecord(bytes, source: source, keepBytes: true) { (writer, record, raw) throws(AlertDecodingError) in
                let id: UInt32? = if case .confluent(let i) = framing { i } else { nil }
                out.append(RawRecord(writer: writer.writer, writerJSON: json, schemaId: id, bytes: raw,
                                     alert: try writer.mapping.alert(from: record, schemaVersion: writer.versionHint)))
            }
        }
        return out
    }

    func forEachRecord(_ bytes: UnsafeRawBufferPointer, source: String?,
                       _ body: (CompiledWriter, AvroRecord) throws(AlertDecodingError) -> Void) throws(AlertDecodingError) {
        try forEachRecord(bytes, source: source, keepBytes: false) { (w, r, _) throws(AlertDecodingError) in try body(w, r) }
    }

    /// Calls `body` with each record of the message, resolved onto the reader schema.
    private func forEachRecord(_ bytes: UnsafeRawBufferPointer, source: String?, keepBytes: Bool,
                               _ body: (CompiledWriter, AvroRecord, [UInt8]) throws(AlertDecodingError) -> Void) throws(AlertDecodingError) {
        do throws(AlertDecodingError) {
            switch try Self.framing(of: bytes) {
            case .confluent(let id):
                let writer = try compiled(schemaId: id)
                var cursor = BinaryCursor(bytes, from: 5)
                let record = try writer.decodeOne(&cursor)
                guard cursor.position == bytes.count else {
                    throw AlertDecodingError(.trailingBytes, "\(bytes.count - cursor.position) bytes left after the record: the data does not match schema \(id)", offset: cursor.position)
                }
                try body(writer, record, keepBytes ? Array(bytes[5..<cursor.position]) : [])
            case .container:
                let header = try ContainerFile(header: bytes, limits: limits)
                let writer = try compiled(containerSchema: header.schemaJSON)
                try header.forEachBlock(in: bytes, limits: limits) { (block) throws(AlertDecodingError) in
                    var cursor = BinaryCursor(block.data)
                    let compressed = header.codec != .null
                    for i in 0..<block.count {
                        let record: AvroRecord
                        let start = cursor.position
                        do throws(AlertDecodingError) {
                            record = try writer.decodeOne(&cursor)
                        } catch {
                            throw compressed
                                ? AlertDecodingError(error.kind, "record \(i) of the \(header.codec.rawValue) block at byte \(block.dataOffset), at byte \(error.offset) of the decompressed block: \(error.reason)", offset: block.dataOffset)
                                : AlertDecodingError(error.kind, "record \(i) of the block: \(error.reason)", offset: block.dataOffset + error.offset)
                        }
                        try body(writer, record, keepBytes ? Array(block.data[start..<cursor.position]) : [])
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

/// A writer schema made ready to decode: its validator, its Avro C reader and its resolution plan.
final class CompiledWriter {
    let writer: AvroSchema
    let mapping: AlertMapping
    let versionHint: String?
    private let validator: BinaryValidator
    private let reader: AvroCRecordReader

    init(writer: AvroSchema, limits: DecodingLimits, versionHint: String?) throws(AlertDecodingError) {
        guard let survey = ReaderSchemas.survey(ofWriter: writer) else {
            throw AlertDecodingError(.unknownSurvey, "writer schema \(writer.description) is neither a ZTF alert (candidate, objectId) nor a Rubin alert (diaSource)", offset: 0)
        }
        let plan: ResolutionPlan
        do {
            plan = try SchemaResolver.plan(writer: writer, reader: .record(ReaderSchemas.schema(for: survey)))
        } catch {
            throw AlertDecodingError(.schemaResolution, error.description, offset: 0)
        }
        self.writer = writer
        self.mapping = AlertMapping(survey: survey)
        self.versionHint = survey == .rubin ? versionHint : nil
        self.validator = BinaryValidator(schema: writer, limits: limits)
        self.reader = try AvroCRecordReader(writer: writer, plan: plan)
    }

    /// Validates then decodes one record at the cursor, leaving the cursor after it.
    func decodeOne(_ cursor: inout BinaryCursor) throws(AlertDecodingError) -> AvroRecord {
        let start = cursor.position
        try validator.validate(&cursor)
        let slice = UnsafeRawBufferPointer(rebasing: cursor.bytes[start..<cursor.position])
        let value: AvroValue
        do throws(AlertDecodingError) {
            value = try reader.read(slice)
        } catch {
            throw error.shifted(by: start)
        }
        guard case .record(let record) = value else {
            throw AlertDecodingError(.schemaResolution, "top-level value is not a record", offset: start)
        }
        return record
    }
}
