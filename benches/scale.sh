#!/usr/bin/env bash
# Scale benchmark: a node with N_BIG registered phones (default 1,000,000) against one with
# N_SMALL (default 1,000), both seeded the same way (`examples/bench_scale.rs`: the bulk import,
# each phone a Yealink T54W with its number logged in and that number's user).
#
# For each: the database's bytes per phone, the time from `autoprov serve` starting to its
# first answer (`/healthz`), then every phone of the sample (the small node: all its phones;
# the big one: a fixed SAMPLE % of them) fetched once to fill the cache, then wrk asking for a
# random phone of the sample per request, with its User-Agent, keep-alive, info logging on.
# Rounds alternate small and big; prints the medians and the ratios big/small (requests/s and
# p99 latency), and the big node's resident memory after serving its sample.
#
#   benches/scale.sh                          # 1,000,000 vs 1,000 phones, 10 % sample
#   N_BIG=100000 ROUNDS=3 benches/scale.sh    # 100,000 phones
#   SKIP_BUILD=1 KEEP=/tmp/scale benches/scale.sh   # KEEP: seeded data kept and reused there
#
# Needs wrk and python3 (wrk runs benches/scale.lua). Seeding 1,000,000 phones takes a few minutes and about 1 GB of disk.
set -euo pipefail

N_BIG=${N_BIG:-1000000}
N_SMALL=${N_SMALL:-1000}
SAMPLE=${SAMPLE:-10}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
SMALL_PORT=${SMALL_PORT:-18090}
BIG_PORT=${BIG_PORT:-18091}
# The sample's files (about 2.1 KB each, 100,000 of them) fit the default cache (256 MiB);
# AUTOPROV_CACHE__MAX_MIB sets another size.
export AUTOPROV_PROVISIONING__PUBLIC_URL=http://prov.example.com/
export AUTOPROV_HTTPS=off AUTOPROV_TFTP=off AUTOPROV_ADMIN=off

command -v wrk >/dev/null || { echo "benches/scale.sh needs wrk (apt-get install wrk)" >&2; exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
work=${KEEP:-$(mktemp -d)}
mkdir -p "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # Apart: built with an example, the server would get the dev-dependencies' features.
  cargo build --release --quiet --bin autoprov
  cargo build --release --quiet --example bench_scale
fi

seed() { # name n percent
  if [ ! -f "$work/$1/out/macs.txt" ]; then
    rm -rf "$work/$1"; mkdir -p "$work/$1"
    "$target/release/examples/bench_scale" "$work/$1/data" "$work/$1/out" "$2" "$3" | tee "$work/$1/seed.txt"
  fi
  if command -v sqlite3 >/dev/null; then
    sqlite3 "$work/$1/data/autoprov.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  fi
  local bytes; bytes=$(cat "$work/$1/data/autoprov.db"* | wc -c)
  echo "$1: phones=$2 db_bytes=$bytes bytes_per_phone=$((bytes / $2))"
}
seed small "$N_SMALL" 100
seed big "$N_BIG" "$SAMPLE"

start() { # name port -> pid in $pid, seconds to the first answer in $took
  local t0 t1
  t0=$(date +%s.%N)
  RUST_LOG=autoprov=info "$target/release/autoprov" --data "$work/$1/data" serve \
    --http "127.0.0.1:$2" 2>"$work/$1/autoprov.log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 3000); do
    curl -fs "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && break
    sleep 0.01
  done
  t1=$(date +%s.%N)
  took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}
start small "$SMALL_PORT"; small_pid=$pid; small_start=$took
start big "$BIG_PORT"; big_pid=$pid; big_start=$took
echo "start to first answer: small ${small_start} s, big ${big_start} s"

warm() { # name port: every phone of the sample once, on two keep-alive connections
  python3 - "$work/$1/out/macs.txt" "$2" <<'PY'
import http.client, sys, threading
lines = [l.split() for l in open(sys.argv[1])]
port = int(sys.argv[2])
failed = []
sizes = []
def fetch(part):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for mac, colons in part:
        c.request("GET", f"/{mac}.cfg", headers={"User-Agent": f"Yealink SIP-T54W 96.86.0.100 {colons}"})
        r = c.getresponse(); body = r.read()
        sizes.append(len(body))
        if r.status != 200:
            failed.append((mac, r.status))
threads = [threading.Thread(target=fetch, args=(lines[i::4],)) for i in range(4)]
for t in threads: t.start()
for t in threads: t.join()
if failed:
    sys.exit(f"{len(failed)} phones were not served, e.g. {failed[:3]}")
print(f"  {len(sizes)} files, {sum(sizes) / max(len(sizes), 1):.0f} bytes each on average")
PY
}
t0=$(date +%s.%N); warm small "$SMALL_PORT"; t1=$(date +%s.%N)
warm big "$BIG_PORT"; t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v s="$(wc -l <"$work/small/out/macs.txt")" -v n="$(wc -l <"$work/big/out/macs.txt")" \
  'BEGIN { printf "warm-up (first render of each sampled file): small %d files in %.1f s, big %d files in %.1f s\n", s, b - a, n, c - b }'

field() { # file pattern -> value in ms
  awk -v p="$2" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } print v; exit }' "$1"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$work/ratios"; : >"$work/p99ratios"
printf '%-6s %5s %12s %10s\n' node round "requests/s" "p99 ms"
for round in $(seq "$ROUNDS"); do
  for s in "small $SMALL_PORT" "big $BIG_PORT"; do
    set -- $s
    MACS_TXT="$work/$1/out/macs.txt" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
      -s "$root/benches/scale.lua" "http://127.0.0.1:$2" >"$work/$1.txt"
    grep -q "Non-2xx\|Socket errors" "$work/$1.txt" && { echo "$1:"; grep "Non-2xx\|Socket errors" "$work/$1.txt"; }
    printf '%-6s %5s %12s %10s\n' "$1" "$round" "$(awk '/^Requests\/sec:/ { print $2 }' "$work/$1.txt")" "$(field "$work/$1.txt" 99%)"
  done
  awk -v a="$(awk '/^Requests\/sec:/ { print $2 }' "$work/big.txt")" -v b="$(awk '/^Requests\/sec:/ { print $2 }' "$work/small.txt")" \
    'BEGIN { print a / b }' >>"$work/ratios"
  awk -v a="$(field "$work/big.txt" 99%)" -v b="$(field "$work/small.txt" 99%)" 'BEGIN { print a / b }' >>"$work/p99ratios"
done
renders=$(curl -fs "http://127.0.0.1:$BIG_PORT/metrics" | awk '$1 == "autoprov_renders_total" { print $2 }')
rss() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
hwm() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
echo "big node: renders=$renders RSS $(rss "$big_pid") MiB (peak $(hwm "$big_pid") MiB); small node RSS $(rss "$small_pid") MiB"
printf 'ratio big/small requests/s: %.2f (median of %s; each: %s)\n' "$(median <"$work/ratios")" "$ROUNDS" "$(tr '\n' ' ' <"$work/ratios")"
printf 'ratio big/small p99 latency: %.2f (median of %s)\n' "$(median <"$work/p99ratios")" "$ROUNDS"
echo "n_big=$N_BIG n_small=$N_SMALL sample=$SAMPLE% rounds=$ROUNDS duration=$DURATION threads=$THREADS connections=$CONNECTIONS cache_mib=${AUTOPROV_CACHE__MAX_MIB:-default}"
