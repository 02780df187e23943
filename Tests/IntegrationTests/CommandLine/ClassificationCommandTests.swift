import State
import Foundation
import Glibc
import Testing
import TestSupport

/// `citsci classifications pull`, `aggregate` and `publish`.
@Suite struct ClassificationCommandTests {
    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-cls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func environment(_ fake: FakePanoptes) -> [String: String] {
        ["PANOPTES_CLIENT_ID": FakePanoptes.clientID, "PANOPTES_CLIENT_SECRET": FakePanoptes.clientSecret,
         "PANOPTES_ENDPOINT": fake.endpoint, "PANOPTES_USERNAME": "", "PANOPTES_TOKEN": ""]
    }

    static func seed(_ n: Int) -> [[String: Any]] {
        (0..<n).map { i -> [String: Any] in
            let annotation: [String: Any] = ["task": "T0", "value": i % 3 == 0 ? 1 : 0]
            let links: [String: Any] = ["project": "43", "workflow": "47", "user": String(i % 50), "subjects": [String(7000 + i % 40)]]
            return ["id": 1 + i, "created_at": "2026-11-20T10:00:00.000Z", "annotations": [annotation],
                    "metadata": ["workflow_version": "12.3"], "links": links]
        }
    }

    @Test(.enabled(if: Paths.hasSharedData, Comment(rawValue: Paths.missingDataMessage)))
    func aggregateAnExport() throws {
        let path = CLI.data("zooniverse-exports/slsn-cls_export.csv")
        let table = try CLI.run(["aggregate", "--export", path, "--state", "/nonexistent/none.sqlite"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("workflow 10 subject 96588114 T0 [question] 1 volunteers: Yes 1 → Yes (1 votes, agreement 1.00) retired"))
        #expect(table.stderr.contains("7 subjects, 7 retired"))
        let json = try CLI.run(["aggregate", "--export", path, "--state", "/nonexistent/none.sqlite", "--format", "json"])
        let lines = json.stdout.split(separator: "\n")
        #expect(lines.count == 7)
        let bad = try CLI.run(["aggregate", "--export", CLI.data("zooniverse-exports/cat-project-subjects.csv"), "--state", "/nonexistent/none.sqlite"])
        #expect(bad.status != 0 && bad.stderr.contains("no classification_id column: not a Panoptes classification export"), "\(bad.stderr)")
    }

    /// Kill the pull at random points, three times, then let it finish: every classification stored once.
    @Test func pullKilledMidwayResumesWithoutGapsOrRepeats() throws {
        let fake = try FakePanoptes()
        try fake.addClassifications(Self.seed(3000))
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["classifications", "pull", "--project", FakePanoptes.slug, "--state", dir + "/s.sqlite", "--requests-per-second", "5"]
        var rng = SplitMix64(seed: UInt64(Date().timeIntervalSince1970))
        for _ in 0..<3 {
            let (p, _) = try CLI.startLogging(args, environment: environment(fake))
            usleep(UInt32.random(in: 600_000...1_800_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        let partial = try StateStore(path: dir + "/s.sqlite").classifications().count
        #expect(partial > 0 && partial < 3000, "the kills landed mid-pull (\(partial) stored)")
        let final = try CLI.run(args + ["--requests-per-second", "1000"], environment: environment(fake), timeout: 120)
        #expect(final.status == 0, "\(final.stderr)")
        #expect(final.stdout.hasPrefix("\(3000 - partial) new classifications"), "\(final.stdout)")
        let stored = try StateStore(path: dir + "/s.sqlite").classifications()
        #expect(stored.map(\.id) == (1...3000).map(Int64.init))

        let aggregate = try CLI.run(["aggregate", "--state", dir + "/s.sqlite", "--format", "json", "--retire-after", "0"])
        #expect(aggregate.stdout.split(separator: "\n").count == 40)
        #expect(aggregate.stdout.contains(#""counts":{"Bogus":"#), "labels from the workflow, not indices")
    }

    @Test func publishSendsTheAggregatesOfPulledClassifications() throws {
        let fake = try FakePanoptes()
        try fake.addClassifications(Self.seed(200))
        let broker = try TansuBroker()
        try broker.createTopic("zooniverse-results", partitions: 1)
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pull = try CLI.run(["classifications", "pull", "--project", "43", "--state", dir + "/s.sqlite", "--requests-per-second", "1000"],
                               environment: environment(fake))
        #expect(pull.stdout.hasPrefix("200 new classifications"), "\(pull.stdout)\(pull.stderr)")
        let publish = try CLI.run(["publish", "--brokers", broker.bootstrap, "--topic", "zooniverse-results", "--schema-id", "12",
                                   "--state", dir + "/s.sqlite", "--project", "43", "--retire-after", "5"])
        #expect(publish.status == 0, "\(publish.stderr)")
        #expect(publish.stdout.hasPrefix("40 results published (40 newly retired)"), "\(publish.stdout)")
        let again = try CLI.run(["publish", "--brokers", broker.bootstrap, "--topic", "zooniverse-results", "--schema-id", "12",
                                 "--state", dir + "/s.sqlite", "--retire-after", "5"])
        #expect(again.stdout.hasPrefix("0 results published (0 newly retired), 40 unchanged"), "\(again.stdout)")
        let out = try runCommand("/usr/bin/env", ["python3", Paths.fixtures.appendingPathComponent("read_results.py").path,
                                                  "--brokers", broker.bootstrap, "--topic", "zooniverse-results", "--count", "40",
                                                  "--schema", Paths.packageRoot.appendingPathComponent("schemas/classification-result.avsc").path])
        #expect(out.split(separator: "\n").count == 40)
        #expect(out.contains(#""schema_id": 12"#) && out.contains(#""projectId": "43""#))
        let missing = try CLI.run(["publish", "--brokers", broker.bootstrap, "--topic", "t", "--state", dir + "/s.sqlite"])
        #expect(missing.status != 0 && missing.stderr.contains("--schema-registry URL"))
    }

    /// The whole loop: subjects pushed, volunteers classify them, the classifications pulled, the
    /// results published joined to their alerts, and the retired subjects retired on Zooniverse.
    @Test func pushedSubjectsComeBackAsResultsJoinedToTheirAlerts() throws {
        let fake = try FakePanoptes()
        let broker = try TansuBroker()
        try broker.createTopic("results", partitions: 1)
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = dir + "/citsci.sqlite"
        let ids = try SyntheticSubjects.make(root: dir + "/sink", sets: 1, perSet: 6)
        let push = try CLI.run(["push", dir + "/sink", "--project", "43", "--state", state, "--requests-per-second", "1000"],
                               environment: environment(fake))
        #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
        let subjects = try fake.subjects()
        let zooniverseID = Dictionary(uniqueKeysWithValues: subjects.map { (($0.value["metadata"] as! [String: Any])["#alert_id"] as! String, $0.key) })
        // Three volunteers classify each subject; the first two subjects get a fourth.
        var seed: [[String: Any]] = []
        for (n, alert) in ids.enumerated() {
            for v in 0..<(n < 2 ? 4 : 3) {
                let annotation: [String: Any] = ["task": "T0", "value": v == 2 ? 1 : 0]
                let links: [String: Any] = ["project": "43", "workflow": "47", "user": String(v), "subjects": [zooniverseID[alert]!]]
                seed.append(["id": 100 + seed.count, "created_at": "2026-11-21T10:00:00Z", "annotations": [annotation], "links": links])
            }
        }
        try fake.addClassifications(seed)
        let pull = try CLI.run(["classifications", "pull", "--project", "43", "--state", state, "--requests-per-second", "1000"],
                               environment: environment(fake))
        #expect(pull.stdout.hasPrefix("20 new classifications"), "\(pull.stdout)\(pull.stderr)")
        let publish = try CLI.run(["publish", "--brokers", broker.bootstrap, "--topic", "results", "--schema-id", "3", "--state", state,
                                   "--retire-after", "4", "--retire-on-zooniverse", "--requests-per-second", "1000"], environment: environment(fake))
        #expect(publish.status == 0, "\(publish.stderr)")
        #expect(publish.stdout.hasPrefix("6 results published (2 newly retired)"), "\(publish.stdout)")
        let workflow = (try fake.state()["workflows"] as? [String: [String: Any]])?["47"]
        let retired = workflow?["retired"] as? [String: String] ?? [:]
        #expect(retired == [zooniverseID[ids[0]]!: "classification_count", zooniverseID[ids[1]]!: "classification_count"])
        let out = try runCommand("/usr/bin/env", ["python3", Paths.fixtures.appendingPathComponent("read_results.py").path,
                                                  "--brokers", broker.bootstrap, "--topic", "results", "--count", "6",
                                                  "--schema", Paths.packageRoot.appendingPathComponent("schemas/classification-result.avsc").path])
        let records = try out.split(separator: "\n").map { line -> [String: Any] in
            let m = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(m["record"] as? [String: Any])
        }
        #expect(Set(records.compactMap { $0["alertId"] as? String }) == Set(ids), "every result joined to its alert")
        #expect(records.allSatisfy { ($0["objectId"] as? String)?.hasPrefix("obj-") == true && $0["filters"] as? [String] == ["synthetic"] })
        #expect(records.allSatisfy { $0["projectId"] as? String == "43" })
        // aggregate joins them to their alerts through the state store too.
        let aggregate = try CLI.run(["aggregate", "--state", state, "--format", "json"])
        for alert in ids { #expect(aggregate.stdout.contains(#""alert_id":"\#(alert)""#), "\(alert)") }
    }

    /// The export route and the API route give the same aggregates.
    @Test func exportDownloadedAndImportedAgreesWithThePull() throws {
        let fake = try FakePanoptes()
        try fake.addClassifications(Self.seed(300))
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let none = try CLI.run(["classifications", "export", "--project", "43", "--output", dir + "/x.csv", "--requests-per-second", "1000"],
                               environment: environment(fake))
        #expect(none.status != 0 && none.stderr.contains("has no classification export yet: run with --generate"), "\(none.stderr)")
        let export = try CLI.run(["classifications", "export", "--project", FakePanoptes.slug, "--generate", "--output", dir + "/export.csv",
                                  "--import-classifications", "--state", dir + "/from-export.sqlite", "--requests-per-second", "1000"],
                                 environment: environment(fake))
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.hasPrefix("300 classifications in \(dir)/export.csv") && export.stdout.hasSuffix("300 new in \(dir)/from-export.sqlite\n"),
                "\(export.stdout)")
        // A second request the same day is refused by Zooniverse; the latest export is used.
        let again = try CLI.run(["classifications", "export", "--project", "43", "--generate", "--output", dir + "/again.csv", "--requests-per-second", "1000"],
                                environment: environment(fake))
        #expect(again.status == 0 && again.stderr.contains("Zooniverse refused a new export"), "\(again.stderr)")
        _ = try CLI.run(["classifications", "pull", "--project", "43", "--state", dir + "/from-api.sqlite", "--requests-per-second", "1000"],
                        environment: environment(fake))
        let viaExport = try CLI.run(["aggregate", "--state", dir + "/from-export.sqlite", "--format", "json"])
        let viaAPI = try CLI.run(["aggregate", "--state", dir + "/from-api.sqlite", "--format", "json"])
        #expect(viaExport.stdout.split(separator: "\n").count == 40)
        #expect(viaExport.stdout == viaAPI.stdout)
    }
}
