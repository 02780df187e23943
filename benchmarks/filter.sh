#!/usr/bin/env bash
# Filter evaluations per second on one core: citsci's compiled rules against the same rules as Python
# functions over fastavro dicts, in the same run, on the 375 Fink-distributed ZTF alerts.
# Usage: benchmarks/filter.sh [seconds per contender, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-3}
data=../shared/data/ztf-fink-distributed
[ -d "$data" ] || { echo "benchmarks/filter.sh: $data is absent" >&2; exit 1; }
swift build -c release --product citsci >/dev/null
bin=.build/release/citsci
echo "| rules | filters | citsci evaluations/s | Python evaluations/s | ratio | citsci, one call per alert | ratio |"
echo "|---|---|---|---|---|---|---|"
for spec in "simple 1" "simple 10" "simple 100" "complex 1" "complex 10"; do
  set -- $spec
  ours=$(taskset -c 0 "$bin" bench filter --json --kind "$1" --filters "$2" --seconds "$seconds" "$data")
  py=$(taskset -c 0 python3 benchmarks/filter_python.py --json --kind "$1" --filters "$2" --seconds "$seconds" "$data")
  python3 -c "
import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2])
name = 'candidate.magpsf < X' if a['kind']=='simple' else 'complex, 10,000-entry watchlist'
o = a['one_call_per_alert_evaluations_per_s']
print(f\"| {name} | {a['filters']} | {a['evaluations_per_s']:,.0f} | {b['evaluations_per_s']:,.0f} | {a['evaluations_per_s']/b['evaluations_per_s']:.1f}x | {o:,.0f} | {o/b['evaluations_per_s']:.1f}x |\")" "$ours" "$py"
done
