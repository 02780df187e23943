/// Reads Avro's binary primitives (zig-zag varints, lengths) from a byte buffer, with the position
/// always known so every fault names its byte offset.
package struct BinaryCursor {
    package let bytes: UnsafeRawBufferPointer
    package var position: Int
    let end: Int

    package init(_ bytes: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
    }

    package var remaining: Int { end - position }

    @inline(__always)
    mutating func readLong() throws(AlertDecodingError) -> Int64 {
        // Most varints in an alert (union branches, small counts and lengths) are one byte.
        if position < end {
            let b = bytes[position]
            if b & 0x80 == 0 {
                position += 1
                return Int64(b >> 1) ^ -Int64(b & 1)
            }
        }
        return try readLongSlow()
    }

    mutating func readLongSlow() throws(AlertDecodingError) -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < end else {
                throw AlertDecodingError(.truncated, "varint runs past the end of the data", offset: start)
            }
            let b = bytes[position]
            position += 1
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { break }
            shift += 7
            if shift > 63 {
                throw AlertDecodingError(.dataDoesNotMatchSchema, "varint longer than 10 bytes", offset: start)
            }
        }
        return Int64(bitPattern: (result >> 1) ^ (0 &- (result & 1)))
    }

    /// A length prefix (of bytes, a string or a map key), checked against what is left and a limit.
    @inline(__always)
    mutating func readLength(limit: Int, what: StaticString) throws(AlertDecodingError) -> Int {
        let start = position
        let n = try readLong()
        if n < 0 {
            throw AlertDecodingError(.dataDoesNotMatchSchema, "negative \(what) length \(n)", offset: start)
        }
        if n > limit {
            throw AlertDecodingError(.oversizedField, "\(what) of \(n) bytes exceeds the limit of \(limit)", offset: start)
        }
        if n > Int64(remaining) {
            throw AlertDecodingError(.truncated, "\(what) of \(n) bytes but only \(remaining) left", offset: start)
        }
        return Int(n)
    }

    @inline(__always)
    mutating func skip(_ n: Int, what: StaticString) throws(AlertDecodingError) {
        guard n <= remaining else {
            throw AlertDecodingError(.truncated, "\(what) needs \(n) bytes but only \(remaining) left", offset: position)
        }
        position += n
    }

    @inline(__always)
    mutating func readFloat() throws(AlertDecodingError) -> Float {
        try skip(4, what: "float")
        return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position - 4, as: UInt32.self)))
    }

    @inline(__always)
    mutating func readDouble() throws(AlertDecodingError) -> Double {
        try skip(8, what: "double")
        return Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position - 8, as: UInt64.self)))
    }

    /// The bytes of a length-prefixed value (bytes, string, map key).
    @inline(__always)
    mutating func readLengthPrefixed() throws(AlertDecodingError) -> UnsafeRawBufferPointer {
        let n = try readLength(limit: .max, what: "bytes or string")
        return try readBytes(n)
    }

    mutating func readBytes(_ n: Int) throws(AlertDecodingError) -> UnsafeRawBufferPointer {
        let start = position
        try skip(n, what: "block")
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + n)])
    }
}

/// `withUnsafeBytes` with a body that throws `AlertDecodingError` (the standard one only rethrows untyped).
@inline(__always)
package func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(AlertDecodingError) -> R) throws(AlertDecodingError) -> R {
    let result: Result<R, AlertDecodingError> = bytes.withUnsafeBytes { raw in
        Result { () throws(AlertDecodingError) -> R in try body(raw) }
    }
    return try result.get()
}
