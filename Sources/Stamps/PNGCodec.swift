import CPNG
import Glibc

/// An 8-bit image ready to be written: grey (1 channel) or RGB (3), rows top to bottom.
package struct Frame: Sendable, Equatable {
    package let width: Int
    package let height: Int
    package let channels: Int
    package var pixels: [UInt8]

    package init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3, "1 or 3 channels")
        precondition(pixels.count == width * height * channels, "pixel count does not match the size")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    @inline(__always)
    package func pixel(x: Int, y: Int) -> [UInt8] {
        let i = (y * width + x) * channels
        return Array(pixels[i..<(i + channels)])
    }
}

package struct PNGError: Error, CustomStringConvertible, Sendable {
    package let reason: String
    package var description: String { "PNG: \(reason)" }
}

/// PNG through libpng's simplified API (the classic API reports errors with longjmp, which Swift
/// cannot catch): the only code that touches libpng.
package enum PNGCodec {
    /// Encodes a frame: 8-bit grey or RGB with an sRGB chunk, each row "Up"-filtered (an upscaled
    /// stamp repeats rows, which the filter turns into zeros) and zlib level `level` (1 is fast and,
    /// after the filter, nearly as small: a 300 × 300 stamp frame is a few kB).
    package static func encode(_ frame: Frame, level: Int32 = 1) throws(PNGError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var error = [CChar](repeating: 0, count: 200)
        let ok = frame.pixels.withUnsafeBufferPointer { px in
            citsci_png_write(px.baseAddress, UInt32(frame.width), UInt32(frame.height), Int32(frame.channels),
                             level, Int32(PNG_FILTER_UP), &out, &size, &error)
        }
        guard ok != 0, let out else {
            throw PNGError(reason: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { free(out) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }

    /// Decodes a PNG into 8-bit grey or RGB (for tests and for checking what was written).
    package static func decode(_ png: [UInt8], colour: Bool) throws(PNGError) -> Frame {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let began = png.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard began != 0 else { throw PNGError(reason: message(&image)) }
        image.format = colour ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
        let channels = colour ? 3 : 1
        var pixels = [UInt8](repeating: 0, count: Int(image.width) * Int(image.height) * channels)
        let done = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard done != 0 else { throw PNGError(reason: message(&image)) }
        return Frame(width: Int(image.width), height: Int(image.height), channels: channels, pixels: pixels)
    }

    /// The chunk types of a PNG, in order (to check what libpng wrote, e.g. sRGB).
    package static func chunkTypes(_ png: [UInt8]) -> [String] {
        var out: [String] = []
        var i = 8
        while i + 8 <= png.count {
            let length = Int(png[i]) << 24 | Int(png[i + 1]) << 16 | Int(png[i + 2]) << 8 | Int(png[i + 3])
            out.append(String(decoding: png[(i + 4)..<(i + 8)], as: UTF8.self))
            i += 12 + length
        }
        return out
    }

    private static func message(_ image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        png_image_free(&image)
        return text.isEmpty ? "libpng failed" : text
    }
}
