import Basics
import AlertModel
import Foundation
import Testing
import TestSupport
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

/// Seeded mutations of every other kind of outside input citsci parses: FITS stamps from real alerts,
/// Zooniverse export CSVs, citsci.yaml, Panoptes API answers and schema-registry answers (served by a
/// local server, as the client meets them). Each case is parsed or refused with a typed error.
@Suite struct ParserFuzzTests {
    @Test(.enabled(if: Paths.hasSharedData, "\(Paths.missingDataMessage)"))
    func mutatedStampsDecodeOrFailWithAReason() throws {
        let decoder = AlertDecoder()
        var seeds: [[UInt8]] = []
        for file in ["ztf-alerts/1095578115815010001.avro", Paths.avroFiles("rubin-9.0")[0], Paths.avroFiles("ztf-avro-alert-history")[0]] {
            for alert in try decoder.decode(try Paths.bytes(file)) {
                seeds += [alert.cutouts.science, alert.cutouts.difference].compactMap { $0?.data }
            }
        }
        var decoded = 0, refused = Set<String>()
        Fuzz(seeds: seeds, count: 1500).forEach { _, bytes in
            do throws(FITSError) {
                _ = try FITSImage(data: bytes)
                decoded += 1
            } catch {
                refused.insert(error.kind.rawValue)
            }
        }
        #expect(decoded >= seeds.count && refused.count >= 3, "\(decoded) decoded; refusals: \(refused)")
    }

    @Test(.enabled(if: Paths.hasSharedData, "\(Paths.missingDataMessage)"))
    func mutatedExportsParseOrFailWithALine() throws {
        let folder = Paths.data("zooniverse-exports")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix("classifications.csv") || $0.hasSuffix("export.csv") }.sorted()
        let seeds = try files.map { name -> [UInt8] in
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            return Array(text.split(separator: "\n", omittingEmptySubsequences: false).prefix(30).joined(separator: "\n").utf8)
        }
        #expect(!seeds.isEmpty)
        var parsed = 0, refused = 0
        Fuzz(seeds: seeds, count: 1200).forEach { i, bytes in
            do {
                _ = try ClassificationExport.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz-\(i).csv")
                parsed += 1
            } catch {
                refused += 1
                #expect("\(error)".contains("fuzz-\(i).csv"), "\(error)")
            }
        }
        #expect(parsed >= seeds.count && refused > 0)
    }

    @Test func mutatedConfigurationsLoadOrFailWithAPosition() throws {
        let root = Paths.packageRoot
        var seeds = [Array(try Data(contentsOf: root.appendingPathComponent("examples/citsci.yaml")))]
        seeds.append(Array("""
            source:
              kafka: {brokers: "kafka:9092", topics: [alerts, "^ztf.*"], group: citsci, from: "2026-11-01T00:00Z", queue: 1000,
                      properties: {security.protocol: SASL_SSL, sasl.mechanisms: SCRAM-SHA-512}}
            schemas: {registry: "https://registry.example.org"}
            filters: filters/
            state: postgresql://citsci@db/citsci
            sink: {folder: /data/sink, max_set_size: 500, max_set_age_hours: 6.5, light_curve: false}
            dead_letters: {topic: dead}
            zooniverse: {project: owner/slug, workflow: "123", approved: true, push_every_minutes: 5, requests_per_second: 4}
            classifications: {pull_every_minutes: 30, retire_after: 0, agreement: 0.8, minimum: 5,
                              publish: {brokers: "kafka:9092", topic: results, schema_id: 7, lasair_topic: lasair, debounce_seconds: 60}}
            metrics: {listen: "127.0.0.1:9464", insecure: false}
            log: {format: json, level: debug}
            """.utf8))
        var loaded = 0, refused = 0
        Fuzz(seeds: seeds, count: 2000).forEach { i, bytes in
            do throws(RunConfiguration.Error) {
                _ = try RunConfiguration.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz-\(i).yaml")
                loaded += 1
            } catch {
                refused += 1
                #expect(error.path == "fuzz-\(i).yaml" && error.line >= 0 && !error.reason.isEmpty)
            }
        }
        #expect(loaded >= seeds.count && refused > 200, "\(loaded) loaded, \(refused) refused")
    }

    /// Recorded answers of the Panoptes API (shapes from panoptes-python-client and the Rails serializers).
    static let panoptesAnswers: [String] = [
        #"{"users": [{"id": "7", "login": "pi", "subject_limit": 10000, "uploaded_subjects_count": 12}]}"#,
        #"{"projects": [{"id": "43", "slug": "pi/alerts", "display_name": "Alerts", "links": {"workflows": ["101", "102"], "subject_sets": ["9"]}}]}"#,
        #"{"subject_sets": [{"id": "9", "display_name": "citsci-staging", "set_member_subjects_count": 3, "completeness": {"101": 0.5}, "links": {"workflows": ["101"]}}], "meta": {"subject_sets": {"page": 1, "next_page": 2, "page_count": 3}}}"#,
        #"{"workflows": [{"id": "101", "display_name": "Real or bogus", "version": "3.1", "tasks": {"T0": {"type": "single", "answers": [{"label": "Real"}, {"label": "Bogus"}]}}}]}"#,
    ]

    @Test func mutatedPanoptesAnswersAreReadOrRefused() async throws {
        let answer = Locked<[UInt8]>([])
        let server = try await ServedHTTP.start { _ in
            HTTPServer.Response(status: 200, headers: [("Content-Type", "application/vnd.api+json; version=1")], body: answer.value)
        }
        var configuration = PanoptesClient.Configuration(endpoint: "http://127.0.0.1:\(server.port)", credentials: .token("t"))
        configuration.retry = RetryPolicy(attempts: 1)
        configuration.requestsPerSecond = 10_000
        configuration.timeout = 10
        let client = PanoptesClient(configuration)
        let (read, refused) = try await offload { () -> (Int, Int) in
            var read = 0, refused = 0
            Fuzz(seeds: Self.panoptesAnswers.map { Array($0.utf8) }, count: 400).forEach { i, bytes in
                answer.mutate { $0 = bytes }
                for call in 0..<4 {
                    do {
                        switch call {
                        case 0: _ = try client.me()
                        case 1: _ = try client.project("43")
                        case 2: _ = try client.subjectSets(project: "43")
                        default: _ = try client.workflow("101")
                        }
                        read += 1
                    } catch {
                        refused += 1
                    }
                }
            }
            return (read, refused)
        }
        #expect(read > 0 && refused > 0, "\(read) read, \(refused) refused")
        await server.stop()
    }

    @Test func mutatedRegistryAnswersAreReadOrRefused() async throws {
        let schema = try String(contentsOf: Paths.packageRoot.appendingPathComponent("schemas/classification-result.avsc"), encoding: .utf8)
        let seeds = [Array(try JSONSerialization.data(withJSONObject: ["schema": schema])),
                     Array(#"{"schema": "{\"type\": \"record\", \"name\": \"a\", \"fields\": [{\"name\": \"x\", \"type\": [\"null\", \"long\"]}]}", "schemaType": "AVRO"}"#.utf8)]
        let answer = Locked<[UInt8]>([])
        let server = try await ServedHTTP.start { _ in HTTPServer.Response(status: 200, headers: [("Content-Type", "application/json")], body: answer.value) }
        let (read, refused) = try await offload { () -> (Int, Int) in
            var read = 0, refused = 0
            Fuzz(seeds: seeds, count: 300).forEach { i, bytes in
                answer.mutate { $0 = bytes }
                // A new client per case: the client caches schemas by id.
                do { _ = try SchemaRegistryClient(url: "http://127.0.0.1:\(server.port)").schema(id: UInt32(i)); read += 1 } catch { refused += 1 }
            }
            return (read, refused)
        }
        #expect(read >= seeds.count && refused > 0, "\(read) read, \(refused) refused")
        await server.stop()
    }
}
