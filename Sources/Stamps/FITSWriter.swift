import Foundation

extension FITSImage {
    /// The image as a plain FITS file: 32-bit floats (BITPIX = -32), big-endian, the header's
    /// keywords after the mandatory ones (numbers as they are, other text quoted), padded to
    /// 2880-byte blocks.
    package func fitsData(keywords: [(String, String)] = []) -> [UInt8] {
        func card(_ key: String, _ value: String) -> [UInt8] {
            let k = key.padding(toLength: 8, withPad: " ", startingAt: 0)
            let numeric = Double(value) != nil || value == "T" || value == "F"
            let v = numeric ? String(repeating: " ", count: max(0, 20 - value.count)) + value : "'\(value.replacingOccurrences(of: "'", with: "''"))'"
            return Array((k + "= " + v).padding(toLength: 80, withPad: " ", startingAt: 0).utf8)
        }
        var out = card("SIMPLE", "T") + card("BITPIX", "-32") + card("NAXIS", "2")
            + card("NAXIS1", String(width)) + card("NAXIS2", String(height))
        for (k, v) in keywords { out += card(k, v) }
        out += Array("END".padding(toLength: 80, withPad: " ", startingAt: 0).utf8)
        out += [UInt8](repeating: 0x20, count: (2880 - out.count % 2880) % 2880)
        out.reserveCapacity(out.count + pixels.count * 4 + 2880)
        for p in pixels { withUnsafeBytes(of: p.bitPattern.bigEndian) { out += $0 } }
        out += [UInt8](repeating: 0, count: (2880 - out.count % 2880) % 2880)
        return out
    }
}
