import Basics
import Foundation
import Testing
import TestSupport

/// Configurations that cannot work fail at start, naming the file, the key and why; nothing runs
/// silently on a default the operator did not ask for.
@Suite struct OperatorMistakeTests {
    /// A folder with a configuration made of `yaml` (paths in it are relative to the folder).
    func setUp(_ yaml: String, _ name: String = "mistake") throws -> String {
        let dir = try CLI.temporaryFolder(name)
        try yaml.write(toFile: dir + "/citsci.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    func run(_ dir: String, _ extra: [String] = ["--once"], timeout: Double = 60) throws -> CLI.Result {
        try CLI.run(["run", "--config", dir + "/citsci.yaml"] + extra, directory: dir, timeout: timeout)
    }

    @Test func aMetricsPortInUseFailsTheStartWithTheKeyAndLine() async throws {
        let busy = try await ServedHTTP.start { _ in .text(200, "busy\n") }
        let dir = try setUp("""
            source: {simulate: 5}
            filters: \(CLI.exampleFilters)
            metrics: {listen: "127.0.0.1:\(busy.port)"}
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try await offload { try run(dir, [], timeout: 30) }
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("citsci.yaml:3:") && r.stderr.contains("metrics.listen") && r.stderr.contains("in use"), "\(r.stderr)")
        let check = try await offload { try CLI.run(["config", "check", dir + "/citsci.yaml"]) }
        #expect(check.status == 1 && check.stderr.contains("in use") && !check.stdout.contains(": ok"), "\(check.stdout) \(check.stderr)")
        await busy.stop()
    }

    @Test func aMetricsAddressOffThisHostOrExposedWithoutATokenFails() throws {
        let foreign = try setUp("""
            source: {simulate: 5}
            filters: \(CLI.exampleFilters)
            metrics: {listen: "192.0.2.1:9464", insecure: true}
            """)
        defer { try? FileManager.default.removeItem(atPath: foreign) }
        let r = try run(foreign, [], timeout: 30)
        #expect(r.status == 2 && r.stderr.contains("not an address of this host"), "\(r.stderr)")
        let exposed = try setUp("""
            source: {simulate: 5}
            filters: \(CLI.exampleFilters)
            metrics: {listen: "0.0.0.0:0"}
            """)
        defer { try? FileManager.default.removeItem(atPath: exposed) }
        let open = try CLI.run(["run", "--config", exposed + "/citsci.yaml"], environment: ["CITSCI_METRICS_TOKEN": ""], directory: exposed, timeout: 30)
        #expect(open.status == 2 && open.stderr.contains("CITSCI_METRICS_TOKEN") && open.stderr.contains("insecure"), "\(open.stderr)")
    }

    @Test func anEmptyConfigurationOrNoneIsAnErrorUnlessSimulateIsAsked() throws {
        let dir = try setUp("")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/filters", withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: CLI.exampleFilters) {
            try FileManager.default.copyItem(atPath: CLI.exampleFilters + "/" + f, toPath: dir + "/filters/" + f)
        }
        let empty = try run(dir)
        #expect(empty.status != 0 && empty.stderr.contains("names no source") && empty.stderr.contains("--simulate"), "\(empty.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/citsci-sink"), "an empty configuration ran something")
        try FileManager.default.removeItem(atPath: dir + "/citsci.yaml")
        let none = try CLI.run(["run", "--once"], directory: dir)
        #expect(none.status != 0 && none.stderr.contains("no configuration file citsci.yaml") && none.stderr.contains("--simulate"), "\(none.stderr)")
        let simulated = try CLI.run(["run", "--simulate", "--once"], directory: dir, timeout: 120)
        #expect(simulated.status == 0, "\(simulated.stderr.suffix(1000))")
        #expect(simulated.stdout.hasPrefix("citsci run: ") && FileManager.default.fileExists(atPath: dir + "/citsci-sink"), "\(simulated.stdout)")
    }

    @Test func aMissingSourceFolderFailsTheStart() throws {
        let dir = try setUp("""
            source: {folder: no-such-alerts}
            filters: \(CLI.exampleFilters)
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try run(dir)
        #expect(r.status == 2 && r.stderr.contains("citsci.yaml:1:") && r.stderr.contains("source.folder") && r.stderr.contains("no-such-alerts does not exist"), "\(r.stderr)")
    }

    @Test func aFilterThatDoesNotCheckFailsTheStart() throws {
        let dir = try setUp("""
            source: {simulate: 5}
            filters: filters
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/filters", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: CLI.exampleFilters + "/snr-cut.yaml", toPath: dir + "/filters/good.yaml")
        try "name: broken\nrule: diaSource.snr > and 5\n".write(toFile: dir + "/filters/broken.yaml", atomically: true, encoding: .utf8)
        let r = try run(dir)
        #expect(r.status == 2 && r.stderr.contains("broken.yaml:2:"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/citsci-sink"), "it ran without the broken filter")
        let check = try CLI.run(["config", "check", dir + "/citsci.yaml"], directory: dir)
        #expect(check.status == 1 && check.stderr.contains("broken.yaml:2:"), "\(check.stderr)")
    }

    @Test func deadLettersMakeAOnePassRunFailAndSayHowMany() throws {
        let dir = try setUp("""
            source: {folder: alerts}
            filters: \(CLI.exampleFilters)
            dead_letters: {folder: dead}
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sim = try CLI.run(["simulate", "--out", dir + "/alerts", "--count", "6"])
        #expect(sim.status == 0, "\(sim.stderr)")
        try Data("not avro at all".utf8).write(to: URL(fileURLWithPath: dir + "/alerts/garbage.avro"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/alerts/dangling.avro", withDestinationPath: dir + "/nowhere.avro")
        try FileManager.default.createDirectory(atPath: dir + "/alerts/folder.avro", withIntermediateDirectories: true)
        let r = try run(dir)
        #expect(r.status == 1, "\(r.stderr.suffix(1500))")
        #expect(r.stderr.contains("2 messages went to dead letters (dead/)"), "\(r.stderr.suffix(1500))")
        let reasons = try FileManager.default.contentsOfDirectory(atPath: dir + "/dead").filter { $0.hasSuffix(".json") }
            .map { try String(contentsOfFile: dir + "/dead/" + $0, encoding: .utf8) }
        #expect(reasons.count == 2)
        #expect(reasons.contains { $0.contains("cannot read") && $0.contains("dangling.avro") }, "\(reasons)")
        #expect(!reasons.contains { $0.contains("folder.avro") }, "a folder is not a message: \(reasons)")
        #expect(!reasons.contains { $0.contains("message is empty") }, "\(reasons)")
    }

    @Test func aStateFileThatIsNotADatabaseIsNamed() throws {
        let dir = try setUp("""
            source: {simulate: 5}
            filters: \(CLI.exampleFilters)
            state: broken.sqlite
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: dir + "/broken.sqlite"))
        let r = try run(dir)
        #expect(r.status == 2 && r.stderr.contains("citsci.yaml:3:") && r.stderr.contains("broken.sqlite") && r.stderr.contains("not a SQLite database"), "\(r.stderr)")
        let check = try CLI.run(["config", "check", dir + "/citsci.yaml"], directory: dir)
        #expect(check.status == 1 && check.stderr.contains("broken.sqlite"), "\(check.stderr)")
        // Commands that take a state path name it too.
        let caesar = try CLI.run(["caesar", "listen", "--insecure", "--port", "0", "--state", dir + "/broken.sqlite"], timeout: 30)
        #expect(caesar.status != 0 && caesar.stderr.contains("broken.sqlite") && !caesar.stderr.contains("NSError"), "\(caesar.stderr)")
    }

    @Test func unusableSinkAndStatePathsAreReportedNotDumped() throws {
        let dir = try setUp("""
            source: {simulate: 5}
            filters: \(CLI.exampleFilters)
            state: no/such/dir/citsci.sqlite
            sink: {folder: a-file}
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/a-file"))
        let r = try run(dir)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("sink.folder: a-file is a file, not a folder"), "\(r.stderr)")
        #expect(!r.stderr.contains("NSError") && !r.stderr.contains("Domain="), "\(r.stderr)")
        let check = try CLI.run(["config", "check", dir + "/citsci.yaml"], directory: dir)
        #expect(check.status == 1 && check.stderr.contains("sink.folder") && !check.stdout.contains(": ok"), "\(check.stdout)\(check.stderr)")
    }
}
