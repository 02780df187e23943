import Foundation
import Testing
import TestSupport
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

@Suite struct StampRendererTests {
    /// A 4 x 4 ramp with one bright pixel at FITS (x 0, y 0): the bottom-left of the sky image.
    var marked: FITSImage {
        var px = [Float](repeating: 0, count: 16)
        px[0] = 100
        return FITSImage(width: 4, height: 4, pixels: px, header: [:])
    }

    func settings(_ change: (inout RenderSettings) -> Void = { _ in }) -> RenderSettings {
        var s = RenderSettings()
        s.size = 40
        s.interval = .minMax
        s.reticle = false
        s.label = false
        change(&s)
        return s
    }

    @Test func pngRoundTripThroughLibpng() throws {
        let frame = StampRenderer(settings: settings()).render(marked)
        let png = try PNGCodec.encode(frame)
        #expect(png.prefix(8) == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
        #expect(PNGCodec.chunkTypes(png).contains("sRGB"), "8-bit output is marked sRGB: \(PNGCodec.chunkTypes(png))")
        let back = try PNGCodec.decode(png, colour: false)
        #expect(back.width == 40 && back.height == 40)
        #expect(back == frame)
        // FITS row 0 is the bottom: the bright pixel lands bottom-left, each source pixel 10 x 10.
        #expect(back.pixel(x: 5, y: 35) == [255])
        #expect(back.pixel(x: 5, y: 5) == [0])
        #expect(back.pixel(x: 35, y: 35) == [0])
    }

    @Test func northUpEastLeftFollowsTheWCS() throws {
        func corner(_ header: [String: String]) -> (Int, Int) {
            var s = settings { $0.northUp = true }
            s.size = 4
            let image = FITSImage(width: 4, height: 4, pixels: marked.pixels, header: header)
            let f = StampRenderer(settings: s).render(image)
            let i = f.pixels.firstIndex(of: 255)!
            return (i % 4, i / 4)
        }
        // Standard: RA grows to the left (CD1_1 < 0), Dec grows up: pixel (0,0) is bottom-left.
        #expect(corner(["CD1_1": "-1e-4", "CD2_2": "1e-4"]) == (0, 3))
        // RA grows to the right: mirrored, so east is still left.
        #expect(corner(["CD1_1": "1e-4", "CD2_2": "1e-4"]) == (3, 3))
        // Dec grows down: flipped vertically.
        #expect(corner(["CD1_1": "-1e-4", "CD2_2": "-1e-4"]) == (0, 0))
        // Rotated 90 degrees: +x is north, +y is east.
        #expect(corner(["CD1_1": "0", "CD1_2": "1e-4", "CD2_1": "1e-4", "CD2_2": "0"]) == (3, 3))
        // PC x CDELT as Rubin writes it.
        #expect(corner(["PC1_1": "-4.9e-5", "PC1_2": "-2.6e-5", "PC2_1": "-2.6e-5", "PC2_2": "4.9e-5", "CDELT1": "1", "CDELT2": "1"]) == (0, 3))
        // No WCS: FITS convention.
        #expect(corner([:]) == (0, 3))
    }

    @Test func nanPixelsTakeTheNaNColour() throws {
        var px = [Float](repeating: 1, count: 4)
        px[3] = .nan
        let image = FITSImage(width: 2, height: 2, pixels: px)
        let f = StampRenderer(settings: settings { $0.nanColour = [255, 0, 255]; $0.size = 2 }).render(image, limits: (0, 2))
        #expect(f.channels == 3)
        #expect(f.pixel(x: 1, y: 0) == [255, 0, 255])  // FITS (1,1) is top-right
        #expect(f.pixel(x: 0, y: 1) == [128, 128, 128])
    }

    @Test func nonSquareStampsAreFittedAndCentred() {
        let image = FITSImage(width: 4, height: 2, pixels: [Float](repeating: 5, count: 8))
        let f = StampRenderer(settings: settings()).render(image, limits: (0, 10))
        #expect(f.width == 40 && f.height == 40)
        #expect(f.pixel(x: 20, y: 2) == [0], "padding above")
        #expect(f.pixel(x: 20, y: 20) == [128])
    }

    @Test func colourMapsAndStretches() {
        let ramp = FITSImage(width: 2, height: 1, pixels: [0, 1])
        let viridis = StampRenderer(settings: settings { $0.colormap = .viridis; $0.size = 2 }).render(ramp)
        #expect(viridis.pixel(x: 0, y: 0) == [68, 1, 84] && viridis.pixel(x: 1, y: 0) == [253, 231, 37])
        let inverted = StampRenderer(settings: settings { $0.colormap = .inverted; $0.size = 2 }).render(ramp)
        #expect(inverted.pixel(x: 0, y: 0) == [255])
        let mid = FITSImage(width: 1, height: 1, pixels: [0.25])
        let sqrt = StampRenderer(settings: settings { $0.stretch = .sqrt; $0.size = 1 }).render(mid, limits: (0, 1))
        #expect(sqrt.pixels == [128])
    }

    @Test func bilinearIsSmootherThanNearest() {
        let ramp = FITSImage(width: 2, height: 1, pixels: [0, 10])
        let near = StampRenderer(settings: settings()).render(ramp)
        let smooth = StampRenderer(settings: settings { $0.resample = .bilinear }).render(ramp)
        let row = 15
        let nearValues = Set((0..<40).map { near.pixel(x: $0, y: row)[0] })
        let smoothValues = Set((0..<40).map { smooth.pixel(x: $0, y: row)[0] })
        #expect(nearValues.count == 2)
        #expect(smoothValues.count > 10)
    }

    @Test func reticleAndLabelAreDrawn() {
        let flat = FITSImage(width: 4, height: 4, pixels: [Float](repeating: 0, count: 16))
        var s = RenderSettings()
        s.interval = .minMax
        let f = StampRenderer(settings: s).render(flat, label: "r 2026")
        #expect(f.pixel(x: 150 + 20, y: 150) != [0], "cross-hair arm right of centre")
        #expect(f.pixel(x: 150, y: 150) == [0], "the centre itself is left clear")
        let labelBox = (8..<60).map { f.pixel(x: $0, y: 290)[0] }
        #expect(labelBox.contains(255), "white text in the label box")
    }
}
