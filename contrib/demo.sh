#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The quick start's first command: installs dependencies, builds, starts
# devsieved, and runs a real user-namespaced container (its root is host uid
# 100000, with its own network namespace) whose /dev and /sys are devsieve's
# views under contrib/policies/demo.rules. Then it hot-plugs two loop
# devices, one the policy allows and one it hides, and shows what the
# container sees next to what the host sees. Everything it made is removed
# at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ ${DEVSIEVE_DEMO_SKIP_DEPS:-} ]] || contrib/deps.sh
[[ -d build ]] || meson setup build >/dev/null
meson compile -C build >/dev/null

devsieve=build/cli/devsieve
work=$(mktemp -d /tmp/devsieve-demo.XXXXXX)
run=$work/run
loops=()
pids=()
cleanup() {
        set +e
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        [[ -S $run/devsieved.sock ]] && "$devsieve" --runtime-dir "$run" destroy demo >/dev/null 2>&1
        for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
        rm -rf "$work"
}
trap cleanup EXIT

title() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_container() { nsenter -t "$cpid" -U -m -n -- "$@"; }

build/daemon/devsieved --foreground --runtime-dir "$run" --log-level notice 2>"$work/devsieved.log" &
pids+=($!)
for _ in {1..100}; do [[ -S $run/devsieved.sock ]] && break; sleep 0.05; done
ds() { "$devsieve" --runtime-dir "$run" "$@"; }

title "devsieve create demo --policy contrib/policies/demo.rules"
ds create demo --policy "$PWD/contrib/policies/demo.rules"

# The container: the views bound at /dev and /sys, host binaries for tools.
build/tests/helpers/ns-run --dev "$run/containers/demo/dev" --sys "$run/containers/demo/sys" --net \
        --pidfile "$work/pid" -- sleep infinity &
pids+=($!)
for _ in {1..100}; do [[ -s $work/pid ]] && break; sleep 0.05; done
cpid=$(<"$work/pid")
ds attach demo --pid "$cpid"
# What libudev in the container hears: udevadm monitor, inside.
in_container udevadm monitor --kernel --property >"$work/events" 2>&1 &
pids+=($!)

title "The host has $(find /dev -maxdepth 1 | wc -l) entries in /dev; the container (root = host uid 100000):"
in_container ls -l /dev

truncate -s 8M "$work/devsieve-demo-visible.img" "$work/devsieve-demo-hidden.img"
for img in visible hidden; do
        loops+=("$(losetup -f --show "$work/devsieve-demo-$img.img")")
done
visible=${loops[0]#/dev/}
hidden=${loops[1]#/dev/}
title "Hot-plugged /dev/$visible (backed by the allowed image) and /dev/$hidden (hidden)"
for _ in {1..200}; do in_container test -b "/dev/$visible" && break; sleep 0.01; done
sleep 0.2

title "Container: ls -l /dev | grep -e loop -e disk"
in_container sh -c 'ls -l /dev | grep -e loop -e disk; ls -l /dev/disk/by-devsieve'
title "Container: lsblk"
in_container lsblk
title "Host: lsblk (for comparison)"
lsblk
title "Container: /sys/class/block and udevadm info"
in_container ls /sys/class/block
in_container udevadm info -q property "/dev/$visible" | grep -e DEVNAME -e DEVPATH
in_container udevadm info "/dev/$hidden" 2>&1 | sed 's/^/  /' || true
title "Container: what udevadm monitor --kernel heard (relayed by devsieved)"
grep -E '^(KERNEL|ACTION|DEVNAME)' "$work/events" | grep -B1 -A1 "ACTION" | sed 's/^/  /' || true
grep -q "$hidden" "$work/events" && echo "  (!) an event about the hidden $hidden reached the container"
title "devsieve explain demo /dev/$hidden"
ds explain demo "/dev/$hidden" || true
title "devsieve status"
ds status
