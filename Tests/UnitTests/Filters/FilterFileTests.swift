import Foundation
import Testing
import TestSupport
@testable import Filters

@Suite struct FilterFileTests {
    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-filters-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aFullFile() throws {
        let f = try FilterFile(text: """
        name: fast-risers
        description: Young, rising transients
        owner: pi@example.org
        survey: ztf
        expression: |
          candidate.drb > 0.9
          AND rise_rate() > 0.1
        destination: {project: "1234", workflow: "5678"}
        flipbook: {kind: blink, stretch: asinh, size: 256}
        limits: {per_hour: 50, per_night: 400}
        """, path: "fast.yaml")
        #expect(f.name == "fast-risers" && f.owner == "pi@example.org" && f.enabled)
        #expect(f.rule.surveys == [.ztf])
        #expect(f.destination.project == "1234" && f.destination.subjectSet == "{filter}-{date}-{n}")
        #expect(f.flipbook == FilterFile.Flipbook(kind: .blink, interval: .zscale(), stretch: .asinh(), size: 256))
        #expect(f.perHour == 50 && f.perNight == 400)
        #expect(f.version.count == 16)
        #expect(f.rule.clauses.map(\.text) == ["candidate.drb > 0.9", "rise_rate() > 0.1"])
    }

    @Test func errorsPointIntoTheFile() {
        func error(_ text: String) -> FilterError? {
            do { _ = try FilterFile(text: text, path: "f.yaml"); return nil } catch { return error }
        }
        let e = error("name: x\nexpression: |\n  snr > 5\n  AND candidate.magpfs < 18\n")
        #expect(e?.description == """
        f.yaml:4:7: error: unknown field 'candidate.magpfs' in ztf alerts (no field 'magpfs' in candidate)
              AND candidate.magpfs < 18
                  ^^^^^^^^^^^^^^^^
            did you mean 'candidate.magpsf'?
        """)
        #expect(error("name: x\nexpresion: snr > 5\n")?.description.hasPrefix("f.yaml:2:1: error: unknown key 'expresion'") == true)
        #expect(error("name: x\nexpresion: snr > 5\n")?.suggestion == "expression")
        #expect(error("expression: snr > 5\n")?.reason == "a filter needs a 'name'")
        #expect(error("name: x\nexpression: snr > 5\nlimits: {per_hour: -3}\n")?.reason == "'per_hour' must be a positive whole number")
        #expect(error("name: x\nexpression: snr > 5\nsurvey: hst\n")?.reason == "survey must be rubin or ztf, not 'hst'")
        #expect(error("name: [x\n")?.reason.hasPrefix("not valid YAML") == true)
    }

    /// Render settings are checked where the file is read: a typo is an error at its place with the
    /// closest word (it used to become the default silently).
    @Test func renderSettingsTyposAreErrorsWithTheClosestWord() {
        func error(_ flipbook: String) -> FilterError? {
            do { _ = try FilterFile(text: "name: x\nexpression: snr > 5\nflipbook: \(flipbook)\n", path: "f.yaml"); return nil } catch { return error }
        }
        let interval = error("{kind: triplet, interval: zsacle}")
        #expect(interval?.description.hasPrefix("f.yaml:3:37: error: interval 'zsacle': must be zscale") == true, "\(interval.map { "\($0)" } ?? "no error")")
        #expect(interval?.suggestion == "zscale")
        #expect(error("{kind: blnk}")?.suggestion == "blink")
        #expect(error("{stretch: asnh}")?.suggestion == "asinh")
        #expect(error("{strech: asinh}")?.suggestion == "stretch")
        #expect(error("{size: 100000}")?.reason == "flipbook size 100000: must be 16 to 2048 pixels")
        #expect(error("{interval: percentile(150)}")?.reason.hasPrefix("interval 'percentile(150)'") == true)
        let typed = try? FilterFile(text: "name: x\nexpression: snr > 5\nflipbook: {kind: composite, interval: percentile(99), stretch: log}\n", path: "f.yaml")
        #expect(typed?.flipbook == FilterFile.Flipbook(kind: .composite, interval: .percentile(99), stretch: .log(), size: 300))
    }

    /// A broken edit keeps the running version; a good one replaces it.
    @Test(needsData) func reloadKeepsTheOldVersionOfABrokenFile() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bright.yaml")
        try "name: bright\nexpression: magnitude < 16\n".write(to: file, atomically: true, encoding: .utf8)
        let set = FilterSet(folder: dir.path)
        #expect(set.reload().isEmpty)
        let v1 = set.filters[0].version
        #expect(set.matches(Samples.ztf).map(\.name) == ["bright"])

        try "name: bright\nexpression: magnitude < 16 AND\n".write(to: file, atomically: true, encoding: .utf8)
        let errors = set.reload()
        #expect(errors.count == 1 && errors[0].file == file.path)
        #expect(set.filters.map(\.version) == [v1], "the old version keeps running")
        #expect(set.matches(Samples.ztf).map(\.name) == ["bright"])

        try "name: bright\nexpression: magnitude < 10\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(set.reload().isEmpty)
        #expect(set.filters[0].version != v1)
        #expect(set.matches(Samples.ztf).isEmpty)
        let c = set.counters("bright")
        #expect(c.evaluations == 3 && c.matches == 2)
    }

    @Test func watchingTheFolderReloadsOnChange() async throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("f.yaml")
        try "name: f\nexpression: snr > 5\n".write(to: file, atomically: true, encoding: .utf8)
        let set = FilterSet(folder: dir.path)
        set.reload()
        let reloads = Locked(0)
        let watcher = Task(executorPreference: serviceTestExecutor) { await set.watch(every: .milliseconds(50)) { _ in reloads.mutate { $0 += 1 } } }
        defer { watcher.cancel() }
        // The watcher compares with what the last reload read, so an edit made before its first look counts too.
        try "name: f\nexpression: snr > 50\n".write(to: file, atomically: true, encoding: .utf8)
        // Generous: blocking tests running beside this one can hold the cooperative threads for a while.
        let deadline = ContinuousClock.now + .seconds(60)
        while set.filters.first?.rule.expression != "snr > 50" && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(set.filters.first?.rule.expression == "snr > 50")
        #expect(reloads.value >= 1)
    }

    @Test(needsData) func watchlistsBesideTheFilters() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("watchlists"), withIntermediateDirectories: true)
        let z = Samples.ztf
        try "name,ra,dec\nme,\(z.ra),\(z.dec)\n".write(to: dir.appendingPathComponent("watchlists/known.csv"), atomically: true, encoding: .utf8)
        try "name: not-known\nexpression: NOT in_watchlist('known', 1 arcsec)\n".write(to: dir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try "name: disabled\nenabled: false\nexpression: TRUE\n".write(to: dir.appendingPathComponent("b.yml"), atomically: true, encoding: .utf8)
        let set = FilterSet(folder: dir.path)
        #expect(set.reload().isEmpty)
        #expect(set.filters.count == 2)
        #expect(set.matches(z).isEmpty, "in the watchlist, and the other filter is disabled")
        #expect(set.matches(Samples.rubin).map(\.name) == ["not-known"])
    }
}

