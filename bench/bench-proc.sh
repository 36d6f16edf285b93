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
NAME=bench-proc
source "$(dirname "$0")/view-lib.sh"

# One visible disk, renamed: every line of the kernel's file is looked up,
# one is rewritten.
start_view ', NAME="xvdb"'
view=$dir/run/containers/bench/proc
wait_view "$view/partitions" ' xvdb$' "the view never showed $n as xvdb"
echo "kernel's /proc/partitions: $(($(wc -l </proc/partitions) - 2)) devices," \
        "/proc/diskstats: $(wc -l </proc/diskstats)"

"$BENCH_FS" --header read "proc view: partitions" "$view/partitions" "/proc/partitions" /proc/partitions
"$BENCH_FS" read "proc view: diskstats" "$view/diskstats" "/proc/diskstats" /proc/diskstats
"$BENCH_FS" read "proc view: bus/input/devices" "$view/bus/input/devices" \
        "/proc/bus/input/devices" /proc/bus/input/devices
"$BENCH_FS" read "proc view: bus/pci/devices" "$view/bus/pci/devices" "/proc/bus/pci/devices" /proc/bus/pci/devices

if start_lxcfs proc/diskstats; then
        "$BENCH_FS" read "proc view: diskstats" "$view/diskstats" "lxcfs: diskstats (FUSE)" "$dir/lxcfs/proc/diskstats"
fi
