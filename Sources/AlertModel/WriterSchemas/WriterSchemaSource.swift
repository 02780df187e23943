import Avro
import Foundation

/// Where the writer schema of a Confluent-framed message comes from, by its schema id.
package protocol WriterSchemaSource: Sendable {
    /// The writer schema registered under `id`; throws `AlertDecodingError` (.unknownSchemaId or
    /// .schemaUnavailable) when there is none or it cannot be had.
    func schema(id: UInt32) throws(AlertDecodingError) -> AvroSchema
}

/// Schemas kept in memory, e.g. built by a test or a benchmark.
package struct InMemorySchemas: WriterSchemaSource {
    package var schemas: [UInt32: AvroSchema]
    package init(_ schemas: [UInt32: AvroSchema]) { self.schemas = schemas }
    package func schema(id: UInt32) throws(AlertDecodingError) -> AvroSchema {
        guard let s = schemas[id] else {
            throw AlertDecodingError(.unknownSchemaId, "schema id \(id) is not among the \(schemas.count) known ids", offset: 1)
        }
        return s
    }
}
