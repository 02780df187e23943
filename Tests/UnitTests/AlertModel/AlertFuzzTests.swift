import Foundation
import Testing
import TestSupport
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka

/// Seeded mutations of a real message from every data set (ZTF and Rubin containers, null and snappy
/// codecs, broker re-serialisations, Confluent frames) and of the official writer schemas: each case
/// decodes or throws the decoder's typed error; none traps, hangs or allocates without bound.
@Suite(.enabled(if: Paths.hasSharedData, "\(Paths.missingDataMessage)"))
struct AlertFuzzTests {
    static let seedFiles = [
        "ztf-alerts/1095578115815010001.avro", "ztf-fink-distributed", "rubin-9.0", "rubin-7.4",
        "fink-client-datatest/avro_multi_alerts.avro", "alerce-ztf-samples", "ztf-avro-alert-history",
        "pittgoogle-samples/ztf", "pittgoogle-samples/lsst-confluent/lsst.v10_0.avro", "pittgoogle-samples/lsst-confluent/lsst.v11_1.avro",
        "lsst-alert-packet",
    ]

    /// One file per entry (the first .avro file of a folder).
    static func seeds() throws -> [[UInt8]] {
        try seedFiles.map { entry in
            if entry.hasSuffix(".avro") { return try Paths.bytes(entry) }
            guard let first = Paths.avroFiles(entry).first else { throw FixtureError(message: "no .avro file in \(entry)") }
            return try Paths.bytes(first)
        }
    }

    @Test func mutatedMessagesDecodeOrFailWithAReason() throws {
        let decoder = AlertDecoder(schemas: try SchemaFolder(path: Paths.data("lsst-alert-packet/schema")))
        var outcomes = (decoded: 0, refused: 0)
        var kinds = Set<String>()
        Fuzz(seeds: try Self.seeds(), count: 600).forEach { _, bytes in
            do throws(AlertDecodingError) {
                _ = try decoder.decode(bytes, source: "fuzz")
                outcomes.decoded += 1
            } catch {
                outcomes.refused += 1
                kinds.insert(error.kind.rawValue)
                #expect(!error.description.isEmpty)
            }
        }
        #expect(outcomes.decoded >= Self.seedFiles.count, "the unmutated seeds decode")
        #expect(outcomes.refused > 100 && kinds.count > 3, "\(outcomes), \(kinds)")
    }

    @Test func mutatedWriterSchemasParseOrFailWithAReason() throws {
        let root = Paths.data("lsst-alert-packet/schema")
        let files = (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []).filter { $0.hasSuffix(".avsc") }.sorted()
        let seeds = try files.prefix(12).map { Array(try Data(contentsOf: URL(fileURLWithPath: root + "/" + $0))) }
            + [Array(try Data(contentsOf: Paths.packageRoot.appendingPathComponent("schemas/classification-result.avsc")))]
        var parsed = 0
        Fuzz(seeds: seeds, count: 1500).forEach { _, bytes in
            if (try? AvroSchema.parse(json: String(decoding: bytes, as: UTF8.self))) != nil { parsed += 1 }
        }
        #expect(parsed >= seeds.count)
    }
}
