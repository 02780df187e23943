import Basics
import Logging
import CRdKafka

/// librdkafka configuration: any property passes through (security.protocol, sasl.mechanisms,
/// sasl.username, ssl.ca.location, session.timeout.ms, ...), so Rubin's SASL_SSL/SCRAM works as-is.
struct RdKafkaConf {
    static func make(_ properties: [(String, String)]) throws(KafkaError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        // librdkafka's own lines go through swift-log (the service's format, the redaction step), not
        // straight to stderr.
        rd_kafka_conf_set_log_cb(conf) { _, level, facility, text in
            KafkaLog.emit(level: level, facility: facility.map { String(cString: $0) } ?? "",
                          text: text.map { String(cString: $0) } ?? "")
        }
        var errstr = [CChar](repeating: 0, count: 512)
        for (name, value) in properties {
            if rd_kafka_conf_set(conf, name, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError(code: -1, reason: "configuration property \(name): \(reason)")
            }
        }
        return conf
    }

    static func errorText(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Settings for a consumer.
package struct KafkaConsumerConfiguration: Sendable {
    /// `host:port[,host:port]`.
    package var brokers: String
    package var groupID: String
    /// Topic names; a name starting with `^` is a regular expression.
    package var topics: [String]
    package var start: StartPosition
    /// Any librdkafka property; citsci's own offset handling (`enable.auto.commit`,
    /// `enable.auto.offset.store`) cannot be overridden.
    package var properties: [String: String]
    /// How often done offsets are committed while consuming (and always on revoke and close).
    package var commitInterval: Duration
    /// Reads every partition of `topics` (names, not patterns) itself instead of joining the group:
    /// no wait for a rebalance (1.5-24 s on Tansu), nothing shared with other members. For benchmarks
    /// and one-off reads; a service in a group leaves it false.
    package var readsAllPartitions = false

    package init(brokers: String, groupID: String, topics: [String], start: StartPosition = .committed,
                properties: [String: String] = [:], commitInterval: Duration = .milliseconds(500)) {
        self.brokers = brokers
        self.groupID = groupID
        self.topics = topics
        self.start = start
        self.properties = properties
        self.commitInterval = commitInterval
    }

    /// Short group timeouts for tests against Tansu, whose JoinGroup waits about half the session timeout.
    package static let fastRebalance: [String: String] = [
        "session.timeout.ms": "3000", "heartbeat.interval.ms": "500", "max.poll.interval.ms": "10000",
    ]
}

/// Settings for a producer.
package struct KafkaProducerConfiguration: Sendable {
    package var brokers: String
    /// Any librdkafka property. Idempotence is on unless set here to "false".
    package var properties: [String: String]

    package init(brokers: String, properties: [String: String] = [:]) {
        self.brokers = brokers
        self.properties = properties
    }
}

/// librdkafka's log lines (syslog levels) as swift-log events under the label `librdkafka`.
enum KafkaLog {
    static func emit(level: Int32, facility: String, text: String) {
        let mapped: Logger.Level = switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
        Logger(label: "librdkafka").log(level: mapped, "\(Redaction.current.apply(text))", metadata: ["facility": "\(facility)"])
    }
}
