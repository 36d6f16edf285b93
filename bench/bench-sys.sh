#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The /sys view against the host's sysfs and against lxcfs (a FUSE peer
# that serves /sys/devices/system/cpu), each pair measured interleaved in
# one process by bench-fs. As root:
#
#     bench/bench-sys.sh [BUILD_DIR]
#
# meson test --benchmark sets DEVSIEVED, BENCH_FS and LOOPCTL.
set -euo pipefail

build=${1:-${BUILD_ROOT:-build}}
DEVSIEVED=${DEVSIEVED:-$build/daemon/devsieved}
BENCH_FS=${BENCH_FS:-$build/bench/bench-fs}
LOOPCTL=${LOOPCTL:-$build/tests/helpers/loopctl}
[[ $(id -u) -eq 0 ]] || { echo "bench-sys needs root (FUSE mounts, loop devices)" >&2; exit 77; }

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
printf 'allow SUBSYSTEM=="block", KERNEL=="%s"\n' "$n" >"$dir/bench.rules"
"$DEVSIEVED" --foreground --runtime-dir "$dir/run" --container bench="$dir/bench.rules" --log-level warning &
pid=$!
view=$dir/run/containers/bench/sys
for _ in {1..200}; do
        [[ -e $view/class/block/$n/size ]] && break
        kill -0 "$pid" || { echo "devsieved exited" >&2; exit 1; }
        sleep 0.05
done

"$BENCH_FS" --header read "sys view: attribute (class/block/X/size)" "$view/class/block/$n/size" \
        "sysfs" "/sys/class/block/$n/size"
"$BENCH_FS" stat "sys view: stat attribute via class/" "$view/class/block/$n/size" "sysfs" "/sys/class/block/$n/size"
"$BENCH_FS" --cold --rounds 201 stat "sys view: cold stat via class/" "$view/class/block/$n/size" \
        "sysfs" "/sys/class/block/$n/size"
"$BENCH_FS" read "sys view: uevent (synthetic, FUSE)" "$view/devices/virtual/block/$n/uevent" \
        "sysfs" "/sys/devices/virtual/block/$n/uevent"
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
if command -v lxcfs >/dev/null; then
        mkdir "$dir/lxcfs"
        lxcfs -f "$dir/lxcfs" >"$dir/lxcfs.log" 2>&1 &
        lxcfs_pid=$!
        for _ in {1..200}; do
                [[ -e $dir/lxcfs/sys/devices/system/cpu/online ]] && break
                sleep 0.05
        done
        "$BENCH_FS" read "sys view: uevent (synthetic, FUSE)" "$view/devices/virtual/block/$n/uevent" \
                "lxcfs: cpu/online (FUSE)" "$dir/lxcfs/sys/devices/system/cpu/online"
        "$BENCH_FS" read "sys view: cpu/online (pass-through)" "$view/devices/system/cpu/online" \
                "lxcfs: cpu/online (FUSE)" "$dir/lxcfs/sys/devices/system/cpu/online"
else
        echo "lxcfs is not installed: no FUSE peer to compare with (apt-get install lxcfs)"
fi
