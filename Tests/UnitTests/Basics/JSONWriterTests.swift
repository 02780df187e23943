import Foundation
import Testing
import TestSupport
@testable import Basics

/// The JSON writer against Foundation's encoder (sorted keys, slashes unescaped): the same bytes for
/// numbers of every size and sign, strings with every escape and script, nested documents, and every
/// JSON document of the real exports.
@Suite struct JSONWriterTests {
    static func foundation(_ v: JSONValue) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(v))
    }

    func same(_ v: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ours = v.encoded(), theirs = try Self.foundation(v)
        #expect(ours == theirs, "\(String(decoding: ours, as: UTF8.self)) vs \(String(decoding: theirs, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    @Test func numbers() throws {
        var rng = SplitMix64(seed: 7)
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 1.5, 1e15 - 1, 1e15, 1e16, 1e21, 1e22, 1e-7, 123456789.123, 2.5e-300, 1.7976931348623157e308,
                                -9007199254740992, 60902.993305483615, 281323062375219200, .leastNonzeroMagnitude]
        for _ in 0..<5000 {
            let bits = rng.next()
            let d = Double(bitPattern: bits)
            if d.isFinite { values.append(d) }
            values.append(Double(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64)))
            values.append((Double(rng.next() % 10_000_000) / 100).rounded() / 1000)
        }
        for v in values { try same(.number(v)) }
    }

    @Test func strings() throws {
        let texts = ["", "plain", "quote \" and \\ backslash", "slash / stays", "tab\tnew\nline\rcr", "\u{0}\u{1}\u{8}\u{c}\u{1f}\u{7f}",
                     "é€😀 汉字", "<script>alert('x')</script>", "\u{2028}\u{2029}"]
        for t in texts { try same(.string(t)) }
        try same(["b": [.number(1), "x", .null, .bool(true)], "a": ["z": .number(2.5), "é": "y", "A": .array([])], "": .object([:])])
        // Keys that a numeric or case-blind order would sort otherwise.
        try same(["10": .null, "9": .null, "B": .null, "a": .null, "b": .null, "_": .null, "a10": .null, "a9": .null, "É": .null, "e": .null])
    }

    @Test(needsSharedData) func everyRealDocument() throws {
        for doc in try JSONParserTests.realDocuments() {
            guard let v = try? JSONValue.decode(doc) else { continue }
            try same(v)
        }
    }
}
