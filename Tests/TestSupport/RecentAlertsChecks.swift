import Foundation
import State
import Testing

/// The window of recent alerts on any engine: newest kept up to its size, an alert once (whether it
/// came before or twice in one batch: the first stays), a batch of 45 kept whole, read back page by
/// page.
package func checkRecentAlertsWindow(_ store: StateStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
    func entry(_ id: Int64, at t: Double, packet: String? = nil) -> RecentAlerts.Entry {
        RecentAlerts.Entry(survey: "ztf", alertID: id, objectID: "ZTF\(id)", receivedAt: t, source: "f\(id).avro",
                           packet: Array((packet ?? "packet \(id)").utf8), index: Int(id % 3))
    }
    try store.recent.add((0..<10).map { entry($0, at: Double($0)) }, keep: 6)
    #expect(try store.recent.count() == 6, sourceLocation: sourceLocation)
    try store.recent.add([entry(9, at: 99), entry(10, at: 10)], keep: 6)  // 9 again: stays as it was
    #expect(try store.recent.count() == 6, sourceLocation: sourceLocation)
    let all = try store.recent.latest(100)
    #expect(all.map(\.alertID) == [10, 9, 8, 7, 6, 5], sourceLocation: sourceLocation)
    #expect(all[1].receivedAt == 9 && all[1].packet == Array("packet 9".utf8) && all[1].index == 0 && all[1].source == "f9.avro",
            sourceLocation: sourceLocation)
    #expect(try store.recent.latest(2, offset: 2).map(\.alertID) == [8, 7], sourceLocation: sourceLocation)
    #expect(try store.recent.entry(survey: "ztf", alertID: 7)?.objectID == "ZTF7", sourceLocation: sourceLocation)
    #expect(try store.recent.entry(survey: "ztf", alertID: 1) == nil, "dropped from the window", sourceLocation: sourceLocation)
    #expect(try store.recent.entry(survey: "rubin", alertID: 7) == nil, sourceLocation: sourceLocation)

    // One batch of 45, one of them twice with another packet, and one already kept.
    let batch = (100..<145).map { entry($0, at: Double($0)) } + [entry(120, at: 200, packet: "again"), entry(10, at: 201, packet: "again")]
    try store.recent.add(batch, keep: 1_000)
    #expect(try store.recent.count() == 6 + 45, sourceLocation: sourceLocation)
    #expect(try store.recent.entry(survey: "ztf", alertID: 120)?.packet == Array("packet 120".utf8), "the first of the batch stays",
            sourceLocation: sourceLocation)
    #expect(try store.recent.entry(survey: "ztf", alertID: 10)?.receivedAt == 10, "the one kept before stays", sourceLocation: sourceLocation)
    #expect(try store.recent.latest(3).map(\.alertID) == [144, 143, 142], sourceLocation: sourceLocation)
}
