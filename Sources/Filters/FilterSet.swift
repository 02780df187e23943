import AlertModel
import Foundation
import Synchronization

/// The filters of a folder (`*.yaml`, `*.yml`, with watchlists in `watchlists/*.csv`), evaluated
/// together per alert. `reload()` re-reads the folder; a file that no longer checks keeps its
/// previous version running, so a typo never takes down a PI's filter.
package final class FilterSet: Sendable {
    package struct Counters: Sendable, Equatable {
        package var evaluations = 0
        package var matches = 0
        package var nanoseconds: UInt64 = 0
        /// Evaluations that took longer than the per-alert budget.
        package var overBudget = 0
    }

    package let folder: String
    /// The per-alert time a filter may take before it is flagged.
    package let budget: Duration
    private let state = Mutex<(files: [String: FilterFile], book: (files: [FilterFile], rules: RuleBook), counters: [String: Counters])>(
        ([:], ([], RuleBook([])), [:]))
    /// The fingerprint of the files as the last reload found them (taken before reading them, so an
    /// edit made during a reload triggers another).
    private let loaded = Mutex<[String]?>(nil)

    package init(folder: String, budget: Duration = .microseconds(200)) {
        self.folder = folder
        self.budget = budget
    }

    /// Loads or reloads the folder; returns the errors (each file in error keeps its old version).
    @discardableResult
    package func reload() -> [FilterError] {
        let seen = fingerprint()
        defer { loaded.withLock { $0 = seen } }
        var errors: [FilterError] = []
        let resources = FilterResources.load(folder: folder, errors: &errors)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var loaded: [String: FilterFile] = [:]
        for name in names {
            let path = (folder as NSString).appendingPathComponent(name)
            do {
                loaded[path] = try FilterFile.load(path: path, resources: resources)
            } catch {
                errors.append(error)
            }
        }
        state.withLock { s in
            var next: [String: FilterFile] = [:]
            for name in names {
                let path = (folder as NSString).appendingPathComponent(name)
                if let f = loaded[path] { next[path] = f } else if let old = s.files[path] { next[path] = old }
            }
            s.files = next
            let enabled = next.values.filter(\.enabled).sorted { $0.name < $1.name }
            s.book = (enabled, RuleBook(enabled.map(\.rule)))
        }
        return errors
    }

    /// Reloads whenever a filter, watchlist or region file differs from what the last reload read
    /// (checked every `interval`), until the task is cancelled; `report` gets each reload's errors.
    package func watch(every interval: Duration = .seconds(2), report: @Sendable ([FilterError]) -> Void) async {
        while !Task.isCancelled {
            if fingerprint() != loaded.withLock({ $0 }) { report(reload()) }
            try? await Task.sleep(for: interval)
        }
    }

    /// Names, sizes and modification times of the files a reload reads.
    func fingerprint() -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        for dir in [folder] + FilterResources.subfolders.map({ (folder as NSString).appendingPathComponent($0) }) {
            for name in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted()
            where name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".csv") || name.hasSuffix(".reg") {
                let path = (dir as NSString).appendingPathComponent(name)
                let a = try? fm.attributesOfItem(atPath: path)
                let date = (a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                out.append("\(path) \(a?[.size] as? Int ?? -1) \(date)")
            }
        }
        return out
    }

    /// The filters running now (enabled or not), by name.
    package var filters: [FilterFile] { state.withLock { Array($0.files.values) }.sorted { $0.name < $1.name } }

    /// The enabled filters the alert passes, counted per filter. The rules that run as flat
    /// programs are timed together and each is charged its share; the others are timed one by one.
    package func matches(_ alert: Alert) -> [FilterFile] {
        let (files, book) = state.withLock { $0.book }
        var hits: [Bool] = []
        var nanoseconds = [UInt64](repeating: 0, count: files.count)
        let clock = ContinuousClock()
        let start = clock.now
        let programs = book.evaluatePrograms(alert, into: &hits)
        if programs > 0 {  // every rule of the survey is charged the share; the closure rules' own time replaces it below
            let share = Self.nanoseconds(clock.now - start) / UInt64(programs)
            for i in files.indices where files[i].rule.applies(to: alert.survey) { nanoseconds[i] = share }
        }
        for i in book.closureRules(for: alert.survey) {
            let start = clock.now
            hits[i] = files[i].rule.matches(alert)
            nanoseconds[i] = Self.nanoseconds(clock.now - start)
        }
        let budgetNs = Self.nanoseconds(budget)
        var out: [FilterFile] = []
        state.withLock { s in
            for (i, f) in files.enumerated() where f.rule.applies(to: alert.survey) {
                var c = s.counters[f.name, default: Counters()]
                c.evaluations += 1
                if hits[i] { c.matches += 1; out.append(f) }
                c.nanoseconds += nanoseconds[i]
                if nanoseconds[i] > budgetNs { c.overBudget += 1 }
                s.counters[f.name] = c
            }
        }
        return out
    }

    private static func nanoseconds(_ d: Duration) -> UInt64 {
        UInt64(max(0, d.components.seconds)) * 1_000_000_000 + UInt64(max(0, d.components.attoseconds) / 1_000_000_000)
    }

    package func counters(_ name: String) -> Counters { state.withLock { $0.counters[name] ?? Counters() } }
}
