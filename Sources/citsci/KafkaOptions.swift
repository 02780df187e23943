import Basics
import Avro
import AlertModel
import Kafka
import Stamps
import Filters
import State
import Subjects
import Zooniverse
import Classifications
import Service
import WebClient
import WebServer
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
    static var secrets: [String: String] {
        var out: [String: String] = [:]
        if let password = Environment.get("CITSCI_KAFKA_PASSWORD") { out["sasl.password"] = password }
        if let user = Environment.get("CITSCI_KAFKA_USERNAME") { out["sasl.username"] = user }
        return out
    }
}

/// `--from`: committed, earliest, latest, or a UTC time (2026-11-01, 2026-11-01T00:00Z, 2026-11-01T03:04:05Z).
enum StartOption {
    static func parse(_ text: String) throws -> StartPosition {
        switch text {
        case "committed": return .committed
        case "earliest", "beginning": return .earliest
        case "latest", "end": return .latest
        default:
            guard let m = text.wholeMatch(of: /(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?Z?/) else {
                throw ValidationError("--from \(text): expected committed, earliest, latest or a UTC time such as 2026-11-01T00:00Z")
            }
            var c = DateComponents()
            c.timeZone = TimeZone(identifier: "UTC")
            c.year = Int(m.1); c.month = Int(m.2); c.day = Int(m.3)
            c.hour = m.4.flatMap { Int($0) } ?? 0; c.minute = m.5.flatMap { Int($0) } ?? 0; c.second = m.6.flatMap { Int($0) } ?? 0
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            guard let date = calendar.date(from: c) else { throw ValidationError("--from \(text): not a valid date") }
            return .timestamp(Int64(date.timeIntervalSince1970 * 1000))
        }
    }
}

/// SIGTERM and SIGINT cancel the given task (which then commits what is done and exits cleanly).
final class StopSignals: @unchecked Sendable {
    // @unchecked: the sources are only touched at init and cancel.
    private var sources: [DispatchSourceSignal] = []

    init(onStop: @escaping @Sendable (Int32) -> Void) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { onStop(sig) }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}

/// SIGHUP runs `action` (reload the filters) for as long as the value lives.
final class ReloadSignal: @unchecked Sendable {
    // @unchecked: the source is only touched at init and cancel.
    private let source: DispatchSourceSignal

    init(action: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler(handler: action)
        source.resume()
    }

    func cancel() { source.cancel() }
}
