import AlertModel
import Filters
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

/// Real alerts through filters into the folder sink, and the manifests read back.
@Suite(needsData) struct SubjectBatcherTests {
    struct Fixture {
        let dir: String
        let state: StateStore
        let sink: FolderSink
        let batcher: SubjectBatcher
        init(maxSetSize: Int = 1000, maxSetAge: Double = 86_400) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-batch-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            state = try StateStore(path: dir + "/state.sqlite")
            sink = try FolderSink(root: dir + "/sink", state: state, options: .init(maxSetSize: maxSetSize, maxSetAge: maxSetAge))
            batcher = SubjectBatcher(sink: sink, state: state)
        }
        func remove() { try? FileManager.default.removeItem(atPath: dir) }
    }

    func filter(_ name: String, _ expression: String, workflow: String = "47", extra: String = "") throws -> FilterFile {
        try FilterFile(text: """
            name: \(name)
            expression: \(expression)
            destination: {project: "43", workflow: "\(workflow)", subject_set: "{filter}-{date}-{n}"}
            flipbook: {kind: triplet, size: 64}
            \(extra)
            """, path: name + ".yaml")
    }

    func ztfAlerts() throws -> [Alert] {
        try Paths.avroFiles("ztf-alerts").flatMap { try AlertDecoder().decode(try Paths.bytes($0)) }
    }

    @Test func oneSubjectPerDestinationListingEveryFilterAndNoRepeats() throws {
        let f = try Fixture()
        defer { f.remove() }
        let bright = try filter("bright", "magnitude < 15")
        let all = try filter("all", "ra IS NOT NULL")
        let other = try filter("variables", "magnitude < 15", workflow: "48")
        let filters = [all, bright, other]
        let alerts = try ztfAlerts()
        let day = Date(timeIntervalSince1970: 1_790_000_000)
        for a in alerts { try f.batcher.add(a, matches: filters.filter { $0.rule.matches(a) }, now: day) }
        let brightCount = alerts.filter { bright.rule.matches($0) }.count
        #expect(brightCount == 14)
        // Workflow 47: every alert once, in the set of its first filter by name ("all"), listing both filters.
        let sets = SubjectSetFolder.list(f.dir + "/sink").map { ($0 as NSString).lastPathComponent }
        #expect(sets == ["all-2026-09-21-1", "variables-2026-09-21-1"])
        let main = try Manifest.read(f.dir + "/sink/all-2026-09-21-1/manifest.csv")
        #expect(main.count == 36)
        #expect(main.filter { $0.value("#filter") == "all;bright" }.count == 14)
        #expect(Set(main.map(\.externalID)) == Set(alerts.map { String($0.alertId) }))
        let second = try Manifest.read(f.dir + "/sink/variables-2026-09-21-1/manifest.csv")
        #expect(second.count == 14)
        for row in main {
            #expect(row.frames.count == 4, "three stamps and the light curve")
            #expect(row.value("#alert_id") == row.externalID)
            #expect(row.value("#filter_version")?.contains("all=\(all.version)") == true)
            #expect(row.value("#render") == "zscale linear 64px grey nearest")
            #expect(row.value("#objectId")?.hasPrefix("ZTF") == true)
            #expect(row.value("#priority") == nil)
        }
        // The same alerts again (ZTF sent some twice): no new subject anywhere.
        for a in alerts {
            let r = try f.batcher.add(a, matches: filters.filter { $0.rule.matches(a) }, now: day.addingTimeInterval(60))
            #expect(r.sets.isEmpty && r.repeats >= 1)
        }
        #expect(try Manifest.read(f.dir + "/sink/all-2026-09-21-1/manifest.csv").count == 36)
        #expect(try f.state.outcome(of: alerts[0].alertId, survey: .ztf)?.outcome == .matched)
    }

    @Test func setsCloseBySizeAndAgeAndLimitsRefuseTheRest() throws {
        let f = try Fixture(maxSetSize: 10, maxSetAge: 3_600)
        defer { f.remove() }
        let all = try filter("all", "ra IS NOT NULL", extra: "limits: {per_hour: 25}")
        let alerts = try ztfAlerts()
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        var limited = 0
        for (i, a) in alerts.enumerated() {
            // 30 alerts in the first hour, the last 6 two hours later.
            let now = i < 30 ? t0.addingTimeInterval(Double(i)) : t0.addingTimeInterval(7_200 + Double(i))
            let r = try f.batcher.add(a, matches: [all], now: now)
            if !r.limited.isEmpty {
                limited += 1
                #expect(try f.state.outcome(of: a.alertId, survey: .ztf)?.outcome == .refused)
            }
        }
        #expect(limited == 5, "per_hour 25: alerts 26 to 30 of the first hour refused")
        let sets = SubjectSetFolder.list(f.dir + "/sink")
        let sizes = try sets.map { try Manifest.read($0 + "/manifest.csv").count }
        #expect(sizes == [10, 10, 5, 6], "\(sets)")
        // The 25-subject set closed by age when the later alerts came; the last one is still open.
        let closed = try sets.map { try SubjectSetFolder.read(folder: $0).closedAt != nil }
        #expect(closed == [true, true, true, false])
        #expect(try f.sink.closeDue(now: t0.addingTimeInterval(20_000)).count == 1)
    }

    /// What the sink reads per alert stays bounded however long an object's history or busy an hour.
    @Test func previousSubjectsAndQuotaCountsAreBounded() throws {
        let f = try Fixture(maxSetSize: 10_000)
        defer { f.remove() }
        let destination = SubjectDestination(project: "43", workflow: "47")
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        for i in 1...25 {
            let draft = SubjectDraft(externalID: String(i), objectID: "ZTF26aaaaaaa", frames: [], metadata: [])
            try f.sink.add(draft, filters: ["variables"], destination: destination, pattern: "{filter}", frameColumns: 1,
                           now: t0.addingTimeInterval(Double(i)))
        }
        let other = SubjectDestination(project: "43", workflow: "48")
        try f.sink.add(SubjectDraft(externalID: "26", objectID: "ZTF26aaaaaaa", frames: [], metadata: []), filters: ["variables"],
                       destination: other, pattern: "{filter}", frameColumns: 1, now: t0.addingTimeInterval(26))
        try f.sink.add(SubjectDraft(externalID: "27", objectID: "ZTF26aaaaaab", frames: [], metadata: []), filters: ["variables"],
                       destination: destination, pattern: "{filter}", frameColumns: 1, now: t0.addingTimeInterval(27))
        let objects = [("ZTF26aaaaaaa", destination), ("ZTF26aaaaaaa", other), ("ZTF26aaaaaab", destination), ("ZTF26aaaaaac", destination)]
        let history = try f.sink.history(alerts: [("25", destination), ("25", other), ("26", other)], objects: objects)
        #expect(history.previousSubjects(object: "ZTF26aaaaaaa", destination: destination) == (6...25).map(String.init),
                "the latest 20, oldest first")
        #expect(history.previousSubjects(object: "ZTF26aaaaaaa", destination: other) == ["26"], "each destination its own")
        #expect(history.previousSubjects(object: "ZTF26aaaaaab", destination: destination) == ["27"])
        #expect(history.previousSubjects(object: "ZTF26aaaaaac", destination: destination) == [])
        #expect(history.contains("25", destination: destination) && !history.contains("25", destination: other)
                && history.contains("26", destination: other) && !history.contains("26", destination: destination))
        #expect(try f.sink.history(alerts: [], objects: objects, limit: 3).previousSubjects(object: "ZTF26aaaaaaa", destination: destination)
                == ["23", "24", "25"])
        // Subjects recorded in one batch share their time: the latest are then the highest ids.
        _ = try f.sink.add((28...30).map { FolderSink.NewSubject(SubjectDraft(externalID: String($0), objectID: "ZTF26aaaaaab", frames: [], metadata: []),
                                                              filters: ["variables"], destination: destination, pattern: "{filter}", frameColumns: 1) },
                       now: t0.addingTimeInterval(28))
        #expect(try f.sink.history(alerts: [], objects: objects, limit: 3).previousSubjects(object: "ZTF26aaaaaab", destination: destination)
                == ["28", "29", "30"])
        let now = t0.addingTimeInterval(100)
        #expect(try f.sink.count(filter: "variables", since: 3_600, now: now) == 30)
        #expect(try f.sink.count(filter: "variables", since: 3_600, atMost: 10, now: now) == 10)
        #expect(try f.sink.count(filter: "variables", since: 90, now: now) == 20, "subjects 11 to 30 in the last 90 s")
        #expect(try f.sink.count(filter: "variable", since: 3_600, now: now) == 0, "a whole name, not a prefix")
    }

    /// A set pattern without `{n}` still names each set apart (it looped for ever on a taken name:
    /// a second destination with the same pattern, or the set after a full one).
    @Test func aPatternWithoutASequenceNamesEachSetApart() throws {
        let f = try Fixture(maxSetSize: 2)
        defer { f.remove() }
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        var names: [String?] = []
        for (i, workflow) in ["47", "47", "47", "48"].enumerated() {
            names.append(try f.sink.add(SubjectDraft(externalID: String(i), objectID: "ZTF26aaaaaaa", frames: [], metadata: []), filters: ["bright"],
                                        destination: SubjectDestination(project: "43", workflow: workflow), pattern: "{filter}",
                                        frameColumns: 1, now: t0.addingTimeInterval(Double(i))))
        }
        #expect(names == ["bright", "bright", "bright-2", "bright-3"])
        #expect(FolderSink.name("{filter}-{date}", filter: "b", date: "2026-12-01", n: 1) == "b-2026-12-01")
        #expect(FolderSink.name("{filter}-{date}", filter: "b", date: "2026-12-01", n: 4) == "b-2026-12-01-4")
        #expect(FolderSink.name("{filter}-{n}", filter: "b", date: "2026-12-01", n: 4) == "b-4")
    }

    /// Many subjects in one call (the pipeline's group commit): sets fill to their size and close as
    /// they would one subject at a time, an alert twice in the batch is one subject, one left pending
    /// by a crash is finished in its set, and the store is written in a few transactions, not per subject.
    @Test func aBatchFillsSetsAsOneAtATimeWouldInAFewWrites() throws {
        let f = try Fixture(maxSetSize: 10)
        defer { f.remove() }
        let destination = SubjectDestination(project: "43", workflow: "47")
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        func subject(_ id: Int, filter: String = "bright", columns: Int = 1) -> FolderSink.NewSubject {
            .init(SubjectDraft(externalID: String(id), objectID: "o\(id)", frames: [(name: "\(id)_1.png", bytes: [0x89, 0x50])],
                               metadata: [(key: "#alert_id", value: String(id))]),
                  filters: [filter], destination: destination, pattern: "{filter}-{n}", frameColumns: columns)
        }
        // One left pending in bright-1 by a crash, before the batch.
        #expect(try f.sink.add([subject(100)], now: t0) == ["bright-1"])
        try f.state.database.execute("UPDATE sink_subjects SET pending = 1 WHERE external_id = '100'")
        try f.state.database.execute("UPDATE sink_sets SET size = size - 1 WHERE name = 'bright-1'")

        let changesBefore = try f.state.database.execute("SELECT total_changes()")[0][0].integer ?? 0
        var batch = (1...24).map { subject($0) }
        batch.insert(subject(7), at: 10)  // the same alert twice
        batch.append(subject(100))
        batch += [subject(200, filter: "faint"), subject(201, filter: "wide", columns: 2)]
        let sets = try f.sink.add(batch, now: t0.addingTimeInterval(1))
        #expect(sets.count == batch.count && sets[10] == nil, "the second 7 is a repeat")
        #expect(sets[25] == "bright-1", "the crash's subject is finished where it was recorded")
        #expect(Array(sets[0..<9]) == Array(repeating: "bright-1", count: 9), "bright-1 holds 100 and the first nine")
        #expect(sets.compactMap { $0 }.filter { $0 == "bright-2" }.count == 10 && sets.compactMap { $0 }.filter { $0 == "bright-3" }.count == 5)
        #expect(Array(sets.suffix(2)) == ["faint-1", "wide-1"])
        let sizes = try f.state.database.execute("SELECT name, size, closed_at IS NOT NULL FROM sink_sets ORDER BY name")
            .map { "\($0[0].text!)=\($0[1].integer!)\($0[2].integer! == 1 ? " closed" : "")" }
        #expect(sizes == ["bright-1=10 closed", "bright-2=10 closed", "bright-3=5", "faint-1=1", "wide-1=1"])
        for set in ["bright-1", "bright-2", "bright-3"] {
            let rows = try Manifest.read(f.dir + "/sink/\(set)/manifest.csv").map(\.externalID)
            #expect(rows.count == Set(rows).count && rows.count == (set == "bright-3" ? 5 : 10), "\(set): \(rows)")
        }
        // Pending rows in one transaction, confirmations in another: 28 subjects, 2 × 28 rows changed
        // plus the sets' counts and the sets opened and closed, in a handful of commits.
        let changed = (try f.state.database.execute("SELECT total_changes()")[0][0].integer ?? 0) - changesBefore
        #expect(changed < 80, "\(changed) rows changed")

        // A row torn by a crash (its subject never confirmed) is cut off before the next rows.
        let path = f.dir + "/sink/bright-3/manifest.csv"
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("999,999_1.p".utf8))
        try handle.close()
        #expect(try f.sink.add([subject(25), subject(26)], now: t0.addingTimeInterval(2)) == ["bright-3", "bright-3"])
        #expect(try Manifest.read(path).map(\.externalID).suffix(3) == ["24", "25", "26"])
        #expect(try !String(contentsOfFile: path, encoding: .utf8).contains("999"))
    }

    /// A crash between recording a subject and confirming it (kill -9): the alert, seen again, is
    /// finished in the set it was recorded in, its row written once; if that set closes first, the
    /// row leaves it and the alert goes to the next set. Every alert in exactly one manifest, once.
    @Test func aSubjectLeftPendingByACrashEndsInExactlyOneSet() throws {
        let f = try Fixture(maxSetSize: 3)
        defer { f.remove() }
        let destination = SubjectDestination(project: "43", workflow: "47")
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        func draft(_ id: Int) -> SubjectDraft {
            SubjectDraft(externalID: String(id), objectID: "o\(id)", frames: [(name: "\(id)_1.png", bytes: [0x89, 0x50])],
                         metadata: [(key: "#alert_id", value: String(id))])
        }
        func add(_ id: Int) throws -> String? {
            try f.sink.add(draft(id), filters: ["bright"], destination: destination, pattern: "{filter}-{n}", frameColumns: 1,
                           now: t0.addingTimeInterval(Double(id)))
        }
        /// As a kill -9 leaves it: recorded, written (or not), never confirmed.
        func unconfirm(_ id: Int, keepRow: Bool) throws {
            try f.state.database.execute("UPDATE sink_subjects SET pending = 1 WHERE external_id = ?", [.text(String(id))])
            try f.state.database.execute("UPDATE sink_sets SET size = size - 1 WHERE name = (SELECT set_name FROM sink_subjects WHERE external_id = ?)",
                                         [.text(String(id))])
            if !keepRow {
                let path = f.dir + "/sink/bright-1/manifest.csv"
                var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                lines.removeAll { $0.hasPrefix(String(id) + ",") }
                try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            }
        }
        func manifests() throws -> [String: [String]] {
            var out: [String: [String]] = [:]
            for folder in SubjectSetFolder.list(f.dir + "/sink") {
                let text = try String(contentsOfFile: folder + "/manifest.csv", encoding: .utf8)
                for line in text.split(separator: "\n").dropFirst() {
                    out[String(line.prefix { $0 != "," }), default: []].append((folder as NSString).lastPathComponent)
                }
            }
            return out
        }

        #expect(try add(1) == "bright-1")
        try unconfirm(1, keepRow: true)  // killed after the manifest row
        #expect(try !f.sink.history(alerts: [("1", destination)], objects: []).contains("1", destination: destination),
                "unfinished: not a subject yet")
        #expect(try add(1) == "bright-1", "finished where it was recorded")
        #expect(try add(1) == nil, "then a repeat")
        #expect(try add(2) == "bright-1")
        try unconfirm(2, keepRow: false)  // killed before the manifest row
        #expect(try add(2) == "bright-1")
        #expect(try manifests() == ["1": ["bright-1"], "2": ["bright-1"]])

        // 3 is left pending; the set then fills and closes without it: its row leaves, and 3 goes on to the next set.
        #expect(try add(3) == "bright-1")
        try unconfirm(3, keepRow: true)
        #expect(try add(4) == "bright-1")
        #expect(try f.sink.closeDue(now: t0.addingTimeInterval(10)) == ["bright-1"])
        #expect(try manifests()["3"] == nil, "a closed set lists only confirmed subjects")
        #expect(try add(3) == "bright-2")
        #expect(try manifests() == ["1": ["bright-1"], "2": ["bright-1"], "4": ["bright-1"], "3": ["bright-2"]])
        #expect(try Manifest.read(f.dir + "/sink/bright-1/manifest.csv").map(\.externalID) == ["1", "2", "4"])
        #expect(try f.state.database.execute("SELECT name, size FROM sink_sets ORDER BY name").map { "\($0[0].text!)=\($0[1].integer!)" }
                == ["bright-1=3", "bright-2=1"])

        // 6 left pending in bright-2, which 7 and 8 then fill: 6 comes back to a full set and goes on
        // to the next, so no set holds more than its size.
        #expect(try add(5) == "bright-2")
        #expect(try add(6) == "bright-2")
        try f.state.database.execute("UPDATE sink_subjects SET pending = 1 WHERE external_id = '6'")
        try f.state.database.execute("UPDATE sink_sets SET size = size - 1 WHERE name = 'bright-2'")
        #expect(try add(7) == "bright-2")
        #expect(try add(6) == "bright-3")
        #expect(try f.state.database.execute("SELECT name, size FROM sink_sets ORDER BY name").map { "\($0[0].text!)=\($0[1].integer!)" }
                == ["bright-1=3", "bright-2=3", "bright-3=1"])
        #expect(try manifests().values.allSatisfy { $0.count == 1 })
        #expect(try Manifest.read(f.dir + "/sink/bright-2/manifest.csv").map(\.externalID) == ["3", "5", "7"])

        // What a caller read before the crash only routes: 6 left pending again is finished in its
        // set, once, though the history handed in says nothing was recorded of it.
        try unconfirm(6, keepRow: true)
        let stale = FolderSink.History(subjects: [:], previous: [:])
        let again = FolderSink.NewSubject(draft(6), filters: ["bright"], destination: destination, pattern: "{filter}-{n}", frameColumns: 1)
        #expect(try f.sink.add([again], history: stale, now: t0.addingTimeInterval(9)) == ["bright-3"])
        #expect(try Manifest.read(f.dir + "/sink/bright-3/manifest.csv").map(\.externalID) == ["6"])
        #expect(try f.sink.add([again], history: stale, now: t0.addingTimeInterval(10)) == [nil], "then a repeat")
    }

    @Test func lightCurveIsZooniverseScatterPlotOnePerBand() throws {
        // A Fink-distributed ZTF alert carries a history of earlier detections in several bands.
        let alerts = try Paths.avroFiles("ztf-fink-distributed").flatMap { try AlertDecoder().decode(try Paths.bytes($0)) }
        let alert = try #require(alerts.max { $0.history.filter(\.isDetection).count < $1.history.filter(\.isDetection).count })
        let json = try #require(SubjectContent.lightCurve(alert))
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        let data = try #require(doc["data"] as? [[String: Any]])
        let bands = Set(([alert] .map(\.band) + alert.history.filter(\.isDetection).map(\.band)).compactMap { $0 })
        #expect(data.count == bands.count)
        var points = 0
        for series in data {
            let options = try #require(series["seriesOptions"] as? [String: Any])
            #expect(options["label"] is String && options["color"] is String)
            let xs = try #require(series["seriesData"] as? [[String: Double]]).map { $0["x"]! }
            #expect(xs == xs.sorted(), "in time order")
            points += xs.count
        }
        #expect(points == alert.history.filter { $0.isDetection && ($0.flux ?? $0.magnitude) != nil }.count + 1)
    }
}
