import CRdKafka

/// A Kafka failure with librdkafka's code and reason, and where it happened when known.
package struct KafkaError: Error, CustomStringConvertible, Sendable {
    package let code: Int32
    package let reason: String
    package var topic: String?
    package var partition: Int32?
    package var offset: Int64?

    package init(code: Int32, reason: String, topic: String? = nil, partition: Int32? = nil, offset: Int64? = nil) {
        self.code = code
        self.reason = reason
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    init(_ err: rd_kafka_resp_err_t, _ context: String, topic: String? = nil, partition: Int32? = nil, offset: Int64? = nil) {
        self.init(code: err.rawValue, reason: "\(context): \(String(cString: rd_kafka_err2str(err)))",
                  topic: topic, partition: partition, offset: offset)
    }

    package var description: String {
        var place = ""
        if let topic { place = topic }
        if let partition { place += "[\(partition)]" }
        if let offset { place += "@\(offset)" }
        return place.isEmpty ? reason : "\(place): \(reason)"
    }
}
