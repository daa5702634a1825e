#!/usr/bin/env bash
# Database size benchmark: N registered phones, each a Yealink T54W with its number logged in
# and a user holding that number (one line), seeded by the bulk import (`bench_rollout seed`).
# Prints the SQLite file's bytes per phone after a WAL checkpoint, once imported and again
# after every phone's first contact, and the tables and indexes
# that take the space (SQLite's dbstat), largest first.
#
#   benches/dbsize.sh              # N = 10000
#   N=100000 benches/dbsize.sh
#
# Needs the sqlite3 shell (Debian: apt-get install sqlite3).
set -euo pipefail

N=${N:-10000}
TARGET_BYTES=${TARGET_BYTES:-1536}
export AUTOPROV_HTTPS=off AUTOPROV_TFTP=off AUTOPROV_ADMIN=off
command -v sqlite3 >/dev/null || { echo "benches/dbsize.sh needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target=${CARGO_TARGET_DIR:-$root/target}

cd "$root"
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet --example bench_rollout
"$target/release/examples/bench_rollout" seed "$work/data" "$N" >/dev/null
db="$work/data/autoprov.db"
report() { # label
  sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  bytes=$(stat -c %s "$db")
  echo "$1: phones=$N db_bytes=$bytes bytes_per_phone=$((bytes / N))"
  awk -v b="$bytes" -v n="$N" -v t="$TARGET_BYTES" 'BEGIN { printf "  ratio bytes-per-phone/target(%d): %.2f\n", t, b / n / t }'
  echo "  largest tables and indexes (bytes per phone):"
  sqlite3 -separator ' ' "$db" \
    "SELECT name, SUM(pgsize) / $N FROM dbstat GROUP BY name ORDER BY SUM(pgsize) DESC LIMIT 8;" |
    awk '{ printf "    %-40s %8d\n", $1, $2 }'
}
report "imported"
# Every phone's first contact (its credentials stored, one audit entry each).
"$target/release/examples/bench_rollout" run "$work/data" "$N" >/dev/null
report "after first contact"
