#!/usr/bin/env python3
"""`citsci run` end to end, as issue 8 asks: alerts produced to Kafka (Tansu) at a steady rate, the
service filtering, rendering, batching and pushing them to the fake Panoptes server, and for each
subject the time from produce to created at the server (and to joined its real subject set, when
volunteers can see it). The service's memory (RSS) is sampled every second all along.

Alerts are simulated Rubin alerts (`citsci simulate`), or with `--profile real-lsstcam` the real
LSSTCam packets of ../shared/data (each copy with its reliability drawn anew), each message one of
them with a new diaSourceId (the alert's id) so that every one of N messages is a new alert, framed
in the Confluent wire format (schema id 1).

Usage: run_end_to_end.py --citsci BIN --tansu BIN --count N --rate R [--filters DIR] [--profile lsstcam|real-lsstcam]
                         [--preload] [--broker-storage memory|s3-disk] [--json]
(benchmarks/run.sh builds citsci and passes the rest.)
"""
import argparse, io, json, os, shutil, signal, socket, sqlite3, struct, subprocess, sys, tempfile, threading, time
import urllib.request

import fastavro
from confluent_kafka import Producer

from harness import free_port, get, metric, post, real_lsstcam_records, simulated_records, start_tansu, wait_port

ap = argparse.ArgumentParser()
ap.add_argument("--citsci", required=True)
ap.add_argument("--tansu", required=True)
ap.add_argument("--count", type=int, default=20000)
ap.add_argument("--rate", type=float, default=500)
ap.add_argument("--base", type=int, default=2000, help="distinct simulated alerts re-encoded with new ids")
ap.add_argument("--filters", default=None, help="filter folder (default: one filter passing ~13%% of the stream; "
                "with an lsstcam profile, 25 filters passing ~5%% between them)")
ap.add_argument("--profile", default="light", choices=["light", "lsstcam", "real-lsstcam"],
                help="alerts: simulated light (~40 kB) or lsstcam (~320 kB), or the real LSSTCam packets (~230 kB)")
ap.add_argument("--set-size", type=int, default=50)
ap.add_argument("--queue", type=int, default=1000)
ap.add_argument("--queue-mb", type=int, default=256, help="the decoded queue's bound in MB (source.kafka.queue_mb)")
ap.add_argument("--properties", default="", help="librdkafka properties for the service, as YAML flow mapping entries")
ap.add_argument("--preload", action="store_true", help="produce everything first, then start the service: its throughput")
ap.add_argument("--broker-storage", default="memory", choices=["memory", "s3-disk"],
                help="Tansu's store: memory, or S3 on a local moto server spilling to disk (runs larger than RAM)")
ap.add_argument("--recent-alerts", type=int, default=None, help="the window of recent alerts the service keeps (its default when not given; 0: none)")
ap.add_argument("--compression", default="none", choices=["none", "gzip", "snappy", "lz4", "zstd"],
                help="the producer's compression.type: batches reach the broker and the service compressed")
ap.add_argument("--json", action="store_true")
args = ap.parse_args()
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
work = tempfile.mkdtemp(prefix="citsci-e2e-")
procs = []
held = []


def cpu_s(pid):
    """A process's CPU time so far (user + system, all threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def rss_kb(pid, field="VmRSS"):
    """A process's resident memory in kB: all of it (VmRSS), or its anonymous part (RssAnon: the
    heap) or the files it maps (RssFile)."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def stop():
    for p in reversed(procs):
        if p.poll() is None:
            p.kill()
            p.wait()


try:
    # Broker, fake Zooniverse, and the alerts to send.
    port = start_tansu(args.tansu, procs, storage=args.broker_storage, work=work)
    # The account's subject limit raised past the run (a new Zooniverse account has 10,000; the
    # service holds the rest with the reason, which is not what this measures).
    fake = subprocess.Popen([sys.executable, os.path.join(root, "Tests/Fixtures/fake_panoptes.py"), "--subject-limit", "10000000"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    procs.append(fake)
    panoptes = f"http://127.0.0.1:{int(fake.stdout.readline())}"
    if args.profile == "real-lsstcam":
        records, parsed = real_lsstcam_records(work, args.base)
    else:
        records, parsed = simulated_records(args.citsci, work, args.base, args.profile)
    large = args.profile != "light"

    filters = args.filters
    if not filters:
        filters = f"{work}/filters"
        os.makedirs(filters)
    if not args.filters and large:
        # 25 one-line filters, as PIs write them, each taking a slice of the reliability range:
        # ~5% of the stream between them.
        for k in range(25):
            lo, hi = 0.98 + 0.0008 * k, 0.98 + 0.0008 * (k + 1)
            with open(f"{filters}/slice{k:02d}.yaml", "w") as f:
                f.write(f'name: slice{k:02d}\ndescription: reliability slice {k}\nowner: bench@example.org\n'
                        f'expression: reliability >= {lo:.4f} AND reliability < {hi:.4f}\ndestination: {{project: "43", workflow: "47"}}\n'
                        'flipbook: {kind: triplet, size: 100}\n')
    elif not args.filters:
        with open(f"{filters}/bright.yaml", "w") as f:
            f.write('name: bright\ndescription: bright Rubin detections\nowner: bench@example.org\n'
                    'expression: magnitude < 21.3\ndestination: {project: "43", workflow: "47"}\n'
                    'flipbook: {kind: triplet, size: 100}\n')
    metrics_port = free_port()
    with open(f"{work}/citsci.yaml", "w") as f:
        f.write(f"""source:
  kafka:
    brokers: "127.0.0.1:{port}"
    topics: [alerts]
    group: bench
    from: earliest
    queue: {args.queue}
    queue_mb: {args.queue_mb}
    properties: {{{args.properties}}}
schemas: {{folder: {work}/schemas}}
filters: {filters}
state: {work}/citsci.sqlite
sink: {{folder: {work}/sink, max_set_size: {args.set_size}, max_set_age_hours: 0.01, light_curve: false}}
dead_letters: {{folder: {work}/dead}}
zooniverse: {{project: "43", workflow: "47", approved: true, push_every_minutes: 0.01, requests_per_second: 1000}}
classifications: {{pull_every_minutes: 600}}
metrics: {{listen: "127.0.0.1:{metrics_port}"}}
log: {{level: info}}
""" + (f"pipeline: {{recent_alerts: {args.recent_alerts}}}\n" if args.recent_alerts is not None else ""))
    env = dict(os.environ, PANOPTES_CLIENT_ID="test-client", PANOPTES_CLIENT_SECRET="test-secret",
               PANOPTES_ENDPOINT=panoptes, PANOPTES_USERNAME="", PANOPTES_TOKEN="")
    # Each base alert encoded once; a message is its body with the first field (diaSourceId, the
    # alert's id) replaced, so the producer's own cost stays small beside the service's.
    def zigzag(n):
        n = (n << 1) ^ (n >> 63)
        out = bytearray()
        while n > 0x7F:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
        return bytes(out)

    # diaSourceId is a nullable long: ["null", "long"] in citsci's schema, ["long", "null"] as Spark
    # writes it; its branch index comes first.
    first = parsed["fields"][0]
    assert first["name"] == "diaSourceId", "diaSourceId is the record's first field"
    branch = zigzag(first["type"].index("long"))
    bodies = []
    for r in records:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, r)
        body = buf.getvalue()
        head = branch + zigzag(r["diaSourceId"])
        assert body.startswith(head), "the body starts with diaSourceId's branch and value"
        bodies.append(body[len(head):])

    def start_service():
        global service, join_seconds, watcher, done, rss, t0, consumed_before_clock
        log = open(f"{work}/citsci.log", "w")
        service = subprocess.Popen([args.citsci, "run", "--config", f"{work}/citsci.yaml"], env=env, stdout=log, stderr=log)
        procs.append(service)
        wait_port(metrics_port, service, "citsci run")

        # Steady state, as a running service is: produce once the consumer has joined its group and
        # had a first fetch reply (its lag is then on /metrics).
        joined = time.time()
        while time.time() - joined < 120 and "citsci_consumer_lag{" not in get(f"http://127.0.0.1:{metrics_port}/metrics").decode():
            time.sleep(0.2)
        join_seconds = time.time() - joined
        # With the topic filled first the service may have read some before its lag showed: those
        # are not counted against the clock that starts now.
        consumed_before_clock = metric(get(f"http://127.0.0.1:{metrics_port}/metrics").decode(), "citsci_messages_total")

        done = threading.Event()
        rss = []  # (seconds since start, kB)
        held.clear()  # (anonymous kB, messages in flight): what the memory holds
        t0 = time.time()

        def watch():
            # Memory every second; volunteers finish every set at once (the gate holds new sets while
            # three are incomplete).
            while not done.is_set():
                rss.append((time.time() - t0, rss_kb(service.pid)))
                try:
                    m = get(f"http://127.0.0.1:{metrics_port}/metrics").decode()
                    held.append((rss_kb(service.pid, "RssAnon"), metric(m, "citsci_messages_in_flight")))
                except Exception:
                    pass
                try:
                    sets = json.loads(get(f"{panoptes}/__admin/sets"))
                    post(f"{panoptes}/__admin/config", {"completeness": {s: {"47": 1.0} for s in sets}})
                except Exception:
                    pass
                done.wait(1)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        return service

    def produce():
        global producer, sent, start, produce_seconds, produce_cpu0
        produce_cpu0 = time.process_time()
        # Produce at a steady rate; remember when each alert went.
        config = {"bootstrap.servers": f"127.0.0.1:{port}", "linger.ms": 5, "queue.buffering.max.kbytes": 1048576}
        if args.broker_storage == "s3-disk" or large:
            # A batch holds at most batch.size (1 MB by default: three LSSTCam-sized alerts), and Tansu
            # stores each batch whole (on S3, an object and its round trips): larger batches.
            config.update({"linger.ms": 50, "batch.size": 16 << 20, "message.max.bytes": 16 << 20})
        config["compression.type"] = args.compression
        producer = Producer(config)
        sent = {}
        start = time.time()
        for i in range(args.count):
            due = start + i / args.rate
            now = time.time()
            if due > now:
                time.sleep(due - now)
            new_id = 9_000_000_000_000 + i
            value = b"\x00" + struct.pack(">I", 1) + branch + zigzag(new_id) + bodies[i % len(bodies)]
            while True:
                try:
                    sent[str(new_id)] = time.time()
                    producer.produce("alerts", value, key=str(new_id).encode())
                    break
                except BufferError:  # the broker takes less than asked: the rate is what it takes
                    producer.poll(0.05)
            producer.poll(0)
        producer.flush()
        produce_seconds = time.time() - start

    if args.preload:
        # Throughput: the whole load waits in the topic before the service starts; the clock runs
        # from its group join to the last subject durable and linked.
        produce()
        start_service()
        start = time.time()
    else:
        start_service()
        produce()

    # Drain: every message consumed, every subject the service made is at the server and in its set.
    db = sqlite3.connect(f"file:{work}/citsci.sqlite?mode=ro", uri=True, timeout=30)
    deadline = time.time() + 600
    progress = []
    all_consumed = None  # when the last message was taken (this loop's 1 s resolution)
    while time.time() < deadline:
        m = get(f"http://127.0.0.1:{metrics_port}/metrics").decode()
        consumed = metric(m, "citsci_messages_total")
        pauses = metric(m, "citsci_consumer_pauses")
        made = db.execute("SELECT COUNT(*) FROM sink_subjects").fetchone()[0]
        linked = db.execute("SELECT COUNT(*) FROM subjects WHERE state = 'linked'").fetchone()[0]
        progress.append((round(time.time() - start), consumed, made, linked))
        if all_consumed is None and consumed >= args.count:
            all_consumed = time.time() - start
        if consumed >= args.count and made > 0 and linked == made:
            break
        time.sleep(1)
    drained = time.time() - start
    alerts_per_s = (args.count - consumed_before_clock) / drained
    # Where the two cores went: the service's CPU time over the run and, beside it on the same
    # cores, the broker's (and its S3 server's), the fake Zooniverse's and this producer's.
    cpu_seconds = cpu_s(service.pid)
    beside = {"broker": sum(cpu_s(p.pid) for p in procs if p is not service and p is not fake),
              "fake_panoptes": cpu_s(fake.pid), "producer_and_harness": time.process_time() - produce_cpu0}
    done.set()
    watcher.join()
    service.send_signal(signal.SIGTERM)
    service.wait(60)

    state = json.loads(get(f"{panoptes}/__admin/state"))
    times = json.loads(get(f"{panoptes}/__admin/times"))
    staging = {sid for sid, s in state["subject_sets"].items() if s.get("display_name") == "citsci-staging"}
    created, visible = [], []
    for sid, subj in state["subjects"].items():
        alert = subj["metadata"].get("#alert_id")
        if alert not in sent or sid not in times:
            continue
        created.append(times[sid]["created"] - sent[alert])
        joined = [t for s, t in times[sid]["sets"].items() if s not in staging]
        if joined:
            visible.append(min(joined) - sent[alert])

    # Durable: the subject's row in the sink's ledger (its PNGs and manifest line written and synced
    # first), from produce: what the service itself controls, before batching into sets.
    durable, last_durable = [], None
    for external_id, created_at in db.execute("SELECT external_id, created_at FROM sink_subjects"):
        alert = next((part for part in str(external_id).replace("-", "_").split("_") if part in sent), None)
        if alert is not None:
            durable.append(created_at - sent[alert])
            last_durable = max(last_durable or 0, created_at - start)

    def pct(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")

    rss_mb = [kb / 1024 for _, kb in rss if kb]

    def tenths(xs):
        k = len(xs)
        return [round(max(xs[int(k * i / 10):max(int(k * i / 10) + 1, int(k * (i + 1) / 10))]), 1) for i in range(10)] if k else []
    n = len(rss_mb)
    out = {
        "alerts": args.count, "preload": args.preload, "rate": args.rate, "queue": args.queue, "queue_mb": args.queue_mb, "group_join_s": round(join_seconds, 1), "consumed_before_clock": int(consumed_before_clock), "produce_seconds": round(produce_seconds, 1),
        "drained_seconds": round(drained, 1), "alerts_per_s": round(alerts_per_s, 1),
        # The service's own pace, beside alerts_per_s (which also waits for the last partial sets to
        # reach their age and be linked): when the last message was taken and the last subject durable.
        "all_consumed_s": round(all_consumed, 1) if all_consumed is not None else None,
        "all_durable_s": round(last_durable, 1) if last_durable is not None else None,
        "service_cpu_s": round(cpu_seconds, 1),
        "cpu_s_beside": {k: round(v, 1) for k, v in beside.items()}, "consumer_pauses": int(pauses), "subjects": len(created), "visible": len(visible),
        "durable_p50_s": round(pct(durable, 50), 3), "durable_p99_s": round(pct(durable, 99), 3), "durable_matched": len(durable),
        "created_p50_s": round(pct(created, 50), 2), "created_p99_s": round(pct(created, 99), 2),
        "visible_p50_s": round(pct(visible, 50), 2), "visible_p99_s": round(pct(visible, 99), 2),
        "rss_peak_mb": round(max(rss_mb), 1) if rss_mb else None,
        "rss_at_10_50_90_100pct_mb": [round(rss_mb[min(n - 1, int(n * f))], 1) for f in (0.1, 0.5, 0.9, 1.0)] if n else [],
        # Memory over the run: the largest RSS in each tenth of it (flat means bounded, not growing).
        "rss_peak_per_tenth_mb": tenths(rss_mb),
        # The heap and the messages taken and not yet done, per tenth of the run (largest): memory that
        # follows the messages held is the bounded queue, not a leak.
        "rss_anon_peak_per_tenth_mb": tenths([kb / 1024 for kb, _ in held]),
        "in_flight_peak_per_tenth": tenths([n for _, n in held]),
        "dead_letters": len(os.listdir(f"{work}/dead")) if os.path.isdir(f"{work}/dead") else 0,
    }
    out["progress_every_5s"] = progress[::5]
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v}")
finally:
    stop()
    shutil.rmtree(work, ignore_errors=True)
