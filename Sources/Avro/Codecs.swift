import CCodecs

/// The compression codecs of Avro container files (and gzip for FITS stamps): the only code that
/// touches zlib and snappy.
package enum Codecs {
    package struct Failure: Error, CustomStringConvertible, Sendable {
        package let reason: String
        package var description: String { reason }
    }

    /// Raw DEFLATE (RFC 1951), as Avro's `deflate` codec writes it; `windowBits` 15+16 reads gzip,
    /// 15+32 reads gzip or zlib.
    package static func inflate(_ input: UnsafeRawBufferPointer, windowBits: Int32 = -15,
                               sizeHint: Int = 0, limit: Int = 1 << 30) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard citsci_inflate_init2(&stream, windowBits) == Z_OK else { throw Failure(reason: "zlib: inflateInit failed") }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: max(sizeHint, input.count * 4, 1024))
        var produced = 0
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while true {
            if produced == out.count {
                guard out.count < limit else { throw Failure(reason: "inflated data exceeds \(limit) bytes") }
                out.append(contentsOf: repeatElement(0, count: out.count))
            }
            let status: Int32 = out.withUnsafeMutableBytes { buf in
                stream.next_out = buf.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                stream.avail_out = uInt(buf.count - produced)
                let s = CCodecs.inflate(&stream, Z_NO_FLUSH)
                produced = buf.count - Int(stream.avail_out)
                return s
            }
            if status == Z_STREAM_END { break }
            if status == Z_BUF_ERROR && stream.avail_in == 0 {
                throw Failure(reason: "compressed data ends early (after \(stream.total_in) bytes)")
            }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                let msg = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                throw Failure(reason: "zlib: \(msg) at input byte \(stream.total_in)")
            }
        }
        out.removeSubrange(produced...)
        return out
    }

    /// Raw DEFLATE compression (Avro's `deflate` codec).
    package static func deflate(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        precondition(citsci_deflate_init2(&stream, level, -15) == Z_OK, "zlib deflateInit2 cannot fail with valid arguments")
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 16)
        input.withUnsafeBytes { inp in
            out.withUnsafeMutableBytes { buf in
                stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(inp.count)
                stream.next_out = buf.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(buf.count)
                _ = CCodecs.deflate(&stream, Z_FINISH)
            }
        }
        out.removeSubrange(Int(stream.total_out)...)
        return out
    }

    /// Avro's `snappy` codec: snappy data followed by the big-endian CRC-32 of the uncompressed bytes.
    package static func unsnappy(_ input: UnsafeRawBufferPointer, limit: Int = 1 << 30) throws(Failure) -> [UInt8] {
        guard input.count >= 4 else { throw Failure(reason: "snappy block shorter than its 4-byte checksum") }
        let body = UnsafeRawBufferPointer(rebasing: input[0..<(input.count - 4)])
        let src = body.baseAddress?.assumingMemoryBound(to: CChar.self)
        var length = 0
        guard snappy_uncompressed_length(src, body.count, &length) == SNAPPY_OK else {
            throw Failure(reason: "snappy: corrupt length header")
        }
        guard length <= limit else { throw Failure(reason: "snappy block inflates to \(length) bytes, over \(limit)") }
        var out = [UInt8](repeating: 0, count: length)
        let status = out.withUnsafeMutableBytes { buf in
            snappy_uncompress(src, body.count, buf.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
        }
        guard status == SNAPPY_OK else { throw Failure(reason: "snappy: corrupt data") }
        let expected = input[input.count - 4 ..< input.count].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let actual = out.withUnsafeBytes { UInt32(crc32(0, $0.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt($0.count))) }
        guard expected == actual else {
            throw Failure(reason: "snappy block checksum mismatch (CRC-32 \(actual), expected \(expected))")
        }
        return out
    }

    package static func snappy(_ input: [UInt8]) -> [UInt8] {
        var length = snappy_max_compressed_length(input.count)
        var out = [UInt8](repeating: 0, count: length + 4)
        input.withUnsafeBytes { inp in
            out.withUnsafeMutableBytes { buf in
                _ = snappy_compress(inp.baseAddress?.assumingMemoryBound(to: CChar.self), inp.count,
                                    buf.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
            }
        }
        let crc = input.withUnsafeBytes { UInt32(crc32(0, $0.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt($0.count))) }
        out.removeSubrange(length...)
        out += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)]
        return out
    }
}
