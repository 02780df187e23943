import Service
import ArgumentParser
import Foundation

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write simulated Rubin alerts (synthetic cutouts: a point source on a noisy sky) as .avro files.",
        discussion: """
        Each object gets three alerts a day or two apart, the earlier ones as history; about one in ten is a
        subtraction artefact. Deterministic for a --seed. The files are Avro object container files in the Rubin
        reader schema (schemas/rubin-alert.avsc): every citsci command reads them, and so do fastavro and Avro C.
        """)

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "How many alerts.")
    var count: Int = 300

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Alerts per file (the schema, about 270 kB, is written once per file).")
    var perFile: Int = 100

    @Option(help: "light: a few fields, two previous sources, 51-pixel stamps (~40 kB an alert). lsstcam: as heavy as real LSSTCam packets (every field, 300-400 previous and 340-780 forced sources, 88-pixel stamps: ~320 kB).")
    var profile: AlertSimulator.Profile = .light

    func run() throws {
        guard count > 0 else { throw ValidationError("--count \(count): expected at least 1") }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let simulator = AlertSimulator(seed: seed, profile: profile)
        guard perFile > 0 else { throw ValidationError("--per-file \(perFile): expected at least 1") }
        var bytes = 0, files = 0
        for start in stride(from: 0, to: count, by: perFile) {
            let file = simulator.container(try (start..<min(count, start + perFile)).map { try simulator.record($0) })
            bytes += file.count
            files += 1
            try Data(file).write(to: URL(fileURLWithPath: out).appendingPathComponent(String(format: "simulated-%06d.avro", start)), options: .atomic)
        }
        print("wrote \(count) simulated Rubin alerts (\(profile.rawValue)) (\((count + 2) / 3) objects) in \(files) files, \(bytes / 1024) kB, to \(out)")
    }
}

extension AlertSimulator.Profile: ExpressibleByArgument {}
