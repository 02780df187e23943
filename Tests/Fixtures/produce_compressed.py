#!/usr/bin/env python3
"""Produces files to a Kafka topic as a broker upstream of citsci would, with confluent-kafka and a
compression codec, so that the consumer is tested against batches it did not write itself.
Each file becomes one message, keyed by its path as given; all go in one producer batch where they fit.
Prints the number of messages delivered; exits 1 when any delivery fails.

Usage: produce_compressed.py --brokers H:P --topic T --codec gzip|snappy|lz4|zstd FILE..."""
import argparse, sys
from confluent_kafka import Producer

ap = argparse.ArgumentParser()
ap.add_argument("--brokers", required=True)
ap.add_argument("--topic", required=True)
ap.add_argument("--codec", required=True, choices=["gzip", "snappy", "lz4", "zstd"])
ap.add_argument("files", nargs="+")
args = ap.parse_args()
failures = []
p = Producer({"bootstrap.servers": args.brokers, "compression.type": args.codec, "linger.ms": 200,
              "batch.size": 16 << 20, "message.max.bytes": 16 << 20})


def delivered(err, msg):
    if err is not None:
        failures.append(f"{msg.key()!r}: {err}")


for path in args.files:
    with open(path, "rb") as f:
        p.produce(args.topic, f.read(), key=path.encode(), on_delivery=delivered)
left = p.flush(60)
if failures or left:
    print(f"delivery failed: {failures}, {left} not delivered", file=sys.stderr)
    sys.exit(1)
print(len(args.files))
