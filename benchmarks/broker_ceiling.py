#!/usr/bin/env python3
"""What the test broker takes on this machine with nothing else running: N messages of a given size
produced to Tansu (in-memory store, 4 partitions) at a steady rate, with the settings
run_end_to_end.py uses for LSSTCam-sized alerts (16 MB batches, 50 ms linger, 1 GB queue). Prints
the rate held, how often the producer's queue was full, and the broker's CPU time as it grows, so
that an end-to-end run's ceiling can be told apart from the service's.

Usage: broker_ceiling.py --tansu BIN [--count 30000] [--rate 1000] [--size 235000]
"""
import argparse, os, sys, tempfile, time

from confluent_kafka import Producer

from harness import start_tansu

ap = argparse.ArgumentParser()
ap.add_argument("--tansu", required=True)
ap.add_argument("--count", type=int, default=30000)
ap.add_argument("--rate", type=float, default=1000)
ap.add_argument("--size", type=int, default=235000, help="message bytes (real LSSTCam alerts: 120-310 kB, ~230 kB on average)")
args = ap.parse_args()


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


procs = []
try:
    port = start_tansu(args.tansu, procs, work=tempfile.mkdtemp(prefix="citsci-broker-"))
    broker = procs[-1]
    producer = Producer({"bootstrap.servers": f"127.0.0.1:{port}", "linger.ms": 50, "queue.buffering.max.kbytes": 1048576,
                         "batch.size": 16 << 20, "message.max.bytes": 16 << 20})
    bodies = [os.urandom(args.size) for _ in range(50)]
    cpu0, start, full, marks = cpu_s(broker.pid), time.time(), 0, []
    step = max(1, args.count // 6)
    for i in range(args.count):
        due = start + i / args.rate
        if due > time.time():
            time.sleep(due - time.time())
        while True:
            try:
                producer.produce("alerts", bodies[i % len(bodies)], key=str(i).encode())
                break
            except BufferError:
                full += 1
                producer.poll(0.05)
        producer.poll(0)
        if (i + 1) % step == 0:
            marks.append(f"{i + 1}: {time.time() - start:.1f} s, broker {cpu_s(broker.pid) - cpu0:.1f} CPU-s")
    producer.flush()
    elapsed = time.time() - start
    print(f"{args.count} messages of {args.size} B asked at {args.rate:.0f}/s: {args.count / elapsed:.0f}/s held over {elapsed:.1f} s; "
          f"producer queue full {full} times; broker {cpu_s(broker.pid) - cpu0:.1f} CPU-s "
          f"({(cpu_s(broker.pid) - cpu0) / args.count * 1000:.2f} ms a message)")
    print("as it went:", "; ".join(marks))
finally:
    for p in procs:
        p.kill()
