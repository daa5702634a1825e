#!/usr/bin/env bash
# TFTP benchmark: autoprov against atftpd, the same files, the same client, on loopback.
#
# Measures (with examples/tftp_bench.rs as the client for both servers):
#   - small files per second: sequential fetches of a 1 KiB file, no options (lock-step, 512);
#   - the time of a 1 MiB fetch with blksize 1428 and windowsize 8 (median of N_BIG).
# Three rounds, alternating servers; prints each round and the median ratios.
#
#   benches/tftp.sh            # N_SMALL=2000 N_BIG=50 ROUNDS=3
#
# Needs atftpd (Debian: apt-get install atftpd).
set -euo pipefail

N_SMALL=${N_SMALL:-2000}
N_BIG=${N_BIG:-50}
ROUNDS=${ROUNDS:-3}
AP_PORT=${AP_PORT:-16969}
AT_PORT=${AT_PORT:-16970}

root=$(cd "$(dirname "$0")/.." && pwd)
command -v atftpd >/dev/null || { echo "benches/tftp.sh needs atftpd (apt-get install atftpd)" >&2; exit 1; }

work=$(mktemp -d)
ap_pid=""; at_pid=""
cleanup() {
  [ -n "$ap_pid" ] && kill "$ap_pid" 2>/dev/null || true
  [ -n "$at_pid" ] && kill "$at_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

target=${CARGO_TARGET_DIR:-$root/target}
cd "$root"
# The server on its own: built together with an example, it would get the dev-dependencies'
# features too (tokio's test-util, which puts a clock check in every timer), unlike a release.
if [ "${SKIP_BUILD:-0}" != 1 ]; then # SKIP_BUILD=1: run the binaries the target folder holds
  cargo build --release --quiet --bin autoprov
  cargo build --release --quiet --example tftp_bench
fi

mkdir -p "$work/data/files" "$work/atftpd"
head -c 1024 /dev/urandom >"$work/data/files/small.bin"
head -c 1048576 /dev/urandom >"$work/data/files/big.rom"
cp "$work/data/files/small.bin" "$work/data/files/big.rom" "$work/atftpd/"
chmod -R a+rX "$work"

"$target/release/autoprov" --data "$work/data" serve --http off --https off --admin off --tftp "127.0.0.1:$AP_PORT" 2>"$work/autoprov.log" &
ap_pid=$!
atftpd --daemon --no-fork --user root --group root --port "$AT_PORT" --bind-address 127.0.0.1 \
  --logfile /dev/null "$work/atftpd" &
at_pid=$!
sleep 1

bench() { "$target/release/examples/tftp_bench" "127.0.0.1:$1" small.bin "$N_SMALL" big.rom "$N_BIG"; }
value() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }

: >"$work/ratios"
for round in $(seq "$ROUNDS"); do
  a=$(bench "$AP_PORT"); b=$(bench "$AT_PORT")
  echo "round $round  autoprov: $a"
  echo "round $round  atftpd:   $b"
  awk -v as="$(value "$a" small_files_per_s)" -v bs="$(value "$b" small_files_per_s)" \
      -v ab="$(value "$a" big_ms_median)" -v bb="$(value "$b" big_ms_median)" \
      'BEGIN { print as / bs, bb / ab }' >>"$work/ratios"
done
sort -n -k1 "$work/ratios" | awk '{ a[NR] = $1 } END { printf "small files/s, autoprov/atftpd (median of rounds): %.2f\n", a[int((NR + 1) / 2)] }'
sort -n -k2 "$work/ratios" | awk '{ a[NR] = $2 } END { printf "1 MiB fetch speed, atftpd time / autoprov time (median of rounds): %.2f\n", a[int((NR + 1) / 2)] }'
echo "(ratios above 1 mean autoprov is faster)"
