import Foundation
import Synchronization

/// SIGTERM and SIGINT cancel the given task (which then commits what is done and exits cleanly).
package final class StopSignals: @unchecked Sendable {
    // @unchecked: the sources are only touched at init and cancel.
    private var sources: [DispatchSourceSignal] = []

    package init(onStop: @escaping @Sendable (Int32) -> Void) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { onStop(sig) }
            source.resume()
            sources.append(source)
        }
    }

    package func cancel() { sources.forEach { $0.cancel() } }
}

/// SIGHUP runs `action` (reload the filters) for as long as the value lives.
package final class ReloadSignal: @unchecked Sendable {
    // @unchecked: the source is only touched at init and cancel.
    private let source: DispatchSourceSignal

    package init(action: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler(handler: action)
        source.resume()
    }

    package func cancel() { source.cancel() }
}

/// SIGTERM and SIGINT between the start of `run` and the service's own signal handling: remembered
/// (the default action would kill the process mid-start with a signal status) and honoured once
/// start-up is done. Its sources stay while the service runs, so no signal falls in a gap between
/// this handling and the service group's; both only note or act on it.
package final class StartupSignals: @unchecked Sendable {
    // @unchecked: the sources are touched at init and cancel only; the flag is atomic.
    private final class Flag: Sendable { let raised = Atomic<Bool>(false) }
    private let flag = Flag()
    private var signals: StopSignals?

    package init() {
        let flag = self.flag
        signals = StopSignals { _ in flag.raised.store(true, ordering: .relaxed) }
    }

    package var requested: Bool { flag.raised.load(ordering: .relaxed) }

    /// Back to the default action (for a one-pass run, which has no service group to stop it).
    package func restoreDefault() {
        cancel()
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
    }

    package func cancel() {
        signals?.cancel()
        signals = nil
    }
}
