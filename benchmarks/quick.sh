#!/usr/bin/env bash
# Every stage against its Python baseline in about three minutes, each ratio checked against
# benchmarks/floors.json (CI fails on a ratio below half its recorded value). See quick.py.
# Usage: benchmarks/quick.sh [--write-doc] [--record]   (needs ../shared/data and scripts/bootstrap)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product citsci >/dev/null
python3 benchmarks/quick.py "$@"
