#!/usr/bin/env python3
"""`citsci run --once` over a folder of real LSSTCam packets: the 7 alerts of the fink LSSTCam 10.0
container re-written `--copies` times with new diaSourceIds (7 to a file), SQLite state, release
build. Reports alerts/s, CPU use and peak RSS of the run.

Usage: folder_run.py --citsci BIN --data ../shared/data [--copies 300] [--filters examples|none25]
                     [--cores 0 | 0,1] [--recent-alerts 10000]
"""
import argparse, copy, json, os, resource, shutil, subprocess, sys, tempfile, time

import fastavro

ap = argparse.ArgumentParser()
ap.add_argument("--citsci", required=True)
ap.add_argument("--data", required=True)
ap.add_argument("--copies", type=int, default=300)
ap.add_argument("--filters", default="examples", choices=["examples", "none25"])
ap.add_argument("--cores", default="0,1")
ap.add_argument("--recent-alerts", type=int, default=10000)
ap.add_argument("--per-second", type=int, default=50)
ap.add_argument("--json", action="store_true")
args = ap.parse_args()

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
work = tempfile.mkdtemp(prefix="citsci-folder-")
try:
    with open(os.path.join(args.data, "fink-client-datatest", "lsst_part-2-918301.avro"), "rb") as f:
        reader = fastavro.reader(f)
        schema = fastavro.parse_schema(reader.writer_schema)
        records = list(reader)
    src = os.path.join(work, "src")
    os.makedirs(src)
    n = 0
    for c in range(args.copies):
        batch = []
        for r in records:
            r = copy.copy(r)
            r["diaSourceId"] = 8_000_000_000_000 + n
            r["diaSource"] = dict(r["diaSource"], diaSourceId=8_000_000_000_000 + n)
            batch.append(r)
            n += 1
        with open(os.path.join(src, f"{c:05d}.avro"), "wb") as f:
            fastavro.writer(f, schema, batch, codec="null")
    filters = os.path.join(work, "filters")
    if args.filters == "examples":
        shutil.copytree(os.path.join(root, "examples", "filters"), filters)
    else:
        os.makedirs(filters)
        for k in range(25):
            with open(os.path.join(filters, f"f{k}.yaml"), "w") as f:
                f.write(f"name: f{k}\nexpression: snr > {1000 + k}\ndestination: {{project: \"1\", workflow: \"2\"}}\n")
    with open(os.path.join(work, "citsci.yaml"), "w") as f:
        f.write(f"""source: {{folder: {src}}}
filters: {filters}
state: {work}/state.sqlite
sink: {{folder: {work}/sink}}
dead_letters: {{folder: {work}/dead}}
pipeline: {{recent_alerts: {args.recent_alerts}, recent_alerts_per_second: {args.per_second}}}
log: {{level: warning}}
""")
    start = time.time()
    prefix = os.environ.get("CITSCI_PREFIX", "").split()
    p = subprocess.run(prefix + ["taskset", "-c", args.cores, args.citsci, "run", "--once", "--config", os.path.join(work, "citsci.yaml")],
                       capture_output=True, text=True)
    seconds = time.time() - start
    if p.returncode != 0:
        sys.exit(f"citsci run failed ({p.returncode}): {p.stderr[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {"alerts": n, "filters": args.filters, "cores": args.cores, "recent_alerts": args.recent_alerts,
           "seconds": round(seconds, 2), "alerts_per_s": round(n / seconds, 1),
           "cpu_percent": round(100 * (usage.ru_utime + usage.ru_stime) / seconds), "peak_rss_mb": round(usage.ru_maxrss / 1024)}
    print(json.dumps(out) if args.json else " ".join(f"{k}={v}" for k, v in out.items()))
finally:
    shutil.rmtree(work, ignore_errors=True)
