#!/usr/bin/env bash
# Decode throughput on one core: citsci (Avro C + Swift resolution, to Alert values, cutouts included)
# against fastavro decoding the same files to dicts, in the same run, on the same core.
# Usage: benchmarks/decode.sh [seconds per run]   (needs ../shared/data and scripts/bootstrap)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
data=../shared/data
[ -d "$data" ] || { echo "benchmarks/decode.sh: $data is absent" >&2; exit 1; }
swift build -c release --product citsci >/dev/null
bin=.build/release/citsci
core="taskset -c 0"
command -v taskset >/dev/null || core=""

run() {
  local name=$1; shift
  local ours theirs
  ours=$($core "$bin" bench decode --json --seconds "$seconds" "$@")
  theirs=$($core python3 benchmarks/decode_fastavro.py --json --seconds "$seconds" "$@")
  python3 - "$name" "$ours" "$theirs" <<'PY'
import json, sys
name, a, b = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"| {name} | {a['alerts']} | {a['bytes']/1e6:.1f} | {a['alerts_per_s']:.0f} | {a['mb_per_s']:.0f} | "
      f"{b['alerts_per_s']:.0f} | {b['mb_per_s']:.0f} | {a['alerts_per_s']/b['alerts_per_s']:.1f}x |")
PY
}

echo "| data | alerts | MB | citsci alerts/s | citsci MB/s | fastavro alerts/s | fastavro MB/s | ratio |"
echo "|---|---|---|---|---|---|---|---|"
run "ZTF, Fink-distributed (ztf-fink-distributed)" "$data/ztf-fink-distributed"
run "ZTF, as ZTF sends them (ztf-alerts)" "$data/ztf-alerts"
run "Rubin 9.0 (rubin-9.0)" "$data/rubin-9.0"
run "Rubin LSSTCam 10.0, 300-400 prvDiaSources (fink lsst container)" "$data/fink-client-datatest/lsst_part-2-918301.avro"
run "Rubin LSSTCam 10.0 + 25 filters (history read only of matches)" "$data/fink-client-datatest/lsst_part-2-918301.avro" --filters 25
