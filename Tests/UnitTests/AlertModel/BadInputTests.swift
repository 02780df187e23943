import Foundation
import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

/// Every kind of bad input gives a typed error with its reason and byte offset, and nothing crashes.
@Suite(needsSharedData) struct BadInputTests {
    static let v9 = "pittgoogle-samples/lsst-confluent/lsst.v9_0.avro"
    var folder: SchemaFolder { get throws { try SchemaFolder(path: Paths.data("lsst-alert-packet/schema")) } }

    func decode(_ bytes: [UInt8], limits: DecodingLimits = DecodingLimits()) throws {
        _ = try AlertDecoder(schemas: try folder, limits: limits).decode(bytes)
    }

    /// A Confluent message with the 9.0 schema: diaSourceId (long), then observation_reason ["null","string"].
    func header(_ id: UInt32 = 900) -> [UInt8] { [0, UInt8(id >> 24), UInt8(id >> 16 & 0xff), UInt8(id >> 8 & 0xff), UInt8(id & 0xff)] }

    @Test func emptyMessage() {
        let e = expectDecodingError { try decode([]) }
        #expect(e?.kind == .empty)
    }

    @Test func wrongMagicByte() {
        let e = expectDecodingError { try decode([0x7b, 0x22, 0x61]) }
        #expect(e?.kind == .badMagicByte)
        #expect(e?.offset == 0)
        #expect(e?.reason.hasPrefix("first byte is 0x7b") == true)
    }

    @Test func truncatedConfluentHeader() {
        let e = expectDecodingError { try decode([0, 0, 3]) }
        #expect(e?.kind == .truncated)
        #expect(e?.reason == "Confluent header needs 5 bytes, message has 3")
    }

    @Test func unknownSchemaId() throws {
        let e = expectDecodingError { try decode(header(4242) + [2]) }
        #expect(e?.kind == .unknownSchemaId)
        #expect(e?.offset == 1)
    }

    @Test func confluentMessageWithoutASchemaSource() {
        let e = expectDecodingError { _ = try AlertDecoder().decode(header() + [2]) }
        #expect(e?.kind == .schemaUnavailable)
    }

    @Test func truncatedPayloadAtEveryLength() throws {
        let full = try Paths.bytes(Self.v9)
        try decode(full)
        for n in 5..<full.count {
            let e = expectDecodingError { try decode(Array(full.prefix(n))) }
            #expect(e?.kind == .truncated, "cut at \(n): \(String(describing: e))")
            #expect((e?.offset ?? -1) >= 5 && (e?.offset ?? .max) <= n, "cut at \(n): offset \(String(describing: e?.offset))")
        }
    }

    @Test func trailingBytes() throws {
        let full = try Paths.bytes(Self.v9)
        let e = expectDecodingError { try decode(full + [1, 2, 3]) }
        #expect(e?.kind == .trailingBytes)
        #expect(e?.offset == full.count)
        #expect(e?.reason == "3 bytes left after the record: the data does not match schema 900")
    }

    @Test func unionBranchOutOfRange() {
        let e = expectDecodingError { try decode(header() + [0x02, 0x08]) }
        #expect(e?.kind == .dataDoesNotMatchSchema)
        #expect(e?.offset == 6)
        #expect(e?.reason == "union branch 4 outside 0..<2")
    }

    @Test func oversizedAndNegativeLengths() {
        // observation_reason = string of 2^40 bytes
        let huge = ContainerBuilder.zigzag(1 << 40)
        var e = expectDecodingError { try decode(header() + [0x02, 0x02] + huge) }
        #expect(e?.kind == .oversizedField)
        #expect(e?.offset == 7)
        e = expectDecodingError { try decode(header() + [0x02, 0x02] + ContainerBuilder.zigzag(1000) + [1, 2, 3]) }
        #expect(e?.kind == .truncated)
        #expect(e?.reason == "string of 1000 bytes but only 3 left")
        e = expectDecodingError { try decode(header() + [0x02, 0x02, 0x01]) }
        #expect(e?.kind == .dataDoesNotMatchSchema)
        #expect(e?.reason == "negative string length -1")
    }

    @Test func tooManyArrayItems() throws {
        var limits = DecodingLimits()
        limits.maxItems = 1  // the sample has 2 prvDiaSources
        let e = expectDecodingError { try decode(try Paths.bytes(Self.v9), limits: limits) }
        #expect(e?.kind == .oversizedField)
        #expect(e?.reason == "array of more than 1 items")
    }

    @Test func dataWrittenWithAnotherSchema() throws {
        // A 9.0 payload announced as 7.0: the bytes do not fit.
        var bytes = try Paths.bytes(Self.v9)
        bytes[3] = 0x02; bytes[4] = 0xbc  // 700
        let e = expectDecodingError { try decode(bytes) }
        #expect(e != nil)
        #expect([.dataDoesNotMatchSchema, .truncated, .trailingBytes, .oversizedField].contains(e!.kind))
    }

    @Test func containerOfSomethingElse() throws {
        let schema = #"{"type":"record","name":"weather","fields":[{"name":"t","type":"double"}]}"#
        let bytes = ContainerFile.magic + ContainerBuilder.zigzag(1) + ContainerBuilder.string(Array("avro.schema".utf8))
            + ContainerBuilder.string(Array(schema.utf8)) + ContainerBuilder.zigzag(0) + [UInt8](repeating: 9, count: 16)
        let e = expectDecodingError { try decode(bytes) }
        #expect(e?.kind == .unknownSurvey)
    }

    /// Random corruption of real messages (seeded, so a failure can be replayed): each attempt
    /// decodes or throws `AlertDecodingError`; none crashes, hangs or throws anything else.
    @Test(arguments: [Self.v9, "ztf-alerts/1095578115815010001.avro", "rubin-9.0/169298432598474793_169298432598474793.avro"])
    func randomCorruptionNeverCrashes(file: String) throws {
        let original = try Paths.bytes(file)
        let decoder = AlertDecoder(schemas: try folder)
        var rng = SplitMix64(seed: 0x5eed_c175)
        var outcomes = (ok: 0, errors: 0)
        for round in 0..<600 {
            var bytes = original
            switch round % 4 {
            case 0: for _ in 0..<(1 + Int(rng.next() % 4)) { bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(1 << (rng.next() % 8)) }
            case 1: bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            case 2: let at = Int(rng.next() % UInt64(bytes.count)); bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            default: let at = Int(rng.next() % UInt64(bytes.count)); bytes.insert(contentsOf: [0xff, 0xff, 0xff, 0x7f], at: at)
            }
            do {
                _ = try decoder.decode(bytes)
                outcomes.ok += 1
            } catch {  // typed throws: decode can only throw AlertDecodingError
                outcomes.errors += 1
            }
        }
        #expect(outcomes.errors > 100)
    }
}

