/// The Avro schemas citsci owns, embedded in the binary from the `.avsc` files beside this one (one
/// copy each: SwiftPM's `embedInCode` resources), so a deployed citsci needs no schema files.
/// Callers parse them once and keep the result.
package enum OwnedSchemas {
    /// The Rubin reader schema: every field of every official alert schema version (scripts/make_reader_schemas.py).
    package static var rubinAlert: String { text(PackageResources.rubin_alert_avsc) }
    /// The ZTF reader schema, built the same way from the ZTF writer schemas.
    package static var ztfAlert: String { text(PackageResources.ztf_alert_avsc) }
    /// The schema of the classification results citsci publishes.
    package static var classificationResult: String { text(PackageResources.classification_result_avsc) }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
