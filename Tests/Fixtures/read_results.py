#!/usr/bin/env python3
"""Reads citsci's classification results from a Kafka topic as a downstream consumer would, with
confluent-kafka and fastavro and nothing of citsci but schemas/classification-result.avsc: each
message must be the Confluent wire format (byte 0, 4-byte big-endian schema id, Avro binary).
Prints one JSON object per message: {"key", "schema_id", "record"}; exits 1 on a malformed one.

Usage: read_results.py --brokers H:P --topic T --count N --schema schemas/classification-result.avsc"""
import argparse, io, json, struct, sys, time, uuid
import fastavro
from confluent_kafka import Consumer

ap = argparse.ArgumentParser()
ap.add_argument("--brokers", required=True)
ap.add_argument("--topic", required=True)
ap.add_argument("--count", type=int, required=True)
ap.add_argument("--schema", required=True)
ap.add_argument("--timeout", type=float, default=60)
args = ap.parse_args()
schema = fastavro.parse_schema(json.load(open(args.schema)))
c = Consumer({"bootstrap.servers": args.brokers, "group.id": f"results-{uuid.uuid4()}", "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
c.subscribe([args.topic])
seen, deadline = 0, time.time() + args.timeout
while seen < args.count and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    value = m.value()
    if len(value) < 5 or value[0] != 0:
        print(f"not the Confluent wire format: {value[:8]!r}", file=sys.stderr)
        sys.exit(1)
    schema_id = struct.unpack(">I", value[1:5])[0]
    buf = io.BytesIO(value[5:])
    record = fastavro.schemaless_reader(buf, schema)
    if buf.read():
        print("bytes left after the record", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"key": m.key().decode(), "schema_id": schema_id, "record": record}, default=str), flush=True)
    seen += 1
c.close()
sys.exit(0 if seen >= args.count else 2)
