#!/usr/bin/env python3
"""The Python baseline for `citsci bench consume`: confluent-kafka consuming the topic from the
beginning and fastavro decoding each message (a container file, as ZTF sends them) to dicts. Every
partition is assigned, no group joined (as kcat -C and `citsci bench consume` read). The clock runs
from the first message to the last; benchmarks/kafka.sh also times the whole process.

Usage: python3 benchmarks/consume_confluent.py --brokers HOST:PORT --topic T --count N [--json]
"""
import argparse, io, json, time, uuid
import fastavro
from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

ap = argparse.ArgumentParser()
ap.add_argument("--brokers", required=True)
ap.add_argument("--topic", required=True)
ap.add_argument("--count", type=int, required=True)
ap.add_argument("--json", action="store_true")
args = ap.parse_args()
c = Consumer({"bootstrap.servers": args.brokers, "group.id": f"py-bench-{uuid.uuid4()}", "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "session.timeout.ms": 3000, "heartbeat.interval.ms": 500,
              "max.poll.interval.ms": 10000})
partitions = c.list_topics(args.topic, timeout=10).topics[args.topic].partitions
c.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in partitions])
n = nbytes = alerts = 0
first = None
while n < args.count:
    m = c.poll(1.0)
    if m is None or m.error():
        continue
    if first is None:
        first = time.perf_counter()
    v = m.value()
    n += 1
    nbytes += len(v)
    for rec in fastavro.reader(io.BytesIO(v)):
        alerts += 1
elapsed = time.perf_counter() - first
c.close()
out = {"tool": "confluent-kafka + fastavro", "messages": n, "alerts": alerts, "bytes": nbytes, "seconds": elapsed,
       "messages_per_s": n / elapsed, "mb_per_s": nbytes / elapsed / 1e6}
print(json.dumps(out) if args.json else f"{out['tool']}: {n} messages, {alerts} alerts in {elapsed:.2f} s: {out['messages_per_s']:.0f} messages/s, {out['mb_per_s']:.1f} MB/s")
