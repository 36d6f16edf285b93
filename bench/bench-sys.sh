#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The /sys view against the host's sysfs and against lxcfs (a FUSE peer
# that serves /sys/devices/system/cpu), each pair measured interleaved in
# one process by bench-fs. As root:
#
#     bench/bench-sys.sh [BUILD_DIR]
NAME=bench-sys
source "$(dirname "$0")/view-lib.sh"

# read_ahead_kb: an attribute the container may write, read live.
start_view ', WRITABLE_ATTR+="queue/read_ahead_kb"'
view=$dir/run/containers/bench/sys
wait_view "$view/class/block/$n/size" "the view never showed $n"

"$BENCH_FS" --header read "sys view: attribute (class/block/X/size)" "$view/class/block/$n/size" \
        "sysfs" "/sys/class/block/$n/size"
"$BENCH_FS" stat "sys view: stat attribute via class/" "$view/class/block/$n/size" "sysfs" "/sys/class/block/$n/size"
"$BENCH_FS" --cold --rounds 201 stat "sys view: cold stat via class/" "$view/class/block/$n/size" \
        "sysfs" "/sys/class/block/$n/size"
"$BENCH_FS" read "sys view: uevent (synthetic, FUSE)" "$view/devices/virtual/block/$n/uevent" \
        "sysfs" "/sys/devices/virtual/block/$n/uevent"
"$BENCH_FS" read "sys view: writable attribute (live)" "$view/class/block/$n/queue/read_ahead_kb" \
        "sysfs" "/sys/class/block/$n/queue/read_ahead_kb"
"$BENCH_FS" readdir "sys view: readdir class/block" "$view/class/block" "sysfs" "/sys/class/block"

# libudev enumeration as udevadm does it, in a mount namespace whose /sys is
# the view, against the same in the host's /sys.
time_trigger() {
        local start end
        start=${EPOCHREALTIME/./}
        "$@" udevadm trigger --dry-run --subsystem-match=block >/dev/null
        end=${EPOCHREALTIME/./}
        echo $((end - start))
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
in_view=() native=()
for _ in {1..21}; do
        in_view+=("$(time_trigger unshare -m sh -c "mount --rbind '$view' /sys && exec \"\$@\"" sh)")
        native+=("$(time_trigger unshare -m sh -c 'exec "$@"' sh)")
done
v=$(printf '%s\n' "${in_view[@]}" | median)
b=$(printf '%s\n' "${native[@]}" | median)
printf '%-44s %12.2f  %-34s %12.2f %7.2fx\n' "sys view: udevadm trigger --dry-run (block)" "$v" \
        "sysfs, same unshare -m" "$b" "$(awk -v v="$v" -v b="$b" 'BEGIN {print v / b}')"

# A FUSE peer on the same kind of read: a small file its daemon makes.
if start_lxcfs sys/devices/system/cpu/online; then
        "$BENCH_FS" read "sys view: uevent (synthetic, FUSE)" "$view/devices/virtual/block/$n/uevent" \
                "lxcfs: cpu/online (FUSE)" "$dir/lxcfs/sys/devices/system/cpu/online"
        "$BENCH_FS" read "sys view: cpu/online (pass-through)" "$view/devices/system/cpu/online" \
                "lxcfs: cpu/online (FUSE)" "$dir/lxcfs/sys/devices/system/cpu/online"
fi
