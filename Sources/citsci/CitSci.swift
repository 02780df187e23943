import Basics
import Service
import ArgumentParser
import CGlibc
import Foundation

@main
struct CitSci: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "citsci",
        abstract: "Astronomical alert streams to Zooniverse volunteers, and their verdicts back.",
        subcommands: [Inspect.self, FilterCommand.self, Run.self, Serve.self, ConfigCommand.self, Render.self, Simulate.self, Batch.self, Push.self, ZooniverseCommand.self, ClassificationsCommand.self, Aggregate.self, Publish.self, CaesarCommand.self, Consume.self, Replay.self, Version.self, Bench.self]
    )

    /// ArgumentParser's own main, but every error message passes through the redaction step first:
    /// an error may quote a server's answer, and a server may echo the request with its credentials.
    static func main() async {
        // A decoded LSSTCam alert is ~40,000 values in arrays of a few kB, made and freed a thousand
        // times a second. glibc's defaults give freed memory back to the kernel and map large
        // blocks afresh, so each alert paid page faults: LSSTCam decoding ran at 700 alerts/s, at
        // 1,100-1,200 with freed memory kept for reuse (up to 64 MB: RSS stays bounded by it).
        _ = mallopt(M_MMAP_THRESHOLD, 8 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 64 << 20)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = Redaction.current.apply(fullMessage(for: error))
            if !message.isEmpty {
                if code == .success { print(message) } else { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            }
            Foundation.exit(code.rawValue)
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print citsci's version and the C libraries it runs on.")

    func run() throws {
        print("citsci 0.1.0")
        Libraries.lines.forEach { print($0) }
    }
}
