#!/usr/bin/env bash
# Instructions per request on the phone path, autoprov against nginx serving the same bytes, both
# under valgrind's callgrind (issue 15). Instruction counts do not depend on what else the machine
# is doing, so this ratio is the one to compare across commits on a noisy machine; benches/http.sh
# gives the requests/s. The load is benches/http.lua's (a random phone's <mac>.cfg with its
# User-Agent, keep-alive); autoprov logs at info as in production.
#
# Prints instructions per request for each server, their ratio, and autoprov's functions by
# inclusive instructions (where the time goes), to $OUT (default target/callgrind/).
#
#   benches/callgrind.sh
#   DEVICES=1000 SECONDS_LOAD=20 TOP=40 benches/callgrind.sh
set -euo pipefail

DEVICES=${DEVICES:-1000}
SECONDS_LOAD=${SECONDS_LOAD:-15}
TOP=${TOP:-30}
AP_PORT=${AP_PORT:-18280}
NGINX_PORT=${NGINX_PORT:-18281}

root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
OUT=${OUT:-$target/callgrind}
for tool in wrk nginx valgrind callgrind_control callgrind_annotate; do
  command -v "$tool" >/dev/null || { echo "benches/callgrind.sh needs $tool (apt-get install wrk nginx valgrind)" >&2; exit 1; }
done
export AUTOPROV_PROVISIONING__PUBLIC_URL=http://prov.example.com/
export AUTOPROV_HTTPS=off AUTOPROV_TFTP=off AUTOPROV_ADMIN=off

work=$(mktemp -d)
chmod 755 "$work"
mkdir -p "$OUT"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1; rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

cd "$root"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release --quiet --bin autoprov
  cargo build --release --quiet --example bench_seed
fi
echo "seeding $DEVICES devices..."
"$target"/release/examples/bench_seed "$work/data" "$work/static" "$DEVICES" >/dev/null
chmod -R a+rX "$work/static"

wait_for() { # url
  for _ in $(seq 600); do
    curl -fs -o /dev/null "$1" && return
    sleep 0.1
  done
  echo "no answer from $1" >&2; exit 1
}
load() { # port seconds -> requests made
  MACS_LUA="$work/static/macs.lua" wrk -t1 -c8 -d"$2"s -s "$root/benches/http.lua" "http://127.0.0.1:$1" \
    | awk '/requests in/ { print $1 }'
}
# Instructions of the process since the last zeroing, by a dump; the dump's file name.
measure() { # pid name port
  callgrind_control --zero "$1" >/dev/null
  local n; n=$(load "$3" "$SECONDS_LOAD")
  callgrind_control --dump="$2" "$1" >/dev/null
  local file; file=$(ls -t "$work"/callgrind.out."$1"* | head -1)
  local ir; ir=$(awk '/^summary:|^totals:/ { print $2; exit }' "$file")
  cp "$file" "$OUT/$2.callgrind"
  echo "$2 $n $ir"
}

cd "$work"
RUST_LOG=autoprov=info valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" \
  "$target"/release/autoprov --data "$work/data" serve --http "127.0.0.1:$AP_PORT" \
  2>"$work/autoprov.log" >/dev/null &
pids+=($!); ap=$!
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
master_process off;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  default_type text/plain;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $work/static;
    etag on;
  }
}
NGINX
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" \
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx.log" &
pids+=($!); ng=$!
wait_for "http://127.0.0.1:$AP_PORT/healthz"
first_mac=$(grep -m1 -o '"[0-9a-f]\{12\}"' "$work/static/macs.lua" | tr -d '"')
wait_for "http://127.0.0.1:$NGINX_PORT/$first_mac.cfg"

# Warm both: every phone's file once (so the measured requests are all cache hits), then a
# short load.
warm() { # port
  python3 - "$work/static/macs.lua" "$1" <<'PY'
import http.client, re, sys
macs = re.findall(r'"([0-9a-f]{12})", "([0-9a-f:]{17})"', open(sys.argv[1]).read())
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]), timeout=60)
for mac, colons in macs:
    c.request("GET", f"/{mac}.cfg", headers={"User-Agent": f"Yealink SIP-T54W 96.86.0.100 {colons}"})
    r = c.getresponse(); r.read()
    assert r.status == 200, (mac, r.status)
PY
}
warm "$AP_PORT"; warm "$NGINX_PORT"
load "$AP_PORT" 5 >/dev/null
load "$NGINX_PORT" 5 >/dev/null

read -r _ ap_n ap_ir < <(measure "$ap" autoprov "$AP_PORT")
read -r _ ng_n ng_ir < <(measure "$ng" nginx "$NGINX_PORT")
awk -v a="$ap_ir" -v an="$ap_n" -v b="$ng_ir" -v bn="$ng_n" 'BEGIN {
  pa = a / an; pb = b / bn
  printf "autoprov: %d requests, %.0f instructions/request\n", an, pa
  printf "nginx:    %d requests, %.0f instructions/request\n", bn, pb
  printf "ratio autoprov/nginx instructions per request: %.2f\n", pa / pb
}'
echo "autoprov's functions by inclusive instructions (of $ap_ir):"
# Without the frames every request passes through (threads, the runtime, hyper's dispatch).
callgrind_annotate --inclusive=yes "$OUT/autoprov.callgrind" 2>/dev/null \
  | sed -n '/file:function/,$p' | sed 1,2d \
  | grep -v -e 'tokio::runtime' -e 'clone.S' -e 'pthread_create' -e 'std::sys::' -e 'core::ops::function' \
  | head -n "$TOP" | sed -e 's/ \[[^]]*\]$//' -e 's/???://' | cut -c1-160
echo "files kept: $OUT/autoprov.callgrind, $OUT/nginx.callgrind (callgrind_annotate FILE)"
