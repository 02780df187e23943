import Foundation
import Testing
import TestSupport

/// The web page in a real browser: headless Chromium, driven by selenium from
/// `Tests/Fixtures/browser_pages.py`, against `citsci run` on real alerts (every page without console
/// errors or broken images, injected markup never run, the playground's caret error and matches
/// with frames, saving refused without the token and reloaded with it).
@Suite(.serialized) struct BrowserTests {
    static var hasBrowser: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
    }

    @Test(needsSharedData, .enabled(if: hasBrowser, "needs chromium and chromium-driver (scripts/bootstrap installs them)"),
          .timeLimit(.minutes(5)))
    func everyPageInAHeadlessBrowser() throws {
        let out = try runPython("browser_pages.py", ["--citsci", CLI.binary.path, "--data", Paths.sharedData.path])
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains("save with the token: written and reloaded"), "\(text)")
    }
}
