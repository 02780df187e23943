import BrokerIngest
import Foundation
import Synchronization

/// The filters of a folder (`*.yaml`, `*.yml`, with watchlists in `watchlists/*.csv`), evaluated
/// together per alert. `reload()` re-reads the folder; a file that no longer checks keeps its
/// previous version running, so a typo never takes down a PI's filter.
public final class FilterSet: Sendable {
    public struct Counters: Sendable, Equatable {
        public var evaluations = 0
        public var matches = 0
        public var nanoseconds: UInt64 = 0
        /// Evaluations that took longer than the per-alert budget.
        public var overBudget = 0
    }

    public let folder: String
    /// The per-alert time a filter may take before it is flagged.
    public let budget: Duration
    private let state = Mutex<(files: [String: FilterFile], counters: [String: Counters])>(([:], [:]))
    /// The fingerprint of the files as the last reload found them (taken before reading them, so an
    /// edit made during a reload triggers another).
    private let loaded = Mutex<[String]?>(nil)

    public init(folder: String, budget: Duration = .microseconds(200)) {
        self.folder = folder
        self.budget = budget
    }

    /// Loads or reloads the folder; returns the errors (each file in error keeps its old version).
    @discardableResult
    public func reload() -> [FilterError] {
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
        }
        return errors
    }

    /// Reloads whenever a filter, watchlist or region file differs from what the last reload read
    /// (checked every `interval`), until the task is cancelled; `report` gets each reload's errors.
    public func watch(every interval: Duration = .seconds(2), report: @Sendable ([FilterError]) -> Void) async {
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
    public var filters: [FilterFile] { state.withLock { Array($0.files.values) }.sorted { $0.name < $1.name } }

    /// The enabled filters the alert passes, counted per filter.
    public func matches(_ alert: Alert) -> [FilterFile] {
        let current = state.withLock { Array($0.files.values) }
        var out: [FilterFile] = []
        var tallies: [(String, Bool, UInt64)] = []
        let clock = ContinuousClock()
        for f in current where f.enabled && f.rule.applies(to: alert.survey) {
            let start = clock.now
            let hit = f.rule.matches(alert)
            let elapsed = clock.now - start
            tallies.append((f.name, hit, UInt64(elapsed.components.attoseconds / 1_000_000_000) + UInt64(elapsed.components.seconds) * 1_000_000_000))
            if hit { out.append(f) }
        }
        let budgetNs = UInt64(budget.components.attoseconds / 1_000_000_000)
        state.withLock { s in
            for (name, hit, ns) in tallies {
                var c = s.counters[name, default: Counters()]
                c.evaluations += 1
                if hit { c.matches += 1 }
                c.nanoseconds += ns
                if ns > budgetNs { c.overBudget += 1 }
                s.counters[name] = c
            }
        }
        return out.sorted { $0.name < $1.name }
    }

    public func counters(_ name: String) -> Counters { state.withLock { $0.counters[name] ?? Counters() } }
}
