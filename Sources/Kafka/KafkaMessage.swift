/// A Kafka record header.
package struct KafkaHeader: Sendable, Equatable {
    package var name: String
    package var value: [UInt8]?
    package init(_ name: String, _ value: [UInt8]?) {
        self.name = name
        self.value = value
    }
    package init(_ name: String, _ text: String) { self.init(name, Array(text.utf8)) }
}

/// A message read from Kafka, with where it came from.
package struct KafkaMessage: Sendable {
    package let topic: String
    package let partition: Int32
    package let offset: Int64
    package let key: [UInt8]?
    package let value: [UInt8]
    package let headers: [KafkaHeader]
    /// Milliseconds since the Unix epoch, when the broker gives one.
    package let timestamp: Int64?

    package init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
                headers: [KafkaHeader], timestamp: Int64?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// "topic[partition]@offset", for messages and errors.
    package var position: String { "\(topic)[\(partition)]@\(offset)" }
    package var trackedPartition: OffsetTracker.Partition { .init(topic: topic, partition: partition) }
}

/// A message to produce.
package struct ProducerRecord: Sendable {
    package var topic: String
    /// nil lets librdkafka's partitioner choose (by key when there is one).
    package var partition: Int32?
    package var key: [UInt8]?
    package var value: [UInt8]
    package var headers: [KafkaHeader]
    package var timestamp: Int64?

    package init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8],
                headers: [KafkaHeader] = [], timestamp: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// Where the broker stored a produced message.
package struct DeliveryReport: Sendable, Equatable {
    package let topic: String
    package let partition: Int32
    package let offset: Int64
}

/// Where a consumer starts reading a partition the first time this process is given it.
package enum StartPosition: Sendable, Equatable {
    /// The group's committed offset; where there is none, the earliest (`auto.offset.reset`).
    case committed
    /// The first message still held, whatever the group committed (replay everything).
    case earliest
    /// Only messages produced from now on.
    case latest
    /// The first message at or after this time (milliseconds since the Unix epoch): replay a night.
    case timestamp(Int64)
}
