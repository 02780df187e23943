import WebClient
import Subjects
import Foundation
import Glibc
import Testing
import TestSupport

/// `citsci push` and `citsci zooniverse` against the strict fake Panoptes server.
@Suite struct PushCommandTests {
    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-push-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func environment(_ fake: FakePanoptes) -> [String: String] {
        ["PANOPTES_CLIENT_ID": FakePanoptes.clientID, "PANOPTES_CLIENT_SECRET": FakePanoptes.clientSecret,
         "PANOPTES_ENDPOINT": fake.endpoint, "PANOPTES_USERNAME": "", "PANOPTES_TOKEN": ""]
    }

    /// Kill `citsci push` at random points of a 500-subject push, five times, then let it finish:
    /// every subject exists exactly once on Zooniverse, with every frame uploaded byte for byte,
    /// in its own set and no longer in staging.
    @Test func killedFiveTimesEverySubjectExactlyOnce() throws {
        let fake = try FakePanoptes()
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sink = dir + "/sink"
        let ids = try SyntheticSubjects.make(root: sink, sets: 2, perSet: 250)
        // Lost answers too: creates that happen but whose answer never comes, failing links.
        try fake.faults([
            ["kind": "drop_after", "method": "POST", "path": "^/api/subjects$", "count": 4],
            ["kind": "500", "method": "POST", "path": "/links/subjects$", "count": 2],
            ["kind": "drop", "method": "PUT", "path": "^/uploads/", "count": 3],
        ])
        let args = ["push", sink, "--project", FakePanoptes.slug, "--approved", "--state", dir + "/state.sqlite",
                    "--requests-per-second", "300", "--timeout", "10"]
        let seed = UInt64(Date().timeIntervalSince1970 * 1000)
        var rng = SplitMix64(seed: seed)
        var killedWhileRunning = 0
        for _ in 0..<5 {
            let (p, _) = try CLI.startLogging(args, environment: environment(fake))
            // About 2,100 requests at 300 a second: five kills of at most a second each land mid-push.
            usleep(UInt32.random(in: 100_000...1_000_000, using: &rng))
            if p.isRunning { killedWhileRunning += 1 }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        let final = try CLI.run(args, environment: environment(fake), timeout: 300)
        #expect(final.status == 0, "seed \(seed): \(final.stdout)\n\(final.stderr)")
        #expect(killedWhileRunning >= 3, "seed \(seed): the push finished before most kills; the test proves little")

        let subjects = try fake.subjects()
        let sets = try fake.subjectSets()
        let setName = Dictionary(uniqueKeysWithValues: sets.map { ($0.key, $0.value["display_name"] as? String ?? "") })
        var byAlert: [String: [[String: Any]]] = [:]
        for s in subjects.values {
            byAlert[(s["metadata"] as? [String: Any])?["#alert_id"] as? String ?? "?", default: []].append(s)
        }
        #expect(subjects.count == 500, "seed \(seed): \(subjects.count) subjects on the server")
        let sameAlerts = Set(byAlert.keys) == Set(ids)
        #expect(sameAlerts, "seed \(seed): the server's #alert_ids are not the sink's")
        let repeated = byAlert.filter { $0.value.count != 1 }.keys.sorted()
        let repeatCount = repeated.count
        #expect(repeatCount == 0, "seed \(seed): alerts made more than once: \(repeated.prefix(10))")
        let http = HTTPClient()
        var badFrames: [String] = [], badLinks: [String] = []
        for (alert, list) in byAlert {
            guard let s = list.first else { continue }
            let folder = try #require(SubjectSetFolder.list(sink).first { FileManager.default.fileExists(atPath: $0 + "/\(alert)_1.png") })
            let expectedSet = (folder as NSString).lastPathComponent
            let links = (s["links"] as? [String: Any])?["subject_sets"] as? [String] ?? []
            if links.map({ setName[$0] ?? "" }) != [expectedSet] { badLinks.append("\(alert): \(links.map { setName[$0] ?? $0 })") }
            let locations = (s["locations"] as? [[String: String]] ?? []).compactMap(\.values.first)
            let names = ["\(alert)_1.png", "\(alert)_2.png", "\(alert)_lightcurve.json"]
            guard locations.count == 3 else { badFrames.append("\(alert): \(locations.count) locations"); continue }
            for (url, name) in zip(locations, names) {
                let r = try http.get(String(url.split(separator: "?")[0]))  // the blob, as Zooniverse serves it
                let local = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
                if r.status != 200 || Data(r.body) != local { badFrames.append("\(alert) \(name): HTTP \(r.status), \(r.body.count) bytes") }
            }
        }
        let (frameFaults, linkFaults) = (badFrames.count, badLinks.count)
        #expect(frameFaults == 0, "seed \(seed): \(badFrames.prefix(10))")
        #expect(linkFaults == 0, "seed \(seed): \(badLinks.prefix(10))")
        #expect((try fake.state()["user"] as? [String: Any])?["uploaded_subjects_count"] as? Int == 500)
        // A push with nothing left to do does nothing.
        let again = try CLI.run(args, environment: environment(fake))
        #expect(again.status == 0)
        #expect(again.stdout.hasPrefix("0 subjects pushed (500 done before"), "\(again.stdout)")
        #expect(try fake.subjects().count == 500)
    }

    @Test func loginStatusAndMissingCredentials() throws {
        let fake = try FakePanoptes(subjectLimit: 250)
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let login = try CLI.run(["zooniverse", "login"], environment: environment(fake))
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout.contains("as pi (id 7) with OAuth client test-client"))
        #expect(login.stdout.contains("subjects uploaded: 0 of 250"))

        var wrong = environment(fake)
        wrong["PANOPTES_CLIENT_SECRET"] = "not-the-secret"
        let refused = try CLI.run(["zooniverse", "login"], environment: wrong)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("HTTP 401") && refused.stderr.contains("invalid_client"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("not-the-secret"))

        let none = try CLI.run(["zooniverse", "login"], environment: ["PANOPTES_CLIENT_ID": "", "PANOPTES_CLIENT_SECRET": "",
                                                                        "PANOPTES_USERNAME": "", "PANOPTES_TOKEN": ""])
        #expect(none.status != 0)
        #expect(none.stderr.contains("no Zooniverse credentials"))

        let sink = dir + "/sink"
        try SyntheticSubjects.make(root: sink, sets: 1, perSet: 130)
        let push = try CLI.run(["push", sink, "--project", "43", "--state", dir + "/s.sqlite", "--requests-per-second", "1000"],
                               environment: environment(fake))
        #expect(push.status == 2, "held subjects: exit 2; \(push.stderr)")
        #expect(push.stdout.hasPrefix("100 subjects pushed"), "\(push.stdout)")
        #expect(push.stdout.contains("held 30: data rights: the project is not approved yet"))
        let status = try CLI.run(["zooniverse", "status", "--project", FakePanoptes.slug, "--state", dir + "/s.sqlite"],
                                 environment: environment(fake))
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("account pi: 100 of 250 subjects uploaded, 150 left"), "\(status.stdout)")
        #expect(status.stdout.contains("synthetic-1: 100 subjects, workflow 47 0% (incomplete)"), "\(status.stdout)")
        #expect(status.stdout.contains("local state"))
        #expect(status.stdout.contains("30 held") && status.stdout.contains("100 linked"), "\(status.stdout)")
    }

    @Test(.enabled(if: Paths.hasSharedData, Comment(rawValue: Paths.missingDataMessage)))
    func batchThenPushRealAlerts() throws {
        let fake = try FakePanoptes()
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/filters", withIntermediateDirectories: true)
        try """
            name: bright
            expression: magnitude < 15
            destination: {project: "43", workflow: "47", subject_set: "{filter}-{date}-{n}"}
            flipbook: {kind: triplet, stretch: asinh, size: 128}
            """.write(toFile: dir + "/filters/bright.yaml", atomically: true, encoding: .utf8)
        let state = dir + "/citsci.sqlite"
        let batch = try CLI.run(["batch", "--filters", dir + "/filters", "--sink", dir + "/sink", "--state", state,
                                 "--dead-letter-dir", dir + "/dead", CLI.data("ztf-alerts")])
        #expect(batch.status == 0, "\(batch.stderr)")
        #expect(batch.stdout.hasPrefix("36 alerts: 14 new subjects"), "\(batch.stdout)")
        let subjects = try #require(Int(batch.stdout.split(separator: " ")[2]))
        #expect(subjects > 0 && subjects < 36)
        // The same files again: no new subject.
        let again = try CLI.run(["batch", "--filters", dir + "/filters", "--sink", dir + "/sink", "--state", state,
                                 "--dead-letter-dir", dir + "/dead", CLI.data("ztf-alerts")])
        #expect(again.stdout.hasPrefix("36 alerts: 0 new subjects"), "\(again.stdout)")

        let push = try CLI.run(["push", dir + "/sink", "--project", "43", "--state", state, "--include-open",
                                "--requests-per-second", "1000"], environment: environment(fake))
        #expect(push.status == 0, "\(push.stdout)\n\(push.stderr)")
        #expect(push.stdout.hasPrefix("\(subjects) subjects pushed"), "\(push.stdout)")
        let remote = try fake.subjects().values.filter { (($0["metadata"] as? [String: Any])?["#filter"] as? String) == "bright" }
        #expect(remote.count == subjects)
        for s in remote {
            let meta = try #require(s["metadata"] as? [String: Any])
            #expect(meta["#survey"] as? String == "ztf")
            #expect((meta["#render"] as? String)?.contains("asinh 128px") == true)
            #expect(meta["#priority"] == nil)
            // Every frame on the server is the rendered file, byte for byte.
            let locations = (s["locations"] as? [[String: String]] ?? []).compactMap(\.values.first)
            #expect(locations.count == 4)
            let alert = try #require(meta["#alert_id"] as? String)
            let folder = try #require(SubjectSetFolder.list(dir + "/sink").first { FileManager.default.fileExists(atPath: $0 + "/\(alert)_1.png") })
            for (url, name) in zip(locations, ["\(alert)_1.png", "\(alert)_2.png", "\(alert)_3.png", "\(alert)_lightcurve.json"]) {
                let served = try HTTPClient().get(String(url.split(separator: "?")[0]))
                let local = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
                #expect(served.status == 200 && Data(served.body) == local, "\(name)")
            }
        }
    }

    /// The official command-line client uploads a citsci set folder with the command line
    /// docs/ZOONIVERSE.md gives: one `-f` per frame column, the manifest by its path.
    @Test func panoptesCLIUploadsACitsciManifestWithItsFrameColumns() throws {
        let fake = try FakePanoptes(clientID: "ce310d45f951de68c4cc8ef46ca38cc0a008f607a2026680295757bfef99f43c")  // the SDK's own
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = try SyntheticSubjects.make(root: dir + "/sink", sets: 1, perSet: 12)
        let folder = try #require(SubjectSetFolder.list(dir + "/sink").first)
        let set = try SubjectSetFolder.read(folder: folder)
        try FileManager.default.createDirectory(atPath: dir + "/home/.panoptes", withIntermediateDirectories: true)
        try "endpoint: \(fake.endpoint)\nusername: \(FakePanoptes.login)\npassword: \(FakePanoptes.password)\nadmin: false\n"
            .write(toFile: dir + "/home/.panoptes/config.yml", atomically: true, encoding: .utf8)
        let cli = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map { "\($0)/panoptes" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        let panoptes = try #require(cli, "panoptes-cli is missing: run scripts/bootstrap")
        func run(_ args: [String]) throws -> String {
            try runCommand("/usr/bin/env", ["HOME=\(dir)/home", panoptes] + args)
        }
        let created = try run(["subject-set", "create", FakePanoptes.project, set.name])
        let setID = try #require(created.split(separator: " ").first.map(String.init), "\(created)")
        let columns = (0..<set.frameColumns).flatMap { ["-f", String(5 + $0)] }
        _ = try run(["subject-set", "upload-subjects"] + columns + [setID, folder + "/manifest.csv"])
        let subjects = try fake.subjects().values
        #expect(subjects.count == ids.count)
        #expect(subjects.allSatisfy { ($0["locations"] as? [Any])?.count == set.frameColumns }, "every frame column uploaded")
        #expect(try fake.blobs().values.allSatisfy { $0["sha256"] != nil }, "every frame's bytes arrived")
    }
}
