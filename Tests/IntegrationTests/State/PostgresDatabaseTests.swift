import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

/// The state store on PostgreSQL (a real server from Debian's packages, started per test): what
/// several instances share must behave as on SQLite, and two stores on one database must see and
/// lock each other.
@Suite(.enabled(if: PostgresServer.isInstalled, Comment(rawValue: PostgresServer.missingMessage)))
struct PostgresDatabaseTests {
    @Test func placeholdersBecomeNumberedOutsideQuotedText() {
        #expect(PostgresDatabase.placeholders("SELECT ? , ?, '?' FROM t WHERE a = ?") == "SELECT $1 , $2, '?' FROM t WHERE a = $3")
        #expect(PostgresDatabase.placeholders("WHERE a = ?1 AND b = ?2 LIMIT ?3") == "WHERE a = $1 AND b = $2 LIMIT $3")
        #expect(PostgresDatabase.placeholders("x = 'it''s ?' AND y = ?") == "x = 'it''s ?' AND y = $1")
        #expect(PostgresDatabase.postgresTypes("a INTEGER NOT NULL, b REAL, c BLOB, integer_count INTEGER")
                == "a BIGINT NOT NULL, b DOUBLE PRECISION, c BYTEA, integer_count BIGINT")
        #expect(PostgresDatabase.redacted("postgresql://citsci:s3cret@db:5432/citsci") == "postgresql://citsci:***@db:5432/citsci")
    }

    @Test func theSinkLooksUpABatchOfSubjectsAsOneAtATime() throws {
        let server = try PostgresServer()
        try checkSinkBatchLookup(try StateStore(path: try server.newDatabase()))
    }

    @Test func theWindowOfRecentAlertsKeepsEachAlertOnce() throws {
        let server = try PostgresServer()
        try checkRecentAlertsWindow(try StateStore(path: try server.newDatabase()))
    }

    @Test func twoStoresOnOneDatabaseMigrateOnceAndShareWhatTheyRecord() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        // Two instances starting together: the migrations run once.
        let opened = Mutex<[StateStore]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            do { let s = try StateStore(path: url); opened.withLock { $0.append(s) } } catch { Issue.record("\(error)") }
        }
        let stores = opened.withLock { $0 }
        try #require(stores.count == 2)
        let (a, b) = (stores[0], stores[1])
        #expect(try a.schemaVersion == StateStore.migrations.count && b.schemaVersion == StateStore.migrations.count)
        #expect(a.database.location == url)

        // An alert recorded by one is a repeat for the other.
        let alert = try AlertSimulator(seed: 3).alert(0)
        #expect(try a.record(alert, outcome: .matched, filters: ["bright", "young"]))
        #expect(try b.record(alert, outcome: .filteredOut) == false)
        let seen = try #require(try b.outcome(of: alert.alertId, survey: alert.survey))
        #expect(seen.outcome == .matched && seen.filters == ["bright", "young"])

        // Bytes, 64-bit ids and doubles come back as they went in.
        try a.remember(alert, perObject: 2, maxAgeDays: 3650)
        let stored = try #require(try b.recentCutouts(object: alert.objectId!, survey: alert.survey).first)
        #expect(stored.alertId == alert.alertId && stored.mjd == alert.mjd)
        #expect(stored.difference == alert.cutouts.difference?.data && stored.difference?.isEmpty == false)
        let big = Int64.max - 7, tiny = 1.0e-300
        try a.database.execute("CREATE TABLE numbers (i BIGINT, r DOUBLE PRECISION)")
        try a.database.execute("INSERT INTO numbers VALUES (?, ?), (?, ?)", [.integer(big), .real(tiny), .null, .real(.nan)])
        let numbers = try b.database.execute("SELECT i, r FROM numbers ORDER BY i")
        #expect(numbers[0] == [.integer(big), .real(tiny)])
        #expect(numbers[1][0] == .null && numbers[1][1].real?.isNaN == true)

        // Classifications: stored once, the pull cursor only moves forward.
        let c = Classification(id: 11, user: "user:ada", userID: "ada", workflowID: "47", workflowVersion: "3.1",
                               createdAt: Date(timeIntervalSince1970: 1_700_000_000), subjectIDs: ["9"],
                               annotations: [.init(task: "T0", value: .string("Real"))])
        #expect(try a.store([c], project: "43", cursor: ("47", 11)) == 1)
        #expect(try b.store([c], project: "43", cursor: ("47", 5)) == 0)
        #expect(try b.pullCursor(project: "43", workflow: "47") == 11)
        #expect(try b.classifications().map(\.user) == ["user:ada"])

        // A failed transaction leaves nothing; an error names the statement and SQLSTATE.
        do {
            try a.database.transaction { tx in
                try tx.execute("INSERT INTO numbers VALUES (1, 1)")
                try tx.execute("SELECT * FROM nowhere")
            }
            Issue.record("no error")
        } catch let error as SQLError {
            #expect(error.engine == "PostgreSQL" && error.code == "42P01" && error.sql == "SELECT * FROM nowhere")
            #expect(error.message.contains("relation \"nowhere\" does not exist"))
        }
        #expect(try b.database.execute("SELECT COUNT(*) FROM numbers WHERE i = 1")[0][0].integer == 0)
    }

    @Test func aLockHeldByOneInstanceIsHeldForAll() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let a = try StateStore(path: url), b = try StateStore(path: url)
        let inside = try a.exclusively("zooniverse-push:43", wait: false) {
            try b.exclusively("zooniverse-push:43", wait: false) { "b ran" } ?? "b skipped"
        }
        #expect(inside == "b skipped")
        #expect(try b.exclusively("zooniverse-push:43", wait: false) { "b ran" } == "b ran", "released when a is done")
        // A crashed holder's lock goes with its connection.
        var holder: StateStore? = try StateStore(path: url)
        #expect(try holder!.database.lock("classifications", wait: false))
        #expect(try a.exclusively("classifications", wait: false) { 1 } == nil)
        holder = nil
        #expect(try a.exclusively("classifications", wait: true) { 1 } == 1)
    }

    /// No lock shared by everything: while one transaction is open, another on other rows commits,
    /// from another instance and from another stage of the same instance (a pool of connections).
    @Test func transactionsOnOtherRowsRunSideBySide() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let a = try StateStore(path: url), b = try StateStore(path: url)
        let alerts = try (0..<3).map { try AlertSimulator(seed: 11).alert($0) }
        for (other, name) in [(b, "another instance"), (a, "the same instance")] {
            let committed = DispatchSemaphore(value: 0)
            let opened = DispatchSemaphore(value: 0)
            let waited = Mutex(false)
            DispatchQueue.global().async {
                do {
                    try a.database.transaction { tx in
                        try tx.execute("INSERT INTO alerts (survey, alert_id, outcome, recorded_at) VALUES ('ztf', ?, 'matched', 0)",
                                       [.integer(Int64.random(in: 1...Int64.max))])
                        opened.signal()
                        // Held open until the other transaction is done (or ten seconds).
                        waited.withLock { $0 = committed.wait(timeout: .now() + 10) == .success }
                    }
                } catch { Issue.record("\(error)") }
                opened.signal()
            }
            opened.wait()
            try other.record(other === a ? alerts[1] : alerts[0], outcome: .matched)
            _ = try b.database.transaction { tx in try tx.execute("SELECT COUNT(*) FROM alerts") }
            committed.signal()
            opened.wait()
            #expect(waited.withLock { $0 }, "\(name) committed while the first transaction was open")
        }
        #expect((a.database as! PostgresDatabase).openConnections == 2, "one per stage at once, kept for reuse")
    }

    /// Two instances reading a value and writing it back changed, at once: one is run again, and
    /// neither change is lost (what the global lock gave, without making everyone wait).
    @Test func conflictingTransactionsAreRunAgainNotLost() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let stores = [try StateStore(path: url), try StateStore(path: url)]
        try stores[0].database.execute("CREATE TABLE counter (n BIGINT NOT NULL)")
        try stores[0].database.execute("INSERT INTO counter VALUES (0)")
        let bothRead = DispatchGroup()
        bothRead.enter(); bothRead.enter()
        let runs = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            var first = true
            do {
                try stores[i].database.transaction { tx in
                    runs.withLock { $0 += 1 }
                    let n = try tx.execute("SELECT n FROM counter")[0][0].integer ?? -1
                    if first { first = false; bothRead.leave(); _ = bothRead.wait(timeout: .now() + 10) }
                    try tx.execute("UPDATE counter SET n = ?", [.integer(n + 1)])
                }
            } catch { Issue.record("\(error)") }
        }
        #expect(try stores[0].database.execute("SELECT n FROM counter")[0][0].integer == 2)
        #expect(runs.withLock { $0 } == 3, "the loser ran once more")
    }

    /// Two instances filling sets at once, on one filter and on two: every subject in exactly one
    /// manifest, no set over its size, each set's size in the store equal to its manifest's rows,
    /// no name given twice.
    @Test func twoInstancesFillSetsSideBySide() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-sets-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sinks = try (0..<2).map { _ in try FolderSink(root: root, state: StateStore(path: url), options: .init(maxSetSize: 7)) }
        let destination = SubjectDestination(project: "43", workflow: "47")
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            for n in 0..<60 {
                let id = "\(i)-\(n)"
                let draft = SubjectDraft(externalID: id, objectID: "o\(n)", frames: [(name: id + ".png", bytes: [0x89, 0x50])],
                                         metadata: [(key: "#alert_id", value: id)])
                // Instance 0 on one filter; instance 1 on it and on another in turn.
                let filter = i == 1 && n % 2 == 1 ? "other" : "shared"
                do { try sinks[i].add(draft, filters: [filter], destination: destination, pattern: "{filter}-{n}", frameColumns: 1) } catch {
                    Issue.record("\(error)")
                }
            }
        }
        try sinks[0].closeDue(now: Date().addingTimeInterval(2 * 86_400))
        var seen: [String: Int] = [:]
        let sets = try FileManager.default.contentsOfDirectory(atPath: root)
        for name in sets {
            let rows = try Manifest.read(root + "/" + name + "/" + Manifest.fileName)
            for row in rows { seen[row.externalID, default: 0] += 1 }
            #expect(rows.count <= 7, "\(name) holds \(rows.count)")
            let size = try sinks[0].state.database.execute("SELECT size FROM sink_sets WHERE name = ?", [.text(name)]).first?.first
            #expect(size == .integer(Int64(rows.count)), "\(name): store says \(String(describing: size)), manifest \(rows.count)")
        }
        #expect(seen.count == 120 && seen.values.allSatisfy { $0 == 1 }, "\(seen.filter { $0.value != 1 })")
        // Each lane fills its sets in turn: every set full but the last of each (filter, lane).
        let rows = try sinks[0].state.database.execute("SELECT filter, lane, size, closed_at FROM sink_sets ORDER BY filter, lane, opened_at")
        let byLane = Dictionary(grouping: rows) { "\($0[0].text ?? ""):\($0[1].integer ?? -1)" }
        for (lane, sets) in byLane {
            #expect(sets.dropLast().allSatisfy { $0[2] == .integer(7) }, "\(lane): \(sets)")
        }
        let sharedLanes = byLane.keys.filter { $0.hasPrefix("shared:") }.count
        #expect(Set(sets).count == sets.count && sets.filter { $0.hasPrefix("other-") }.count == 5)
        #expect(sets.filter { $0.hasPrefix("shared-") }.count == 13 + sharedLanes - 1, "\(sharedLanes) lanes of shared")
    }

    /// A batch whose subjects go to more filters' sets than the pool has connections finishes (each
    /// held lock keeps a connection of its own).
    @Test func aBatchForManyFiltersFinishes() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-many-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sink = try FolderSink(root: root, state: StateStore(path: url))
        let destination = SubjectDestination(project: "43", workflow: "47")
        let subjects = (0..<30).map { n in
            FolderSink.NewSubject(SubjectDraft(externalID: "\(n)", objectID: "o\(n)", frames: [(name: "\(n).png", bytes: [0x89, 0x50])],
                                               metadata: [(key: "#alert_id", value: "\(n)")]),
                                  filters: ["filter\(n)"], destination: destination, pattern: "{filter}-{n}", frameColumns: 1)
        }
        let done = DispatchSemaphore(value: 0)
        let sets = Mutex<[String?]>([])
        DispatchQueue.global().async {
            do { let added = try sink.add(subjects); sets.withLock { $0 = added } } catch { Issue.record("\(error)") }
            done.signal()
        }
        try #require(done.wait(timeout: .now() + 60) == .success, "30 filters' sets in one batch did not finish")
        #expect(sets.withLock { $0 } == (0..<30).map { "filter\($0)-1" })
    }

    /// An instance adding to a filter's sets does not wait for another in the middle of adding to
    /// them: it fills a set in a lane of its own (before lanes it waited for the other's lock).
    @Test func aSecondInstanceFillsItsOwnLaneInsteadOfWaiting() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-lanes-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (busy, other) = (try StateStore(path: url), try FolderSink(root: root, state: StateStore(path: url), options: .init(maxSetSize: 7)))
        let destination = SubjectDestination(project: "43", workflow: "47")
        @Sendable func draft(_ id: String) -> SubjectDraft {
            SubjectDraft(externalID: id, objectID: "o1", frames: [(name: id + ".png", bytes: [0x89, 0x50])], metadata: [(key: "#alert_id", value: id)])
        }
        try other.add(draft("first"), filters: ["shared"], destination: destination, pattern: "{filter}-{n}", frameColumns: 1)
        // Another instance holds lane 0 (where "first" went) for as long as this one adds.
        let added = try busy.exclusively(FolderSink.lockName(filter: "shared", destination: destination.description, lane: 0)) {
            let done = DispatchSemaphore(value: 0)
            let set = Mutex<String?>(nil)
            DispatchQueue.global().async {
                set.withLock { $0 = try? other.add(draft("second"), filters: ["shared"], destination: destination, pattern: "{filter}-{n}", frameColumns: 1) }
                done.signal()
            }
            #expect(done.wait(timeout: .now() + 30) == .success, "waited for the other instance's lane")
            return set.withLock { $0 }
        }
        #expect(added == "shared-2", "a set of its own")
        let lanes = try busy.database.execute("SELECT name, lane FROM sink_sets ORDER BY lane").map { [$0[0].text ?? "", String($0[1].integer ?? -1)] }
        #expect(lanes == [["shared-1", "0"], ["shared-2", "1"]])
        // Lane 1 is this instance's now; with nobody in lane 0 it keeps to lane 1's set.
        #expect(try other.add(draft("third"), filters: ["shared"], destination: destination, pattern: "{filter}-{n}", frameColumns: 1) == "shared-2")
    }

    @Test func refusesADatabaseFromANewerCitsciAndSaysWhere() throws {
        let server = try PostgresServer()
        let url = try server.newDatabase()
        try StateStore(path: url).database.execute("UPDATE citsci_schema SET version = 99")
        #expect(throws: (any Error).self) { try StateStore(path: url) }
        do { _ = try StateStore(path: url) } catch {
            #expect("\(error)" == "\(url) is at schema version 99, newer than this citsci knows (\(StateStore.migrations.count)): upgrade citsci")
        }
        do {
            _ = try StateStore(path: "postgresql://citsci:pw@127.0.0.1:\(server.port)/nowhere")
            Issue.record("opened a database that is not there")
        } catch {
            #expect("\(error)".contains("connect to postgresql://citsci:***@127.0.0.1:\(server.port)/nowhere"))
            #expect("\(error)".contains("database \"nowhere\" does not exist"))
            #expect(!"\(error)".contains(":pw@"), "no password in messages")
        }
    }
}
