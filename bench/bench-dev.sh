#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs bench-dev against a /dev view that devsieved serves standalone
# (the OCI default devices) and cleans up after itself. As root:
#
#     bench/bench-dev.sh [BUILD_DIR]
#
# meson test --benchmark sets DEVSIEVED and BENCH_DEV.
set -euo pipefail

build=${1:-${BUILD_ROOT:-build}}
DEVSIEVED=${DEVSIEVED:-$build/daemon/devsieved}
BENCH_DEV=${BENCH_DEV:-$build/bench/bench-dev}
[[ $(id -u) -eq 0 ]] || { echo "bench-dev needs root (FUSE mounts, drop_caches)" >&2; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/devsieve-bench.XXXXXX")
pid=
cleanup() {
        # A killed process makes `wait` fail: no step may stop the others.
        set +e
        [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        umount -l "$dir/containers/bench/dev" 2>/dev/null
        rm -rf "$dir"
}
trap cleanup EXIT

"$DEVSIEVED" --foreground --runtime-dir "$dir" --container bench=oci-default --log-level warning &
pid=$!
for _ in {1..200}; do
        [[ -c $dir/containers/bench/dev/null ]] && break
        kill -0 "$pid" || { echo "devsieved exited" >&2; exit 1; }
        sleep 0.05
done
"$BENCH_DEV" "$dir/containers/bench/dev"
