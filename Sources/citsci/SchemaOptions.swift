import AlertModel
import Service
import ArgumentParser

/// Where Confluent-framed messages find their writer schemas.
struct SchemaOptions: ParsableArguments {
    @Option(name: .customLong("schema-registry"), help: "Confluent-compatible schema registry URL (GET /schemas/ids/{id}).")
    var registry: String?

    @Option(name: .customLong("schema-dir"), help: "Folder of writer schemas: <id>.avsc files, or the lsst-alert-packet tree <major>/<minor>/.")
    var directory: String?

    /// A registry client with basic auth from CITSCI_SCHEMA_REGISTRY_USER / _PASSWORD.
    static func registry(_ url: String) -> SchemaRegistryClient { Environment.schemaRegistry(url) }

    func source() throws -> (any WriterSchemaSource)? {
        if let registry { return Self.registry(registry) }
        if let directory { return try SchemaFolder(path: directory) }
        return nil
    }
}

import Foundation
