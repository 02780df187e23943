import Foundation
import ServiceLifecycle

/// A live line on a terminal (nothing when standard error is not one): alerts, matches, subjects.
package struct ProgressLine: Service {
    let pipeline: AlertPipeline
    let enabled = isatty(2) == 1

    package init(pipeline: AlertPipeline) { self.pipeline = pipeline }

    package func run() async throws {
        guard enabled else { return }
        let start = Date()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            draw(start)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    package func draw(_ start: Date) {
        let c = pipeline.filters.filters.map { pipeline.filters.counters($0.name) }
        let alerts = c.map(\.evaluations).max() ?? 0
        let matches = c.map(\.matches).reduce(0, +)
        let subjects = (try? pipeline.sink.state.sink.subjectCount()) ?? 0
        let rate = Double(alerts) / max(1, Date().timeIntervalSince(start))
        FileHandle.standardError.write(Data("\r\u{1b}[K\(alerts) alerts (\(Int(rate))/s), \(matches) filter matches, \(subjects) subjects".utf8))
    }

    package func finish() { if enabled { FileHandle.standardError.write(Data("\n".utf8)) } }
}
