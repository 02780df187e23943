import Foundation
import Testing
import TestSupport

@Suite(.enabled(if: Paths.hasSharedData, "../shared/data is absent: filter CLI tests skipped"))
struct FilterCommandTests {
    func write(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("citsci-fcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("watchlists"), withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    @Test func checkTestAndExplain() throws {
        let dir = try write([
            "bright.yaml": "name: bright\nexpression: |\n  magnitude < 19\n  AND count(history) >= 3\n",
            "typo.yaml": "name: typo\nexpression: candidate.magpfs < 18\n",
            "watchlists/agn.csv": "name,ra,dec\nm87,187.7059,12.3911\n",
            "agn.yaml": "name: agn\nexpression: in_watchlist('agn', 1 arcmin)\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try CLI.run(["filter", "check", dir.appendingPathComponent("bright.yaml").path, dir.appendingPathComponent("typo.yaml").path,
                                 dir.appendingPathComponent("agn.yaml").path])
        #expect(check.status == 1)
        #expect(check.stdout.contains("bright.yaml: ok: bright (version "))
        #expect(check.stdout.contains("agn.yaml: ok: agn"), "watchlists/ beside the file are loaded")
        #expect(check.stderr.contains("typo.yaml:2:13: error: unknown field 'candidate.magpfs'"))
        #expect(check.stderr.contains("did you mean 'candidate.magpsf'?"))

        let test = try CLI.run(["filter", "test", dir.appendingPathComponent("bright.yaml").path, "--alerts", CLI.data("ztf-alerts")])
        #expect(test.status == 0, "\(test.stderr)")
        let first = test.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("bright: ") && first.contains(" of 36 alerts match"))
        #expect(test.stdout.contains("%  magnitude < 19"))
        #expect(test.stdout.contains("%  count(history) >= 3"))

        let explain = try CLI.run(["filter", "explain", dir.appendingPathComponent("bright.yaml").path])
        #expect(explain.stdout.contains("AND\n  <\n    field magnitude\n    number 19\n  >=\n    count()\n      field history\n    number 3"))
    }
}
