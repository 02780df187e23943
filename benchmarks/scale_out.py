#!/usr/bin/env python3
"""Scale-out: alerts/s of one `citsci run` pinned to one core against two instances, each pinned to
its own core, in one consumer group on a 4-partition topic (Tansu), sharing one PostgreSQL state
store (Debian's server, fsync on, as in production). The same preloaded load for both; the clock
runs from the group join to the last alert recorded in the store. With 4 cores or more the broker and
PostgreSQL are pinned to cores 2 and up; on a 2-core machine they share the instances' cores, more so
with two.

Usage: benchmarks/scale_out.py --citsci BIN --tansu BIN [--count N] [--profile light|lsstcam] [--compression zstd] [--statements] [--json]

Each run also reports the cores the broker and PostgreSQL kept busy, and with --statements the
PostgreSQL statements per alert (pg_stat_statements): what a second instance has to share.
"""
import argparse, glob, io, json, os, shutil, signal, socket, struct, subprocess, sys, tempfile, time, urllib.request

import fastavro
from confluent_kafka import Producer

from harness import free_port, get as get_bytes, metric, simulated_records, start_tansu, wait_port


def get(url):
    return get_bytes(url).decode()


ap = argparse.ArgumentParser()
ap.add_argument("--citsci", required=True)
ap.add_argument("--tansu", required=True)
ap.add_argument("--count", type=int, default=6000)
ap.add_argument("--profile", default="light", choices=["light", "lsstcam"])
ap.add_argument("--base", type=int, default=500, help="distinct simulated alerts re-encoded with new ids")
ap.add_argument("--compression", default="none", choices=["none", "gzip", "snappy", "lz4", "zstd"],
                help="the producer's compression.type (with zstd the broker serves batches for a tenth of the CPU)")
ap.add_argument("--statements", action="store_true", help="report PostgreSQL's statements per alert (pg_stat_statements)")
ap.add_argument("--progress", action="store_true", help="print the alerts recorded every 5 s (stderr)")
ap.add_argument("--json", action="store_true")
args = ap.parse_args()
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
work = tempfile.mkdtemp(prefix="citsci-scale-")
os.chmod(work, 0o755)
procs = []
as_root = os.geteuid() == 0


def as_server_user(cmd):
    return ["runuser", "-u", "postgres", "--"] + cmd if as_root else cmd


try:
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not versions:
        sys.exit("benchmarks/scale_out.py: needs PostgreSQL (scripts/bootstrap installs it)")
    pgbin = os.path.dirname(versions[-1])
    os.makedirs(f"{work}/pg")
    if as_root:
        shutil.chown(f"{work}/pg", "postgres", "postgres")
    subprocess.run(as_server_user([f"{pgbin}/initdb", "-D", f"{work}/pg/data", "-A", "trust", "-U", "citsci", "-E", "UTF8"]),
                   check=True, stdout=subprocess.DEVNULL)
    pgport = free_port()
    preload = ["-c", "shared_preload_libraries=pg_stat_statements"] if args.statements else []
    pg = subprocess.Popen(as_server_user([f"{pgbin}/postgres", "-D", f"{work}/pg/data", "-p", str(pgport), "-k", f"{work}/pg",
                                          "-h", "127.0.0.1"] + preload), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(pg)
    wait_port(pgport, pg, "postgres", 60)
    for _ in range(100):
        if subprocess.run([f"{pgbin}/pg_isready", "-h", "127.0.0.1", "-p", str(pgport)], stdout=subprocess.DEVNULL).returncode == 0:
            break
        time.sleep(0.1)

    def psql(db, sql):
        return subprocess.run([f"{pgbin}/psql", "-h", "127.0.0.1", "-p", str(pgport), "-U", "citsci", "-d", db, "-tAc", sql],
                              check=True, capture_output=True, text=True).stdout.strip()

    port = start_tansu(args.tansu, procs)
    broker = procs[-1]
    # With cores to spare, PostgreSQL and the broker get their own (the set-up: each instance
    # on one core, what they share elsewhere); on two cores they share the instances' cores.
    cores = os.cpu_count() or 1
    infra_cores = f"2-{cores - 1}" if cores >= 4 else "shared with the instances"
    if cores >= 4:
        with open(f"{work}/pg/data/postmaster.pid") as f:
            postmaster = f.readline().strip()
        # The postmaster and the processes it has started (backends forked later inherit its
        # affinity), the broker: every thread of each.
        children = []
        for d in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{d}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[1] == postmaster:
                        children.append(d)
            except OSError:
                pass
        for pid in [postmaster, str(broker.pid)] + children:
            subprocess.run(["taskset", "-a", "-p", "-c", infra_cores, pid], check=True, stdout=subprocess.DEVNULL)

    def cpu_seconds(pids, children=False):
        """CPU time (user + system) of these processes, and with children= of their reaped children."""
        total = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
        return total / os.sysconf("SC_CLK_TCK")

    def postgres_cpu():
        """The PostgreSQL server's CPU: the postmaster, its live backends and the ones it has reaped."""
        with open(f"{work}/pg/data/postmaster.pid") as f:
            postmaster = int(f.readline())
        live = [int(d) for d in os.listdir("/proc") if d.isdigit() and _parent(int(d)) == postmaster]
        return cpu_seconds([postmaster], children=True) + cpu_seconds(live)

    def _parent(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return int(f.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError):
            return -1

    # The load: simulated alerts re-encoded with new ids, Confluent-framed, preloaded.
    records, parsed = simulated_records(args.citsci, work, args.base, args.profile)
    id_field = "diaSourceId" if "diaSourceId" in records[0] else "alertId"
    producer = Producer({"bootstrap.servers": f"127.0.0.1:{port}", "linger.ms": 5, "queue.buffering.max.kbytes": 1048576,
                         "compression.type": args.compression})
    for i in range(args.count):
        r = dict(records[i % len(records)])
        r[id_field] = 9_000_000_000_000 + i
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, r)
        while True:
            try:
                producer.produce("alerts", b"\x00" + struct.pack(">I", 1) + buf.getvalue(), key=str(i).encode())
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush()
    del producer  # its threads would complain about the broker going away at the end

    # Filters as a PI writes them: about half the stream matches, each match drawn as a triplet (the
    # service's work, not the broker's).
    os.makedirs(f"{work}/filters")
    for k, (workflow, expression) in enumerate([("47", "snr > 5"), ("48", "magnitude < 21"), ("47", "band = 'g'")]):
        with open(f"{work}/filters/f{k}.yaml", "w") as f:
            f.write(f'name: f{k}\ndescription: scale-out filter {k}\nowner: bench@example.org\nexpression: {expression}\n'
                    f'destination: {{project: "43", workflow: "{workflow}"}}\nflipbook: {{kind: triplet, size: 100}}\n')

    def ordered_stage(metrics_port):
        """Seconds the instance's ordered stage has run and its batches, from its /metrics."""
        text = get(f"http://127.0.0.1:{metrics_port}/metrics")
        return (metric(text, 'citsci_stage_seconds_sum{stage="render_and_batch"}'),
                metric(text, 'citsci_stage_seconds_count{stage="render_and_batch"}'))

    def run(instances):
        db = f"scale{instances}"
        subprocess.run([f"{pgbin}/createdb", "-h", "127.0.0.1", "-p", str(pgport), "-U", "citsci", db], check=True)
        if args.statements:
            psql(db, "CREATE EXTENSION pg_stat_statements")
        url = f"postgresql://citsci@127.0.0.1:{pgport}/{db}"
        services, metrics = [], []
        for i in range(instances):
            mport = free_port()
            metrics.append(mport)
            with open(f"{work}/citsci-{db}-{i}.yaml", "w") as f:
                f.write(f"""source:
  kafka: {{brokers: "127.0.0.1:{port}", topics: [alerts], group: {db}, from: earliest}}
schemas: {{folder: {work}/schemas}}
filters: {work}/filters
state: {url}
sink: {{folder: {work}/sink-{db}, max_set_size: 1000, light_curve: false}}
dead_letters: {{folder: {work}/dead-{db}}}
metrics: {{listen: "127.0.0.1:{mport}"}}
log: {{level: warning}}
""")
            log = open(f"{work}/{db}-{i}.log", "w")
            p = subprocess.Popen(["taskset", "-c", str(i), args.citsci, "run", "--config", f"{work}/citsci-{db}-{i}.yaml"],
                                 stdout=log, stderr=log)
            procs.append(p)
            services.append(p)
        for p, mport in zip(services, metrics):
            wait_port(mport, p, "citsci run", 60)
        # Every instance in the group with its partitions (its lag on /metrics), then the clock.
        deadline = time.time() + 120
        while time.time() < deadline and not all("citsci_consumer_lag{" in get(f"http://127.0.0.1:{m}/metrics") for m in metrics):
            time.sleep(0.2)
        start = time.time()
        infra_before = (cpu_seconds([broker.pid]), postgres_cpu())
        instances_before = [cpu_seconds([p.pid]) for p in services]
        stage_before = [ordered_stage(m) for m in metrics]
        if args.statements:
            psql(db, "SELECT pg_stat_statements_reset()")
        recorded = 0
        while time.time() < start + 900:
            recorded = int(psql(db, "SELECT COUNT(*) FROM alerts"))
            if recorded >= args.count:
                break
            if args.progress and int(time.time() - start) // 5 != int(time.time() - start - 0.5) // 5:
                print(f"{instances} instance(s), {time.time() - start:5.1f} s: {recorded} alerts", file=sys.stderr)
            time.sleep(0.5)
        seconds = time.time() - start
        broker_busy = round((cpu_seconds([broker.pid]) - infra_before[0]) / seconds, 2)
        postgres_busy = round((postgres_cpu() - infra_before[1]) / seconds, 2)
        statements = []
        if args.statements:
            # One line per statement whatever the length of its VALUES lists.
            shape = r"regexp_replace(regexp_replace(query, '\s+', ' ', 'g'), '\(\$[0-9]+(, \$[0-9]+)*\)(, \(\$[0-9]+(, \$[0-9]+)*\))*', '(…)', 'g')"
            rows = psql(db, f"SELECT sum(calls), round(sum(total_exec_time)::numeric, 1), left({shape}, 120) AS q "
                            "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                            f"WHERE d.datname = '{db}' GROUP BY q ORDER BY 2 DESC LIMIT 15")
            for row in rows.splitlines():
                calls, ms, query = row.split("|", 2)
                statements.append({"per_alert": round(int(calls) / args.count, 3), "ms": float(ms), "query": query})
        shares = [metric(get(f"http://127.0.0.1:{m}/metrics"), "citsci_messages_total") for m in metrics]
        subjects = int(psql(db, "SELECT COUNT(*) FROM sink_subjects WHERE pending = 0"))
        # The ordered stage (subjects and outcomes made durable, the sink's locks): its share of the
        # run, and how many alerts a batch of it carried.
        stage = [tuple(b - a for a, b in zip(before, ordered_stage(m))) for before, m in zip(stage_before, metrics)]
        ordered_busy = [round(seconds_in / seconds, 2) for seconds_in, _ in stage]
        batches = [int(n) for _, n in stage]
        # Each instance's CPU (user + system, all threads) while the clock ran, per second of it.
        cpu = [round((cpu_seconds([p.pid]) - before) / seconds, 2) for p, before in zip(services, instances_before)]
        for p in services:
            p.send_signal(signal.SIGTERM)
        for p in services:
            p.wait(60)
        if recorded < args.count:
            sys.exit(f"{instances} instance(s) recorded {recorded} of {args.count} alerts in 900 s")
        return {"alerts_per_s": round(args.count / seconds, 1), "seconds": round(seconds, 1), "subjects": subjects,
                "messages_per_instance": [int(s) for s in shares], "cores_busy_per_instance": cpu,
                "ordered_stage_busy": ordered_busy, "ordered_batches": batches,
                "cores_busy_broker": broker_busy, "cores_busy_postgres": postgres_busy,
                **({"statements": statements} if statements else {})}

    one = run(1)
    two = run(2)
    out = {"alerts": args.count, "profile": args.profile, "compression": args.compression, "postgres_and_broker_cores": infra_cores,
           "one_instance": one, "two_instances": two, "ratio": round(two["alerts_per_s"] / one["alerts_per_s"], 2)}
    # Alerts per second of an instance's busy core: what a second instance costs each alert (1.0:
    # nothing; below, time lost to waiting on the other), whatever cores the machine has to give.
    for r in (one, two):
        r["alerts_per_busy_core_s"] = round(r["alerts_per_s"] / sum(r["cores_busy_per_instance"]), 1)
    out["ratio_per_busy_core"] = round(two["alerts_per_busy_core_s"] / one["alerts_per_busy_core_s"], 2)
    if cores < 4:
        # The cores one instance's alerts keep busy (its own, the broker's, PostgreSQL's): with the
        # machine's cores shared by all of them, two instances can go at most this much faster.
        busy = sum(one["cores_busy_per_instance"]) + one["cores_busy_broker"] + one["cores_busy_postgres"]
        out["most_two_can_give_here"] = round(cores / busy, 2)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            if isinstance(v, dict) and "statements" in v:
                v = dict(v)
                listed = v.pop("statements")
                print(f"{k}: {v}")
                for st in listed:
                    print(f"    {st['per_alert']:8.3f}/alert {st['ms']:9.1f} ms  {st['query']}")
            else:
                print(f"{k}: {v}")
finally:
    # PostgreSQL first, by pg_ctl: killing runuser (as root) would leave the server running.
    if os.path.exists(f"{work}/pg/data/postmaster.pid"):
        subprocess.run(as_server_user([f"{pgbin}/pg_ctl", "-D", f"{work}/pg/data", "stop", "-m", "immediate", "-w"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for p in reversed(procs):
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(work, ignore_errors=True)
