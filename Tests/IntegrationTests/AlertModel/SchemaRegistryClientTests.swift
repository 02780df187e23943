import Foundation
import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka
import TestSupport

/// A local Confluent-compatible registry (Tests/Fixtures/schema_registry.py) on a free loopback port.
final class FakeRegistry {
    let process = Process()
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    init(arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Paths.fixtures.appendingPathComponent("schema_registry.py").path,
                             "--schema-root", Paths.data("lsst-alert-packet/schema")] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw FixtureError(message: "registry did not start") }
        self.port = port
    }

    func requests() throws -> Int {
        let r = try HTTPClient().get(url + "/requests")
        return (try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Int])?["count"] ?? -1
    }

    deinit {
        // SIGKILL: the test runner's children may inherit a mask that blocks SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite(needsSharedData) struct SchemaRegistryClientTests {
    @Test func fetchesOnceThenServesFromCache() throws {
        let registry = try FakeRegistry()
        let client = SchemaRegistryClient(url: registry.url)
        guard case .record(let r) = try client.schema(id: 900) else { Issue.record("not a record"); return }
        #expect(r.name == "lsst.v9_0.alert")
        _ = try client.schema(id: 900)
        #expect(try registry.requests() == 1)
        // The whole path: a Confluent-framed alert decoded with the registry's schema.
        let alerts = try AlertDecoder(schemas: client).decode(try Paths.bytes("pittgoogle-samples/lsst-confluent/lsst.v10_0.avro"))
        #expect(alerts.first?.alertId == 1231321321)
        #expect(try registry.requests() == 2)
    }

    @Test func unknownIdIsA404() throws {
        let registry = try FakeRegistry()
        let e = expectDecodingError { _ = try SchemaRegistryClient(url: registry.url).schema(id: 123) }
        #expect(e?.kind == .unknownSchemaId)
        #expect(e?.reason.contains("HTTP 404") == true)
    }

    @Test func basicAuth() throws {
        let registry = try FakeRegistry(arguments: ["--user", "rubin", "--password", "s3cret"])
        let e = expectDecodingError { _ = try SchemaRegistryClient(url: registry.url).schema(id: 900) }
        #expect(e?.kind == .schemaUnavailable)
        #expect(e?.reason.contains("HTTP 401") == true)
        _ = try SchemaRegistryClient(url: registry.url, username: "rubin", password: "s3cret").schema(id: 900)
    }

    @Test func unreachableRegistry() throws {
        let port = try FakeRegistry().port  // started and stopped: nothing listens there now
        let e = expectDecodingError { _ = try SchemaRegistryClient(url: "http://127.0.0.1:\(port)").schema(id: 900) }
        #expect(e?.kind == .schemaUnavailable)
        #expect(e?.reason.hasPrefix("schema registry unreachable") == true)
    }

    @Test func registersASchemaOnceAndServesIt() throws {
        let registry = try FakeRegistry(arguments: ["--user", "citsci", "--password", "s3cret"])
        let client = SchemaRegistryClient(url: registry.url, username: "citsci", password: "s3cret")
        let json = #"{"type":"record","name":"R","namespace":"org.citsci","fields":[{"name":"a","type":"long"}]}"#
        let id = try client.register(schemaJSON: json, subject: "results-value")
        #expect(try client.register(schemaJSON: json, subject: "results-value") == id, "the same schema, the same id")
        guard case .record(let r) = try client.schema(id: id) else { Issue.record("not a record"); return }
        #expect(r.name == "org.citsci.R")
        let anonymous = SchemaRegistryClient(url: registry.url)
        #expect(throws: AlertDecodingError.self) { try anonymous.register(schemaJSON: json, subject: "results-value") }
        #expect { try client.register(schemaJSON: "{\"type\": \"nope\"}", subject: "x-value") } throws: { "\($0)".contains("HTTP 422") }
    }
}
