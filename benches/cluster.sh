#!/usr/bin/env bash
# Scale-out benchmark (issue 16): autoprov nodes on one PostgreSQL behind nginx on loopback, under
# a boot storm (wrk: every request a random phone's <mac>.cfg with its User-Agent, as in
# benches/http.sh). Three runs of the same length and load:
#
#   1. one node behind nginx;
#   2. two nodes behind nginx;
#   3. two nodes behind nginx, one killed with SIGKILL half-way through.
#
# Prints requests served and the errors the phones saw (non-2xx answers and socket errors, after
# nginx's retry on the next node: target 0) for each, and the ratio two nodes / one node.
#
#   benches/cluster.sh
#   PG_URL=postgres://postgres@127.0.0.1:5432/test DEVICES=2000 DURATION=20s benches/cluster.sh
#
# Needs wrk, nginx (Debian: apt-get install wrk nginx-light) and a PostgreSQL where PG_URL may
# create and drop a database (autoprov_bench_cluster_<pid>).
set -euo pipefail

DEVICES=${DEVICES:-1000}
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
NGINX_PORT=${NGINX_PORT:-18090}
NODE_PORTS=(18091 18092)

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
for tool in wrk nginx psql; do
  command -v "$tool" >/dev/null || { echo "benches/cluster.sh needs $tool (apt-get install wrk nginx-light postgresql-client)" >&2; exit 1; }
done

db="autoprov_bench_cluster_$$"
base=${PG_URL%%\?*}
url="${base%/*}/$db"
export AUTOPROV_PROVISIONING__PUBLIC_URL=http://prov.example.com/
export AUTOPROV_HTTPS=off AUTOPROV_TFTP=off AUTOPROV_ADMIN=off
export AUTOPROV_DATABASE_URL="$url" AUTOPROV_STORE__NODES=2

work=$(mktemp -d)
chmod 755 "$work"
pids=(); nginx_started=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$nginx_started" ] && nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -s stop 2>/dev/null || true
  psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
cargo build --release --quiet --bin autoprov
cargo build --release --quiet --example bench_seed
bin="$target/release/autoprov"
psql "$PG_URL" -qc "CREATE DATABASE $db" >/dev/null
"$bin" --data "$work/n0" migrate
echo "seeding $DEVICES devices..."
"$target/release/examples/bench_seed" "$work/n0" "$work/static" "$DEVICES" >/dev/null

start_node() { # index
  local i=$1
  RUST_LOG=autoprov=warn "$bin" --data "$work/n$i" serve --http "127.0.0.1:${NODE_PORTS[$i]}" \
    2>"$work/node$i.log" &
  pids[$i]=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:${NODE_PORTS[$i]}/readyz" >/dev/null && return
    sleep 0.1
  done
  echo "node $i did not become ready" >&2; cat "$work/node$i.log" >&2; exit 1
}

balancer() { # nodes...
  mkdir -p "$work/nginx/logs"
  local servers=""
  for i in "$@"; do servers+="    server 127.0.0.1:${NODE_PORTS[$i]} max_fails=1 fail_timeout=5s;"$'\n'; done
  cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon on;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream autoprov { 
$servers    keepalive 64;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://autoprov;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
    }
  }
}
NGINX
  if [ -n "$nginx_started" ]; then
    nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -s reload; sleep 0.5
  else
    nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"; nginx_started=1
  fi
}

storm() { # name
  MACS_LUA="$work/static/macs.lua" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -s "$root/benches/http.lua" "http://127.0.0.1:$NGINX_PORT" >"$work/$1.txt"
}
served() { awk '/requests in/ { print $1 }' "$work/$1.txt"; }
rps() { awk '/^Requests\/sec:/ { print $2 }' "$work/$1.txt"; }
errors() { # non-2xx + socket errors
  awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$work/$1.txt"
}

start_node 0
start_node 1
# Warm each node's cache directly (each renders a file once, then serves it from its cache).
for i in 0 1; do
  MACS_LUA="$work/static/macs.lua" wrk -t1 -c8 -d2s -s "$root/benches/http.lua" "http://127.0.0.1:${NODE_PORTS[$i]}" >/dev/null
done

balancer 0
storm one
balancer 0 1
storm two
# The same, with node 1 killed half-way through.
storm killed &
wrk_pid=$!
sleep $((DURATION / 2))
kill -9 "${pids[1]}"
echo "killed node 1 (SIGKILL) at $((DURATION / 2)) s"
wait "$wrk_pid"

printf '%-28s %10s %12s %8s\n' run served "requests/s" errors
for r in one two killed; do
  label=$r
  case $r in one) label="one node";; two) label="two nodes";; killed) label="two nodes, one SIGKILLed";; esac
  printf '%-28s %10s %12s %8s\n' "$label" "$(served $r)" "$(rps $r)" "$(errors $r)"
done
awk -v a="$(rps two)" -v b="$(rps one)" 'BEGIN { printf "ratio two nodes/one node requests/s: %.2f\n", a / b }'
echo "devices=$DEVICES duration=${DURATION}s threads=$THREADS connections=$CONNECTIONS cores=$(nproc)"
