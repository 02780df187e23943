import AlertModel
import ArgumentParser
import Filters
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

    @Option(help: ArgumentHelp("Run N one-line rules over each decoded alert, as the service does, and read the history only of the alerts one matches.",
                               discussion: "Rules: `diaSource.snr > X` (Rubin) or `candidate.magpsf < X` (ZTF), X chosen so that none matches a real alert. 0: read every alert whole."))
    var filters: Int = 0

    @Argument(help: "Alert files or folders.")
    var files: [String]

    /// N rules that no real alert matches, on a field of the survey's own record.
    static func rules(_ n: Int, survey: Survey) throws -> RuleBook {
        RuleBook(try (0..<n).map { i in
            try FilterRule(name: "f\(i)", expression: survey == .rubin ? "diaSource.snr > \(1e9 + Double(i))" : "candidate.magpsf < \(-10 - Double(i))")
        })
    }

    func run() throws {
        let messages = try AlertFiles.expand(files).map(AlertFiles.read)
        let totalBytes = messages.reduce(0) { $0 + $1.count }
        let decoder = AlertDecoder(schemas: try schemaOptions.source())
        var alertsPerPass = 0
        var cutoutBytes = 0
        var survey: Survey? = nil
        for m in messages {  // warm-up: compiles every writer schema once
            let alerts = (try? decoder.decode(m)) ?? []
            survey = survey ?? alerts.first?.survey
            alertsPerPass += alerts.count
            cutoutBytes += alerts.reduce(0) { $0 + ($1.cutouts.science?.data.count ?? 0) + ($1.cutouts.template?.data.count ?? 0) + ($1.cutouts.difference?.data.count ?? 0) }
        }
        guard alertsPerPass > 0, let survey else {
            throw ValidationError("no alert in \(files) could be decoded")
        }
        let book = try Self.rules(filters, survey: survey)
        var hits: [Bool] = []
        let clock = ContinuousClock()
        let start = clock.now
        var passes = 0
        var checksum = 0
        repeat {
            for m in messages {
                for a in try decoder.decode(m) {
                    if filters > 0 {
                        book.evaluate(a, into: &hits)
                        guard hits.contains(true) else { continue }
                    }
                    checksum &+= a.history.count &+ (a.cutouts.difference?.data.count ?? 0)
                }
            }
            passes += 1
        } while (clock.now - start) < .seconds(seconds)
        let elapsed = (clock.now - start) / .seconds(1)
        let alertsPerSecond = Double(passes * alertsPerPass) / elapsed
        let mbPerSecond = Double(passes * totalBytes) / elapsed / 1e6
        if json {
            print("{\"tool\":\"citsci\",\"messages\":\(messages.count),\"alerts\":\(alertsPerPass),\"bytes\":\(totalBytes),\"passes\":\(passes),\"seconds\":\(elapsed),\"alerts_per_s\":\(alertsPerSecond),\"mb_per_s\":\(mbPerSecond),\"filters\":\(filters),\"checksum\":\(checksum)}")
        } else {
            print(String(format: "citsci decode: %d messages, %d alerts (%.1f MB, %.1f MB of cutouts), %d passes in %.2f s: %.0f alerts/s, %.1f MB/s",
                         messages.count, alertsPerPass, Double(totalBytes) / 1e6, Double(cutoutBytes) / 1e6, passes, elapsed, alertsPerSecond, mbPerSecond))
        }
    }
}
