import Foundation
import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

/// The flat numbers an alert carries must be the numbers its record holds, slot for slot.
@Suite(needsSharedData) struct ScalarColumnsTests {
    /// Every numeric field reached through records only, as dotted paths.
    static func numericPaths(_ schema: AvroRecordSchema, prefix: String = "", depth: Int = 0) -> [String] {
        var out: [String] = []
        for f in schema.fields {
            let name = prefix.isEmpty ? f.name : "\(prefix).\(f.name)"
            switch f.type.nonNull {
            case .int, .long, .float, .double: out.append(name)
            case .record(let r) where depth + 1 < ScalarColumns.maxDepth: out += numericPaths(r, prefix: name, depth: depth + 1)
            default: break
            }
        }
        return out
    }

    @Test(arguments: [("ztf-fink-distributed", Survey.ztf), ("rubin-7.4", .rubin), ("fink-client-datatest", .rubin)])
    func everySlotHoldsItsField(folder: String, survey: Survey) throws {
        let schema = ReaderSchemas.schema(for: survey)
        let paths = try Self.numericPaths(schema).map { try FieldPath($0, in: schema) }
        #expect(paths.count == ReaderSchemas.scalarWidth(for: survey))
        #expect(Set(paths.compactMap(\.slot)) == Set(0..<paths.count), "each numeric field has its own slot")
        var checked = 0, nonNull = 0
        for file in Paths.avroFiles(folder).prefix(40) {
            for alert in try AlertDecoder().decode(try Paths.bytes(file)) where alert.survey == survey {
                #expect(alert.scalars.count == paths.count)
                for p in paths {
                    let walked = p.number(in: alert.record), flat = alert.scalars[p.slot!]
                    #expect(walked == flat || (walked.isNaN && flat.isNaN), "\(file) \(p.text): walked \(walked), flat \(flat)")
                    checked += 1
                    if !flat.isNaN { nonNull += 1 }
                }
            }
        }
        #expect(checked > 1000 && nonNull > 100, "checked \(checked) values, \(nonNull) not null")
    }

    @Test func pathsThroughArraysOrToStringsHaveNoSlot() throws {
        #expect(try FieldPath("prv_candidates.magpsf", in: ReaderSchemas.ztf).slot == nil)
        #expect(try FieldPath("objectId", in: ReaderSchemas.ztf).slot == nil)
        #expect(try FieldPath("candidate.magpsf", in: ReaderSchemas.ztf).slot != nil)
    }
}
