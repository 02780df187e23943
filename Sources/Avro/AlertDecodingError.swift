/// Why an alert could not be decoded, and where: the byte offset inside the message (or file) at
/// which the fault was found, and the source (file path, or topic/partition/offset) when known.
package struct AlertDecodingError: Error, CustomStringConvertible, Sendable, Equatable {
    package enum Kind: String, Sendable {
        case empty, truncated, badMagicByte, unknownSchemaId, schemaUnavailable, invalidSchema
        case badContainerHeader, corruptSyncMarker, unsupportedCodec, decompressionFailed
        case dataDoesNotMatchSchema, oversizedField, trailingBytes, schemaResolution, unknownSurvey
    }

    package let kind: Kind
    package let reason: String
    package let offset: Int
    package var source: String?

    package init(_ kind: Kind, _ reason: String, offset: Int, source: String? = nil) {
        self.kind = kind
        self.reason = reason
        self.offset = offset
        self.source = source
    }

    package var description: String {
        (source.map { "\($0): " } ?? "") + "\(kind.rawValue) at byte \(offset): \(reason)"
    }

    package func at(source: String?) -> AlertDecodingError {
        var copy = self
        if copy.source == nil { copy.source = source }
        return copy
    }

    package func shifted(by base: Int) -> AlertDecodingError {
        AlertDecodingError(kind, reason, offset: offset + base, source: source)
    }
}
