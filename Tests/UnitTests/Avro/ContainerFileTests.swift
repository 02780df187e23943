import Foundation
import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

/// Builds container files for tests: a real file re-written with another codec, or broken on purpose.
enum ContainerBuilder {
    static func zigzag(_ v: Int64) -> [UInt8] {
        var u = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        var out: [UInt8] = []
        while u >= 0x80 { out.append(UInt8(u & 0x7f) | 0x80); u >>= 7 }
        out.append(UInt8(u))
        return out
    }

    static func string(_ b: [UInt8]) -> [UInt8] { zigzag(Int64(b.count)) + b }

    /// The same records, re-written with `codec` ("null", "deflate", "snappy" or any name).
    static func recode(_ bytes: [UInt8], codec: String, recordsPerBlock: Int? = nil) throws -> [UInt8] {
        try bytes.withUnsafeBytes { raw in
            let header = try ContainerFile(header: raw, limits: DecodingLimits())
            var out = ContainerFile.magic
            out += zigzag(2) + string(Array("avro.schema".utf8)) + string(Array(header.schemaJSON))
            out += string(Array("avro.codec".utf8)) + string(Array(codec.utf8)) + zigzag(0)
            out += Array(header.sync)
            try header.forEachBlock(in: raw, limits: DecodingLimits()) { block in
                let data = Array(block.data)
                let packed: [UInt8] = switch codec {
                case "deflate": Codecs.deflate(data)
                case "snappy": Codecs.snappy(data)
                default: data
                }
                out += zigzag(Int64(block.count)) + zigzag(Int64(packed.count)) + packed + Array(header.sync)
            }
            return out
        }
    }

    /// Offset of the first block's sync marker (after the header).
    static func firstBlockEnd(_ bytes: [UInt8]) throws -> (dataStart: Int, syncAt: Int) {
        try bytes.withUnsafeBytes { raw in
            let header = try ContainerFile(header: raw, limits: DecodingLimits())
            var c = BinaryCursor(raw, from: header.firstBlockOffset)
            _ = try c.readLong()
            let size = try c.readLong()
            return (c.position, c.position + Int(size))
        }
    }
}

@Suite(needsSharedData) struct ContainerFileTests {
    static let ztf = "ztf-alerts/1095578115815010001.avro"

    @Test(arguments: ["deflate", "snappy", "null"])
    func codecsGiveTheSameAlerts(codec: String) throws {
        let original = try Paths.bytes("fink-client-datatest/avro_multi_alerts.avro")
        let recoded = try ContainerBuilder.recode(original, codec: codec)
        if codec != "null" { #expect(recoded.count < original.count) }
        let a = try AlertDecoder().decode(original), b = try AlertDecoder().decode(recoded)
        #expect(a.count == 11 && b.count == 11)
        #expect(zip(a, b).allSatisfy { $0.record == $1.record })
    }

    @Test func realSnappyContainersFromABrokerDecode() throws {
        let snappy = Paths.avroFiles("alerce-ztf-samples/survey_parser_ZTF_samples").filter { file in
            (try? Paths.bytes(file).withUnsafeBytes { try ContainerFile(header: $0, limits: DecodingLimits()).codec }) == .snappy
        }
        #expect(snappy.count >= 40)
        for file in snappy { #expect(try AlertDecoder().decode(try Paths.bytes(file)).count == 1) }
    }

    @Test func corruptSyncMarkerIsReportedWhereItIs() throws {
        var bytes = try Paths.bytes(Self.ztf)
        let (_, syncAt) = try ContainerBuilder.firstBlockEnd(bytes)
        bytes[syncAt + 3] ^= 0xff
        let e = expectDecodingError { _ = try AlertDecoder().decode(bytes, source: "x.avro") }
        #expect(e?.kind == .corruptSyncMarker)
        #expect(e?.offset == syncAt)
        #expect(e?.description == "x.avro: corruptSyncMarker at byte \(syncAt): sync marker after block does not match the header's")
    }

    @Test func unknownCodecIsNamed() throws {
        let bytes = try ContainerBuilder.recode(try Paths.bytes(Self.ztf), codec: "zstandard")
        let e = expectDecodingError { _ = try AlertDecoder().decode(bytes) }
        #expect(e?.kind == .unsupportedCodec)
        #expect(e?.reason == "codec 'zstandard' (supported: null, deflate, snappy)")
    }

    @Test func snappyChecksumMismatchIsCaught() throws {
        var bytes = try ContainerBuilder.recode(try Paths.bytes(Self.ztf), codec: "snappy")
        let (_, syncAt) = try ContainerBuilder.firstBlockEnd(bytes)
        bytes[syncAt - 1] ^= 0x01  // last byte of the CRC
        let e = expectDecodingError { _ = try AlertDecoder().decode(bytes) }
        #expect(e?.kind == .decompressionFailed)
        #expect(e?.reason.contains("checksum mismatch") == true)
    }

    @Test func corruptDeflateDataIsCaught() throws {
        var bytes = try ContainerBuilder.recode(try Paths.bytes(Self.ztf), codec: "deflate")
        let (dataStart, _) = try ContainerBuilder.firstBlockEnd(bytes)
        for i in dataStart..<(dataStart + 40) { bytes[i] = 0xff }
        let e = expectDecodingError { _ = try AlertDecoder().decode(bytes) }
        #expect(e?.kind == .decompressionFailed)
        #expect(e?.offset == dataStart)
    }

    @Test func headerWithoutSchemaIsRefused() {
        let bytes = ContainerFile.magic + ContainerBuilder.zigzag(1) + ContainerBuilder.string(Array("avro.codec".utf8))
            + ContainerBuilder.string(Array("null".utf8)) + ContainerBuilder.zigzag(0) + [UInt8](repeating: 7, count: 16)
        let e = expectDecodingError { _ = try AlertDecoder().decode(bytes) }
        #expect(e?.kind == .badContainerHeader)
        #expect(e?.reason == "container header has no avro.schema")
    }
}
