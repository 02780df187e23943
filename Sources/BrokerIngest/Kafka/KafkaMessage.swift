/// A Kafka record header.
public struct KafkaHeader: Sendable, Equatable {
    public var name: String
    public var value: [UInt8]?
    public init(_ name: String, _ value: [UInt8]?) {
        self.name = name
        self.value = value
    }
    public init(_ name: String, _ text: String) { self.init(name, Array(text.utf8)) }
}

/// A message read from Kafka, with where it came from.
public struct KafkaMessage: Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]?
    public let value: [UInt8]
    public let headers: [KafkaHeader]
    /// Milliseconds since the Unix epoch, when the broker gives one.
    public let timestamp: Int64?

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
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
    public var position: String { "\(topic)[\(partition)]@\(offset)" }
    public var trackedPartition: OffsetTracker.Partition { .init(topic: topic, partition: partition) }
}

/// A message to produce.
public struct ProducerRecord: Sendable {
    public var topic: String
    /// nil lets librdkafka's partitioner choose (by key when there is one).
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    public var timestamp: Int64?

    public init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8],
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
public struct DeliveryReport: Sendable, Equatable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
}

/// Where a consumer starts reading a partition the first time this process is given it.
public enum StartPosition: Sendable, Equatable {
    /// The group's committed offset; where there is none, the earliest (`auto.offset.reset`).
    case committed
    /// The first message still held, whatever the group committed (replay everything).
    case earliest
    /// Only messages produced from now on.
    case latest
    /// The first message at or after this time (milliseconds since the Unix epoch): replay a night.
    case timestamp(Int64)
}
