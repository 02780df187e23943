import AlertModel
import Stamps
import ArgumentParser
import Foundation

struct BenchRender: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Triplet frames per second: FITS decompression, zscale, rendering and a 300 x 300 PNG per frame.")

    @Option(help: "Seconds to run.")
    var seconds: Double = 5

    @Option(help: "Rendering threads (1 = one core).")
    var threads: Int = 1

    @Flag(help: "Print one JSON object.")
    var json = false

    @Argument(help: "Alert files or folders.")
    var files: [String]

    func run() throws {
        var alerts: [Alert] = []
        let decoder = AlertDecoder()
        for path in try AlertFiles.expand(files) { alerts += (try? decoder.decode(try AlertFiles.read(path))) ?? [] }
        alerts = alerts.filter { $0.cutouts.science != nil && $0.cutouts.template != nil && $0.cutouts.difference != nil }
        guard !alerts.isEmpty else { throw ValidationError("no alert with cutouts in \(files)") }
        let renderer = FlipbookRenderer()
        let work = alerts
        let deadline = ContinuousClock.now + .seconds(seconds)
        let start = ContinuousClock.now
        let counts = (0..<threads).map { _ in Counter() }
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var i = t
            repeat {
                if let book = try? renderer.triplet(work[i % work.count]) { counts[t].frames += book.frames.count; counts[t].bytes += book.frames.reduce(0) { $0 + $1.png.count } }
                i += threads
            } while ContinuousClock.now < deadline
        }
        let elapsed = (ContinuousClock.now - start) / .seconds(1)
        let frames = counts.reduce(0) { $0 + $1.frames }, bytes = counts.reduce(0) { $0 + $1.bytes }
        let rate = Double(frames) / elapsed
        if json {
            print("{\"tool\":\"citsci\",\"threads\":\(threads),\"frames\":\(frames),\"seconds\":\(elapsed),\"frames_per_s\":\(rate),\"mean_png_bytes\":\(bytes / max(frames, 1))}")
        } else {
            print(String(format: "citsci render (%d thread%@): %d frames in %.2f s: %.0f frames/s, %d bytes per PNG", threads, threads == 1 ? "" : "s", frames, elapsed, rate, bytes / max(frames, 1)))
        }
    }
}

/// Per-thread tallies (each thread writes only its own).
private final class Counter: @unchecked Sendable {
    var frames = 0
    package var bytes = 0
}
