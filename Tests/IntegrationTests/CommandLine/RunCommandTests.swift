import WebClient
import Subjects
import State
import Service
import Filters
import Foundation
import Glibc
import Testing
import TestSupport

/// `citsci run`: the service on the embedded default and on Kafka, killed and restarted.
@Suite struct RunCommandTests {
    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-run-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    var filters: String { Paths.packageRoot.appendingPathComponent("examples/filters").path }

    /// The alerts of the simulator that the example filters send to volunteers (one subject each:
    /// every example filter feeds the same workflow).
    func expectedSubjects(count: Int, seed: UInt64) throws -> Set<String> {
        let set = FilterSet(folder: filters)
        #expect(set.reload().isEmpty)
        return Set(try AlertSimulator(seed: seed).alerts(0..<count).compactMap { a -> String? in
            set.matches(a).isEmpty ? nil : String(a.alertId)
        })
    }

    /// Every subject in the sink's manifests, by alert id, with the sets holding it.
    func sinkSubjects(_ sink: String) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for folder in SubjectSetFolder.list(sink) {
            for row in try Manifest.read(folder + "/manifest.csv") { out[row.externalID, default: []].append(folder) }
        }
        return out
    }

    @Test func embeddedDefaultMakesEachSubjectOnce() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            source: {simulate: 45, seed: 7}
            filters: \(filters)
            state: \(dir)/citsci.sqlite
            sink: {folder: \(dir)/sink}
            """.write(toFile: dir + "/citsci.yaml", atomically: true, encoding: .utf8)
        let expected = try expectedSubjects(count: 45, seed: 7)
        #expect(!expected.isEmpty && expected.count < 45)
        let first = try CLI.run(["run", "--config", dir + "/citsci.yaml", "--once"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("citsci run: \(expected.count) subjects in"), "\(first.stdout)")
        #expect(Set(try sinkSubjects(dir + "/sink").keys) == expected)
        // The playground's window holds the simulated alerts too (45 is under the 50 a second it keeps).
        #expect(try StateStore(path: dir + "/citsci.sqlite").recent.count() == 45)
        let again = try CLI.run(["run", "--config", dir + "/citsci.yaml", "--once"])
        #expect(again.stdout.hasPrefix("citsci run: \(expected.count) subjects in"), "the same alerts again make nothing new: \(again.stdout)")
        #expect(try sinkSubjects(dir + "/sink").values.allSatisfy { $0.count == 1 })
    }

    @Test func configurationErrorsSayWhereAndWhy() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "source:\n  simulate: 10\nsink:\n  max_set_sise: 5\n".write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        let a = try CLI.run(["config", "check", dir + "/a.yaml"])
        #expect(a.status != 0 && a.stderr.contains("a.yaml:4:3: unknown key 'max_set_sise' in sink (did you mean 'max_set_size'?)"), "\(a.stderr)")
        try "zooniverse: {project: pi/alerts}\nfilters: \(filters)\n".write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
        let b = try CLI.run(["config", "check", dir + "/b.yaml"], environment: ["PANOPTES_CLIENT_ID": "", "PANOPTES_CLIENT_SECRET": "",
                                                                             "PANOPTES_USERNAME": "", "PANOPTES_TOKEN": ""])
        #expect(b.status != 0 && b.stderr.contains("zooniverse is configured but no credentials are set"), "\(b.stderr)")
        try "source: {simulate: 5}\nfilters: \(filters)\nlog: {format: xml}\n".write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let c = try CLI.run(["run", "--config", dir + "/c.yaml", "--once"])
        #expect(c.status != 0 && c.stderr.contains("c.yaml:3:15: log.format must be text or json"), "\(c.stderr)")
    }

    /// Kill -9 the service five times at random moments while it consumes from Kafka, then let it finish:
    /// every alert that passes a filter is exactly one subject, with all its frames.
    @Test func killedFiveTimesOnKafkaStillExactlyOnce() throws {
        let broker = try TansuBroker()
        try broker.createTopic("alerts", partitions: 2)
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let count = 480, seed: UInt64 = 11
        let sim = try CLI.run(["simulate", "--out", dir + "/alerts", "--count", String(count), "--seed", String(seed)])
        #expect(sim.status == 0, "\(sim.stderr)")
        let replay = try CLI.run(["replay", "--brokers", broker.bootstrap, "--topic", "alerts", "--framing", "container", dir + "/alerts"])
        #expect(replay.status == 0, "\(replay.stderr)")
        try """
            source:
              kafka:
                brokers: "\(broker.bootstrap)"
                topics: [alerts]
                group: citsci-run-test
                from: earliest
                properties: {session.timeout.ms: "3000", heartbeat.interval.ms: "500", max.poll.interval.ms: "20000"}
            filters: \(filters)
            state: \(dir)/citsci.sqlite
            sink: {folder: \(dir)/sink, max_set_size: 40}
            """.write(toFile: dir + "/citsci.yaml", atomically: true, encoding: .utf8)
        let expected = try expectedSubjects(count: count, seed: seed)
        var rng = SplitMix64(seed: UInt64(Date().timeIntervalSince1970))
        var progress: [Int] = []
        for _ in 0..<5 {
            let (p, _) = try CLI.startLogging(["run", "--config", dir + "/citsci.yaml"])
            usleep(UInt32.random(in: 2_000_000...4_000_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            progress.append(try sinkSubjects(dir + "/sink").count)
        }
        #expect(progress.last! < expected.count, "the kills landed before the end: \(progress) of \(expected.count)")
        let final = try CLI.run(["run", "--config", dir + "/citsci.yaml", "--once"], timeout: 300)
        #expect(final.status == 0, "\(final.stderr.suffix(2000))")
        let subjects = try sinkSubjects(dir + "/sink")
        #expect(Set(subjects.keys) == expected, "progress after each kill: \(progress)")
        let twice = subjects.filter { $0.value.count != 1 }.keys.sorted()
        #expect(twice.isEmpty, "in more than one set: \(twice.prefix(5))")
        #expect(final.stdout.hasPrefix("citsci run: \(expected.count) subjects"), "\(final.stdout)")
    }

    @Test func metricsHealthAndAGracefulStop() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            source: {simulate: 20}
            filters: \(filters)
            state: \(dir)/citsci.sqlite
            sink: {folder: \(dir)/sink}
            metrics: {listen: "127.0.0.1:0"}
            log: {format: json}
            """.write(toFile: dir + "/citsci.yaml", atomically: true, encoding: .utf8)
        let (p, out, err) = try CLI.start(["run", "--config", dir + "/citsci.yaml"])
        var url: String? = nil
        var lines: [String] = []
        while url == nil {
            var line = [UInt8]()
            while let b = try err.fileHandleForReading.read(upToCount: 1)?.first, b != 10 { line.append(b) }
            guard !line.isEmpty else { break }
            let text = String(decoding: line, as: UTF8.self)
            lines.append(text)
            if let range = text.range(of: #"http://127\.0\.0\.1:\d+/metrics"#, options: .regularExpression) { url = String(text[range]) }
        }
        let metricsURL = try #require(url, "\(lines)")
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "JSON log lines: \(lines)")
        let http = HTTPClient(timeout: 5)
        var body = ""
        for _ in 0..<50 {
            body = try http.get(metricsURL).text
            if body.contains("citsci_alerts_total 20") { break }
            usleep(200_000)
        }
        #expect(body.contains("citsci_alerts_total 20"), "\(body.prefix(1500))")
        #expect(body.contains("citsci_filter_matches_total{filter=\"confident\"}"))
        #expect(body.contains("citsci_stage_seconds"))
        #expect(try http.get(metricsURL.replacingOccurrences(of: "/metrics", with: "/healthz")).text == "ok\n")
        let stopAt = Date()
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(Date().timeIntervalSince(stopAt) < 10, "stopped within a bounded time")
        let summary = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(summary.hasPrefix("citsci run: "), "\(summary)")
    }

    /// Zooniverse down while the service runs: push rounds fail and are retried; once it is back the
    /// backlog drains, every subject exactly once and in its set.
    @Test func zooniverseOutageThenTheBacklogDrains() throws {
        let fake = try FakePanoptes()
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            source: {simulate: 36, seed: 3}
            filters: \(filters)
            state: \(dir)/citsci.sqlite
            sink: {folder: \(dir)/sink, max_set_size: 10}
            zooniverse: {project: "43", workflow: "47", approved: true, push_every_minutes: 0.02, requests_per_second: 500}
            classifications: {pull_every_minutes: 600}
            """.write(toFile: dir + "/citsci.yaml", atomically: true, encoding: .utf8)
        try fake.faults([["kind": "503", "path": ".", "count": 1_000_000]])  // every request, until cleared
        let env = ["PANOPTES_CLIENT_ID": FakePanoptes.clientID, "PANOPTES_CLIENT_SECRET": FakePanoptes.clientSecret,
                   "PANOPTES_ENDPOINT": fake.endpoint, "PANOPTES_USERNAME": "", "PANOPTES_TOKEN": ""]
        let (p, log) = try CLI.startLogging(["run", "--config", dir + "/citsci.yaml"], environment: env)
        // Two push rounds fail (the log says so) before the outage ends: waited for, not slept through.
        let outageEnds = Date().addingTimeInterval(60)
        while log.value.components(separatedBy: "push failed").count < 3 && Date() < outageEnds { Thread.sleep(forTimeInterval: 0.1) }
        #expect(log.value.components(separatedBy: "push failed").count >= 3, "\(log.value.suffix(1500))")
        #expect(try fake.subjects().isEmpty, "nothing got through the outage")
        try fake.faults([])
        let expected = try expectedSubjects(count: 36, seed: 3)
        var pushed: [String: Int] = [:]
        for _ in 0..<120 {
            pushed = [:]
            for s in try fake.subjects().values {
                guard let sets = (s["links"] as? [String: Any])?["subject_sets"] as? [String], sets.count == 1 else { continue }
                pushed[((s["metadata"] as? [String: Any])?["#alert_id"] as? String) ?? "?", default: 0] += 1
            }
            // Every closed set (10 subjects each) out; the last, open one waits for its age.
            if pushed.count >= expected.count / 10 * 10 { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(log.value.suffix(1500))")
        #expect(pushed.count == expected.count / 10 * 10, "\(pushed.count) of \(expected.count)")
        #expect(pushed.values.allSatisfy { $0 == 1 } && Set(pushed.keys).isSubset(of: expected))
        let all = try fake.subjects().values.compactMap { ($0["metadata"] as? [String: Any])?["#alert_id"] as? String }
        #expect(all.count == Set(all).count, "no alert made twice")
    }
}
