/// JSON text (RFC 8259) read straight into a `JSONValue`, byte by byte. Foundation's decoder
/// reaches `JSONValue` through `Codable`, trying each case in turn and throwing on every miss: the
/// results page spent half its time there, in the annotations of stored classifications.
struct JSONParser {
    /// Deeper nesting is refused: a hostile document cannot exhaust the stack.
    static let maxDepth = 512

    private let bytes: UnsafeRawBufferPointer
    private var i = 0
    private var depth = 0

    static func parse(_ data: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSONValue in
                var p = JSONParser(bytes: raw)
                p.skipSpace()
                let v = try p.value()
                p.skipSpace()
                guard p.i == raw.count else { throw p.fail("unexpected text after the value") }
                return v
            }
        }
        return try result.get()
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: i, reason: reason) }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0a || bytes[i] == 0x0d || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func value() throws(JSONParseError) -> JSONValue {
        guard i < bytes.count else { throw fail("the text ends where a value should be") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character '\(Unicode.Scalar(bytes[i]))'")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("expected \(word)") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail("expected \(word)") }
        i += n
    }

    private mutating func nest() throws(JSONParseError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nested more than \(Self.maxDepth) deep") }
    }

    private mutating func object() throws(JSONParseError) -> JSONValue {
        try nest()
        defer { depth -= 1 }
        i += 1
        var out: [String: JSONValue] = [:]
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
        while true {
            skipSpace()
            // A comma before the closing brace is let through, as Foundation's decoder does.
            if i < bytes.count, bytes[i] == UInt8(ascii: "}"), !out.isEmpty { i += 1; return .object(out) }
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key in quotes") }
            let key = try string()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
            i += 1
            skipSpace()
            let v = try value()
            if out[key] == nil { out[key] = v }  // a repeated key: the first counts, as with Foundation's decoder
            skipSpace()
            guard i < bytes.count else { throw fail("the text ends inside an object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(out) }
            throw fail("expected ',' or '}' in an object")
        }
    }

    private mutating func array() throws(JSONParseError) -> JSONValue {
        try nest()
        defer { depth -= 1 }
        i += 1
        var out: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
        while true {
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]"), !out.isEmpty { i += 1; return .array(out) }  // as with "}"
            out.append(try value())
            skipSpace()
            guard i < bytes.count else { throw fail("the text ends inside an array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(out) }
            throw fail("expected ',' or ']' in an array")
        }
    }

    private mutating func number() throws(JSONParseError) -> Double {
        let start = i
        func digits() -> Int {
            let from = i
            while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
            return i - from
        }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { throw fail("a number without digits") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits() == 0 {
            throw fail("a number without digits")
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { throw fail("no digit after the decimal point") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw fail("no digit in the exponent") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        guard let n = Double(text), n.isFinite else { throw JSONParseError(offset: start, reason: "the number \(text) does not fit a double") }
        return n
    }

    private mutating func string() throws(JSONParseError) -> String {
        i += 1
        let start = i
        // Most strings have no escape: one scan, one copy.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                defer { i += 1 }
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") { break }
            guard b >= 0x20 else { throw fail("a control character in a string (it must be escaped)") }
            i += 1
        }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            guard b >= 0x20 else { throw fail("a control character in a string (it must be escaped)") }
            guard b == UInt8(ascii: "\\") else { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0c)
            case UInt8(ascii: "n"): out.append(0x0a)
            case UInt8(ascii: "r"): out.append(0x0d)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xd800..<0xdc00).contains(scalar), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    let save = i
                    i += 2
                    let low = try hex4()
                    if (0xdc00..<0xe000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                    } else {
                        i = save  // not a pair: the lone half becomes U+FFFD, the next escape is read on its own
                    }
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{fffd}")).utf8)
            default: throw JSONParseError(offset: i - 1, reason: "unknown escape '\\\(Unicode.Scalar(e))'")
            }
        }
        throw fail("the text ends inside a string")
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("\\u needs four hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw fail("\\u needs four hex digits")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }
}

/// Why a JSON text could not be read, and at which byte.
package struct JSONParseError: Error, CustomStringConvertible, Sendable {
    package let offset: Int
    package let reason: String
    package var description: String { "invalid JSON at byte \(offset): \(reason)" }
}
