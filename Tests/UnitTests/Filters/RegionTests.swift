import Foundation
import Testing
import TestSupport
@testable import Filters

@Suite struct RegionTests {
    @Test func ds9CirclesAndPolygons() throws {
        let r = try Region(ds9: """
        # Region file format: DS9 version 4.1
        global color=green
        fk5
        circle(150.0, 2.2, 36")   # COSMOS core, 36 arcsec
        polygon(10, -5, 20, -5, 20, 5, 10, 5)
        """, name: "fields")
        #expect(r.shapes.count == 2)
        #expect(r.contains(ra: 150.005, dec: 2.2))
        #expect(!r.contains(ra: 150.02, dec: 2.2), "72 arcsec away")
        #expect(r.contains(ra: 15, dec: 0))
        #expect(!r.contains(ra: 25, dec: 0))
        #expect(!r.contains(ra: 15, dec: 6))
    }

    @Test func polygonsAcrossRAZeroAndNearThePole() {
        let wrap = Region(name: "w", shapes: [.polygon([(355, -2), (5, -2), (5, 2), (355, 2)])])
        #expect(wrap.contains(ra: 0.5, dec: 0) && wrap.contains(ra: 359.5, dec: 1))
        #expect(!wrap.contains(ra: 180, dec: 0) && !wrap.contains(ra: 10, dec: 0))
        let cap = Region(name: "p", shapes: [.polygon([(0, 80), (90, 80), (180, 80), (270, 80)])])
        #expect(cap.contains(ra: 123, dec: 89) && !cap.contains(ra: 45, dec: 70))
    }

    @Test func badRegionFilesNameTheLine() {
        #expect(throws: Region.ParseError.self) { try Region(ds9: "fk5\nbox(1,2,3,4,0)\n", name: "x") }
        do {
            _ = try Region(ds9: "image\ncircle(1,2,3)\n", name: "x", file: "x.reg")
        } catch {
            #expect("\(error)" == "x.reg:1: only sky coordinates (fk5/icrs, degrees) are supported, not 'image'")
        }
    }

    @Test(needsData) func inRegionInARule() throws {
        let z = Samples.ztf
        let res = FilterResources(regions: ["here": Region(name: "here", shapes: [.circle(ra: z.ra, dec: z.dec, radius: 0.01)])])
        #expect(try eval("in_region('here')", z, resources: res) == .bool(true))
        #expect(compileError("in_region('hear')", resources: res)?.suggestion == "here")
    }
}
