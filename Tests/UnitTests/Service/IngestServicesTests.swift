import Filters
import Foundation
import Logging
import Testing
import TestSupport
@testable import Stamps
@testable import State
@testable import Subjects
@testable import Zooniverse
@testable import WebServer
@testable import Classifications
@testable import Service

/// The folder source's loop ends when its task is cancelled (another service failed): it used to
/// spin at 100% with SIGTERM ignored, re-running a sleep that threw at once.
@Suite struct IngestServicesTests {
    @Test func aCancelledFolderLoopEndsAtOnce() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-ingest-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/alerts", withIntermediateDirectories: true)
        let state = try StateStore(path: ":memory:")
        let pipeline = AlertPipeline(filters: FilterSet(folder: Paths.packageRoot.appendingPathComponent("examples/filters").path),
                                     batcher: SubjectBatcher(sink: try FolderSink(root: dir + "/sink", state: state), state: state))
        let service = FolderIngestService(folder: dir + "/alerts", schemas: nil, pipeline: pipeline,
                                          deadLetters: LazyDeadLetterFolder(path: dir + "/dead"), once: false,
                                          pollInterval: .milliseconds(50), logger: Logger(label: "test"))
        // Its own threads for the loop; its decode stage still runs on the cooperative pool, which
        // the synchronous tests beside it can hold for over a minute on two cores in a debug build
        // (CI at 4b5a94b and 3b86e5b: a rate limiter's sleep and an Avro validator's walk on its two threads),
        // so the wait below is a bound on liveness, far above the whole unit run, not a timing.
        let task = Task(executorPreference: serviceTestExecutor) { try await service.run() }
        // The loop is running once it has taken a file dropped in after it started.
        let simulator = AlertSimulator(seed: 5)
        let alert = try simulator.alert(0)
        try Data(try simulator.packet(0)).write(to: URL(fileURLWithPath: dir + "/alerts/one.avro"), options: .atomic)
        try await waitUntil("the loop to take the new file", deadline: .seconds(600)) { try state.outcome(of: alert.alertId, survey: .rubin) != nil }
        task.cancel()
        // The old loop never ended; a deadline far above any scheduling delay tells the two apart
        // (the time itself says nothing here: the suite's other tests share the threads).
        let ended = await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = await task.result; return true }
            group.addTask { try? await Task.sleep(for: .seconds(90)); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(ended, "the folder loop was still running 90 s after its task was cancelled")
    }

    @Test func folderListingsSkipFoldersAndKeepDanglingLinks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-list-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/x.avro", withIntermediateDirectories: true)
        try Data([1]).write(to: URL(fileURLWithPath: dir + "/a.avro"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/b.avro", withDestinationPath: dir + "/missing")
        #expect(FolderIngestService.avroFiles(dir).map { ($0 as NSString).lastPathComponent } == ["a.avro", "b.avro"])
    }
}
