import Foundation
import Testing
@testable import Basics
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

@Suite struct RetryPolicyTests {
    @Test func backoffDoublesWithJitterUpToTheCeilingAndRetryAfterWins() {
        let p = RetryPolicy(attempts: 6, baseDelay: 0.5, maxDelay: 4)
        for attempt in 1...6 {
            let ceiling = min(4, 0.5 * pow(2, Double(attempt - 1)))
            for _ in 0..<50 {
                let d = p.delay(after: attempt, retryAfter: nil)
                #expect(d >= ceiling / 2 && d <= ceiling, "attempt \(attempt): \(d)")
            }
        }
        #expect(p.delay(after: 1, retryAfter: "3") == 3)
        #expect(p.delay(after: 1, retryAfter: "120") == 4, "capped at maxDelay")
        #expect(p.delay(after: 1, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT") <= 0.5, "an HTTP date falls back to backoff")
        #expect(RetryPolicy.retryable(status: 429) && RetryPolicy.retryable(status: 503))
        #expect(!RetryPolicy.retryable(status: 404) && !RetryPolicy.retryable(status: 412))
    }

    @Test func rateLimiterLetsABurstThroughThenSpacesRequests() {
        let limiter = RateLimiter(perSecond: 20, burst: 5)
        let start = Date()
        for _ in 0..<5 { limiter.acquire() }
        #expect(Date().timeIntervalSince(start) < 0.2, "the burst goes at once")
        for _ in 0..<10 { limiter.acquire() }
        #expect(Date().timeIntervalSince(start) >= 0.45, "then 20 a second: 10 more need half a second")
    }
}
