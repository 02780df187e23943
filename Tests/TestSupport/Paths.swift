import Foundation

/// Paths of the package and of the shared real data beside it (never copied into the repo).
package enum Paths {
    package static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    package static let sharedData = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    package static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")
    package static var hasSharedData: Bool { FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("README.md").path) }
    package static let missingDataMessage = "../shared/data is absent: real-alert tests skipped (they need the shared data folder beside the package)"

    package static func data(_ relative: String) -> String { sharedData.appendingPathComponent(relative).path }

    package static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: sharedData.appendingPathComponent(relative)))
    }

    /// Every *.avro file under a folder of the shared data, sorted.
    package static func avroFiles(_ folder: String) -> [String] {
        let root = sharedData.appendingPathComponent(folder).path
        let items = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return items.filter { $0.hasSuffix(".avro") }.sorted().map { "\(folder)/\($0)" }
    }
}


package struct FixtureError: Error, CustomStringConvertible {
    package let message: String
    package init(message: String) { self.message = message }
    package var description: String { message }
}


/// Python tools scripts/bootstrap installs for the comparisons tests make.
package enum PythonTools {
    /// The Python of the venv that holds panoptes_aggregation.
    package static var aggregation: String {
        ProcessInfo.processInfo.environment["CITSCI_AGGREGATION_VENV"].map { $0 + "/bin/python" }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/citsci/aggregation-venv/bin/python").path
    }

    package static var hasAggregation: Bool { FileManager.default.isExecutableFile(atPath: aggregation) }
}
