#!/usr/bin/env bash
# The service's HTTP surface: /healthz and /metrics requests per second and latency (wrk, 50
# connections, one thread), then /healthz latency while 300 clients trickle bytes (slowloris), for
# citsci run (Hummingbird) and for Python's prometheus_client server (the exporter Python services
# use) on the same machine in the same run. Usage: benchmarks/http.sh [seconds] (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
command -v wrk >/dev/null || { echo "benchmarks/http.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
python3 -c 'import prometheus_client' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check prometheus-client
swift build -c release --product citsci >/dev/null
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ours=$(free_port)
cat > "$work/citsci.yaml" <<YAML
source: {simulate: 200}
filters: $(pwd)/examples/filters
state: $work/citsci.sqlite
sink: {folder: $work/sink}
metrics: {listen: "127.0.0.1:$ours"}
log: {level: warning}
YAML
.build/release/citsci run --config "$work/citsci.yaml" >/dev/null 2>&1 &
pids+=($!)
theirs=$(free_port)
python3 - "$theirs" <<'PY' &
import sys, time
from prometheus_client import start_http_server, Counter, Gauge, Histogram
for i in range(40): Counter(f"citsci_like_{i}_total", "a counter").inc(i)
Histogram("citsci_like_stage_seconds", "a histogram").observe(0.01)
start_http_server(int(sys.argv[1]), addr="127.0.0.1")
while True: time.sleep(3600)
PY
pids+=($!)
for port in "$ours" "$theirs"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
done

measure() {  # url -> "req/s p50 p99" (ms)
  wrk -t1 -c50 -d"${seconds}s" --latency "$1" > "$work/wrk.txt"
  python3 - "$work/wrk.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def ms(label):
    v, unit = re.search(label + r"%\s+([\d.]+)(us|ms|s)", text).groups()
    return float(v) / 1000 if unit == "us" else float(v) * 1000 if unit == "s" else float(v)
print(f"{rps:.0f} {ms('50'):.2f} {ms('99'):.2f}")
PY
}

slowloris() {  # port -> worst /healthz (or /metrics) latency in ms over 20 requests while 300 clients trickle
  python3 - "$1" "$2" <<'PY'
import socket, sys, threading, time
port, path = int(sys.argv[1]), sys.argv[2]
slow = []
for _ in range(300):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nX-Slow: "); slow.append(s)
stop = False
def trickle():
    while not stop:
        for s in slow:
            try: s.sendall(b"a")
            except OSError: pass
        time.sleep(0.5)
threading.Thread(target=trickle, daemon=True).start()
worst = 0.0
for _ in range(20):
    t = time.time()
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=30)
        c.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        c.recv(64); c.close()
        worst = max(worst, time.time() - t)
    except OSError:
        worst = max(worst, 30.0)
    time.sleep(0.1)
stop = True
print(f"{worst * 1000:.0f}")
PY
}

read -r a_rps a_p50 a_p99 <<<"$(measure "http://127.0.0.1:$ours/metrics")"
read -r b_rps b_p50 b_p99 <<<"$(measure "http://127.0.0.1:$theirs/metrics")"
read -r h_rps h_p50 h_p99 <<<"$(measure "http://127.0.0.1:$ours/healthz")"
a_slow=$(slowloris "$ours" /healthz)
b_slow=$(slowloris "$theirs" /metrics)
echo "| server | GET /metrics req/s | p50 ms | p99 ms | worst answer with 300 trickling clients |"
echo "|---|---|---|---|---|"
echo "| citsci run (Hummingbird) | $a_rps | $a_p50 | $a_p99 | ${a_slow} ms |"
echo "| prometheus_client $(python3 -c 'import importlib.metadata as m; print(m.version("prometheus-client"))') (Python) | $b_rps | $b_p50 | $b_p99 | ${b_slow} ms |"
echo "| ratio | $(python3 -c "print(f'{$a_rps / $b_rps:.1f}x')") | | | |"
echo
echo "citsci GET /healthz: $h_rps req/s, p50 $h_p50 ms, p99 $h_p99 ms (wrk -t1 -c50 -d${seconds}s)"
