#!/usr/bin/env bash
# Rollout benchmark: N phones doing their first contact, one after the other, through the real
# provisioner (in-process `Provisioner::serve`; each first contact stores credentials). Prints the
# time per phone and peak RSS for each N, and the ratio time-per-phone(largest N)/(smallest N):
# flat (near 1) when one phone's change costs the same whatever the tenant's size.
#
#   benches/rollout.sh                       # N = 2000 and 10000
#   SIZES="10000 50000" benches/rollout.sh
#   SEED_DIR=/tmp/rollout-seed benches/rollout.sh   # keep (and reuse) the seeded databases
set -euo pipefail

SIZES=${SIZES:-2000 10000}
export AUTOPROV_HTTPS=off AUTOPROV_TFTP=off AUTOPROV_ADMIN=off

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seeds=${SEED_DIR:-$work/seed}
target=${CARGO_TARGET_DIR:-$root/target}

cd "$root"
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet --example bench_rollout
bench="$target/release/examples/bench_rollout"

first=""; last=""
for n in $SIZES; do
  if [ ! -d "$seeds/$n" ]; then
    echo "seeding $n devices..." >&2
    mkdir -p "$seeds"
    "$bench" seed "$seeds/$n.tmp" "$n" >/dev/null
    mv "$seeds/$n.tmp" "$seeds/$n"
  fi
  cp -a "$seeds/$n" "$work/run-$n"
  line=$("$bench" run "$work/run-$n" "$n")
  echo "$line"
  per=$(sed -n 's/.*per_phone_us=\([0-9.]*\).*/\1/p' <<<"$line")
  [ -z "$first" ] && first=$per
  last=$per
  rm -rf "$work/run-$n"
done
awk -v a="$first" -v b="$last" 'BEGIN { printf "ratio time-per-phone (largest/smallest N): %.2f\n", b / a }'
