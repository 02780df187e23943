import Foundation
import Testing
import TestSupport
@testable import Basics

/// The JSON reader against Foundation's decoder: equal values for every JSON document in the real
/// Zooniverse exports and the Rubin sample alerts, the same verdict on seeded mutations of them,
/// the edge cases of RFC 8259 one by one, and hostile nesting refused without a crash.
@Suite struct JSONParserTests {
    static func foundation(_ bytes: [UInt8]) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) }

    /// Every cell of the exports that holds a JSON object or array, and the sample alerts.
    static func realDocuments() throws -> [[UInt8]] {
        var docs: [[UInt8]] = []
        let exports = Paths.data("zooniverse-exports")
        for name in try FileManager.default.contentsOfDirectory(atPath: exports).sorted() where name.hasSuffix(".csv") {
            let text = try String(contentsOfFile: exports + "/" + name, encoding: .utf8)
            for record in try CSV.records(text, path: name) {
                for cell in record.cells where cell.hasPrefix("{") || cell.hasPrefix("[") { docs.append(Array(cell.utf8)) }
            }
        }
        let packets = Paths.data("lsst-alert-packet/schema")
        for case let path as String in FileManager.default.enumerator(atPath: packets)! where path.hasSuffix(".json") {
            docs.append(Array(try Data(contentsOf: URL(fileURLWithPath: packets + "/" + path))))
        }
        return docs
    }

    @Test(needsSharedData) func everyRealDocumentReadsAsFoundationReadsIt() throws {
        let docs = try Self.realDocuments()
        #expect(docs.count > 1000, "\(docs.count) documents")
        var compared = 0
        for doc in docs {
            guard let expected = Self.foundation(doc) else { continue }
            do {
                let ours = try JSONValue.decode(doc)
                #expect(ours == expected, "\(Self.difference(ours, expected, "") ?? "")")
            } catch {
                Issue.record("\(error): \(String(decoding: doc.prefix(300), as: UTF8.self))")
            }
            compared += 1
        }
        #expect(compared > 1000)
    }

    /// Where two values first differ, for the failure message.
    static func difference(_ a: JSONValue, _ b: JSONValue, _ path: String) -> String? {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for k in Set(x.keys).union(y.keys).sorted() {
                guard let u = x[k], let v = y[k] else { return "\(path).\(k): only in one" }
                if let d = difference(u, v, path + "." + k) { return d }
            }
            return nil
        case (.array(let x), .array(let y)):
            guard x.count == y.count else { return "\(path): \(x.count) vs \(y.count) items" }
            for (i, (u, v)) in zip(x, y).enumerated() { if let d = difference(u, v, "\(path)[\(i)]") { return d } }
            return nil
        default: return a == b ? nil : "\(path): \(a) vs \(b)"
        }
    }

    @Test(needsSharedData) func mutationsGetFoundationsVerdict() throws {
        let docs = try Self.realDocuments().filter { $0.count < 4000 }
        var rng = SplitMix64(seed: 20261201)
        let alphabet = Array("{}[]\",:\\ 0123456789.eE+-tfnul\u{1}".utf8)
        var accepted = 0
        for n in 0..<20_000 {
            var doc = docs[n % docs.count]
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(doc.count))
                switch rng.next() % 3 {
                case 0: doc[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: doc.remove(at: at)
                default: doc.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                }
                if doc.isEmpty { doc = [0x7b] }
            }
            let ours = try? JSONValue.decode(doc)
            let theirs = Self.foundation(doc)
            #expect(ours == theirs, "\(String(decoding: doc, as: UTF8.self))")
            if ours != nil { accepted += 1 }
        }
        #expect(accepted > 1000, "the mutations should leave many documents valid: \(accepted)")
    }

    @Test func theEdgeCases() throws {
        let cases: [(String, JSONValue)] = [
            (#" {"a" : [1, -2.5e3, 0, 1E+2, true, false, null], "b": {}} "#,
             ["a": [.number(1), .number(-2500), .number(0), .number(100), .bool(true), .bool(false), .null], "b": .object([:])]),
            (#""\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00""#, .string("\"\\/\u{8}\u{c}\n\r\té€😀")),
            (#""\ud83d x""#, .string("\u{fffd} x")),
            (#"{"k": 1, "k": 2}"#, ["k": .number(1)]),
            ("[]", .array([])),
            ("\"é😀\"", .string("é😀")),
            ("-0", .number(-0.0)),
        ]
        for (text, expected) in cases {
            #expect(try JSONValue.decode(Array(text.utf8)) == expected, "\(text)")
        }
        // Foundation's leniencies, kept so that what it read before reads the same now.
        for lenient in ["{\"a\": 1,}", "[1,]", "{\"a\": [1,],}"] {
            #expect((try? JSONValue.decode(Array(lenient.utf8))) == Self.foundation(Array(lenient.utf8)), "\(lenient)")
        }
        for bad in ["", "{", "{\"a\" 1}", "01", "1.", "1e", "-", "tru", "\"a", "\"\u{1}\"", "[1] 2", "1e400", "\"\\x\"", "\"\\u12\""] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONValue.decode(Array(bad.utf8)) }
        }
        let error = try #require(throws: JSONParseError.self) { try JSONValue.decode(Array("[1, 2,, 3]".utf8)) }
        #expect(error.offset == 6 && error.description == "invalid JSON at byte 6: unexpected character ','")
    }

    @Test func hostileNestingIsRefused() {
        let deep = Array(String(repeating: "[", count: 100_000).utf8)
        #expect(throws: JSONParseError.self) { try JSONValue.decode(deep) }
        let fine = Array((String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).utf8)
        #expect((try? JSONValue.decode(fine)) != nil)
    }
}

