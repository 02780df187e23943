import Foundation
import Testing
import TestSupport
@testable import Filters

/// Seeded mutations of real filter files: each loads or fails with file:line:column and a reason.
@Suite struct FilterFileFuzzTests {
    @Test func mutatedFilterFilesLoadOrFailWithAPosition() throws {
        let folder = Paths.packageRoot.appendingPathComponent("examples/filters").path
        var seeds = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map {
            Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0)))
        }
        seeds.append(Array("""
            name: watch
            owner: pi@example.org
            rule: |
              survey = 'ztf' and candidate.magpsf between 14 and 19.5 and candidate.rb >= 0.65
              and not (candidate.isdiffpos in ('f', '0')) and abs(candidate.ra - 10.68) < 1e-3
              or cone(candidate.ra, candidate.dec, 150.1, 2.2, 3 arcsec) and len(prv_candidates) > 2
            flipbook: {kind: triplet, interval: zscale, stretch: asinh, size: 300}
            """.utf8))
        var loaded = 0, refused = 0
        Fuzz(seeds: seeds, count: 2500).forEach { i, bytes in
            do {
                _ = try FilterFile(text: String(decoding: bytes, as: UTF8.self), path: "fuzz-\(i).yaml")
                loaded += 1
            } catch {
                refused += 1
                #expect("\(error)".contains("fuzz-\(i).yaml"), "no file in: \(error)")
            }
        }
        #expect(loaded > 0 && refused > 500, "\(loaded) loaded, \(refused) refused")
    }
}
