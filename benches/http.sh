#!/usr/bin/env bash
# HTTP provisioning benchmark: autoprov against nginx serving the same bytes as static files.
#
# 1,000 registered Yealink T54W phones (seeded through the admin code); wrk picks a random phone
# per request and sends its User-Agent. Both servers run on loopback on this machine, one after
# the other, with the same wrk settings; the script prints requests/s and latency percentiles of
# each and the ratio autoprov/nginx.
#
#   benches/http.sh                 # defaults: 1000 devices, 10 s, 2 threads, 64 connections
#   DEVICES=5000 DURATION=20s CONNECTIONS=128 benches/http.sh
#   BIG=1 benches/http.sh           # the phones in issue 12's big tenant (5,000 more users,
#                                   # 2,000 directory entries, 200 groups; their users in its
#                                   # pickup and park groups), so every file is rendered there
#   ROUNDS=3 benches/http.sh        # autoprov and nginx alternately, 3 times each: medians
#   BOOT=1 benches/http.sh          # a boot storm: each phone its boot sequence (4 files,
#                                   # benches/boot.lua), a new connection per phone
#   TLS=1 benches/http.sh           # HTTPS, keep-alive: both servers with autoprov's own
#                                   # certificate (ECDSA P-256, from its local CA)
#   TLS=1 CLOSE=1 benches/http.sh   # HTTPS, a new connection (full handshake) per request
#   WARM=30 benches/http.sh         # seconds of warm-up: every phone's file once, in order
#                                   # (default DEVICES / 4000 + 2)
#
# Needs wrk and nginx (Debian: apt-get install wrk nginx).
set -euo pipefail

DEVICES=${DEVICES:-1000}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
BIG=${BIG:-0}
ROUNDS=${ROUNDS:-1}
TLS=${TLS:-0}
CLOSE=${CLOSE:-0}
BOOT=${BOOT:-0}
script=$([ "$BOOT" = 1 ] && echo boot.lua || echo http.lua)
AP_PORT=${AP_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}

# Seeder and server must render the same provisioning URL.
export AUTOPROV_PROVISIONING__PUBLIC_URL=http://prov.example.com/
export AUTOPROV_HTTPS=off AUTOPROV_TFTP=off AUTOPROV_ADMIN=off

root=$(cd "$(dirname "$0")/.." && pwd)
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "benches/http.sh needs $tool (apt-get install wrk nginx)" >&2; exit 1; }
done

work=$(mktemp -d)
chmod 755 "$work"
ap_pid=""; nginx_started=""
cleanup() {
  [ -n "$ap_pid" ] && kill "$ap_pid" 2>/dev/null || true
  [ -n "$nginx_started" ] && nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -s stop 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

target=${CARGO_TARGET_DIR:-$root/target}
cd "$root"
# The server on its own: built together with an example, it would get the dev-dependencies'
# features too (tokio's test-util, which puts a clock check in every timer), unlike a release.
if [ "${SKIP_BUILD:-0}" != 1 ]; then # SKIP_BUILD=1: run the binaries target/ already holds
  cargo build --release --quiet --bin autoprov
  cargo build --release --quiet --example bench_seed
fi
echo "seeding $DEVICES devices (big tenant: $BIG)..."
big_arg=""; [ "$BIG" = 1 ] && big_arg=big
"$target"/release/examples/bench_seed "$work/data" "$work/static" "$DEVICES" $big_arg
chmod -R a+rX "$work/static"

scheme=http; listen=(--http "127.0.0.1:$AP_PORT"); nginx_tls=""
if [ "$TLS" = 1 ]; then
  scheme=https; listen=(--http off --https "127.0.0.1:$AP_PORT")
  # The local CA and the server certificate autoprov serves; nginx gets the same pair.
  "$target"/release/autoprov --data "$work/data" certs init >/dev/null
  nginx_tls="ssl; ssl_certificate $work/data/certs/server.pem; ssl_certificate_key $work/data/certs/server-key.pem; ssl_session_cache shared:TLS:20m; ssl_session_tickets on"
fi
curl_=(curl -fsk)
RUST_LOG=${AP_LOG:-autoprov=info} "$target"/release/autoprov --data "$work/data" serve "${listen[@]}" 2>"$work/autoprov.log" &
ap_pid=$!

mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes auto;
daemon on;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  default_type text/plain;
  server {
    listen 127.0.0.1:$NGINX_PORT ${nginx_tls:+ssl};
    ${nginx_tls:+${nginx_tls#ssl; };}
    root $work/static;
    etag on;
  }
}
NGINX
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
nginx_started=1

for _ in $(seq 100); do
  "${curl_[@]}" "$scheme://127.0.0.1:$AP_PORT/healthz" >/dev/null && break
  sleep 0.1
done

if [ "$TLS" = 1 ]; then
  # Over HTTPS a phone's file names the HTTPS listener's URLs: nginx gets the files as autoprov
  # serves them there.
  python3 - "$work/static" "$AP_PORT" <<'PY'
import http.client, re, ssl, sys
static, port = sys.argv[1], int(sys.argv[2])
macs = re.findall(r'"([0-9a-f]{12})", "([0-9a-f:]{17})"', open(f"{static}/macs.lua").read())
c = http.client.HTTPSConnection("127.0.0.1", port, context=ssl._create_unverified_context(), timeout=60)
for mac, colons in macs:
    for name in (f"{mac}.cfg", f"{mac}.boot"):
        c.request("GET", f"/{name}", headers={"User-Agent": f"Yealink SIP-T54W 96.86.0.100 {colons}"})
        r = c.getresponse(); body = r.read()
        if r.status == 200:
            open(f"{static}/{name}", "wb").write(body)
PY
fi
first_mac=$(grep -m1 -o '"[0-9a-f]\{12\}"' "$work/static/macs.lua" | tr -d '"')
ua="Yealink SIP-T54W 96.86.0.100 $(echo "$first_mac" | sed 's/../&:/g; s/:$//')"
if ! cmp -s <("${curl_[@]}" -A "$ua" "$scheme://127.0.0.1:$AP_PORT/$first_mac.cfg") <("${curl_[@]}" "$scheme://127.0.0.1:$NGINX_PORT/$first_mac.cfg"); then
  echo "autoprov and nginx do not serve the same bytes for $first_mac.cfg" >&2
  exit 1
fi

export CLOSE # http.lua asks for a new connection per request (its headers replace wrk's -H)
run() { # name port
  MACS_LUA="$work/static/macs.lua" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s "$root/benches/$script" "$scheme://127.0.0.1:$2" >"$work/$1.txt"
}
field() { # file pattern -> value in ms (or the raw number for Requests/sec)
  awk -v p="$2" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } print v; exit }' "$1"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Warm both (autoprov renders each file once, then serves it from its cache): every phone's
# <mac>.cfg in order, for long enough to render them all (WARM seconds; a cold render is about
# 10,000 files/s here), then the script's own mix for 2 s.
WARM=${WARM:-$((DEVICES / 4000 + 2))}
MACS_LUA="$work/static/macs.lua" WARM_THREADS=2 wrk -t2 -c8 -d"${WARM}s" -s "$root/benches/warm.lua" "$scheme://127.0.0.1:$AP_PORT" >/dev/null
MACS_LUA="$work/static/macs.lua" wrk -t1 -c8 -d2s -s "$root/benches/$script" "$scheme://127.0.0.1:$AP_PORT" >/dev/null
MACS_LUA="$work/static/macs.lua" wrk -t1 -c8 -d2s -s "$root/benches/$script" "$scheme://127.0.0.1:$NGINX_PORT" >/dev/null

printf '%-10s %5s %12s %10s %10s %10s %10s\n' server round "requests/s" "p50 ms" "p75 ms" "p90 ms" "p99 ms"
: >"$work/ratios"; : >"$work/p99ratios"
for round in $(seq "$ROUNDS"); do
  run autoprov "$AP_PORT"
  run nginx "$NGINX_PORT"
  for s in autoprov nginx; do
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$work/$s.txt")
    printf '%-10s %5s %12s %10s %10s %10s %10s\n' "$s" "$round" "$rps" \
      "$(field "$work/$s.txt" 50%)" "$(field "$work/$s.txt" 75%)" "$(field "$work/$s.txt" 90%)" "$(field "$work/$s.txt" 99%)"
    grep -q "Non-2xx" "$work/$s.txt" && { echo "$s answered non-2xx:"; grep "Non-2xx" "$work/$s.txt"; }
    grep -q "Socket errors" "$work/$s.txt" && { echo "$s:"; grep "Socket errors" "$work/$s.txt"; }
  done
  a=$(awk '/^Requests\/sec:/ { print $2 }' "$work/autoprov.txt")
  b=$(awk '/^Requests\/sec:/ { print $2 }' "$work/nginx.txt")
  awk -v a="$a" -v b="$b" 'BEGIN { print a / b }' >>"$work/ratios"
  a=$(field "$work/autoprov.txt" 99%); b=$(field "$work/nginx.txt" 99%)
  awk -v a="$a" -v b="$b" 'BEGIN { print a / b }' >>"$work/p99ratios"
done
printf 'ratio autoprov/nginx requests/s: %.2f (median of %s; each: %s)\n' "$(median <"$work/ratios")" "$ROUNDS" "$(tr '\n' ' ' <"$work/ratios")"
printf 'ratio autoprov/nginx p99 latency: %.2f (median of %s)\n' "$(median <"$work/p99ratios")" "$ROUNDS"
if [ "$TLS" = 1 ]; then
  # Handshakes per second, one client connecting over and over: full (new) and resumed (reuse)
  # sessions, each server the same way.
  for mode in new reuse; do
    for s in "autoprov $AP_PORT" "nginx $NGINX_PORT"; do
      set -- $s
      n=$(openssl s_time -connect "127.0.0.1:$2" -"$mode" -time "${DURATION%s}" -www "/$first_mac.cfg" 2>/dev/null \
        | awk '/connections in [0-9.]+s;/ { for (i = 1; i <= NF; i++) if ($i == "connections/user") print $(i - 1) }' | head -1)
      echo "$n" >"$work/st-$mode-$1"
      printf 'handshakes (%s): %-8s %s connections/user s\n' "$mode" "$1" "$n"
    done
    awk -v a="$(cat "$work/st-$mode-autoprov")" -v b="$(cat "$work/st-$mode-nginx")" -v m="$mode" \
      'BEGIN { if (b > 0) printf "ratio autoprov/nginx handshakes (%s): %.2f\n", m, a / b }'
  done
fi
echo "devices=$DEVICES big=$BIG rounds=$ROUNDS duration=$DURATION threads=$THREADS connections=$CONNECTIONS tls=$TLS close=$CLOSE boot=$BOOT"
