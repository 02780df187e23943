import Foundation
import Testing
import TestSupport

/// The `citsci` executable as a person runs it: output, exit status and error messages.
enum CLI {
    static var hasSharedData: Bool { Paths.hasSharedData }

    /// The binary SwiftPM built next to the test bundle.
    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("citsci").path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("citsci")
    }

    struct Result { let status: Int32; let stdout: String; let stderr: String }

    /// Runs the binary to completion; killed (and reported as such) after `timeout` seconds.
    static func run(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil, timeout: Double = 90) throws -> Result {
        let (p, out, err) = try start(arguments, environment: environment, directory: directory)
        let pid = p.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        // Both pipes at once: a child that fills one while the other is read to its end would hang.
        let errors = Locked(Data())
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errors.mutate { $0 = data }
            drained.signal()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        let e = errors.value
        p.waitUntilExit()
        watchdog.cancel()
        if p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL {
            throw FixtureError(message: "citsci \(arguments.joined(separator: " ")) did not finish in \(Int(timeout)) s; stderr: \(String(decoding: e, as: UTF8.self))")
        }
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func data(_ path: String) -> String { Paths.data(path) }

    /// Starts the binary and returns the process with its output pipes (for commands that run until stopped).
    static func start(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return (p, out, err)
    }

    /// Starts the binary in the background: its standard output is drained (so it never blocks on a
    /// full pipe) and its standard error gathered as it comes, for the test to read at any time.
    static func startLogging(_ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws -> (Process, Locked<String>) {
        let (p, out, err) = try start(arguments, environment: environment, directory: directory)
        let log = Locked("")
        DispatchQueue.global().async { _ = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async {
            while case let chunk = err.fileHandleForReading.availableData, !chunk.isEmpty {
                log.mutate { $0 += String(decoding: chunk, as: UTF8.self) }
            }
        }
        return (p, log)
    }

    /// The first match of `pattern` in a gathered log, waiting up to `timeout` seconds for it.
    static func waitFor(_ pattern: String, in log: Locked<String>, process: Process, timeout: Double = 60) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = log.value
            if let range = text.range(of: pattern, options: .regularExpression) { return String(text[range]) }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        throw FixtureError(message: "no \(pattern) in the log: \(log.value.suffix(2000))")
    }

    /// Sends SIGTERM and waits for the exit; the status, or nil if it was still running after `timeout`.
    static func terminate(_ process: Process, timeout: Double = 30) -> Int32? {
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return nil }
        return process.terminationStatus
    }

    /// A new empty folder under the temporary directory.
    static func temporaryFolder(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static var exampleFilters: String { Paths.packageRoot.appendingPathComponent("examples/filters").path }
}

@Suite(.enabled(if: CLI.hasSharedData, "../shared/data is absent: CLI tests on real alerts skipped"))
struct InspectCommandTests {
    @Test func oneLinePerAlert() throws {
        let r = try CLI.run(["inspect", CLI.data("ztf-alerts"), CLI.data("fink-client-datatest/lsst_part-2-918301.avro")])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 36 + 7)
        #expect(lines.first?.hasPrefix("ztf alert ") == true)
        #expect(lines.last?.hasPrefix("rubin alert ") == true)
        #expect(lines.allSatisfy { $0.contains(" cutouts ") })
    }

    @Test func jsonIsOneParsableObjectPerAlert() throws {
        let r = try CLI.run(["inspect", "--json", CLI.data("pittgoogle-samples/ztf")])
        #expect(r.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let alert = object?["alert"] as? [String: Any]
        #expect(alert?["objectId"] as? String == "ZTF17aaarzyp")
        let packet = object?["packet"] as? [String: Any]
        let candidate = packet?["candidate"] as? [String: Any]
        #expect((candidate?["candid"] as? NSNumber)?.int64Value == 2982177112815010003)
    }

    @Test func schemaPrintsTheWriterSchema() throws {
        let r = try CLI.run(["inspect", "--schema", CLI.data("ztf-alerts/1095578115815010001.avro")])
        #expect(r.status == 0)
        let schema = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(schema?["name"] as? String == "ztf.alert")
    }

    @Test func confluentFramingNeedsASchemaSource() throws {
        let file = CLI.data("pittgoogle-samples/lsst-confluent/lsst.v11_1.avro")
        let without = try CLI.run(["inspect", file])
        #expect(without.status == 1)
        #expect(without.stderr.contains("schemaUnavailable at byte 1: Confluent-framed message (schema id 1101) but no schema registry or schema folder is configured"))
        let with = try CLI.run(["inspect", "--schema-dir", CLI.data("lsst-alert-packet/schema"), file])
        #expect(with.status == 0, "\(with.stderr)")
        #expect(with.stdout.hasPrefix("rubin alert 1231321321 "))
    }

    @Test func badInputExitsNonZeroAndSaysWhatAndWhere() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.avro")
        try Data("{\"not\": \"avro\"}".utf8).write(to: bad)
        let good = CLI.data("ztf-alerts/1095578115815010001.avro")
        let r = try CLI.run(["inspect", bad.path, good])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(bad.path): badMagicByte at byte 0: first byte is 0x7b"))
        #expect(r.stdout.split(separator: "\n").count == 1, "the good file is still decoded")
        let missing = try CLI.run(["inspect", dir.appendingPathComponent("nope.avro").path])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("nope.avro: no such file or folder"))
    }
}

@Test func versionNamesTheCLibraries() throws {
    let r = try CLI.run(["version"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("librdkafka "))
    #expect(r.stdout.contains("libcurl/"))
    #expect(r.stdout.contains("libpng 1."))
    #expect(!r.stdout.contains("older than 2.2"), "bootstrap should have installed librdkafka >= 2.2")
}
