import Avro
import Schemas
/// The reader schemas citsci owns (schemas/*.avsc, embedded in the binary): every alert is resolved
/// into one of them, whatever version its writer used (DESIGN.md rule 3).
package enum ReaderSchemas {
    package static let rubin: AvroRecordSchema = load(OwnedSchemas.rubinAlert, "rubin-alert.avsc")
    package static let ztf: AvroRecordSchema = load(OwnedSchemas.ztfAlert, "ztf-alert.avsc")

    package static func schema(for survey: Survey) -> AvroRecordSchema {
        switch survey {
        case .rubin: rubin
        case .ztf: ztf
        }
    }

    private static let rubinScalarWidth = ScalarColumns.width(of: rubin)
    private static let ztfScalarWidth = ScalarColumns.width(of: ztf)

    /// How many numbers `ScalarColumns` lays out for an alert of the survey.
    package static func scalarWidth(for survey: Survey) -> Int {
        switch survey {
        case .rubin: rubinScalarWidth
        case .ztf: ztfScalarWidth
        }
    }

    /// The embedded JSON text (tests compare it with schemas/).
    package static func jsonText(for survey: Survey) -> String {
        switch survey {
        case .rubin: OwnedSchemas.rubinAlert
        case .ztf: OwnedSchemas.ztfAlert
        }
    }

    private static func load(_ json: String, _ name: String) -> AvroRecordSchema {
        do {
            guard case .record(let r) = try AvroSchema.parse(json: json) else {
                preconditionFailure("embedded reader schema \(name) is not a record")
            }
            return r
        } catch {
            preconditionFailure("embedded reader schema \(name) does not parse: \(error)")
        }
    }

    /// Which survey a writer schema belongs to, by its structure (brokers rename the top record).
    static func survey(ofWriter schema: AvroSchema) -> Survey? {
        guard case .record(let r) = schema else { return nil }
        if r.index(of: "candidate") != nil && r.index(of: "objectId") != nil { return .ztf }
        if r.index(of: "diaSource") != nil { return .rubin }
        return nil
    }
}
