import WebClient
import AlertModel
import Service
import Filters
import Foundation
import Glibc
import Testing
import TestSupport

/// Issue 8's end-to-end test: 5,000 real and simulated alerts through Kafka (Tansu, persistent) to
/// the fake Panoptes server, with five kill -9s, a broker restart and a 60-second Zooniverse outage.
/// Every alert that passes the filter must end as exactly one subject, in its set, every frame uploaded.
/// Its tests block for minutes; each runs on a thread of `longTestExecutor`, not on the cooperative pool.
@Suite(.enabled(if: Paths.hasSharedData, Comment(rawValue: Paths.missingDataMessage)), .timeLimit(.minutes(10)))
struct SoakTests {
    static let realFolder = "ztf-fink-distributed"
    static let simulated = 5_000 - 375, seed: UInt64 = 21

    /// The alert ids the filter sends to volunteers, over the same inputs.
    /// `real` counts the real alerts; `distinct`, the different alerts of both kinds (one real ZTF
    /// packet is there twice).
    static func expected(filters: String, simulated: Int = simulated) throws -> (ids: Set<String>, real: Int, distinct: Int) {
        let set = FilterSet(folder: filters)
        #expect(set.reload().isEmpty)
        var ids = Set<String>(), real = 0, seen = Set<String>()
        let decoder = AlertDecoder()
        for file in Paths.avroFiles(realFolder) {
            for a in try decoder.decode(try Paths.bytes(file)) {
                real += 1
                seen.insert("\(a.survey) \(a.alertId)")
                if !set.matches(a).isEmpty { ids.insert(String(a.alertId)) }
            }
        }
        let simulator = AlertSimulator(seed: seed)
        for i in 0..<simulated {  // one at a time: thousands of alerts with their stamps held at once take hundreds of MB
            let a = try simulator.alert(i, decoder: decoder)
            seen.insert("\(a.survey) \(a.alertId)")
            if !set.matches(a).isEmpty { ids.insert(String(a.alertId)) }
        }
        return (ids, real, seen.count)
    }

    /// Subjects at the fake server by alert id: how many, and for each the sets and location keys.
    static func remote(_ fake: FakePanoptes) throws -> [String: [(sets: [String], keys: [String])]] {
        var out: [String: [(sets: [String], keys: [String])]] = [:]
        for s in try fake.subjects().values {
            let id = ((s["metadata"] as? [String: Any])?["#alert_id"] as? String) ?? "?"
            let sets = ((s["links"] as? [String: Any])?["subject_sets"] as? [String]) ?? []
            let keys = ((s["locations"] as? [[String: String]]) ?? []).flatMap(\.values).compactMap { url in
                URL(string: url)?.path.split(separator: "/", maxSplits: 2).dropFirst().joined(separator: "/")
            }
            out[id, default: []].append((sets, keys))
        }
        return out
    }

    static let filter = """
        name: soak
        description: Bright enough to show volunteers (no limits, so the expected set is exact)
        owner: test@example.org
        expression: (survey = 'ztf' AND magnitude < 18.5) OR (survey = 'rubin' AND magnitude < 21.3)
        destination: {project: "43", workflow: "47"}
        flipbook: {kind: triplet, size: 100}
        """

    /// The real alerts and `simulated` simulated ones (written under `dir`), replayed to the topic `alerts`.
    static func replay(simulated: Int, into broker: TansuBroker, dir: String) throws {
        #expect(try CLI.run(["simulate", "--out", dir + "/sim", "--count", String(simulated), "--seed", String(seed)]).status == 0)
        for folder in [Paths.data(realFolder), dir + "/sim"] {
            let r = try CLI.run(["replay", "--brokers", broker.bootstrap, "--topic", "alerts", "--framing", "container", folder], timeout: 300)
            #expect(r.status == 0, "\(r.stderr)")
        }
    }

    /// `dir`/citsci.yaml for a run from the topic `alerts` through the filters in `dir`/filters to
    /// the fake Panoptes (approved project 43, workflow 47), with fast group joins and push rounds.
    static func writeConfiguration(dir: String, broker: TansuBroker, group: String, state: String) throws {
        try """
            source:
              kafka:
                brokers: "\(broker.bootstrap)"
                topics: [alerts]
                group: \(group)
                from: earliest
                properties: {session.timeout.ms: "3000", heartbeat.interval.ms: "500", max.poll.interval.ms: "20000"}
            filters: \(dir)/filters
            state: \(state)
            sink: {folder: \(dir)/sink, max_set_size: 100, max_set_age_hours: 0.01, light_curve: false}
            dead_letters: {folder: \(dir)/dead}
            zooniverse: {project: "43", workflow: "47", approved: true, push_every_minutes: 0.02, requests_per_second: 1000}
            classifications: {pull_every_minutes: 600}
            metrics: {listen: "127.0.0.1:0"}
            log: {level: info}
            """.write(toFile: dir + "/citsci.yaml", atomically: true, encoding: .utf8)
    }

    /// The credentials and endpoint of the fake Panoptes server.
    static func environment(_ fake: FakePanoptes) -> [String: String] {
        ["PANOPTES_CLIENT_ID": FakePanoptes.clientID, "PANOPTES_CLIENT_SECRET": FakePanoptes.clientSecret,
         "PANOPTES_ENDPOINT": fake.endpoint, "PANOPTES_USERNAME": "", "PANOPTES_TOKEN": ""]
    }

    /// Volunteers finish every set pushed so far (the data-rights gate holds new sets while three
    /// are incomplete).
    static func finishSets(_ fake: FakePanoptes) throws {
        let ids = try fake.subjectSets().keys
        try fake.configure(["completeness": Dictionary(uniqueKeysWithValues: ids.map { ($0, ["47": 1.0]) })])
    }

    @Test func fiveThousandAlertsThroughKillsABrokerRestartAndAZooniverseOutage() async throws {
        try await withTaskExecutorPreference(longTestExecutor) { try Self.soak() }
    }

    static func soak() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-soak-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/filters", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.filter.write(toFile: dir + "/filters/soak.yaml", atomically: true, encoding: .utf8)
        let (expected, real, _) = try Self.expected(filters: dir + "/filters")
        #expect(real == 375 && expected.count > 600, "\(real) real alerts, \(expected.count) expected subjects")

        let broker = try TansuBroker(persistent: true)
        try broker.createTopic("alerts", partitions: 2)
        let fake = try FakePanoptes()
        try Self.replay(simulated: Self.simulated, into: broker, dir: dir)
        try Self.writeConfiguration(dir: dir, broker: broker, group: "soak", state: dir + "/citsci.sqlite")
        let env = Self.environment(fake)

        // Five kill -9s at random moments.
        var rng = SplitMix64(seed: UInt64(Date().timeIntervalSince1970))
        var progress: [Int] = []
        for _ in 0..<5 {
            let (p, _) = try CLI.startLogging(["run", "--config", dir + "/citsci.yaml"], environment: env)
            usleep(UInt32.random(in: 1_500_000...3_500_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            progress.append(try Self.remote(fake).count)
            try Self.finishSets(fake)
        }

        // Then a run that sees the broker restart and Zooniverse go away for a minute.
        let (p, log) = try CLI.startLogging(["run", "--config", dir + "/citsci.yaml"], environment: env)
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let metricsURL = try Self.metricsURL(log)
        var metrics = ""
        for _ in 0..<40 {  // lag shows once the group has joined and the first fetch has come back
            metrics = try HTTPClient(timeout: 5).get(metricsURL).text
            if metrics.contains("citsci_consumer_lag{") { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        #expect(metrics.contains("citsci_consumer_lag{"), "\(metrics.prefix(2000))")
        #expect(metrics.contains("citsci_queue_depth{stage=\"decoded\"}"))
        #expect(metrics.contains("citsci_queue_bytes{stage=\"decoded\"}"))
        try broker.restart(downFor: 3)
        try fake.faults([["kind": "503", "path": ".", "count": 1_000_000]])
        let atOutage = try Self.remote(fake).count
        // The outage lasts three push rounds, each failing (seen in the log), not a fixed time.
        let failedBefore = log.value.components(separatedBy: "push failed").count
        let outageEnds = Date().addingTimeInterval(120)
        while log.value.components(separatedBy: "push failed").count < failedBefore + 3 && Date() < outageEnds {
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(log.value.components(separatedBy: "push failed").count >= failedBefore + 3, "three push rounds failed in the outage")
        #expect(try Self.remote(fake).count == atOutage, "nothing got through the outage")
        try fake.faults([])

        var remote: [String: [(sets: [String], keys: [String])]] = [:]
        var drain: [Int] = []
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline {
            try Self.finishSets(fake)
            remote = try Self.remote(fake)
            drain.append(remote.count)
            if remote.values.filter({ $0.count == 1 && $0[0].sets.count == 1 }).count >= expected.count { break }
            Thread.sleep(forTimeInterval: 1)
        }
        let lastMetrics = (try? HTTPClient(timeout: 5).get(metricsURL).text) ?? ""
        let counters = lastMetrics.split(separator: "\n").filter {
            $0.hasPrefix("citsci_messages_total") || $0.hasPrefix("citsci_alerts_total") || $0.hasPrefix("citsci_consumer_lag")
                || $0.hasPrefix("citsci_subjects_") || $0.hasPrefix("citsci_push") || $0.hasPrefix("citsci_queue_depth")
        }
        let diagnosis = "drain every 10 s: \(drain.enumerated().filter { $0.offset % 10 == 0 }.map(\.element)); \(counters); log: \(log.value.suffix(2500))"
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(log.value.suffix(1500))")
        #expect(log.value.contains("push failed"), "the outage was seen")
        #expect(progress.last! < expected.count, "the kills landed before the end: \(progress) of \(expected.count)")

        let dead = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/dead")) ?? []).count
        #expect(dead == 0, "\(dead) dead letters")
        #expect(Set(remote.keys).count == expected.count && Set(remote.keys) == expected, "missing \(expected.subtracting(remote.keys).count), extra \(Set(remote.keys).subtracting(expected).count); \(diagnosis)")
        let twice = remote.filter { $0.value.count != 1 }.keys
        #expect(twice.isEmpty, "\(twice.count) alerts made more than one subject")
        #expect(remote.values.allSatisfy { $0.allSatisfy { $0.sets.count == 1 } }, "every subject in its set, out of staging")
        let blobs = try fake.blobs()
        let frames = remote.values.flatMap { $0.flatMap(\.keys) }
        #expect(remote.values.allSatisfy { $0.allSatisfy { $0.keys.count == 3 } }, "three frames each")
        #expect(frames.allSatisfy { blobs[$0]?["sha256"] != nil }, "every frame uploaded")
    }
}
