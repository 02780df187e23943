import AlertModel
import Foundation
import Logging
import Testing
import TestSupport
@testable import State
@testable import Service

/// The window's writer: a sample of at most `perSecond` alerts a second, spread over each batch; an
/// alert of an archive file kept without the file's other alerts.
@Suite struct RecentAlertsRecorderTests {
    func entry(_ id: Int64) -> RecentAlerts.Entry {
        RecentAlerts.Entry(survey: "ztf", alertID: id, objectID: nil, receivedAt: Double(id), source: "s", packet: [0, 0, 0, 0, 1], index: 0)
    }

    @Test func keepsAnEvenSampleUpToItsRate() async throws {
        let store = try StateStore(path: ":memory:")
        let recorder = RecentAlertsRecorder(state: store, keep: 1000, perSecond: 10, logger: Logger(label: "test"))
        recorder.offer((0..<100).map(entry))
        recorder.offer((100..<200).map(entry))  // at once: the budget is spent
        recorder.finish()
        try await recorder.run()
        #expect(try store.recent.latest(100).map(\.alertID).sorted() == Array(stride(from: 0, to: 100, by: 10)))
    }

    @Test func writtenInTransactionsOfAFewMegabytes() {
        func sized(_ id: Int64, _ n: Int) -> RecentAlerts.Entry {
            RecentAlerts.Entry(survey: "rubin", alertID: id, objectID: nil, receivedAt: 0, source: "s", packet: Array(repeating: 0, count: n), index: 0)
        }
        let chunks = RecentAlertsRecorder.chunks([sized(1, 600), sized(2, 600), sized(3, 600), sized(4, 3000), sized(5, 10)], bytes: 1300)
        #expect(chunks.map { $0.map(\.alertID) } == [[1, 2], [3], [4], [5]])
        #expect(RecentAlertsRecorder.chunks([], bytes: 10).isEmpty)
    }

    @Test(needsSharedData) func anArchiveAlertIsKeptAlone() async throws {
        let store = try StateStore(path: ":memory:")
        let recorder = RecentAlertsRecorder(state: store, keep: 10, logger: Logger(label: "test"))
        let file = try Paths.bytes("fink-client-datatest/lsst_part-2-918301.avro")
        let alerts = try AlertDecoder().decode(file)
        recorder.offer([RecentAlerts.Entry(survey: "rubin", alertID: alerts[4].alertId, objectID: nil, receivedAt: 1,
                                           source: "lsst.avro", packet: file, index: 4)])
        recorder.finish()
        try await recorder.run()
        let kept = try #require(try store.recent.latest(1).first)
        #expect(kept.index == 0 && kept.packet.count < file.count / 3)
        #expect(try AlertDecoder().decode(kept.packet).map(\.alertId) == [alerts[4].alertId])
    }
}
