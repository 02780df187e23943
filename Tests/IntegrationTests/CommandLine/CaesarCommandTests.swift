import WebClient
import Foundation
import Glibc
import Testing
import TestSupport

/// `citsci caesar listen`: Caesar's POSTs in, classification results out to Kafka.
@Suite struct CaesarCommandTests {
    @Test func listensStoresOncePublishesChangesAndStopsCleanly() throws {
        let broker = try TansuBroker()
        try broker.createTopic("caesar-results", partitions: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-caesar-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (p, _, err) = try CLI.start(["caesar", "listen", "--port", "0", "--state", dir + "/s.sqlite", "--brokers", broker.bootstrap,
                                         "--topic", "caesar-results", "--schema-id", "21"],
                                        environment: ["CITSCI_CAESAR_USERNAME": "caesar", "CITSCI_CAESAR_PASSWORD": "pw"])
        var line = [UInt8]()
        while let b = try err.fileHandleForReading.read(upToCount: 1)?.first, b != 10 { line.append(b) }
        let text = String(decoding: line, as: UTF8.self)
        let url = try #require(text.split(separator: " ").last.map(String.init), "\(text)")
        #expect(text.hasPrefix("citsci caesar: listening on http://127.0.0.1:") && url.hasSuffix("/caesar"))
        let http = HTTPClient(timeout: 10)
        let headers = [("Content-Type", "application/json"), ("Authorization", "Basic " + Data("caesar:pw".utf8).base64EncodedString())]
        func post(_ subject: Int, _ data: String) throws -> Int {
            try http.request("POST", url + "/consensus", headers: headers, body: CaesarPost.body(subject: subject, data: data)).status
        }
        #expect(try post(1, #"{"most_likely": "Real", "num_votes": 3, "agreement": 0.75}"#) == 201)
        #expect(try post(1, #"{"most_likely": "Real", "num_votes": 3, "agreement": 0.75}"#) == 200)
        #expect(try post(2, #"{"most_likely": "Bogus", "num_votes": 2, "agreement": 1.0}"#) == 201)
        #expect(try http.request("POST", url + "/consensus", headers: [("Content-Type", "application/json")],
                                 body: CaesarPost.body(subject: 3, data: "{}")).status == 401)
        let out = try runCommand("/usr/bin/env", ["python3", Paths.fixtures.appendingPathComponent("read_results.py").path,
                                                  "--brokers", broker.bootstrap, "--topic", "caesar-results", "--count", "2",
                                                  "--schema", Paths.packageRoot.appendingPathComponent("schemas/classification-result.avsc").path])
        let records = try out.split(separator: "\n").map { line -> [String: Any] in
            let m = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(m["schema_id"] as? Int == 21 && m["key"] as? String == "3001")
            return try #require(m["record"] as? [String: Any])
        }
        #expect(records.map { $0["subjectId"] as? String } == ["1", "2"])
        #expect(records.allSatisfy { $0["alertId"] as? String == "170" && $0["survey"] as? String == "rubin" })
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let rest = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(rest)")
        #expect(rest.contains("stopped; 2 results published"), "\(rest)")
    }
}
