import AlertModel
import ArgumentParser
import Foundation

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure citsci's stages on real data (see docs/PERFORMANCE.md).",
        subcommands: [BenchDecode.self, BenchConsume.self, BenchRender.self, BenchFilter.self])
}

struct BenchDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode throughput on one core: alert files held in memory, decoded to Alert values, cutouts included.")

    @OptionGroup var schemaOptions: SchemaOptions

    @Option(help: "Seconds to run after one warm-up pass.")
    var seconds: Double = 5

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Argument(help: "Alert files or folders.")
    var files: [String]

    func run() throws {
        let messages = try AlertFiles.expand(files).map(AlertFiles.read)
        let totalBytes = messages.reduce(0) { $0 + $1.count }
        let decoder = AlertDecoder(schemas: try schemaOptions.source())
        var alertsPerPass = 0
        var cutoutBytes = 0
        for m in messages {  // warm-up: compiles every writer schema once
            let alerts = (try? decoder.decode(m)) ?? []
            alertsPerPass += alerts.count
            cutoutBytes += alerts.reduce(0) { $0 + ($1.cutouts.science?.data.count ?? 0) + ($1.cutouts.template?.data.count ?? 0) + ($1.cutouts.difference?.data.count ?? 0) }
        }
        guard alertsPerPass > 0 else { throw ValidationError("no alert in \(files) could be decoded") }
        let clock = ContinuousClock()
        let start = clock.now
        var passes = 0
        var checksum = 0
        repeat {
            for m in messages {
                for a in try decoder.decode(m) { checksum &+= a.history.count &+ (a.cutouts.difference?.data.count ?? 0) }
            }
            passes += 1
        } while (clock.now - start) < .seconds(seconds)
        let elapsed = (clock.now - start) / .seconds(1)
        let alertsPerSecond = Double(passes * alertsPerPass) / elapsed
        let mbPerSecond = Double(passes * totalBytes) / elapsed / 1e6
        if json {
            print("{\"tool\":\"citsci\",\"messages\":\(messages.count),\"alerts\":\(alertsPerPass),\"bytes\":\(totalBytes),\"passes\":\(passes),\"seconds\":\(elapsed),\"alerts_per_s\":\(alertsPerSecond),\"mb_per_s\":\(mbPerSecond),\"checksum\":\(checksum)}")
        } else {
            print(String(format: "citsci decode: %d messages, %d alerts (%.1f MB, %.1f MB of cutouts), %d passes in %.2f s: %.0f alerts/s, %.1f MB/s",
                         messages.count, alertsPerPass, Double(totalBytes) / 1e6, Double(cutoutBytes) / 1e6, passes, elapsed, alertsPerSecond, mbPerSecond))
        }
    }
}
