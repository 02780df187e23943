import AlertModel
import Foundation
import Kafka

/// What the service reads from its environment: secrets never come from the command line (which
/// `ps` shows) or the configuration file.
package enum Environment {
    package static func get(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }

    /// SASL credentials for Kafka (CITSCI_KAFKA_USERNAME, CITSCI_KAFKA_PASSWORD) as librdkafka properties.
    package static var kafkaSecrets: [String: String] {
        var out: [String: String] = [:]
        if let password = get("CITSCI_KAFKA_PASSWORD") { out["sasl.password"] = password }
        if let user = get("CITSCI_KAFKA_USERNAME") { out["sasl.username"] = user }
        return out
    }

    /// Where a configuration's Rubin writer schemas come from: its registry, else its folder.
    package static func writerSchemas(_ cfg: RunConfiguration) throws -> (any WriterSchemaSource)? {
        try cfg.schemaRegistry.map(schemaRegistry) ?? cfg.schemaFolder.map { try SchemaFolder(path: $0) }
    }

    /// A registry client with basic auth from CITSCI_SCHEMA_REGISTRY_USER / _PASSWORD.
    package static func schemaRegistry(_ url: String) -> SchemaRegistryClient {
        SchemaRegistryClient(url: url, username: get("CITSCI_SCHEMA_REGISTRY_USER"), password: get("CITSCI_SCHEMA_REGISTRY_PASSWORD"))
    }
}

/// A configuration the service cannot start with, and why.
package struct StartupError: Error, CustomStringConvertible, Sendable {
    package let description: String
    package init(_ description: String) { self.description = description }
}

extension StartPosition {
    /// `from:` / `--from`: committed, earliest, latest, or a UTC time (2026-11-01, 2026-11-01T00:00Z, 2026-11-01T03:04:05Z).
    package static func parse(_ text: String) throws(StartupError) -> StartPosition {
        switch text {
        case "committed": return .committed
        case "earliest", "beginning": return .earliest
        case "latest", "end": return .latest
        default:
            guard let m = text.wholeMatch(of: /(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?Z?/) else {
                throw StartupError("from \(text): expected committed, earliest, latest or a UTC time such as 2026-11-01T00:00Z")
            }
            var c = DateComponents()
            c.timeZone = TimeZone(identifier: "UTC")
            c.year = Int(m.1); c.month = Int(m.2); c.day = Int(m.3)
            c.hour = m.4.flatMap { Int($0) } ?? 0; c.minute = m.5.flatMap { Int($0) } ?? 0; c.second = m.6.flatMap { Int($0) } ?? 0
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            guard let date = calendar.date(from: c) else { throw StartupError("from \(text): not a valid date") }
            return .timestamp(Int64(date.timeIntervalSince1970 * 1000))
        }
    }
}
