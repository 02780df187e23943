import Foundation
import State
import Testing

/// The window of recent alerts: newest kept up to its size, an alert once, read back page by page.
@Suite struct RecentAlertsTests {
    func entry(_ id: Int64, at t: Double) -> RecentAlerts.Entry {
        RecentAlerts.Entry(survey: "ztf", alertID: id, objectID: "ZTF\(id)", receivedAt: t, source: "f\(id).avro",
                           packet: Array("packet \(id)".utf8), index: Int(id % 3))
    }

    @Test func keepsTheNewestAndEachAlertOnce() throws {
        let store = try StateStore(path: ":memory:")
        try store.recent.add((0..<10).map { entry($0, at: Double($0)) }, keep: 6)
        #expect(try store.recent.count() == 6)
        try store.recent.add([entry(9, at: 99), entry(10, at: 10)], keep: 6)  // 9 again: stays as it was
        #expect(try store.recent.count() == 6)
        let all = try store.recent.latest(100)
        #expect(all.map(\.alertID) == [10, 9, 8, 7, 6, 5])
        #expect(all[1].receivedAt == 9 && all[1].packet == Array("packet 9".utf8) && all[1].index == 0 && all[1].source == "f9.avro")
        #expect(try store.recent.latest(2, offset: 2).map(\.alertID) == [8, 7])
        #expect(try store.recent.entry(survey: "ztf", alertID: 7)?.objectID == "ZTF7")
        #expect(try store.recent.entry(survey: "ztf", alertID: 1) == nil, "dropped from the window")
        #expect(try store.recent.entry(survey: "rubin", alertID: 7) == nil)
    }
}
