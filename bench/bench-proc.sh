#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The /proc view's files against the kernel's own and against lxcfs's
# /proc/diskstats (a FUSE peer that filters the same file, by the blkio
# cgroup), each pair measured interleaved in one process by bench-fs. A
# read is open, read to EOF, close: the view reads and filters the
# kernel's file at open. As root:
#
#     bench/bench-proc.sh [BUILD_DIR]
#
# meson test --benchmark sets DEVSIEVED, BENCH_FS and LOOPCTL.
set -euo pipefail

build=${1:-${BUILD_ROOT:-build}}
DEVSIEVED=${DEVSIEVED:-$build/daemon/devsieved}
BENCH_FS=${BENCH_FS:-$build/bench/bench-fs}
LOOPCTL=${LOOPCTL:-$build/tests/helpers/loopctl}
[[ $(id -u) -eq 0 ]] || { echo "bench-proc needs root (FUSE mounts, loop devices)" >&2; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/devsieve-bench.XXXXXX")
pid= lxcfs_pid= loop=
cleanup() {
        # A killed process makes `wait` fail: no step may stop the others.
        set +e
        [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        [[ -n $lxcfs_pid ]] && kill "$lxcfs_pid" 2>/dev/null && wait "$lxcfs_pid" 2>/dev/null
        umount -l "$dir/lxcfs" 2>/dev/null
        [[ -n $loop ]] && { losetup -d "$loop" 2>/dev/null; "$LOOPCTL" remove "${loop#/dev/loop}" 2>/dev/null; }
        rm -rf "$dir"
}
trap cleanup EXIT

loop=$("$LOOPCTL" add)
n=${loop#/dev/}
truncate -s 1M "$dir/backing"
losetup "$loop" "$dir/backing"
# One visible disk, renamed: every line of the kernel's file is looked up,
# one is rewritten.
printf 'allow SUBSYSTEM=="block", KERNEL=="%s", NAME="xvdb"\n' "$n" >"$dir/bench.rules"
"$DEVSIEVED" --foreground --runtime-dir "$dir/run" --container bench="$dir/bench.rules" --log-level warning &
pid=$!
view=$dir/run/containers/bench/proc
for _ in {1..600}; do
        grep -qs ' xvdb$' "$view/partitions" && break
        kill -0 "$pid" || { echo "devsieved exited" >&2; exit 1; }
        sleep 0.05
done
grep -qs ' xvdb$' "$view/partitions" || { echo "the view never showed $n as xvdb" >&2; exit 1; }
echo "kernel's /proc/partitions: $(($(wc -l </proc/partitions) - 2)) devices," \
        "/proc/diskstats: $(wc -l </proc/diskstats)"

"$BENCH_FS" --header read "proc view: partitions" "$view/partitions" "/proc/partitions" /proc/partitions
"$BENCH_FS" read "proc view: diskstats" "$view/diskstats" "/proc/diskstats" /proc/diskstats
"$BENCH_FS" read "proc view: bus/input/devices" "$view/bus/input/devices" \
        "/proc/bus/input/devices" /proc/bus/input/devices
"$BENCH_FS" read "proc view: bus/pci/devices" "$view/bus/pci/devices" "/proc/bus/pci/devices" /proc/bus/pci/devices

if command -v lxcfs >/dev/null; then
        mkdir "$dir/lxcfs"
        lxcfs -f "$dir/lxcfs" >"$dir/lxcfs.log" 2>&1 &
        lxcfs_pid=$!
        for _ in {1..200}; do
                [[ -e $dir/lxcfs/proc/diskstats ]] && break
                sleep 0.05
        done
        "$BENCH_FS" read "proc view: diskstats" "$view/diskstats" "lxcfs: diskstats (FUSE)" "$dir/lxcfs/proc/diskstats"
else
        echo "lxcfs is not installed: no FUSE peer to compare with (apt-get install lxcfs)"
fi
