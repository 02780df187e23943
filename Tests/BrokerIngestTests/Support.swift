import Foundation
import Testing
@testable import BrokerIngest

/// Paths of the package and of the shared real data beside it (never copied into the repo).
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sharedData = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")
    static var hasSharedData: Bool { FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("README.md").path) }
    static let missingDataMessage = "../shared/data is absent: real-alert tests skipped (they need the shared data folder beside the package)"

    static func data(_ relative: String) -> String { sharedData.appendingPathComponent(relative).path }

    static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: sharedData.appendingPathComponent(relative)))
    }

    /// Every *.avro file under a folder of the shared data, sorted.
    static func avroFiles(_ folder: String) -> [String] {
        let root = sharedData.appendingPathComponent(folder).path
        let items = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return items.filter { $0.hasSuffix(".avro") }.sorted().map { "\(folder)/\($0)" }
    }
}

/// A trait for tests that read ../shared/data: skipped, with the reason, when it is absent.
let needsSharedData = ConditionTrait.enabled(if: Paths.hasSharedData, Comment(rawValue: Paths.missingDataMessage))

/// Runs a Python fixture script and returns its standard output (fails the test on a non-zero exit).
func runPython(_ script: String, _ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", Paths.fixtures.appendingPathComponent(script).path] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw FixtureError(message: "python3 \(script) failed (\(process.terminationStatus)): \(String(decoding: errors, as: UTF8.self))")
    }
    return data
}

struct FixtureError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

func decodeOne(_ bytes: [UInt8], schemas: (any WriterSchemaSource)? = nil) throws -> Alert {
    let alerts = try AlertDecoder(schemas: schemas).decode(bytes)
    guard alerts.count == 1 else { throw FixtureError(message: "expected 1 alert, got \(alerts.count)") }
    return alerts[0]
}

/// Expects `body` to throw an `AlertDecodingError` and returns it.
func expectDecodingError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> AlertDecodingError? {
    do {
        try body()
        Issue.record("expected an AlertDecodingError, got success", sourceLocation: sourceLocation)
    } catch let e as AlertDecodingError {
        return e
    } catch {
        Issue.record("expected an AlertDecodingError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
