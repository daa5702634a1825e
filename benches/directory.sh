#!/usr/bin/env bash
# Directory benchmark (issues 12 and 15): the render time of one phone's <mac>-directory.xml and
# <mac>.cfg in a tenant of 5,000 users and 2,000 directory entries against a tenant of 10 users,
# measured in the same run, as ratios. <mac>.cfg does not show the directory, so its ratio should
# be near 1; the directory file's own grows with what it lists.
#
#   benches/directory.sh          # 200 renders per figure (medians)
#   RUNS=1000 benches/directory.sh
set -euo pipefail
export AUTOPROV_HTTPS=off AUTOPROV_TFTP=off AUTOPROV_ADMIN=off
cd "$(dirname "$0")/.."
cargo run --release --quiet --example directory_bench -- "${RUNS:-200}"
