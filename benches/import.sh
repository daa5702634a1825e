#!/usr/bin/env bash
# Import benchmark: N numbers, N handsets with their numbers logged in, N users with their
# numbers, as three CSV files through the same code as `autoprov import`, on SQLite and (when
# AUTOPROV_BENCH_PG_URL is set, e.g. postgres://postgres@127.0.0.1:5432/test) PostgreSQL.
# Prints rows/s per kind and in all, for each N.
#
#   benches/import.sh                      # N = 1000 10000 100000
#   SIZES="100000" AUTOPROV_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test benches/import.sh
set -euo pipefail

SIZES=${SIZES:-1000 10000 100000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target=${CARGO_TARGET_DIR:-$root/target}

cd "$root"
cargo build --release --quiet --example bench_import
bench="$target/release/examples/bench_import"

for n in $SIZES; do
  "$bench" "$work/sqlite-$n" "$n"
  if [ -n "${AUTOPROV_BENCH_PG_URL:-}" ]; then
    "$bench" "$work/pg-$n" "$n" "$AUTOPROV_BENCH_PG_URL"
  else
    echo "backend=postgres n=$n skipped (AUTOPROV_BENCH_PG_URL is not set)"
  fi
done
