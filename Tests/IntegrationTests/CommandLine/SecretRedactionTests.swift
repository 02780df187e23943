import Basics
import Foundation
import Testing
import TestSupport

/// A server (or a proxy) that echoes the request back: citsci must never print the credentials it
/// sent, whatever command meets it.
@Suite struct SecretRedactionTests {
    static let clientSecret = "Zs3cret-client-Value-9"
    static let password = "Pa55word-of-the-PI"
    static let registryPassword = "Registry-Pa55-xyz"

    /// Answers every request with an error that quotes the whole request: headers and body.
    static func echoingServer() async throws -> ServedHTTP {
        try await ServedHTTP.start { request in
            let headers = request.headers.map { "\($0.key): \($0.value)" }.sorted().joined(separator: "\n")
            let body = String(decoding: request.body, as: UTF8.self)
            return .json(400, ["error": .string("bad request \(request.method) \(request.path) \(headers) \(body)"),
                               "errors": [["message": .string("echo: \(headers) \(body)")]]])
        }
    }

    static func assertClean(_ r: CLI.Result, _ what: String) {
        for secret in [clientSecret, password, registryPassword,
                       Data("cid:\(clientSecret)".utf8).base64EncodedString(), Data("reg:\(registryPassword)".utf8).base64EncodedString(),
                       clientSecret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!] {
            #expect(!r.stdout.contains(secret) && !r.stderr.contains(secret), "\(what) printed a secret: \(r.stdout) \(r.stderr)")
        }
    }

    @Test func zooniverseCommandsNeverPrintTheirCredentials() async throws {
        let server = try await Self.echoingServer()
        let endpoint = "http://127.0.0.1:\(server.port)"
        let clientCredentials = ["PANOPTES_ENDPOINT": endpoint, "PANOPTES_CLIENT_ID": "cid", "PANOPTES_CLIENT_SECRET": Self.clientSecret,
                                 "PANOPTES_USERNAME": "", "PANOPTES_TOKEN": ""]
        let passwordFlow = ["PANOPTES_ENDPOINT": endpoint, "PANOPTES_CLIENT_ID": "cid", "PANOPTES_CLIENT_SECRET": "",
                            "PANOPTES_USERNAME": "pi", "PANOPTES_PASSWORD": Self.password, "PANOPTES_TOKEN": ""]
        let results = try await offload {
            [("login", try CLI.run(["zooniverse", "login"], environment: clientCredentials, timeout: 60)),
             ("login (password)", try CLI.run(["zooniverse", "login"], environment: passwordFlow, timeout: 60)),
             ("status", try CLI.run(["zooniverse", "status", "--project", "1"], environment: clientCredentials, timeout: 60))]
        }
        for (what, r) in results {
            #expect(r.status != 0, "\(what) against an echoing server: \(r.stdout)")
            #expect(r.stderr.contains("[redacted]") || r.stderr.contains("HTTP 400"), "\(what): \(r.stderr)")
            Self.assertClean(r, what)
        }
        await server.stop()
    }

    @Test func theServiceLogNeverCarriesTheCredentials() async throws {
        let server = try await Self.echoingServer()
        let dir = try CLI.temporaryFolder("redaction-run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            source: {simulate: 30}
            filters: \(CLI.exampleFilters)
            state: \(dir)/citsci.sqlite
            sink: {folder: \(dir)/sink, max_set_size: 2}
            zooniverse: {project: "1", endpoint: "http://127.0.0.1:\(server.port)"}
            log: {format: json, level: debug}
            """.write(toFile: dir + "/citsci.yaml", atomically: true, encoding: .utf8)
        let env = ["PANOPTES_ENDPOINT": "http://127.0.0.1:\(server.port)", "PANOPTES_CLIENT_ID": "cid",
                   "PANOPTES_CLIENT_SECRET": Self.clientSecret, "PANOPTES_USERNAME": "", "PANOPTES_TOKEN": ""]
        let r = try await offload { try CLI.run(["run", "--config", dir + "/citsci.yaml", "--once"], environment: env, timeout: 120) }
        #expect(r.stderr.contains("push failed"), "the push met the echoing server: \(r.stderr.suffix(1500))")
        Self.assertClean(r, "run")
        await server.stop()
    }

    @Test func theSchemaRegistryClientNeverPrintsItsCredentials() async throws {
        let server = try await Self.echoingServer()
        let message = [UInt8]([0, 0, 0, 0, 7, 2, 4, 6])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("framed-\(UUID().uuidString).bin").path
        try Data(message).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try await offload {
            try CLI.run(["inspect", "--schema-registry", "http://127.0.0.1:\(server.port)", file],
                        environment: ["CITSCI_SCHEMA_REGISTRY_USER": "reg", "CITSCI_SCHEMA_REGISTRY_PASSWORD": Self.registryPassword], timeout: 60)
        }
        #expect(r.status != 0)
        #expect(r.stderr.contains("HTTP 400"), "\(r.stderr)")
        Self.assertClean(r, "inspect --schema-registry")
        await server.stop()
    }

    @Test func librdkafkaLogsThroughTheServiceLogInItsFormat() throws {
        let dir = try CLI.temporaryFolder("kafka-log")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A port nothing listens on: librdkafka complains, through swift-log, as JSON lines.
        let closed = try TansuBroker.freePort()
        try """
            source: {kafka: {brokers: "127.0.0.1:\(closed)", topics: [alerts], group: g}}
            filters: \(CLI.exampleFilters)
            state: \(dir)/citsci.sqlite
            sink: {folder: \(dir)/sink}
            log: {format: json}
            """.write(toFile: dir + "/citsci.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", "--config", dir + "/citsci.yaml", "--once"],
                            environment: ["CITSCI_KAFKA_PASSWORD": "Kafka-Secret-77"], timeout: 90)
        let lines = r.stderr.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.count == lines.count, "not JSON: \(lines.filter { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) == nil }.prefix(3))")
        #expect(objects.contains { $0["label"] as? String == "librdkafka" }, "\(r.stderr.prefix(2000))")
        #expect(!r.stderr.contains("%3|"), "a raw librdkafka line: \(r.stderr.prefix(2000))")
        #expect(!r.stderr.contains("Kafka-Secret-77"))
    }
}
