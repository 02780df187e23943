import Foundation
import Testing
import AlertModel
import TestSupport
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

@Suite(needsData) struct FlipbookTests {
    @Test func tripletOfARealAlert() throws {
        let alert = try AlertDecoder().decode(try Paths.bytes("ztf-alerts/1095578115815010002.avro"))[0]
        let book = try FlipbookRenderer().triplet(alert)
        #expect(book.frames.map(\.name) == ["1095578115815010002_1_science.png", "1095578115815010002_2_template.png",
                                            "1095578115815010002_3_difference.png"])
        for f in book.frames {
            let back = try PNGCodec.decode(f.png, colour: false)
            #expect(back.width == 300 && back.height == 300)
            #expect(f.png.count < 100_000, "\(f.name) is \(f.png.count) bytes")
        }
    }

    @Test func aTripletFrameAloneIsTheTripletsFrame() throws {
        let alert = try AlertDecoder().decode(try Paths.bytes("ztf-alerts/1095578115815010002.avro"))[0]
        let renderer = FlipbookRenderer()
        let book = try renderer.triplet(alert)
        for i in 0..<3 {
            let frame = try renderer.tripletFrame(alert, i)
            #expect(frame.name == book.frames[i].name && frame.png == book.frames[i].png)
        }
        #expect(throws: RenderError.self) { try renderer.tripletFrame(alert, 3) }
    }

    @Test func blinkIsInTimeOrderWithSharedLimits() throws {
        // Fink's redistributed ZTF alerts hold several alerts of some objects.
        var byObject: [String: [Alert]] = [:]
        for file in Paths.avroFiles("ztf-fink-distributed") {
            for a in try AlertDecoder().decode(try Paths.bytes(file)) { byObject[a.objectId!, default: []].append(a) }
        }
        let (object, alerts) = try #require(byObject.filter { $0.value.count >= 3 }.max { $0.value.count < $1.value.count })
        var history = CutoutHistory(perObject: 4, maxAgeDays: 365, maxObjects: 10)
        for a in alerts.shuffled() { history.add(a) }
        let recent = history.recent(object)
        #expect(recent.count == min(4, alerts.count))
        #expect(recent.map(\.mjd) == recent.map(\.mjd).sorted())
        let book = try FlipbookRenderer().blink(recent)
        #expect(book.frames.count == recent.count)
        #expect(book.frames.map(\.name).allSatisfy { $0.hasPrefix("\(object)_blink_") })
        // Shared limits: the same stamp rendered alone gives other pixel values than in the blink.
        var perFrame = RenderSettings()
        perFrame.sharedLimits = false
        let separate = try FlipbookRenderer(settings: perFrame).blink(recent)
        #expect(zip(book.frames, separate.frames).contains { $0.frame != $1.frame })
    }

    @Test func compositeIsOneWideImage() throws {
        let alert = try AlertDecoder().decode(try Paths.bytes("rubin-9.0/169298432598474793_169298432598474793.avro"))[0]
        var s = RenderSettings()
        s.size = 200
        let book = try FlipbookRenderer(settings: s).composite(alert)
        #expect(book.frames.count == 1)
        let back = try PNGCodec.decode(book.frames[0].png, colour: false)
        #expect(back.width == 600 && back.height == 200)
    }

    @Test func aMissingCutoutIsNamed() throws {
        let sample = try AlertDecoder().decode(try Paths.bytes("lsst-alert-packet/schema/11/1/sample_data/fakeAlert.avro"))[0]
        do {
            _ = try FlipbookRenderer().triplet(sample)
            Issue.record("rendered an alert without cutouts")
        } catch {
            #expect(error.description == "alert 1231321321: no science cutout")
        }
    }

    @Test func historyIsBounded() throws {
        let alerts = try Paths.avroFiles("ztf-alerts").flatMap { try AlertDecoder().decode(try Paths.bytes($0)) }
        var history = CutoutHistory(perObject: 2, maxAgeDays: 30, maxObjects: 5)
        for a in alerts { history.add(a) }
        #expect(history.objectCount == 5)
    }
}
