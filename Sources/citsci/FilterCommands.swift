import AlertModel
import Filters
import ArgumentParser
import Foundation

struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Check, try and explain the filters PIs write.",
        subcommands: [FilterCheck.self, FilterTest.self, FilterExplain.self])
}

/// Watchlists and regions for filters checked outside a running set: `--watchlist NAME=FILE.csv`,
/// and any `watchlists/*.csv` and `regions/*.reg` beside the filter file.
struct WatchlistOptions: ParsableArguments {
    @Option(name: .customLong("watchlist"), help: ArgumentHelp("A watchlist for in_watchlist(), name=file.csv (repeatable).", valueName: "name=file.csv"))
    var watchlists: [String] = []

    func resources(near file: String) throws -> FilterResources {
        var errors: [FilterError] = []
        var r = FilterResources.load(folder: (file as NSString).deletingLastPathComponent, errors: &errors)
        if let first = errors.first { throw first }
        for w in watchlists {
            guard let eq = w.firstIndex(of: "=") else { throw ValidationError("--watchlist \(w): expected name=file.csv") }
            let name = String(w[..<eq]), path = String(w[w.index(after: eq)...])
            r.watchlists[name] = try Watchlist(csv: try String(contentsOfFile: path, encoding: .utf8), name: name, file: path)
        }
        return r
    }
}

struct FilterCheck: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Check filter files: syntax, fields, types, functions.")

    @OptionGroup var watchlistOptions: WatchlistOptions

    @Argument(help: "Filter files (YAML).")
    var files: [String]

    func run() throws {
        var failed = 0
        for file in files {
            do {
                let f = try FilterFile.load(path: file, resources: try watchlistOptions.resources(near: file))
                print("\(file): ok: \(f.name) (version \(f.version), \(f.rule.surveys.map(\.rawValue).joined(separator: ", ")))\(f.enabled ? "" : ", disabled")")
            } catch {
                printError("\(error)")
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

struct FilterExplain: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Print a filter's parsed tree.")

    @OptionGroup var watchlistOptions: WatchlistOptions

    @Argument(help: "A filter file (YAML).")
    var file: String

    func run() throws {
        let f = try FilterFile.load(path: file, resources: try watchlistOptions.resources(near: file))
        print("\(f.name) (version \(f.version)) reads \(f.rule.surveys.map(\.rawValue).joined(separator: ", ")) alerts:")
        print(f.rule.explanation, terminator: "")
    }
}

struct FilterTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a filter over alert files: how many match, example ids, and each top-level clause's pass rate.")

    @OptionGroup var watchlistOptions: WatchlistOptions
    @OptionGroup var schemaOptions: SchemaOptions

    @Argument(help: "A filter file (YAML).")
    var file: String

    @Option(parsing: .upToNextOption, help: "Alert files or folders.")
    var alerts: [String]

    func run() throws {
        let f = try FilterFile.load(path: file, resources: try watchlistOptions.resources(near: file))
        let decoder = AlertDecoder(schemas: try schemaOptions.source())
        var total = 0, read = 0, matched: [Int64] = []
        var passes = [Int](repeating: 0, count: f.rule.clauses.count)
        for path in try AlertFiles.expand(alerts) {
            guard let list = try? decoder.decode(try AlertFiles.read(path), source: path) else {
                printError("citsci filter test: skipped \(path): not decodable")
                continue
            }
            for a in list {
                total += 1
                guard f.rule.applies(to: a.survey) else { continue }
                read += 1
                if f.rule.matches(a) { matched.append(a.alertId) }
                for (i, c) in f.rule.clauses.enumerated() where c.passes(a) == true { passes[i] += 1 }
            }
        }
        print("\(f.name): \(matched.count) of \(read) alerts match (\(total - read) of other surveys skipped)")
        if !matched.isEmpty { print("examples: " + matched.prefix(5).map(String.init).joined(separator: ", ")) }
        print("clauses (alone):")
        for (i, c) in f.rule.clauses.enumerated() {
            let pct = read > 0 ? Double(passes[i]) / Double(read) * 100 : 0
            print(String(format: "  %5.1f%%  %@", pct, c.text.replacingOccurrences(of: "\n", with: " ")))
        }
    }
}
