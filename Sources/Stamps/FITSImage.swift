import Avro
import Foundation

/// Why a stamp could not be read, and where (byte offset in the decompressed FITS data).
package struct FITSError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Kind: String, Sendable { case empty, notFITS, badGzip, badHeader, unsupported, truncated }
    package let kind: Kind
    package let reason: String
    package let offset: Int
    package var description: String { "FITS \(kind.rawValue) at byte \(offset): \(reason)" }
}

/// A 2-D image from a FITS stamp (the primary HDU): pixel values scaled by BSCALE/BZERO, blank and
/// non-finite pixels as NaN, rows in FITS order (row 0 is the bottom of the sky image).
package struct FITSImage: Sendable {
    package let width: Int
    package let height: Int
    /// `width * height` values, row-major, row 0 first.
    package let pixels: [Float]
    /// Header keywords and their raw values (strings unquoted), the first occurrence of each.
    package let header: [String: String]

    package init(width: Int, height: Int, pixels: [Float], header: [String: String] = [:]) {
        precondition(pixels.count == width * height, "pixel count does not match the size")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.header = header
    }

    package subscript(x: Int, y: Int) -> Float { pixels[y * width + x] }

    /// Reads a stamp: gzip-compressed (ZTF) or plain (Rubin) FITS.
    package init(data: [UInt8]) throws(FITSError) {
        guard !data.isEmpty else { throw FITSError(kind: .empty, reason: "no bytes", offset: 0) }
        var bytes = data
        if data.count >= 2 && data[0] == 0x1f && data[1] == 0x8b {
            do {
                bytes = try data.withUnsafeBytes { try Codecs.inflate($0, windowBits: 15 + 16, sizeHint: data.count * 3, limit: 256 << 20) }
            } catch {
                throw FITSError(kind: .badGzip, reason: "gzip: \((error as? Codecs.Failure)?.reason ?? "\(error)")", offset: 0)
            }
        }
        try self.init(fits: bytes)
    }

    private init(fits bytes: [UInt8]) throws(FITSError) {
        let card = 80, block = 2880
        guard bytes.count >= card, bytes.starts(with: Array("SIMPLE".utf8)) else {
            throw FITSError(kind: .notFITS, reason: "does not start with a SIMPLE card", offset: 0)
        }
        var header: [String: String] = [:]
        var offset = 0
        var ended = false
        while offset + card <= bytes.count {
            let text = String(decoding: bytes[offset..<(offset + card)], as: UTF8.self)
            let key = text.prefix(8).trimmingCharacters(in: .whitespaces)
            offset += card
            if key == "END" { ended = true; break }
            guard text.count >= 10, text.dropFirst(8).hasPrefix("="), !key.isEmpty else { continue }  // COMMENT, HISTORY, blank
            if header[key] == nil { header[key] = Self.value(of: text) }
        }
        guard ended else { throw FITSError(kind: .truncated, reason: "header has no END card", offset: bytes.count) }
        guard header["SIMPLE"] == "T" else {
            throw FITSError(kind: .notFITS, reason: "SIMPLE is '\(header["SIMPLE"] ?? "")', not T", offset: 0)
        }
        func int(_ k: String) throws(FITSError) -> Int {
            guard let v = header[k], let i = Int(v) else {
                throw FITSError(kind: .badHeader, reason: "\(k) is missing or not an integer (\(header[k] ?? "absent"))", offset: 0)
            }
            return i
        }
        let bitpix = try int("BITPIX")
        let naxis = try int("NAXIS")
        guard naxis >= 2 else { throw FITSError(kind: .unsupported, reason: "NAXIS = \(naxis): the primary HDU holds no image", offset: 0) }
        let width = try int("NAXIS1"), height = try int("NAXIS2")
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw FITSError(kind: .unsupported, reason: "image of \(width) x \(height) pixels", offset: 0)
        }
        for axis in 3...max(3, naxis) where axis <= naxis {
            guard try int("NAXIS\(axis)") >= 1 else { throw FITSError(kind: .unsupported, reason: "NAXIS\(axis) < 1", offset: 0) }
        }
        let size: Int
        switch bitpix {
        case 8: size = 1
        case 16: size = 2
        case 32, -32: size = 4
        case 64, -64: size = 8
        default: throw FITSError(kind: .unsupported, reason: "BITPIX = \(bitpix)", offset: 0)
        }
        let dataStart = (offset + block - 1) / block * block
        let n = width * height  // the first plane of a cube
        guard dataStart + n * size <= bytes.count else {
            throw FITSError(kind: .truncated, reason: "\(width) x \(height) pixels of \(size) bytes need \(n * size) bytes, \(max(0, bytes.count - dataStart)) present",
                            offset: bytes.count)
        }
        let bscale = header["BSCALE"].flatMap(Double.init) ?? 1
        let bzero = header["BZERO"].flatMap(Double.init) ?? 0
        let blank = header["BLANK"].flatMap(Int64.init)
        var pixels = [Float](repeating: .nan, count: n)
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart
            func scaled(_ v: Double) -> Float { Float(v * bscale + bzero) }
            for i in 0..<n {
                let p = base + i * size
                switch bitpix {
                case 8:
                    let v = p.load(as: UInt8.self)
                    if let blank, Int64(v) == blank { continue }
                    pixels[i] = scaled(Double(v))
                case 16:
                    let v = Int16(bigEndian: p.loadUnaligned(as: Int16.self))
                    if let blank, Int64(v) == blank { continue }
                    pixels[i] = scaled(Double(v))
                case 32:
                    let v = Int32(bigEndian: p.loadUnaligned(as: Int32.self))
                    if let blank, Int64(v) == blank { continue }
                    pixels[i] = scaled(Double(v))
                case 64:
                    let v = Int64(bigEndian: p.loadUnaligned(as: Int64.self))
                    if let blank, v == blank { continue }
                    pixels[i] = scaled(Double(v))
                case -32:
                    let v = Float(bitPattern: UInt32(bigEndian: p.loadUnaligned(as: UInt32.self)))
                    pixels[i] = v.isFinite ? (bscale == 1 && bzero == 0 ? v : scaled(Double(v))) : .nan
                default:
                    let v = Double(bitPattern: UInt64(bigEndian: p.loadUnaligned(as: UInt64.self)))
                    pixels[i] = v.isFinite ? scaled(v) : .nan
                }
            }
        }
        self.init(width: width, height: height, pixels: pixels, header: header)
    }

    /// The value of a card, without quotes or comment; tolerant of free-format cards (ZTF writes
    /// `SIMPLE  =  T` with the T outside column 30).
    static func value(of card: String) -> String {
        let rest = card.dropFirst(10)
        let trimmed = rest.drop { $0 == " " }
        if trimmed.first == "'" {
            var out = ""
            var chars = trimmed.dropFirst().makeIterator()
            while let c = chars.next() {
                if c == "'" {
                    if let next = chars.next(), next == "'" { out.append("'"); continue }  // '' is a quote
                    break
                }
                out.append(c)
            }
            return out.trimmingCharacters(in: .whitespaces)
        }
        let value = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return value.trimmingCharacters(in: .whitespaces)
    }
}
