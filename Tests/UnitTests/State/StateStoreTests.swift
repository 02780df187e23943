import Foundation
import Testing
import AlertModel
import TestSupport
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

@Suite struct StateStoreTests {
    func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("citsci-state-\(UUID().uuidString).sqlite").path
    }

    func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    @Test func theSinkLooksUpABatchOfSubjectsAsOneAtATime() throws {
        try checkSinkBatchLookup(try StateStore(path: ":memory:"))
    }

    @Test func migratesOnceAndReopens() throws {
        let path = tempPath()
        defer { remove(path) }
        let store = try StateStore(path: path)
        #expect(try store.schemaVersion == StateStore.migrations.count)
        let again = try StateStore(path: path)
        #expect(try again.schemaVersion == StateStore.migrations.count)
        #expect(try again.database.execute("PRAGMA journal_mode")[0][0].text == "wal")
    }

    @Test func refusesADatabaseFromANewerCitsci() throws {
        let path = tempPath()
        defer { remove(path) }
        _ = try StateStore(path: path)
        try SQLiteDatabase(path: path).execute("PRAGMA user_version = 99")
        do {
            _ = try StateStore(path: path)
            Issue.record("opened a newer database")
        } catch {
            #expect("\(error)".contains("is at schema version 99, newer than this citsci knows"))
        }
    }

    @Test(needsData) func aRepeatedAlertIsRecordedOnceAndSurvivesAReopen() throws {
        let path = tempPath()
        defer { remove(path) }
        let alert = try AlertDecoder().decode(try Paths.bytes("ztf-alerts/1095578115815010001.avro"))[0]
        do {
            let store = try StateStore(path: path)
            #expect(try store.record(alert, outcome: .matched, filters: ["bright", "young"]))
            #expect(try store.record(alert, outcome: .filteredOut) == false, "the same alert id again")
        }
        let reopened = try StateStore(path: path)
        let seen = try #require(try reopened.outcome(of: alert.alertId, survey: .ztf))
        #expect(seen.outcome == .matched && seen.filters == ["bright", "young"])
        #expect(try reopened.outcome(of: alert.alertId, survey: .rubin) == nil, "ids are per survey")
    }

    /// Group commit: many outcomes in one transaction, each recorded once, all there after a reopen.
    @Test(needsData) func manyOutcomesAreRecordedInOneWrite() throws {
        let path = tempPath()
        defer { remove(path) }
        let alerts = try AlertDecoder().decode(try Paths.bytes("fink-client-datatest/avro_multi_alerts.avro"))
        #expect(alerts.count == 11)
        do {
            let store = try StateStore(path: path)
            #expect(try store.record(alerts[0], outcome: .matched, filters: ["bright"]))
            try store.record(alerts.map { ($0, StateStore.Outcome.filteredOut, [String]()) })
            try store.record([])  // nothing to write: no transaction
        }
        let reopened = try StateStore(path: path)
        for a in alerts.dropFirst() {
            #expect(try reopened.outcome(of: a.alertId, survey: .ztf)?.outcome == .filteredOut)
        }
        #expect(try reopened.outcome(of: alerts[0].alertId, survey: .ztf)?.outcome == .matched, "recorded once: the first outcome stays")
    }

    @Test(needsData) func cutoutHistoryIsBoundedAndBlinksFromIt() throws {
        var byObject: [String: [Alert]] = [:]
        for file in Paths.avroFiles("ztf-fink-distributed") {
            for a in try AlertDecoder().decode(try Paths.bytes(file)) { byObject[a.objectId!, default: []].append(a) }
        }
        let (object, alerts) = try #require(byObject.filter { $0.value.count >= 3 }.max { $0.value.count < $1.value.count })
        let store = try StateStore(path: ":memory:")
        for a in alerts.shuffled() { try store.remember(a, perObject: 2, maxAgeDays: 3650) }
        let stored = try store.recentCutouts(object: object, survey: .ztf)
        let newest = alerts.sorted { $0.mjd < $1.mjd }.suffix(2)
        #expect(stored.map(\.alertId) == newest.map(\.alertId))
        #expect(stored.first?.difference == newest.first?.cutouts.difference?.data)
        let fromStore = try FlipbookRenderer().blink(stored)
        let fromAlerts = try FlipbookRenderer().blink(Array(newest))
        #expect(fromStore.frames.map(\.frame) != [] && zip(fromStore.frames, fromAlerts.frames).allSatisfy { $0.frame.pixels == $1.frame.pixels })
        // Age: an alert far newer pushes out everything older than the window.
        let other = try #require(byObject.first { $0.key != object }?.value.first)
        try store.remember(other, perObject: 2, maxAgeDays: 0.001)
        #expect(try store.cutoutCount() <= 1 + stored.filter { other.mjd - $0.mjd <= 0.001 }.count)
    }

    @Test func sqlErrorsCarryTheStatement() throws {
        let db = try SQLiteDatabase(path: ":memory:")
        do {
            try db.execute("SELECT * FROM nowhere")
            Issue.record("no error")
        } catch {
            #expect(error.engine == "SQLite" && error.message.contains("no such table: nowhere"))
            #expect(error.sql == "SELECT * FROM nowhere")
        }
        // A failed transaction leaves nothing behind.
        try db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        do {
            try db.transaction { tx in
                try tx.execute("INSERT INTO t VALUES (1)")
                try tx.execute("INSERT INTO t VALUES (1)")
            }
        } catch {}
        #expect(try db.execute("SELECT COUNT(*) FROM t")[0][0].integer == 0)
    }
}
