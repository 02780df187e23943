import Foundation
import Testing
import Avro
import AlertModel

/// A trait for tests that read ../shared/data: skipped, with the reason, when it is absent.
package let needsSharedData = ConditionTrait.enabled(if: Paths.hasSharedData, Comment(rawValue: Paths.missingDataMessage))
/// The same trait, by its shorter name.
package let needsData = needsSharedData

/// Runs a Python fixture script and returns its standard output (fails the test on a non-zero exit).
package func runPython(_ script: String, _ arguments: [String]) throws -> Data {
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

package func decodeOne(_ bytes: [UInt8], schemas: (any WriterSchemaSource)? = nil) throws -> Alert {
    let alerts = try AlertDecoder(schemas: schemas).decode(bytes)
    guard alerts.count == 1 else { throw FixtureError(message: "expected 1 alert, got \(alerts.count)") }
    return alerts[0]
}

/// Expects `body` to throw an `AlertDecodingError` and returns it.
package func expectDecodingError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> AlertDecodingError? {
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
