import Foundation
import Synchronization

/// When and how long to wait before trying a Zooniverse request again: on 429, 5xx and no answer,
/// with exponential backoff and jitter (between half and all of the doubled delay), honouring the
/// server's `Retry-After` (in seconds; an HTTP date falls back to the backoff).
package struct RetryPolicy: Sendable {
    package var attempts: Int
    package var baseDelay: Double
    package var maxDelay: Double

    package init(attempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 60) {
        self.attempts = attempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    package func delay(after attempt: Int, retryAfter: String?) -> Double {
        if let retryAfter, let seconds = Double(retryAfter.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            return min(seconds, maxDelay)
        }
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        return Double.random(in: (ceiling / 2)...max(ceiling, ceiling / 2 + 1e-9))
    }

    package static func retryable(status: Int) -> Bool { status == 429 || (500...599).contains(status) }
}

/// At most `perSecond` requests a second across every thread using the client (a token bucket),
/// so a backlog never hammers Zooniverse.
package final class RateLimiter: Sendable {
    package let perSecond: Double
    private let state: Mutex<(tokens: Double, last: Double)>

    package init(perSecond: Double, burst: Double? = nil) {
        self.perSecond = perSecond
        let b = burst ?? max(1, perSecond)
        state = Mutex((b, Date().timeIntervalSince1970))
        self.burst = b
    }

    private let burst: Double

    /// Blocks until a request may go.
    package func acquire() {
        guard perSecond.isFinite, perSecond > 0 else { return }
        while true {
            let wait: Double = state.withLock { s in
                let now = Date().timeIntervalSince1970
                s.tokens = min(burst, s.tokens + (now - s.last) * perSecond)
                s.last = now
                if s.tokens >= 1 { s.tokens -= 1; return 0 }
                return (1 - s.tokens) / perSecond
            }
            if wait == 0 { return }
            Thread.sleep(forTimeInterval: wait)
        }
    }
}
