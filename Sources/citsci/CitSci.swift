import ArgumentParser
import BrokerIngest
import CitSciCore

@main
struct CitSci: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "citsci",
        abstract: "Astronomical alert streams to Zooniverse volunteers, and their verdicts back.",
        subcommands: [Inspect.self, FilterCommand.self, Run.self, ConfigCommand.self, Render.self, Simulate.self, Batch.self, Push.self, ZooniverseCommand.self, ClassificationsCommand.self, Aggregate.self, Publish.self, CaesarCommand.self, Consume.self, Replay.self, Version.self, Bench.self]
    )
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print citsci's version and the C libraries it runs on.")

    func run() throws {
        print("citsci 0.1.0")
        print("librdkafka \(KafkaLibrary.version)\(KafkaLibrary.isRecentEnough ? "" : " (older than 2.2: cannot talk to Tansu; run scripts/bootstrap)")")
        print("libcurl \(HTTPClient.libraryVersion)")
        print("libpng \(PNGLibrary.version)")
    }
}
