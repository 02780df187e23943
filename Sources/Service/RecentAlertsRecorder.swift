import AlertModel
import Basics
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import State
import Synchronization

extension RecentAlerts.Entry {
    /// The window's entry for `alert`, the `index`-th of the `packet` it arrived in from `source`.
    init(_ alert: Alert, packet: [UInt8], index: Int, source: String, receivedAt: Double) {
        self.init(survey: alert.survey.rawValue, alertID: alert.alertId, objectID: alert.objectId, receivedAt: receivedAt,
                  source: source, packet: packet, index: index)
    }
}

/// Keeps the state store's window of recent alerts (`RecentAlerts`) without the pipeline waiting
/// for it: the ordered stage hands each batch over and goes on; batches wait in a small buffer (the
/// newest kept when the writer falls behind, the dropped ones counted) and one task writes them.
/// The window is for looking (the filter playground), so it may miss alerts; the pipeline's own
/// records may not, and do not pass through here.
///
/// It keeps a sample of at most `perSecond` alerts a second, spread evenly over each batch: whole
/// LSSTCam packets are ~235 kB, and keeping every one at Rubin's rate would write 70 MB/s to the
/// state store beside the pipeline's own writes (measured: a folder run fell from 408 to 100 alerts/s
/// keeping them all). A sample spans more of the night, which is what a playground wants.
package final class RecentAlertsRecorder: Service, Sendable {
    package let state: StateStore
    /// Alerts the window keeps.
    package let keep: Int
    let logger: Logger
    private let stream: AsyncStream<[RecentAlerts.Entry]>
    private let continuation: AsyncStream<[RecentAlerts.Entry]>.Continuation
    /// Alerts kept a second, at most.
    package let perSecond: Int
    private let dropped = Counter(label: "citsci_recent_alerts_dropped_total")
    private let budget: Mutex<(tokens: Double, at: ContinuousClock.Instant)>

    package init(state: StateStore, keep: Int, perSecond: Int = 50, logger: Logger, buffer: Int = 16) {
        self.state = state
        self.keep = keep
        self.perSecond = perSecond
        self.logger = logger
        budget = Mutex((Double(perSecond), .now))
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(buffer))
    }

    /// Hands (a sample of) a batch over; never waits.
    package func offer(_ entries: [RecentAlerts.Entry]) {
        guard keep > 0, perSecond > 0, !entries.isEmpty else { return }
        let n = budget.withLock { b -> Int in
            let now = ContinuousClock.now
            b.tokens = min(Double(perSecond), b.tokens + (now - b.at) / .seconds(1) * Double(perSecond))
            b.at = now
            let n = min(entries.count, Int(b.tokens))
            b.tokens -= Double(n)
            return n
        }
        guard n > 0 else { return }
        let sample = n == entries.count ? entries : (0..<n).map { entries[$0 * entries.count / n] }
        if case .dropped(let old) = continuation.yield(sample) { dropped.increment(by: old.count) }
    }

    /// No more batches: `run` writes what it holds and returns.
    package func finish() { continuation.finish() }

    static let transactionBytes = 2 << 20

    /// Consecutive runs of entries of at most `bytes` of packets (an entry larger alone).
    static func chunks(_ entries: [RecentAlerts.Entry], bytes: Int) -> [[RecentAlerts.Entry]] {
        var out: [[RecentAlerts.Entry]] = [], current: [RecentAlerts.Entry] = [], size = 0
        for e in entries {
            if !current.isEmpty, size + e.packet.count > bytes { out.append(current); current = []; size = 0 }
            current.append(e)
            size += e.packet.count
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// An alert of a file holding several is kept without the others (the fink archives hold 7
    /// LSSTCam alerts, 1.6 MB, to a file).
    static func alone(_ e: RecentAlerts.Entry, _ decoder: AlertDecoder) throws -> RecentAlerts.Entry {
        guard e.packet.starts(with: [0x4f, 0x62, 0x6a, 0x01]) else { return e }  // a container file
        let packet = try decoder.alone(e.packet, index: e.index, source: e.source)
        if packet.count == e.packet.count { return e }
        return RecentAlerts.Entry(survey: e.survey, alertID: e.alertID, objectID: e.objectID, receivedAt: e.receivedAt,
                                  source: e.source, packet: packet, index: 0)
    }

    /// Writes batches as they come until `finish` or a graceful shutdown.
    package func run() async throws {
        let (state, keep, logger, stream) = (self.state, self.keep, self.logger, self.stream)
        await withTaskExecutorPreference(DedicatedTaskExecutor.blocking) {
            await withGracefulShutdownHandler {
                let decoder = AlertDecoder()
                for await batch in stream {
                    do {
                        // In transactions of a few MB: the store has one connection, and the pipeline's
                        // own writes wait while a transaction of whole packets is written.
                        for chunk in Self.chunks(try batch.map { try Self.alone($0, decoder) }, bytes: Self.transactionBytes) {
                            try state.recent.add(chunk, keep: keep)
                        }
                    } catch {
                        logger.warning("the window of recent alerts missed \(batch.count) alerts: \(error)")
                    }
                }
            } onGracefulShutdown: { [continuation] in continuation.finish() }
        }
    }
}
