import Foundation

/// A clock that moves only when the test says so: services paced by it run their next round on
/// `advance`, never on the wall clock, so a test waits for nothing but the events it causes.
package final class ManualClock: Clock, @unchecked Sendable {
    // @unchecked: `current` and `sleepers` are touched only under `lock`.
    package struct Instant: InstantProtocol, Hashable {
        package var offset: Duration
        package func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        package func duration(to other: Instant) -> Duration { other.offset - offset }
        package static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private let lock = NSLock()
    private var current = Instant(offset: .zero)
    private var sleepers: [UUID: (deadline: Instant, continuation: CheckedContinuation<Void, any Error>)] = [:]

    package init() {}

    package var now: Instant { lock.withLock { current } }
    package var minimumResolution: Duration { .zero }
    /// How many tasks wait on this clock.
    package var sleeping: Int { lock.withLock { sleepers.count } }

    package func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                lock.lock()
                if deadline <= current { lock.unlock(); c.resume(); return }
                if Task.isCancelled { lock.unlock(); c.resume(throwing: CancellationError()); return }
                sleepers[id] = (deadline, c)
                lock.unlock()
            }
        } onCancel: {
            let s = lock.withLock { sleepers.removeValue(forKey: id) }
            s?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time on; every sleeper whose deadline has come wakes.
    package func advance(by d: Duration) {
        let due: [CheckedContinuation<Void, any Error>] = lock.withLock {
            current = current.advanced(by: d)
            let keys = sleepers.filter { $0.value.deadline <= current }.map(\.key)
            return keys.compactMap { sleepers.removeValue(forKey: $0)?.continuation }
        }
        for c in due { c.resume() }
    }
}

/// Waits until `condition` holds, checking every 20 ms, or throws after `deadline` (an event to
/// wait for, not a time to sleep).
package func waitUntil(_ what: @autoclosure () -> String, deadline: Duration = .seconds(60),
                       _ condition: () throws -> Bool) async throws {
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: deadline)
    while try !condition() {
        guard clock.now < end else { throw FixtureError(message: "waited \(deadline) for \(what())") }
        try await Task.sleep(for: .milliseconds(20))
    }
}
