#!/usr/bin/env python3
"""The Python baseline for `citsci bench filter`: the same rules written as Python functions over
fastavro dicts, the way Fink and ANTARES filters are written; the watchlist check is a numpy
vectorised angular distance to the same 10,000 seeded positions.

Usage: python3 benchmarks/filter_python.py --kind simple|complex --filters N [--seconds 3] [--json] FILES_OR_DIRS...
"""
import argparse, glob, json, math, os, time
import fastavro, numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--kind", default="simple")
ap.add_argument("--filters", type=int, default=1)
ap.add_argument("--seconds", type=float, default=3)
ap.add_argument("--json", action="store_true")
ap.add_argument("paths", nargs="+")
args = ap.parse_args()
files = []
for p in args.paths:
    files += sorted(glob.glob(os.path.join(p, "**", "*.avro"), recursive=True)) if os.path.isdir(p) else [p]
alerts = []
for path in files:
    with open(path, "rb") as f:
        alerts += list(fastavro.reader(f))

state = 12345
def nxt():
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    return (state >> 11) / float(1 << 53)
pos = []
for _ in range(10000):
    ra = nxt() * 360
    dec = math.degrees(math.asin(nxt() * 2 - 1))
    pos.append((ra, dec))
wra = np.radians(np.array([p[0] for p in pos])); wdec = np.radians(np.array([p[1] for p in pos]))

def in_watchlist(ra, dec, radius_deg):
    r, d = math.radians(ra), math.radians(dec)
    a = np.sin((wdec - d) / 2) ** 2 + np.cos(d) * np.cos(wdec) * np.sin((wra - r) / 2) ** 2
    return bool((2 * np.arcsin(np.sqrt(np.minimum(1, a)))).min() <= math.radians(radius_deg))

def make_simple(x):
    def rule(alert):
        m = alert["candidate"].get("magpsf")
        return m is not None and m < x
    return rule

def complex_rule(alert):
    c = alert["candidate"]
    drb = c.get("drb")
    if drb is None or not drb > 0.5:
        return False
    prv = alert.get("prv_candidates") or []
    if len(prv) < 2:
        return False
    m = c.get("magpsf")
    if m is None or not 14 <= m <= 20:
        return False
    if in_watchlist(c["ra"], c["dec"], 2 / 3600):
        return False
    band = {1: "g", 2: "r", 3: "i"}.get(c.get("fid"))
    if band in ("g", "r"):
        return True
    dets = [p["jd"] for p in prv if p.get("candid") is not None] + [c["jd"]]
    return c["jd"] - min(dets) < 5

rules = [make_simple(15 + (i % 50) * 0.1) for i in range(args.filters)] if args.kind == "simple" else [complex_rule] * args.filters
evaluations = matches = 0
start = time.perf_counter()
while time.perf_counter() - start < args.seconds:
    for a in alerts:
        for r in rules:
            if r(a):
                matches += 1
    evaluations += len(alerts) * len(rules)
elapsed = time.perf_counter() - start
rate = evaluations / elapsed
out = {"tool": "python", "kind": args.kind, "filters": args.filters, "evaluations_per_s": rate, "alerts_per_s": rate / args.filters, "matches": matches}
print(json.dumps(out) if args.json else f"python {args.kind} x{args.filters}: {rate:.0f} evaluations/s")
