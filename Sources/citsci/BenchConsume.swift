import AlertModel
import Kafka
import ArgumentParser
import Foundation

struct BenchConsume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Consume + decode throughput from a Kafka topic, every partition read from the beginning without joining a group (as kcat -C does).")

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var schemaOptions: SchemaOptions

    @Option(help: "Topic to read from the beginning.")
    var topic: String

    @Option(help: "Messages to read.")
    var count: Int

    @Flag(help: "Only consume (the librdkafka ceiling): no decoding.")
    var noDecode = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        var properties = KafkaConsumerConfiguration.fastRebalance
        properties.merge(try kafka.parsedProperties()) { _, new in new }
        var configuration = KafkaConsumerConfiguration(
            brokers: kafka.brokers, groupID: "citsci-bench-\(UUID().uuidString)", topics: [topic], start: .earliest,
            properties: properties)
        configuration.readsAllPartitions = true
        let consumer = try KafkaConsumer(configuration)
        defer { consumer.close() }
        let decoder = AlertDecoder(schemas: try schemaOptions.source())
        let clock = ContinuousClock()
        var first: ContinuousClock.Instant? = nil
        var n = 0, bytes = 0, alerts = 0, failed = 0
        var decodeTime = Duration.zero
        for try await m in consumer.messages {
            if first == nil { first = clock.now }
            n += 1
            bytes += m.value.count
            if !noDecode {
                let t0 = clock.now
                if let a = try? decoder.decode(m.value) { alerts += a.count } else { failed += 1 }
                decodeTime += clock.now - t0
            }
            consumer.markDone(m)
            if n >= count { break }
        }
        let seconds = first.map { (clock.now - $0) / .seconds(1) } ?? 0
        let rate = Double(n) / seconds, mb = Double(bytes) / seconds / 1e6
        if !json { printError("decode time \(decodeTime), empty polls \(consumer.emptyPolls.load(ordering: .relaxed))") }
        let tool = noDecode ? "citsci consume only" : "citsci consume+decode"
        if json {
            print("{\"tool\":\"\(tool)\",\"messages\":\(n),\"alerts\":\(alerts),\"failed\":\(failed),\"bytes\":\(bytes),\"seconds\":\(seconds),\"messages_per_s\":\(rate),\"mb_per_s\":\(mb)}")
        } else {
            print(String(format: "%@: %d messages (%d alerts, %d undecodable), %.1f MB in %.2f s: %.0f messages/s, %.1f MB/s",
                         tool, n, alerts, failed, Double(bytes) / 1e6, seconds, rate, mb))
        }
    }
}
