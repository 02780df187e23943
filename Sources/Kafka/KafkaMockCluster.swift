import CRdKafka

/// librdkafka's in-process mock cluster: Kafka brokers on loopback inside this process, speaking
/// the real protocol to real librdkafka clients. Tests of the consumer's own logic (commit order,
/// pause and resume, rebalances) run against it in seconds, with no broker to start.
package final class KafkaMockCluster: @unchecked Sendable {
    // @unchecked: the handles are set at init and freed at deinit only.
    private let owner: OpaquePointer
    private let cluster: OpaquePointer
    /// The brokers' addresses, for `bootstrap.servers`.
    package let bootstrap: String

    package init(brokers: Int = 1) throws(KafkaError) {
        let conf = rd_kafka_conf_new()
        var errstr = [CChar](repeating: 0, count: 512)
        // A producer handle only owns the cluster: it never sends.
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            throw KafkaError(code: -1, reason: "mock cluster: \(RdKafkaConf.errorText(errstr))")
        }
        guard let cluster = rd_kafka_mock_cluster_new(handle, Int32(brokers)) else {
            rd_kafka_destroy(handle)
            throw KafkaError(code: -1, reason: "mock cluster: librdkafka could not start \(brokers) mock brokers")
        }
        // A group's first rebalance starts at once (brokers wait 3 s by default for more members).
        rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, 0)
        owner = handle
        self.cluster = cluster
        bootstrap = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    /// Creates a topic (topics are also made on first use, with the cluster's default partitions).
    package func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "mock cluster: create topic", topic: name) }
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }
}
