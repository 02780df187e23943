import Foundation
import Testing
import TestSupport

/// docs/ARCHITECTURE.md's module table and Package.swift's target dependencies say the same, and
/// the modules form layers (each depends only on modules above it in the table). Imports beyond
/// the declared dependencies are refused by the build itself (scripts/test passes SwiftPM's
/// --explicit-target-dependency-import-check=error).
@Suite struct ArchitectureTests {
    /// The table's rows in order: module → the modules it may import.
    func documented() throws -> [(module: String, imports: Set<String>)] {
        let text = try String(contentsOf: Paths.packageRoot.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line -> (String, Set<String>)? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5, let name = cells[1].firstMatch(of: /^`(\w+)`$/)?.1 else { return nil }
            return (String(name), Set(cells[3].matches(of: /`(\w+)`/).map { String($0.1) }))
        }
    }

    /// Package.swift's own targets: name → the package's own modules among its dependencies.
    func declared(modules: Set<String>) throws -> [String: Set<String>] {
        let text = try String(contentsOf: Paths.packageRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        var out: [String: Set<String>] = [:]
        let starts = text.matches(of: /\.(?:executableTarget|target)\(name: "(\w+)"/)
        for (i, start) in starts.enumerated() {
            let end = i + 1 < starts.count ? starts[i + 1].range.lowerBound : text.endIndex
            let body = text[start.range.upperBound..<end]
            let quoted = Set(body.matches(of: /"(\w+)"/).map { String($0.1) })
            out[String(start.1)] = quoted.intersection(modules)
        }
        return out
    }

    @Test func theTableAndPackageSwiftAgree() throws {
        let table = try documented()
        let modules = Set(table.map(\.module))
        #expect(modules.isSuperset(of: ["Basics", "Avro", "AlertModel", "Kafka", "Filters", "Stamps", "State", "Subjects",
                                        "Zooniverse", "Classifications", "Service", "citsci"]), "\(modules)")
        let package = try declared(modules: modules)
        for row in table {
            #expect(package[row.module] == row.imports,
                    "\(row.module): Package.swift has \(package[row.module]?.sorted() ?? []), docs/ARCHITECTURE.md \(row.imports.sorted())")
        }
        let sourceFolders = try FileManager.default.contentsOfDirectory(atPath: Paths.packageRoot.appendingPathComponent("Sources").path)
            .filter { !$0.hasPrefix("C") || $0 == "Classifications" }
        #expect(Set(sourceFolders).subtracting(modules).isEmpty, "a module missing from docs/ARCHITECTURE.md: \(Set(sourceFolders).subtracting(modules))")
    }

    @Test func modulesAreLayeredInTheOrderOfTheTable() throws {
        let table = try documented()
        for (i, row) in table.enumerated() {
            let above = Set(table[..<i].map(\.module))
            #expect(row.imports.isSubset(of: above), "\(row.module) depends on \(row.imports.subtracting(above).sorted()), listed below it")
        }
    }

    @Test func onlyStateWritesSQL() throws {
        let sources = Paths.packageRoot.appendingPathComponent("Sources")
        let statements = /\b(SELECT .+ FROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE TABLE)\b/
        var offenders: [String] = []
        let paths = (FileManager.default.enumerator(atPath: sources.path)?.allObjects as? [String]) ?? []
        #expect(paths.count > 50)
        for path in paths where path.hasSuffix(".swift") && !path.hasPrefix("State/") {
            let text = try String(contentsOf: sources.appendingPathComponent(path), encoding: .utf8)
            if text.contains(statements) { offenders.append(path) }
        }
        #expect(offenders.isEmpty, "SQL outside Sources/State: \(offenders)")
    }
}
