#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Hot-plug to visibility: runs bench-hotplug against a real container
# (tests/helpers/ns-run: user, mount and network namespaces, the views
# bound at /dev and /sys) that devsieved serves and relays to over netlink.
# As root:
#
#     bench/bench-hotplug.sh [BUILD_DIR] [ROUNDS]
#
# meson test --benchmark sets DEVSIEVED, DEVSIEVE, NS_RUN and BENCH_HOTPLUG.
set -euo pipefail

build=${1:-${BUILD_ROOT:-build}}
rounds=${2:-50}
DEVSIEVED=${DEVSIEVED:-$build/daemon/devsieved}
DEVSIEVE=${DEVSIEVE:-$build/cli/devsieve}
NS_RUN=${NS_RUN:-$build/tests/helpers/ns-run}
BENCH_HOTPLUG=${BENCH_HOTPLUG:-$build/bench/bench-hotplug}
[[ $(id -u) -eq 0 ]] || { echo "bench-hotplug needs root (loop-control, FUSE mounts, namespaces)" >&2; exit 77; }

# shellcheck source=bench/tmpfs-dir.sh
source "$(dirname "${BASH_SOURCE[0]}")/tmpfs-dir.sh"
dir=$(tmpfs_dir)
daemon= container= cgroup=
cleanup() {
        # A killed process makes `wait` fail: no step may stop the others.
        set +e
        [[ -n $container ]] && kill "$container" 2>/dev/null && wait "$container" 2>/dev/null
        [[ -n $daemon ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
        # Empty once the container and the probe are gone.
        [[ -n $cgroup ]] && for _ in {1..100}; do rmdir "$cgroup" 2>/dev/null && break; sleep 0.05; done
        remove_tmpfs_dir "$dir"
}
trap cleanup EXIT

wait_for() { # WHAT COMMAND...
        local what=$1
        shift
        for _ in {1..200}; do
                "$@" && return 0
                kill -0 "$daemon" 2>/dev/null || { echo "devsieved exited:" >&2; cat "$dir/log" >&2; exit 1; }
                sleep 0.05
        done
        echo "timed out waiting for $what" >&2
        exit 1
}

echo 'allow SUBSYSTEM=="block", KERNEL=="loop[0-9]*"' >"$dir/bench.rules"
"$DEVSIEVED" --foreground --runtime-dir "$dir/run" --container bench="$dir/bench.rules" --log-level info \
        >"$dir/log" 2>&1 &
daemon=$!
wait_for "devsieved to serve" grep -q 'Serving' "$dir/log"

# The container gets a v1 devices cgroup of its own that denies every
# device, as a runtime's would: what it opens, devsieved allowed.
cgroup_args=()
if [[ -w /sys/fs/cgroup/devices/devices.allow ]]; then
        cgroup=/sys/fs/cgroup/devices/devsieve-bench-$$
        mkdir "$cgroup"
        echo a >"$cgroup/devices.deny"
        cgroup_args=(--cgroup "$cgroup")
fi
view=$dir/run/containers/bench
# shellcheck disable=SC2016
sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$cgroup" \
        "$NS_RUN" --dev "$view/dev" --sys "$view/sys" --net --pidfile "$dir/pid" -- sleep infinity &
container=$!
wait_for "the container to start" test -s "$dir/pid"
"$DEVSIEVE" --runtime-dir "$dir/run" attach bench --pid "$(<"$dir/pid")" >/dev/null
wait_for "the relay" grep -q 'relaying uevents (netlink mode)' "$dir/log"

"$BENCH_HOTPLUG" --pid "$(<"$dir/pid")" --rounds "$rounds" "${cgroup_args[@]}"
