#!/usr/bin/env bash
# Cold-render benchmark: N phones' `<mac>.cfg` rendered again after one tenant-wide change,
# in files/s, against the warm (cached) pass of the same run (`examples/bench_render.rs`).
# Repeats RUNS times and prints the median of each figure.
#
#   benches/render.sh               # N = 10000, RUNS = 3
#   N=50000 RUNS=5 TASKS=4 benches/render.sh
set -euo pipefail

N=${N:-10000}
RUNS=${RUNS:-3}
export AUTOPROV_HTTPS=off AUTOPROV_TFTP=off AUTOPROV_ADMIN=off
export AUTOPROV_PROVISIONING__PUBLIC_URL=http://prov.example.com/

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target=${CARGO_TARGET_DIR:-$root/target}

cd "$root"
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet --example bench_render
for r in $(seq "$RUNS"); do
  "$target/release/examples/bench_render" "$work/run-$r" "$N" | tee -a "$work/lines"
  rm -rf "$work/run-$r"
done
median() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$work/lines" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "median of $RUNS: cold files/s $(median cold_files_per_s), warm files/s $(median warm_files_per_s), ratio cold/warm $(median ratio_cold_warm)"
