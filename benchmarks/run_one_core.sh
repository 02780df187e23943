#!/usr/bin/env bash
# Sustained alerts/s of `citsci run` on one core (taskset -c 0) with 10 filters: simulated Rubin
# alerts from a folder, decoded, filtered, rendered (triplets) into the folder sink, each alert and
# subject recorded in SQLite (synchronous = FULL). Peak memory from /usr/bin/time.
# Usage: benchmarks/run_one_core.sh [alerts, default 5000]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5000}
swift build -c release --product citsci >/dev/null
bin=$PWD/.build/release/citsci
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" simulate --out "$work/alerts" --count "$count" --seed 11 >/dev/null
mkdir "$work/filters"
n=0
while IFS='|' read -r workflow expression; do
  n=$((n + 1))
  printf 'name: f%02d\ndescription: benchmark filter %d\nowner: bench@example.org\nexpression: %s\ndestination: {project: "43", workflow: "%s"}\nflipbook: {kind: triplet, size: 100}\n' \
    "$n" "$n" "$expression" "$workflow" > "$work/filters/f$n.yaml"
done <<'FILTERS'
47|magnitude < 21.3
47|snr > 50
47|band = 'g' AND magnitude < 22
47|count(history) >= 2 AND snr > 20
48|magnitude BETWEEN 20 AND 21
48|band IN ('r', 'i') AND snr > 30
48|magnitude < 20.5 AND snr > 10
49|days_since_first_detection() < 3 AND magnitude < 21.5
49|snr > 100
49|band = 'z' AND magnitude < 21
FILTERS
printf 'source: {folder: %s/alerts}\nfilters: %s/filters\nstate: %s/state.sqlite\nsink: {folder: %s/sink, light_curve: false}\nlog: {level: warning}\n' \
  "$work" "$work" "$work" "$work" > "$work/citsci.yaml"
/usr/bin/time -v taskset -c 0 "$bin" run --config "$work/citsci.yaml" --once > "$work/out.txt" 2> "$work/time.txt"
subjects=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM sink_subjects').fetchone()[0])" "$work/state.sqlite")
python3 - "$count" "$subjects" "$work/time.txt" <<'PY'
import re, sys
count, subjects, text = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3]).read()
wall = text.split("Elapsed (wall clock) time (h:mm:ss or m:ss):")[1].split()[0].split(":")
seconds = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
cpu = re.search(r"Percent of CPU this job got: (\d+)%", text).group(1)
print(f"| {count:,} | 10 | {subjects:,} | {seconds:.2f} s | {count / seconds:,.0f} | {rss / 1024:.1f} MB | {cpu}% |")
PY
