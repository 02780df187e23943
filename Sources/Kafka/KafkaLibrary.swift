import CRdKafka

/// Facts about the linked librdkafka (the consumer and producer arrive with issue 3).
package enum KafkaLibrary {
    package static var version: String { String(cString: rd_kafka_version_str()) }

    /// librdkafka before 2.2 cannot read the ApiVersions v3 reply of newer brokers such as Tansu.
    package static var isRecentEnough: Bool { rd_kafka_version() >= 0x0202_0000 }
}
