import AlertModel
import Kafka
import Filters
import State
import Subjects
import Service
import ArgumentParser
import Foundation

/// `citsci batch`: the filter → flipbook → subject-set part of the pipeline over alert files, into
/// the folder sink. Run again with more files, it adds to the open sets and never repeats an alert.
struct Batch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Filter alert files and batch the matches into subject-set folders (the folder sink).",
        discussion: """
        Each alert the filters in --filters match becomes one subject per destination (Zooniverse project and
        workflow), rendered as the first matching filter's flipbook asks, in the open set of that filter:
        <sink>/<set name>/ with the frames, manifest.csv (Zooniverse's subject-set import format) and set.json.
        Sets close when they reach --max-set-size subjects or --max-set-age hours. Filters' per_hour and per_night
        limits hold (per_night: the last 24 hours). An alert seen before (same id) makes no new subject.
        Alerts that cannot be decoded or rendered go to --dead-letter-dir with the reason.
        Then `citsci push <sink> --project P` sends the sets to Zooniverse.
        """)

    @OptionGroup var schemaOptions: SchemaOptions

    @Option(help: "Folder of filter files (*.yaml).")
    var filters: String

    @Option(help: "The folder sink: one sub-folder per subject set.")
    var sink: String

    @Option(help: "State store (SQLite): alerts seen, sets, subjects, cutout history.")
    var state: String = "citsci.sqlite"

    @Option(help: "Where alerts that cannot be decoded or rendered go, with the reason.")
    var deadLetterDir: String = "dead-letters"

    @Option(help: "A set closes at this many subjects (at most 10,000, Zooniverse's batch limit).")
    var maxSetSize: Int = 1000

    @Option(help: "A set closes this many hours after it opened.")
    var maxSetAge: Double = 24

    @Flag(help: "No light-curve frame after the images.")
    var noLightCurve = false

    @Argument(help: "Alert files or folders of .avro files.")
    var files: [String]

    func run() async throws {
        let filterSet = FilterSet(folder: filters)
        for e in filterSet.reload() { printError("\(e)") }
        guard !filterSet.filters.isEmpty else { throw ValidationError("no usable filter in \(filters)") }
        let store = try StateStore(path: state)
        let folderSink = try FolderSink(root: sink, state: store,
                                        options: .init(maxSetSize: maxSetSize, maxSetAge: maxSetAge * 3600))
        let pipeline = AlertPipeline(filters: filterSet, batcher: SubjectBatcher(sink: folderSink, state: store, lightCurve: !noLightCurve))
        let deadLetters = LazyDeadLetterFolder(path: deadLetterDir)
        let decoder = AlertDecoder(schemas: try schemaOptions.source())
        var alerts = 0, subjects = 0, repeats = 0, dead = 0
        var limited: [String: Int] = [:]
        for (index, path) in try AlertFiles.expand(files).enumerated() {
            let bytes = try AlertFiles.read(path)
            let decoded: [Alert]
            do { decoded = try decoder.decode(bytes, source: path) } catch {
                printError("citsci batch: \(error)")
                try await deadLetters.store(DeadLetter(file: path, index: index, bytes: bytes, kind: "decode", reason: "\(error)"))
                dead += 1
                continue
            }
            for alert in decoded {
                alerts += 1
                do {
                    let r = try pipeline.handle(alert)
                    subjects += r.subjects
                    repeats += r.repeats
                    for f in r.limited { limited[f, default: 0] += 1 }
                } catch where AlertPipeline.isAlertFault(error) {
                    // The alert's stamps are bad; anything else (the state store, the disk) is not the alert's fault: stop.
                    printError("citsci batch: alert \(alert.alertId) in \(path): \(error)")
                    try await deadLetters.store(DeadLetter(file: path, index: index, bytes: bytes, kind: "render", reason: "alert \(alert.alertId): \(error)"))
                    dead += 1
                }
            }
        }
        let closed = try folderSink.closeDue()
        var line = "\(alerts) alerts: \(subjects) new subjects in \(sink), \(repeats) already there"
        if !limited.isEmpty { line += ", limited: " + limited.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
        if dead > 0 { line += ", \(dead) to \(deadLetterDir)" }
        if !closed.isEmpty { line += "; closed sets: " + closed.joined(separator: ", ") }
        print(line)
        for name in filterSet.filters.map(\.name) {
            let c = filterSet.counters(name)
            print("  \(name): \(c.matches) of \(c.evaluations) matched")
        }
        if dead > 0 { throw ExitCode(1) }
    }
}
