/// A `JSONValue` written as compact JSON text, keys sorted, byte for byte what Foundation's
/// encoder writes with `.sortedKeys` and `.withoutEscapingSlashes` (`JSONWriterTests` holds it to
/// that). Written by hand: through `Codable` the encoder took a sixth of a folder run's time, in the
/// light curves of LSSTCam subjects (hundreds of points each).
enum JSONWriter {
    static func write(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, &out)
        return out
    }

    private static func write(_ value: JSONValue, _ out: inout [UInt8]) {
        switch value {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .number(let n): number(n, &out)
        case .string(let s): string(s, &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(v, &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                string(key, &out)
                out.append(UInt8(ascii: ":"))
                write(o[key]!, &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Whole numbers as integers; others in Swift's shortest round-tripping form, as Foundation.
    private static func number(_ n: Double, _ out: inout [UInt8]) {
        if n == n.rounded(), abs(n) < 1e15 {
            if n == 0, n.sign == .minus { out += "-0".utf8; return }
            out += String(Int64(n)).utf8
        } else {
            var text = n.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            out += text.utf8
        }
    }

    private static func string(_ s: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x0a: out += #"\n"#.utf8
            case 0x0d: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0x08: out += #"\b"#.utf8
            case 0x0c: out += #"\f"#.utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += #"\u00"#.utf8
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xf)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
