import Kafka
import Service
import ArgumentParser
import Foundation

/// Broker connection options shared by the Kafka commands.
struct KafkaOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers, host:port[,host:port].")
    var brokers: String = "127.0.0.1:9092"

    @Option(name: .customLong("property"), help: ArgumentHelp(
        "A librdkafka property, name=value (repeatable): security.protocol=SASL_SSL, sasl.mechanisms=SCRAM-SHA-512, ...",
        valueName: "name=value"))
    var properties: [String] = []

    func parsedProperties() throws -> [String: String] { try Self.parse(properties) }

    /// `name=value` properties, with the SASL user and password from the environment.
    static func parse(_ properties: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for p in properties {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                throw ValidationError("--property \(p): expected name=value")
            }
            out[String(p[..<eq])] = String(p[p.index(after: eq)...])
        }
        return out.merging(secrets) { $1 }
    }

    /// Secrets come from the environment, never from the command line (which `ps` shows) or a file.
    static var secrets: [String: String] { Environment.kafkaSecrets }
}

/// `--from`: committed, earliest, latest, or a UTC time (2026-11-01, 2026-11-01T00:00Z, 2026-11-01T03:04:05Z).
enum StartOption {
    static func parse(_ text: String) throws -> StartPosition {
        do { return try StartPosition.parse(text) } catch { throw ValidationError("--" + error.description) }
    }
}

