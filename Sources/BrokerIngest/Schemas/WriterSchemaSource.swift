import Foundation

/// Where the writer schema of a Confluent-framed message comes from, by its schema id.
public protocol WriterSchemaSource: Sendable {
    /// The writer schema registered under `id`; throws `AlertDecodingError` (.unknownSchemaId or
    /// .schemaUnavailable) when there is none or it cannot be had.
    func schema(id: UInt32) throws(AlertDecodingError) -> AvroSchema
}

/// Schemas kept in memory, e.g. built by a test or a benchmark.
public struct InMemorySchemas: WriterSchemaSource {
    public var schemas: [UInt32: AvroSchema]
    public init(_ schemas: [UInt32: AvroSchema]) { self.schemas = schemas }
    public func schema(id: UInt32) throws(AlertDecodingError) -> AvroSchema {
        guard let s = schemas[id] else {
            throw AlertDecodingError(.unknownSchemaId, "schema id \(id) is not among the \(schemas.count) known ids", offset: 1)
        }
        return s
    }
}
