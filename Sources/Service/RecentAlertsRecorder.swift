import Basics
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import State

/// Keeps the state store's window of recent alerts (`RecentAlerts`) without the pipeline waiting
/// for it: the ordered stage hands each batch over and goes on; batches wait in a small buffer (the
/// newest kept when the writer falls behind, the dropped ones counted) and one task writes them.
/// The window is for looking (the filter playground), so it may miss alerts; the pipeline's own
/// records may not, and do not pass through here.
package final class RecentAlertsRecorder: Service, Sendable {
    package let state: StateStore
    /// Alerts the window keeps.
    package let keep: Int
    let logger: Logger
    private let stream: AsyncStream<[RecentAlerts.Entry]>
    private let continuation: AsyncStream<[RecentAlerts.Entry]>.Continuation
    private let dropped = Counter(label: "citsci_recent_alerts_dropped_total")

    package init(state: StateStore, keep: Int, logger: Logger, buffer: Int = 16) {
        self.state = state
        self.keep = keep
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(buffer))
    }

    /// Hands a batch over; never waits.
    package func offer(_ entries: [RecentAlerts.Entry]) {
        guard keep > 0, !entries.isEmpty else { return }
        if case .dropped(let old) = continuation.yield(entries) { dropped.increment(by: old.count) }
    }

    /// No more batches: `run` writes what it holds and returns.
    package func finish() { continuation.finish() }

    /// Writes batches as they come until `finish` or a graceful shutdown.
    package func run() async throws {
        let (state, keep, logger, stream) = (self.state, self.keep, self.logger, self.stream)
        await withTaskExecutorPreference(DedicatedTaskExecutor.blocking) {
            await withGracefulShutdownHandler {
                for await batch in stream {
                    do { try state.recent.add(batch, keep: keep) } catch {
                        logger.warning("the window of recent alerts missed \(batch.count) alerts: \(error)")
                    }
                }
            } onGracefulShutdown: { [continuation] in continuation.finish() }
        }
    }
}
