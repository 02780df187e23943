import Foundation

/// Runs blocking work (libcurl requests, a long SQLite query) on a dispatch thread, so it never
/// holds one of the few threads Swift concurrency runs tasks on.
package func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
