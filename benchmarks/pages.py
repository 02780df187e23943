#!/usr/bin/env python3
"""The web page under a realistic store: `--alerts` simulated alerts recorded (the first
`--matched` of them run through the example filters: subject sets and subjects), a window of `--window` real alerts (Fink ZTF
packets, or the LSSTCam 10.0 ones, re-written with new ids), the sink's subjects recorded as pushed
and `--classifications` classifications of them. Then `citsci serve` (release build) answers each
page `--requests` times; prints p50/p99 per page (one request at a time, a new connection each,
as a browser's first visit) and the playground's run over the whole window.

Usage: pages.py --citsci .build/release/citsci --data ../shared/data [--alerts 100000] [--window 10000]
                [--matched 5000] [--window-data ztf|lsstcam] [--classifications 100000] [--requests 200] [--json]
"""
import argparse, copy, glob, json, os, random, shutil, sqlite3, subprocess, sys, tempfile, time, urllib.request

import fastavro

from harness import free_port, wait_port

ap = argparse.ArgumentParser()
ap.add_argument("--citsci", required=True)
ap.add_argument("--data", required=True)
ap.add_argument("--alerts", type=int, default=100_000)
ap.add_argument("--matched", type=int, default=5_000, help="of --alerts, those run through the example filters (the rest match nothing)")
ap.add_argument("--window", type=int, default=10_000)
ap.add_argument("--window-data", default="ztf", choices=["ztf", "lsstcam"])
ap.add_argument("--classifications", type=int, default=100_000)
ap.add_argument("--requests", type=int, default=200)
ap.add_argument("--json", action="store_true")
ap.add_argument("--keep", action="store_true", help="keep the store, sink and configuration (their folder is printed)")
args = ap.parse_args()

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
work = tempfile.mkdtemp(prefix="citsci-pages-")
serve = None


def run(config_text, name):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(config_text)
    start = time.time()
    p = subprocess.run([args.citsci, "run", "--once", "--config", path], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"citsci run ({name}) failed ({p.returncode}): {p.stderr[-2000:]}")
    return time.time() - start


try:
    common = f"""filters: {root}/examples/filters
state: {work}/state.sqlite
sink: {{folder: {work}/sink, max_set_size: 1000}}
dead_letters: {{folder: {work}/dead}}
log: {{level: warning}}
"""
    t_sim = run(f"source: {{simulate: {args.matched}}}\npipeline: {{recent_alerts: 0}}\n" + common, "simulate.yaml")
    # The rest of the alerts: recorded, filtered out (a stream's most alerts), quickly.
    none = os.path.join(work, "none")
    os.makedirs(none)
    with open(os.path.join(none, "none.yaml"), "w") as f:
        f.write('name: none\nexpression: snr > 1e12\ndestination: {project: "1", workflow: "2"}\n')
    start = time.time()
    run(f"source: {{simulate: {args.alerts}, seed: 2}}\npipeline: {{recent_alerts: 0}}\n" + common.replace(f"{root}/examples/filters", none),
        "rest.yaml")
    t_rest = time.time() - start

    # The window: real packets with new ids, every one kept.
    src = os.path.join(work, "window")
    os.makedirs(src)
    if args.window_data == "ztf":
        files, id_key, nested = sorted(glob.glob(os.path.join(args.data, "ztf-fink-distributed", "*.avro"))), "candid", "candidate"
    else:
        files, id_key, nested = [os.path.join(args.data, "fink-client-datatest", "lsst_part-2-918301.avro")], "diaSourceId", "diaSource"
    records, schema = [], None
    for f in files:
        with open(f, "rb") as fh:
            r = fastavro.reader(fh)
            schema = schema or fastavro.parse_schema(r.writer_schema)
            records += list(r)
    for i in range(args.window):
        r = copy.copy(records[i % len(records)])
        r[id_key] = 9_000_000_000_000 + i
        r[nested] = dict(r[nested], **{id_key: 9_000_000_000_000 + i})
        with open(os.path.join(src, f"{i:06d}.avro"), "wb") as fh:
            fastavro.writer(fh, schema, [r], codec="null")
    t_window = run(f"source: {{folder: {src}}}\npipeline: {{recent_alerts: {args.window}, recent_alerts_per_second: 100000}}\n" + common,
                   "window.yaml")
    shutil.rmtree(src)

    # As a push and a classification pull would leave it: the sink's subjects pushed, then classified.
    db = sqlite3.connect(os.path.join(work, "state.sqlite"))
    now = time.time()
    subjects = []
    for folder in sorted(glob.glob(os.path.join(work, "sink", "*"))):
        manifest = os.path.join(folder, "manifest.csv")
        if not os.path.exists(manifest):
            continue
        import csv
        with open(manifest) as fh:
            rows = list(csv.DictReader(fh))
        name = os.path.basename(folder)
        db.execute("INSERT OR IGNORE INTO zooniverse_sets (project, name, workflow, state, zooniverse_id, updated_at) VALUES ('1', ?, '2', 'workflow_linked', ?, ?)",
                   (name, str(500 + len(subjects)), now))
        for r in rows:
            zid = str(1_000_000 + len(subjects))
            frames = [{"name": r[k], "mime": "image/png" if r[k].endswith(".png") else "application/json"} for k in r if k.startswith("location:") and r[k]]
            meta = {k[len("metadata:"):]: v for k, v in r.items() if k.startswith("metadata:") and v}
            db.execute("""INSERT OR IGNORE INTO subjects (project, workflow, external_id, set_name, folder, object_id, frames, metadata, state,
                          zooniverse_id, created_at, updated_at) VALUES ('1', '2', ?, ?, ?, ?, ?, ?, 'linked', ?, ?, ?)""",
                       (r["external_id"], name, folder, meta.get("#object_id"), json.dumps(frames), json.dumps(meta), zid, now, now))
            subjects.append(zid)
    rng = random.Random(1)
    for i in range(args.classifications):
        s = subjects[rng.randrange(len(subjects))]
        answer = "Real" if rng.random() < 0.7 else "Bogus"
        db.execute("""INSERT INTO classifications (id, project, workflow, "user", created_at, subject_ids, annotations)
                      VALUES (?, '1', '2', ?, ?, ?, ?)""", (i + 1, f"v{rng.randrange(5000)}", now - args.classifications + i, s,
                                                          json.dumps([{"task": "T0", "value": answer}])))
        db.execute("INSERT INTO classification_subjects (workflow, subject, classification_id) VALUES ('2', ?, ?)", (s, i + 1))
    db.commit()
    counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ["alerts", "recent_alerts", "sink_subjects", "subjects", "classifications"]}
    set_name = db.execute("SELECT name FROM sink_sets ORDER BY opened_at DESC LIMIT 1").fetchone()[0]
    frame = db.execute("SELECT frames FROM subjects WHERE set_name = ? LIMIT 1", (set_name,)).fetchone()[0]
    db.close()

    port = free_port()
    config = os.path.join(work, "serve.yaml")
    with open(config, "w") as f:
        f.write(f"source: {{simulate: 1}}\n" + common)
    serve = subprocess.Popen([args.citsci, "serve", "--config", config, "--listen", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    wait_port(port, serve, "citsci serve")
    first_frame = json.loads(frame)[0]["name"]
    pages = ["/", "/filters", "/playground", "/subjects", "/subjects?page=3", f"/subjects/{set_name}", f"/sink/{set_name}/{first_frame}",
             "/results", "/results?page=20", "/dead-letters"]
    out = {"store": counts, "build_seconds": {"matched": round(t_sim, 1), "rest": round(t_rest, 1), "window": round(t_window, 1)}, "pages": {}}
    for page in pages:
        times = []
        for i in range(args.requests + 5):
            start = time.perf_counter()
            with urllib.request.urlopen(base + page, timeout=30) as r:
                r.read()
                if r.status != 200:
                    sys.exit(f"{page}: {r.status}")
            if i >= 5:
                times.append(time.perf_counter() - start)
        times.sort()
        out["pages"][page] = {"p50_ms": round(1000 * times[len(times) // 2], 2), "p99_ms": round(1000 * times[int(len(times) * 0.99) - 1], 2)}
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        req = urllib.request.Request(base + "/playground/run", data=b"magnitude < 19 and snr > 5", method="POST")
        body = urllib.request.urlopen(req, timeout=120).read().decode()
        runs.append(time.perf_counter() - start)
    import re
    m = re.search(r'data-matches="(\d+)" data-read="(\d+)"', body) or re.search(r'data-read="(\d+)"', body)
    out["playground"] = {"window": args.window_data, "read": int(re.search(r'data-read="(\d+)"', body).group(1)) if m else 0,
                         "best_s": round(min(runs), 3), "median_s": round(sorted(runs)[2], 3)}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"store: {counts}; built in {out['build_seconds']}")
        for page, t in out["pages"].items():
            print(f"  {page:40s} p50 {t['p50_ms']:7.2f} ms  p99 {t['p99_ms']:7.2f} ms")
        print(f"  playground over {out['playground']['read']} {args.window_data} alerts: best {out['playground']['best_s']} s, median {out['playground']['median_s']} s")
finally:
    if serve and serve.poll() is None:
        serve.terminate()
        serve.wait(10)
    if args.keep:
        print(f"kept: {work} (citsci serve --config {work}/serve.yaml)")
    else:
        shutil.rmtree(work, ignore_errors=True)
