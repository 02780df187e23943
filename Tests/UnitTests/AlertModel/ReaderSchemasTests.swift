import Foundation
import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

@Suite struct ReaderSchemasTests {
    @Test func embeddedSchemasMatchTheFilesInSchemas() throws {
        for (survey, file) in [(Survey.rubin, "rubin-alert.avsc"), (.ztf, "ztf-alert.avsc")] {
            let onDisk = try String(contentsOf: Paths.packageRoot.appendingPathComponent("schemas/\(file)"), encoding: .utf8)
            #expect(ReaderSchemas.jsonText(for: survey) == onDisk, "regenerate with scripts/make_reader_schemas.py")
        }
    }

    /// Every reader field must be nullable with a null default, or an older writer could not resolve.
    @Test func everyReaderFieldIsNullableWithANullDefault() {
        func check(_ r: AvroRecordSchema, _ path: String) {
            for f in r.fields {
                #expect(f.defaultValue == .null, "\(path).\(f.name) has no null default")
                var t = f.type.nonNull
                if case .array(let items) = t { t = items.nonNull }
                if case .record(let inner) = t { check(inner, "\(path).\(f.name)") }
            }
        }
        check(ReaderSchemas.rubin, "rubin")
        check(ReaderSchemas.ztf, "ztf")
    }

    @Test func modelFieldsExistInTheReaderSchemas() throws {
        for path in ["diaSource.psfFlux", "diaSource.band", "diaSource.reliability", "prvDiaSources.midpointMjdTai",
                     "diaObject.diaObjectId", "alertId", "diaSourceId", "cutoutScience"] {
            #expect(throws: Never.self, "\(path) in the Rubin reader schema") { try FieldPath(path, in: ReaderSchemas.rubin) }
        }
        for path in ["candidate.magpsf", "candidate.drb", "prv_candidates.jd", "fp_hists.forcediffimflux", "cutoutScience.stampData", "candid"] {
            #expect(throws: Never.self, "\(path) in the ZTF reader schema") { try FieldPath(path, in: ReaderSchemas.ztf) }
        }
    }
}
