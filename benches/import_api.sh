#!/usr/bin/env bash
# Import through the REST API (issue 13: "memory flat in file size"): N devices as one CSV body
# posted with curl to a release `autoprov serve`, a fresh server and data folder for each N.
# Prints per N the file's size, the time, rows/s and the server's peak RSS (VmHWM) before and
# after the import, then the ratios of the largest N to the smallest: file size, peak RSS growth.
#
#   benches/import_api.sh                  # N = 10000 100000
#   SIZES="10000 200000" benches/import_api.sh
set -euo pipefail

SIZES=${SIZES:-10000 100000}
PORT=${PORT:-18190}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cd "$root"
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --quiet --bin autoprov
bin="$target/release/autoprov"
export AUTOPROV_PROVISIONING__PUBLIC_URL=http://prov.example.com/
export AUTOPROV_HTTP=off AUTOPROV_HTTPS=off AUTOPROV_TFTP=off
export AUTOPROV_ADMIN=127.0.0.1:$PORT AUTOPROV_LISTEN__ADMIN_HTTP=true

hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; } # KiB

first_n=""; first_mib=""; first_growth=""
for n in $SIZES; do
  data="$work/data-$n"
  "$bin" --data "$data" tenant add Acme >/dev/null
  "$bin" --data "$data" site add --tenant Acme Berlin --sip-domain sip.example.com >/dev/null
  token=$("$bin" --data "$data" token create --role tenant-admin --tenant Acme | grep -o 'ap_[A-Za-z0-9_]*' | head -1)
  csv="$work/devices-$n.csv"
  python3 - "$n" "$csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("mac,model,site,phone_id\n")
    for i in range(n):
        f.write(f"0015{i:08x},T54W,Berlin,P{i:07d}\n")
PY
  RUST_LOG=autoprov=warn "$bin" --data "$data" serve 2>"$work/serve-$n.log" &
  pid=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/models" && break
    sleep 0.1
  done
  before=$(hwm "$pid")
  start=$(date +%s.%N)
  status=$(curl -s -o "$work/answer-$n.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Content-Type: text/csv' --data-binary "@$csv" \
    "http://127.0.0.1:$PORT/api/v1/tenants/Acme/import/devices")
  end=$(date +%s.%N)
  after=$(hwm "$pid")
  [ "$status" = 200 ] || { echo "n=$n: HTTP $status: $(cat "$work/answer-$n.json")" >&2; exit 1; }
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  mib=$(awk -v b="$(stat -c %s "$csv")" 'BEGIN {printf "%.1f", b / 1048576}')
  growth=$(( (after - before) / 1024 ))
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')
  rate=$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')
  echo "n=$n file_mib=$mib secs=$secs rows_per_s=$rate rss_peak_before_mib=$((before / 1024)) rss_peak_after_mib=$((after / 1024)) growth_mib=$growth"
  if [ -z "$first_n" ]; then first_n=$n; first_mib=$mib; first_growth=$growth; fi
  last_n=$n; last_mib=$mib; last_growth=$growth
done
if [ "$first_n" != "$last_n" ]; then
  awk -v a="$first_mib" -v b="$last_mib" -v c="$first_growth" -v d="$last_growth" -v m="$first_n" -v n="$last_n" \
    'BEGIN {printf "ratio n=%s/n=%s: file %.1fx, peak RSS growth %.1fx (%s MiB vs %s MiB)\n", n, m, b / a, (d > 0 ? d : 1) / (c > 0 ? c : 1), d, c}'
fi
