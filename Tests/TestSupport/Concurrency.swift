import Basics
import Foundation

/// A value shared between test tasks and callbacks.
package final class Locked<T>: @unchecked Sendable {
    private var v: T
    private let lock = NSLock()
    package init(_ v: T) { self.v = v }
    package var value: T { lock.lock(); defer { lock.unlock() }; return v }
    package func mutate(_ f: (inout T) -> Void) { lock.lock(); f(&v); lock.unlock() }
}

/// A small deterministic generator, so a randomised test can be replayed.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Threads for tests that run the service in-process (`withTaskExecutorPreference`), so the
/// blocking tests beside them cannot starve it of the cooperative pool's threads.
package let serviceTestExecutor = DedicatedTaskExecutor(threads: 2, name: "citsci-test-service")

/// Threads for the tests that block for minutes (the soak, the two-instance run: child processes,
/// sleeps), one each, so that they run beside each other and beside the rest without holding a
/// thread of the cooperative pool (two on this machine) for their whole length.
package let longTestExecutor = DedicatedTaskExecutor(threads: 2, name: "citsci-test-long")
