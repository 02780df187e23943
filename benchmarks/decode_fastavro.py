#!/usr/bin/env python3
"""The Python baseline for `citsci bench decode`: fastavro decoding the same alert files, held in
memory, to dicts (cutouts included), on one core, for the same number of seconds.

With --filters N, N one-line predicates run over each record (`diaSource.snr > X` for Rubin,
`candidate.magpsf < X` for ZTF, none matching), and the history is read only of those that match,
as `citsci bench decode --filters N` does.

Usage: python3 benchmarks/decode_fastavro.py [--seconds 5] [--json] [--filters N] FILE_OR_DIR...
"""
import argparse, io, json, os, sys, time
import fastavro


def expand(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                out += [os.path.join(root, f) for f in files if f.endswith(".avro")]
        else:
            out.append(p)
    return sorted(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--filters", type=int, default=0)
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    messages = [open(p, "rb").read() for p in expand(args.paths)]
    total = sum(len(m) for m in messages)
    alerts = sum(1 for m in messages for _ in fastavro.reader(io.BytesIO(m)))  # warm-up
    def rubin(i):
        t = 1e9 + i
        return lambda r: (r.get("diaSource") or {}).get("snr") is not None and r["diaSource"]["snr"] > t

    def ztf(i):
        t = -10 - i
        return lambda r: (r.get("candidate") or {}).get("magpsf") is not None and r["candidate"]["magpsf"] < t

    first = next(fastavro.reader(io.BytesIO(messages[0])))
    rules = [(rubin if "diaSource" in first else ztf)(i) for i in range(args.filters)]
    passes, checksum = 0, 0
    start = time.perf_counter()
    while True:
        for m in messages:
            for rec in fastavro.reader(io.BytesIO(m)):
                if rules and not any([rule(rec) for rule in rules]):
                    continue
                checksum += len(rec.get("prv_candidates") or rec.get("prvDiaSources") or ())
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= args.seconds:
            break
    rate = passes * alerts / elapsed
    mb = passes * total / elapsed / 1e6
    if args.json:
        print(json.dumps({"tool": "fastavro " + fastavro.__version__, "messages": len(messages), "alerts": alerts,
                          "bytes": total, "passes": passes, "seconds": elapsed, "alerts_per_s": rate, "mb_per_s": mb, "filters": args.filters}))
    else:
        print(f"fastavro {fastavro.__version__}: {len(messages)} messages, {alerts} alerts ({total/1e6:.1f} MB), "
              f"{passes} passes in {elapsed:.2f} s: {rate:.0f} alerts/s, {mb:.1f} MB/s")


if __name__ == "__main__":
    main()
