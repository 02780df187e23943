import Foundation
import Testing
import TestSupport

@Suite(.enabled(if: Paths.hasSharedData, "../shared/data is absent: render CLI tests skipped"))
struct RenderCommandTests {
    func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func tripletsForEveryAlert() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["render", "--out", dir.path, "--stretch", "asinh", "--size", "256", CLI.data("ztf-alerts")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("rendered 36 triplet flipbooks, 108 frames"))
        #expect(r.stdout.contains("[zscale asinh 256px grey nearest]"))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(files.count == 108)
        #expect(files.contains("1095578115815010001_3_difference.png"))
    }

    @Test func blinkGroupsAnObjectsAlerts() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The same ZTF17aaajnnn alert in four schema versions plus another of its alerts.
        let r = try CLI.run(["render", "--out", dir.path, "--flipbook", "blink", "--blink-frames", "3", CLI.data("ztf-avro-alert-history")])
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("ZTF17aaajnnn_blink_") }
        #expect(files.count == 2, "\(files)")  // a repeated alert id counts once
    }

    @Test func badOptionsAndBadCutoutsAreReported() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = try CLI.run(["render", "--out", dir.path, "--stretch", "cubic", CLI.data("ztf-alerts")])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--stretch cubic: expected linear, asinh, log or sqrt"))
        let fake = try CLI.run(["render", "--out", dir.path, CLI.data("lsst-alert-packet/schema/11/1/sample_data/fakeAlert.avro")])
        #expect(fake.status == 1)
        #expect(fake.stderr.contains("alert 1231321321: no science cutout"))
    }
}
