import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

@Suite struct CodecsTests {
    let sample: [UInt8] = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 * 7 / 13) }

    @Test func deflateRoundTrip() throws {
        let packed = Codecs.deflate(sample)
        #expect(packed.count < sample.count / 4)
        #expect(try packed.withUnsafeBytes { try Codecs.inflate($0) } == sample)
    }

    @Test func snappyRoundTripAndChecksum() throws {
        var packed = Codecs.snappy(sample)
        #expect(try packed.withUnsafeBytes { try Codecs.unsnappy($0) } == sample)
        packed[packed.count - 1] ^= 1
        #expect(throws: Codecs.Failure.self) { try packed.withUnsafeBytes { try Codecs.unsnappy($0) } }
    }

    @Test func truncatedDeflateIsAnErrorNotACrash() {
        let packed = Array(Codecs.deflate(sample).prefix(100))
        #expect(throws: Codecs.Failure.self) { try packed.withUnsafeBytes { try Codecs.inflate($0) } }
    }

    @Test func inflateLimitHoldsAgainstBombs() {
        let zeros = Codecs.deflate([UInt8](repeating: 0, count: 4 << 20))
        #expect(throws: Codecs.Failure.self) { try zeros.withUnsafeBytes { try Codecs.inflate($0, limit: 1 << 20) } }
    }
}
