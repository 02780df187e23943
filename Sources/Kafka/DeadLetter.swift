import Avro
import Foundation

/// A message that could not be used, with the reason: kept whole, never dropped.
package struct DeadLetter: Sendable {
    package var message: KafkaMessage
    package var kind: String
    package var reason: String

    package init(message: KafkaMessage, kind: String, reason: String) {
        self.message = message
        self.kind = kind
        self.reason = reason
    }

    /// The headers that explain a dead letter: the error and where the message came from.
    package var explanation: [KafkaHeader] {
        [KafkaHeader("citsci.error.kind", kind), KafkaHeader("citsci.error", reason),
         KafkaHeader("citsci.source.topic", message.topic), KafkaHeader("citsci.source.partition", String(message.partition)),
         KafkaHeader("citsci.source.offset", String(message.offset))]
    }
}

/// Where dead letters go. `store` returns once the dead letter is durable, so the source offset
/// may then be committed.
package protocol DeadLetterSink: Sendable {
    func store(_ letter: DeadLetter) async throws
}

/// Dead letters to a Kafka topic: the original key, value and headers, plus the explanation headers.
package struct DeadLetterTopic: DeadLetterSink {
    package let producer: KafkaProducer
    package let topic: String

    package init(producer: KafkaProducer, topic: String) {
        self.producer = producer
        self.topic = topic
    }

    package func store(_ letter: DeadLetter) async throws {
        _ = try await producer.send(ProducerRecord(topic: topic, key: letter.message.key, value: letter.message.value,
                                                   headers: letter.message.headers + letter.explanation))
    }
}

/// Dead letters to a folder (the file sink's companion): `<topic>-<partition>-<offset>.bin` holds the
/// original bytes and `.json` beside it the reason and the source; written then renamed into place.
package struct DeadLetterFolder: DeadLetterSink {
    package let url: URL

    package init(path: String) throws {
        url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    package func store(_ letter: DeadLetter) async throws {
        let m = letter.message
        let base = "\(m.topic)-\(m.partition)-\(m.offset)".replacingOccurrences(of: "/", with: "_")
        var info = "{"
        for (i, h) in letter.explanation.enumerated() {
            if i > 0 { info += "," }
            JSONText.appendString(h.name, to: &info)
            info += ":"
            JSONText.appendString(String(decoding: h.value ?? [], as: UTF8.self), to: &info)
        }
        info += ",\"citsci.bytes\":\(m.value.count)}\n"
        try write(Data(m.value), to: base + ".bin")
        try write(Data(info.utf8), to: base + ".json")
    }

    private func write(_ data: Data, to name: String) throws {
        let final = url.appendingPathComponent(name)
        let temporary = url.appendingPathComponent(".\(name).tmp")
        try data.write(to: temporary)
        guard rename(temporary.path, final.path) == 0 else {  // atomic: a reader never sees half a file
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: final.path])
        }
    }
}
