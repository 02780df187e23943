import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

@Suite struct FieldPathTests {
    @Test func compilesToTheFieldAndItsType() throws {
        let p = try FieldPath("candidate.magpsf", in: ReaderSchemas.ztf)
        if case .float = p.type {} else { Issue.record("candidate.magpsf should be a float, is \(p.type.description)") }
        #expect(!p.crossesArray)
        let h = try FieldPath("prvDiaSources.psfFlux", in: ReaderSchemas.rubin)
        #expect(h.crossesArray)
    }

    @Test func unknownFieldNamesTheSegmentAndTheCandidates() {
        do {
            _ = try FieldPath("candidate.magpfs", in: ReaderSchemas.ztf)
            Issue.record("unknown field accepted")
        } catch {
            #expect(error.segment == 1)
            #expect(error.reason == "no field 'magpfs' in candidate")
            #expect(error.candidates.contains("magpsf"))
        }
        do {
            _ = try FieldPath("objectId.x", in: ReaderSchemas.ztf)
            Issue.record("path through a string accepted")
        } catch {
            #expect(error.reason == "'objectId' is string, not a record")
        }
    }

    @Test(needsSharedData) func readsValuesIncludingThroughArraysAndNulls() throws {
        let alert = try decodeOne(try Paths.bytes("pittgoogle-samples/ztf/ztf_20250302_programid1_ZTF17aaarzyp_2982177112815010003.v4_02.avro"))
        let mag = alert.value(at: try FieldPath("candidate.magpsf", in: ReaderSchemas.ztf))
        #expect(abs((mag.doubleValue ?? 0) - 15.8838) < 1e-3)
        let jds = alert.value(at: try FieldPath("prv_candidates.jd", in: ReaderSchemas.ztf))
        #expect(jds.arrayValue?.count == 14)
        // A field this version does not have resolves to null, not to an error.
        let absent = alert.value(at: try FieldPath("candidate.tooflag", in: ReaderSchemas.ztf))
        _ = absent  // present or null depending on the version: must not crash
    }
}
