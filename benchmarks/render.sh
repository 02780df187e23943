#!/usr/bin/env bash
# Triplet rendering throughput on real stamps, decompression and zscale included, every contender
# writing a 300 x 300 PNG per frame: citsci (one core, then two threads), astropy + matplotlib, and
# astropy zscale + numpy + Pillow, in the same run.
# Usage: benchmarks/render.sh [seconds per contender, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
data="../shared/data/ztf-alerts ../shared/data/rubin-9.0"
for d in $data; do [ -d "$d" ] || { echo "benchmarks/render.sh: $d is absent" >&2; exit 1; }; done
swift build -c release --product citsci >/dev/null
bin=.build/release/citsci
one=$(taskset -c 0 "$bin" bench render --json --seconds "$seconds" $data)
two=$("$bin" bench render --json --threads 2 --seconds "$seconds" $data)
mpl=$(taskset -c 0 python3 benchmarks/render_python.py --json --tool matplotlib --seconds "$seconds" $data)
pil=$(taskset -c 0 python3 benchmarks/render_python.py --json --tool pillow --seconds "$seconds" $data)
python3 - "$one" "$two" "$mpl" "$pil" <<'PY'
import json, sys
one, two, mpl, pil = (json.loads(x) for x in sys.argv[1:])
print("| contender | cores | frames/s | mean PNG bytes |")
print("|---|---|---|---|")
print(f"| citsci | 1 | {one['frames_per_s']:.0f} | {one['mean_png_bytes']} |")
print(f"| citsci | 2 threads | {two['frames_per_s']:.0f} | {two['mean_png_bytes']} |")
print(f"| {mpl['tool']} | 1 | {mpl['frames_per_s']:.0f} | {mpl['mean_png_bytes']} |")
print(f"| {pil['tool']} | 1 | {pil['frames_per_s']:.0f} | {pil['mean_png_bytes']} |")
print()
print(f"citsci (1 core) / matplotlib: {one['frames_per_s']/mpl['frames_per_s']:.1f}x; / Pillow: {one['frames_per_s']/pil['frames_per_s']:.1f}x; "
      f"2 threads / 1: {two['frames_per_s']/one['frames_per_s']:.2f}x")
PY
