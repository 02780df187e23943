// Module Classifications. Classifications back: exports and API pulls, aggregation per subject, SWAP, retirement rules,
// Caesar's reductions, and the result records published to Kafka.
// Which modules it may import: docs/ARCHITECTURE.md.
