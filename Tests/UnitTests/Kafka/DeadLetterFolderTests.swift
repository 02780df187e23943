import Foundation
import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

@Suite struct DeadLetterFolderTests {
    @Test func writesTheBytesAndTheReasonSideBySide() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-dl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sink = try DeadLetterFolder(path: dir.path)
        let message = KafkaMessage(topic: "alerts", partition: 2, offset: 41, key: nil, value: [0x7b, 1, 2],
                                   headers: [], timestamp: nil)
        try await sink.store(DeadLetter(message: message, kind: "badMagicByte", reason: "first byte is 0x7b"))
        let bytes = try Data(contentsOf: dir.appendingPathComponent("alerts-2-41.bin"))
        #expect(Array(bytes) == [0x7b, 1, 2])
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("alerts-2-41.json"))) as? [String: Any]
        #expect(info?["citsci.error.kind"] as? String == "badMagicByte")
        #expect(info?["citsci.source.offset"] as? String == "41")
        #expect(info?["citsci.bytes"] as? Int == 3)
    }
}
