// Module Kafka. Kafka through librdkafka (wrapped once): a consumer as an `AsyncSequence` that commits an offset
// only when every earlier message is done, a producer, dead letters, the ingest loop, and
// librdkafka's in-process mock cluster for tests.
// Which modules it may import: docs/ARCHITECTURE.md.
