import Foundation
import Testing
import Avro
import AlertModel
import TestSupport
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

/// Writes small FITS files for tests.
enum FITSWriter {
    static func card(_ text: String) -> [UInt8] {
        Array((text.padding(toLength: 80, withPad: " ", startingAt: 0)).utf8)
    }

    static func make(bitpix: Int, width: Int, height: Int, extra: [String] = [], values: [Double]) -> [UInt8] {
        var h = card("SIMPLE  =                    T") + card("BITPIX  = \(String(bitpix).leftPad(20))")
        h += card("NAXIS   =                    2") + card("NAXIS1  = \(String(width).leftPad(20))") + card("NAXIS2  = \(String(height).leftPad(20))")
        for e in extra { h += card(e) }
        h += card("END")
        h += [UInt8](repeating: 0x20, count: (2880 - h.count % 2880) % 2880)
        var d: [UInt8] = []
        for v in values {
            switch bitpix {
            case 8: d.append(UInt8(v))
            case 16: withUnsafeBytes(of: Int16(v).bigEndian) { d += $0 }
            case 32: withUnsafeBytes(of: Int32(v).bigEndian) { d += $0 }
            case 64: withUnsafeBytes(of: Int64(v).bigEndian) { d += $0 }
            case -32: withUnsafeBytes(of: Float(v).bitPattern.bigEndian) { d += $0 }
            default: withUnsafeBytes(of: v.bitPattern.bigEndian) { d += $0 }
            }
        }
        d += [UInt8](repeating: 0, count: (2880 - d.count % 2880) % 2880)
        return h + d
    }

    /// gzip (a member with a minimal header around raw deflate, as ZTF's stamps are).
    static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        let crc = bytes.withUnsafeBytes { UInt32(crc32Value($0)) }
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3] + Codecs.deflate(bytes)
        for v in [crc, UInt32(bytes.count)] { for i in 0..<4 { out.append(UInt8(v >> (8 * UInt32(i)) & 0xff)) } }
        return out
    }

    static func crc32Value(_ b: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for byte in b {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xedb8_8320 : c >> 1 }
        }
        return ~c
    }
}

extension String {
    func leftPad(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self }
}

@Suite struct FITSImageTests {
    @Test(arguments: [8, 16, 32, 64, -32, -64])
    func everyBitpixWithScaling(bitpix: Int) throws {
        let values: [Double] = [0, 1, 2, 3, 4, 5]
        let bytes = FITSWriter.make(bitpix: bitpix, width: 3, height: 2, extra: ["BSCALE  =                  2.0", "BZERO   =                 10.0"], values: values)
        let image = try FITSImage(data: bytes)
        #expect(image.width == 3 && image.height == 2)
        #expect(image.pixels == values.map { Float($0 * 2 + 10) })
        #expect(image[2, 1] == 20)
    }

    @Test func blankAndNonFinitePixelsAreNaN() throws {
        let ints = try FITSImage(data: FITSWriter.make(bitpix: 16, width: 2, height: 1, extra: ["BLANK   =                -32768"], values: [-32768, 7]))
        #expect(ints.pixels[0].isNaN && ints.pixels[1] == 7)
        let floats = try FITSImage(data: FITSWriter.make(bitpix: -32, width: 3, height: 1, values: [.nan, .infinity, 1]))
        #expect(floats.pixels[0].isNaN && floats.pixels[1].isNaN && floats.pixels[2] == 1)
    }

    @Test func gzipAndFreeFormatCardsAsZTFWritesThem() throws {
        var plain = FITSWriter.make(bitpix: -32, width: 2, height: 2, values: [1, 2, 3, 4])
        plain.replaceSubrange(0..<80, with: FITSWriter.card("SIMPLE  =  T"))
        let image = try FITSImage(data: FITSWriter.gzip(plain))
        #expect(image.pixels == [1, 2, 3, 4])
    }

    @Test func badStampsGiveTypedErrors() {
        func kind(_ bytes: [UInt8]) -> FITSError.Kind? {
            do { _ = try FITSImage(data: bytes); return nil } catch { return error.kind }
        }
        let good = FITSWriter.make(bitpix: -32, width: 4, height: 4, values: Array(repeating: 1, count: 16))
        #expect(kind([]) == .empty)
        #expect(kind(Array("not a fits file at all, really, not at all ....................................".utf8)) == .notFITS)
        #expect(kind(Array(good.prefix(2000))) == .truncated, "header without END")
        #expect(kind(Array(good.prefix(2880 + 10))) == .truncated, "data cut short")
        #expect(kind([0x1f, 0x8b, 8, 0, 1, 2, 3]) == .badGzip)
        #expect(kind(FITSWriter.make(bitpix: 24, width: 1, height: 1, values: [])) == .unsupported)
        var noAxis = good
        noAxis.replaceSubrange(160..<240, with: FITSWriter.card("NAXIS   =                    0"))
        #expect(kind(noAxis) == .unsupported)
        #expect(kind(Array(FITSWriter.gzip(good).prefix(40))) == .badGzip)
    }

    @Test(needsData) func realStampsFromBothSurveys() throws {
        let ztf = try AlertDecoder().decode(try Paths.bytes("ztf-alerts/1095578115815010001.avro"))[0]
        let sci = try FITSImage(data: ztf.cutouts.science!.data)
        #expect(sci.width == 63 && sci.height == 63)
        #expect(sci.header["BUNIT"] == "DN")
        let rubin = try AlertDecoder().decode(try Paths.bytes("rubin-9.0/169298432598474793_169298432598474793.avro"))[0]
        let r = try FITSImage(data: rubin.cutouts.science!.data)
        #expect(r.width == 30 && r.height == 30)
        #expect(r.header["BUNIT"] == "nJy")
        #expect(r.header["PC1_1"] != nil)
        // The 63 x 41 edge-of-CCD stamp of the schema history.
        let edge = try AlertDecoder().decode(try Paths.bytes("ztf-avro-alert-history/396522680015040001_7a0e26c.avro"))[0]
        let e = try FITSImage(data: edge.cutouts.science!.data)
        #expect(e.width * e.height == 63 * 41)
    }
}

