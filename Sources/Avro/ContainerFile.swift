/// An Avro object container file (ZTF sends one per Kafka message; archives hold many records):
/// header (magic, metadata with the writer schema and codec, sync marker), then blocks of records.
/// Parsed in Swift so that every fault names its byte offset; the records inside are decoded by Avro C.
package struct ContainerFile {
    static let magic: [UInt8] = [0x4f, 0x62, 0x6a, 0x01]  // "Obj\x01"

    package enum Codec: String { case null, deflate, snappy }

    package let schemaJSON: UnsafeRawBufferPointer
    package let codec: Codec
    let sync: UnsafeRawBufferPointer
    let firstBlockOffset: Int

    package static func isContainer(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == magic[0] && bytes[1] == magic[1] && bytes[2] == magic[2] && bytes[3] == magic[3]
    }

    /// Reads the header. `bytes` must outlive the result (it points into them).
    package init(header bytes: UnsafeRawBufferPointer, limits: DecodingLimits) throws(AlertDecodingError) {
        guard Self.isContainer(bytes) else {
            throw AlertDecodingError(.badContainerHeader, "missing the Avro container magic 'Obj\\x01'", offset: 0)
        }
        var c = BinaryCursor(bytes, from: 4)
        var schema: UnsafeRawBufferPointer? = nil
        var codecName = "null"
        while true {
            let blockStart = c.position
            var count = try c.readLong()
            if count == 0 { break }
            if count < 0 { count = -count; _ = try c.readLong() }
            guard count <= 1024 else {
                throw AlertDecodingError(.badContainerHeader, "header metadata claims \(count) entries", offset: blockStart)
            }
            for _ in 0..<count {
                let kn = try c.readLength(limit: 1024, what: "metadata key")
                let key = String(decoding: try c.readBytes(kn), as: UTF8.self)
                let vn = try c.readLength(limit: limits.maxFieldBytes, what: "metadata value")
                let value = try c.readBytes(vn)
                switch key {
                case "avro.schema": schema = value
                case "avro.codec": codecName = String(decoding: value, as: UTF8.self)
                default: break
                }
            }
        }
        guard let schema else {
            throw AlertDecodingError(.badContainerHeader, "container header has no avro.schema", offset: 4)
        }
        guard let codec = Codec(rawValue: codecName.isEmpty ? "null" : codecName) else {
            throw AlertDecodingError(.unsupportedCodec, "codec '\(codecName)' (supported: null, deflate, snappy)", offset: 4)
        }
        guard c.remaining >= 16 else {
            throw AlertDecodingError(.truncated, "container header ends before its 16-byte sync marker", offset: c.position)
        }
        self.schemaJSON = schema
        self.codec = codec
        self.sync = try c.readBytes(16)
        self.firstBlockOffset = c.position
    }

    package struct Block {
        package let count: Int
        /// Offset of the block's data in the file (for messages about records inside it).
        package let dataOffset: Int
        package let data: UnsafeRawBufferPointer
    }

    /// Calls `body` for each block, decompressed when needed, after checking its sync marker.
    package func forEachBlock(in bytes: UnsafeRawBufferPointer, limits: DecodingLimits,
                      _ body: (Block) throws(AlertDecodingError) -> Void) throws(AlertDecodingError) {
        var c = BinaryCursor(bytes, from: firstBlockOffset)
        while c.remaining > 0 {
            let start = c.position
            let count = try c.readLong()
            guard count >= 0 && count <= Int64(limits.maxItems) else {
                throw AlertDecodingError(.dataDoesNotMatchSchema, "block claims \(count) records", offset: start)
            }
            let sizeAt = c.position
            let size = try c.readLong()
            guard size >= 0 else { throw AlertDecodingError(.dataDoesNotMatchSchema, "negative block size \(size)", offset: sizeAt) }
            guard size <= Int64(c.remaining) else {
                throw AlertDecodingError(.truncated, "block of \(size) bytes but only \(c.remaining) left", offset: sizeAt)
            }
            let dataOffset = c.position
            let raw = try c.readBytes(Int(size))
            guard c.remaining >= 16 else {
                throw AlertDecodingError(.truncated, "block ends without its 16-byte sync marker", offset: c.position)
            }
            let syncAt = c.position
            let marker = try c.readBytes(16)
            guard marker.elementsEqual(sync) else {
                throw AlertDecodingError(.corruptSyncMarker, "sync marker after block does not match the header's", offset: syncAt)
            }
            switch codec {
            case .null:
                try body(Block(count: Int(count), dataOffset: dataOffset, data: raw))
            case .deflate, .snappy:
                let inflated: [UInt8]
                do throws(Codecs.Failure) {
                    inflated = codec == .deflate ? try Codecs.inflate(raw) : try Codecs.unsnappy(raw)
                } catch {
                    throw AlertDecodingError(.decompressionFailed, "\(codec.rawValue) block: \(error.reason)", offset: dataOffset)
                }
                try withBytes(inflated) { (data) throws(AlertDecodingError) in
                    try body(Block(count: Int(count), dataOffset: dataOffset, data: data))
                }
            }
        }
    }
}

extension ContainerFile {
    /// A container file holding `records` (each already Avro-encoded with `schemaJSON`), null codec:
    /// how ZTF frames one alert per Kafka message.
    package static func write(schemaJSON: [UInt8], records: [[UInt8]]) -> [UInt8] {
        var sync = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<16 { sync[i] = UInt8.random(in: 0...255, using: &rng) }
        var out = magic
        AvroEncoder.long(2, &out)
        AvroEncoder.bytes(Array("avro.schema".utf8), &out)
        AvroEncoder.bytes(schemaJSON, &out)
        AvroEncoder.bytes(Array("avro.codec".utf8), &out)
        AvroEncoder.bytes(Array("null".utf8), &out)
        out.append(0)
        out += sync
        if !records.isEmpty {
            AvroEncoder.long(Int64(records.count), &out)
            AvroEncoder.long(Int64(records.reduce(0) { $0 + $1.count }), &out)
            for r in records { out += r }
            out += sync
        }
        return out
    }
}
