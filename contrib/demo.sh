#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The quick start's first command: installs dependencies, builds, starts
# devsieved and runs a real runc container (user namespace: its root is
# host uid 100000; its own network namespace) whose /dev, /sys and
# /run/udev are devsieve's views under contrib/policies/demo.rules. Then it
# hot-plugs two loop devices, one the policy allows and one it hides, and
# shows what the container sees: the node, lsblk, udevadm info (initialized,
# as udev would show it), that the device opens (devsieved allowed it in
# the container's device cgroup), and the kernel and udev events that
# `udevadm monitor` heard inside. Last, devsieved is killed with -9, a
# second allowed device is plugged while no daemon runs, and devsieved is
# started again: the container goes on throughout (the holder kept its
# views), gets the new device and hears its events. Everything it made is
# removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ ${DEVSIEVE_DEMO_SKIP_DEPS:-} ]] || contrib/deps.sh
[[ -d build ]] || meson setup build >/dev/null
meson compile -C build >/dev/null

devsieve=$PWD/build/cli/devsieve
work=$(mktemp -d /tmp/devsieve-demo.XXXXXX)
chmod 0755 "$work" # runc and the container's root (host 100000) pass it
run=$work/run
bundle=$work/bundle
name=devsieve-demo-$$
loops=()
pids=()
binds=()
cleanup() {
        set +e
        runc delete -f "$name" >/dev/null 2>&1
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        [[ -S $run/devsieved.sock ]] && "$devsieve" --runtime-dir "$run" destroy demo >/dev/null 2>&1
        for b in "${binds[@]}"; do umount -l "$b" 2>/dev/null; done
        for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
        rm -rf "$work"
}
trap cleanup EXIT

title() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
inside() { timeout 60 runc exec "$name" "$@"; }
ds() { "$devsieve" --runtime-dir "$run" "$@"; }

start_daemon() {
        build/daemon/devsieved --foreground --runtime-dir "$run" --log-level notice 2>>"$work/devsieved.log" &
        daemon=$!
        pids+=("$daemon")
        for _ in {1..200}; do ds status >/dev/null 2>&1 && break; sleep 0.05; done
}
start_daemon

title "devsieve create demo --policy contrib/policies/demo.rules"
ds create demo --policy "$PWD/contrib/policies/demo.rules"

# A root file system of the host's binaries, read-only; the views bound at
# /dev, /sys and /run/udev (runc mounts as the container's root, which
# cannot pass the daemon's 0700 containers/ directory: bind them where it
# can).
mkdir -p "$bundle/rootfs"/{usr,etc,proc,dev,sys,tmp,run/udev}
for l in bin lib lib64 sbin; do ln -s "usr/$l" "$bundle/rootfs/$l"; done
(cd "$bundle" && runc spec)
for v in dev sys udev; do
        mkdir "$bundle/$v-view"
        mount --rbind "$run/containers/demo/$v" "$bundle/$v-view"
        binds+=("$bundle/$v-view")
done
jq --arg b "$bundle" '
        .process.terminal = false
        | .process.args = ["sleep", "infinity"]
        | .root.readonly = true
        | .linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .mounts |= map(select(.destination != "/sys" and .destination != "/dev" and .destination != "/sys/fs/cgroup"))
        | .mounts = [{"destination": "/dev", "type": "bind", "source": ($b + "/dev-view"), "options": ["rbind", "rw", "nosuid"]},
                     {"destination": "/sys", "type": "bind", "source": ($b + "/sys-view"), "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]}] + .mounts
        | .mounts += [{"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]},
                      {"destination": "/etc", "type": "bind", "source": "/etc", "options": ["rbind", "ro"]},
                      {"destination": "/run/udev", "type": "bind", "source": ($b + "/udev-view"), "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]}]
' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

title "runc create; devsieve attach demo --pid PID; runc start"
(cd "$bundle" && runc create "$name")
ds attach demo --pid "$(runc state "$name" | jq -r .pid)"
runc start "$name"

# What libudev in the container hears: udevadm monitor, inside, both the
# kernel's events and udev's (which libudev clients such as libinput use).
for source in kernel udev; do
        runc exec "$name" udevadm monitor --$source --property --subsystem-match=block >"$work/$source.events" 2>&1 &
        pids+=($!)
done
sleep 1

title "The host has $(find /dev -maxdepth 1 | wc -l) entries in /dev; the container (root = host uid 100000):"
inside ls -l /dev

truncate -s 8M "$work/devsieve-demo-visible.img" "$work/devsieve-demo-hidden.img"
for img in visible hidden; do
        loops+=("$(losetup -f --show "$work/devsieve-demo-$img.img")")
done
visible=${loops[0]#/dev/}
hidden=${loops[1]#/dev/}
title "Hot-plugged /dev/$visible (backed by the allowed image) and /dev/$hidden (hidden)"
for _ in {1..300}; do inside test -b "/dev/$visible" && break; sleep 0.1; done
for _ in {1..100}; do grep -q "^UDEV *\[.*add .*/$visible " "$work/udev.events" && break; sleep 0.1; done

title "Container: ls -l /dev | grep -e loop -e disk"
inside sh -c 'ls -l /dev | grep -e loop -e disk; ls -l /dev/disk/by-devsieve'
title "Container: lsblk"
inside lsblk
title "Host: lsblk (for comparison)"
lsblk
title "Container: udevadm info /dev/$visible (initialized, as udev would show it)"
inside udevadm info "/dev/$visible" | grep -e '^N:' -e '^S:' -e DEVNAME -e USEC_INITIALIZED
inside udevadm info "/dev/$hidden" 2>&1 | sed 's/^/  /' || true
title "Container: the device opens (devsieved allowed it in the container's device cgroup)"
inside sh -c "head -c 1048576 /dev/$visible | wc -c | sed 's/$/ bytes read from \/dev\/$visible/'"
title "Container: what udevadm monitor --kernel and --udev heard (relayed by devsieved)"
grep -hE '^(KERNEL|UDEV) *\[|^DEVNAME=|^DEVLINKS=' "$work/kernel.events" "$work/udev.events" | sed 's/^/  /' || true
grep -q "$hidden" "$work/kernel.events" "$work/udev.events" && echo "  (!) an event about the hidden $hidden reached the container"
title "devsieve explain demo /dev/$hidden"
ds explain demo "/dev/$hidden" || true
title "devsieve show demo"
ds show demo

title "kill -9 devsieved; a second allowed device plugged while no daemon runs; devsieved started again"
kill -9 "$daemon"
wait "$daemon" 2>/dev/null || true
echo "  no daemon; the container goes on (the holder keeps its views):"
inside ls -l "/dev/$visible" | sed 's/^/  /'
mkdir "$work/second"
truncate -s 8M "$work/second/devsieve-demo-visible.img"
loops+=("$(losetup -f --show "$work/second/devsieve-demo-visible.img")")
second=${loops[2]#/dev/}
start_daemon
for _ in {1..300}; do inside test -b "/dev/$second" && break; sleep 0.1; done
for _ in {1..100}; do grep -q "^UDEV *\[.*add .*/$second " "$work/udev.events" && break; sleep 0.1; done
echo "  the container after the restart:"
inside sh -c 'ls -l /dev | grep loop' | sed 's/^/  /'
echo "  what udevadm monitor heard about /dev/$second:"
grep -hE "^(KERNEL|UDEV) *\[.*/$second " "$work/kernel.events" "$work/udev.events" | sed 's/^/  /' || true
ds list
