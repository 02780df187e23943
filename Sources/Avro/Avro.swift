// Module Avro. Avro: schemas, schema resolution (with the narrowings brokers' re-serialisations need), binary
// validation, container files, decoding through Avro C (the one wrapper of it) and encoding.
// Which modules it may import: docs/ARCHITECTURE.md.
