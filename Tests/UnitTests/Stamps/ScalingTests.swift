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

@Suite struct ScalingTests {
    struct Reference: Decodable {
        let file: String, record: Int, cutout: String, vmin: Double, vmax: Double
    }

    /// Every reference cutout (computed once with astropy's ZScaleInterval by
    /// scripts/zscale_reference.py): limits within 1% of the astropy range.
    @Test(needsData) func zscaleMatchesAstropy() throws {
        struct File: Decodable { let limits: [Reference] }
        let refs = try JSONDecoder().decode(File.self, from: Data(contentsOf: Paths.fixtures.appendingPathComponent("zscale-reference.json"))).limits
        #expect(refs.count > 100)
        var alerts: [String: [Alert]] = [:]
        var worst = 0.0
        for r in refs {
            if alerts[r.file] == nil { alerts[r.file] = try AlertDecoder().decode(try Paths.bytes(r.file)) }
            let alert = alerts[r.file]![r.record]
            let image = try FITSImage(data: CutoutKind(rawValue: r.cutout)!.of(alert)!.data)
            let (lo, hi) = try #require(Interval.zscale().limits(of: image.pixels))
            let range = r.vmax - r.vmin
            let error = max(abs(Double(lo) - r.vmin), abs(Double(hi) - r.vmax)) / max(range, 1e-12)
            worst = max(worst, error)
            #expect(error < 0.01, "\(r.file)#\(r.record) \(r.cutout): ours \(lo)...\(hi), astropy \(r.vmin)...\(r.vmax)")
        }
        #expect(worst < 0.01)
    }

    @Test func percentileAndMinMax() throws {
        let values = (0...100).map(Float.init) + [.nan]
        #expect(Interval.minMax.limits(of: values)! == (0, 100))
        let (lo, hi) = Interval.percentile(90).limits(of: values)!
        #expect(abs(lo - 5) < 1e-4 && abs(hi - 95) < 1e-4)
        #expect(Interval.zscale().limits(of: [.nan, .nan]) == nil)
        #expect(Interval("percentile(99.5)") == .percentile(99.5))
        #expect(Interval("zscale") == .zscale())
        #expect(Interval("median") == nil)
    }

    /// The stretches are astropy's formulas.
    @Test func stretches() {
        for x: Float in [0, 0.1, 0.5, 1] {
            #expect(Stretch.linear.apply(x) == x)
            #expect(abs(Stretch.sqrt.apply(x) - x.squareRoot()) < 1e-6)
            #expect(abs(Double(Stretch.asinh().apply(x)) - Foundation.asinh(Double(x) / 0.1) / Foundation.asinh(10)) < 1e-6)
            #expect(abs(Double(Stretch.log().apply(x)) - Foundation.log(1000 * Double(x) + 1) / Foundation.log(1001)) < 1e-6)
        }
        #expect(Stretch.asinh().apply(1) == 1 && Stretch.log().apply(0) == 0)
    }
}
