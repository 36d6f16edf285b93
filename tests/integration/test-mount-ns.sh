#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# devsieved's own mount namespace: a container created the host-side way
# (RUNTIME/containers/NAME) has its views in the host as before, hot-plug
# included; a container set up by `devsieve oci-hook` (detached views,
# handed over as mount trees) costs the host at most its /proc files, and
# a device hot-plugged after it started still gets its real /sys directory
# inside, where libudev accepts it. Nothing of the daemon's namespace leaks
# into the host, and a stopped daemon leaves no mount behind.
source "$SOURCE_ROOT/tests/integration/lib.sh"
source "$SOURCE_ROOT/tests/integration/oci-lib.sh"
command -v unshare >/dev/null || skip "unshare is not installed (util-linux)"
command -v udevadm >/dev/null || skip "udevadm is not installed (udev)"

oci_policy_dir mnstest
# The device cgroup is not under test: the namespaced process below shares
# this test's cgroup.
daemon_start "$RT" --policy-dir "$policies" --device-cgroup off

assert_not_contains "$(readlink "/proc/$DAEMON_PID/ns/mnt")" "$(readlink /proc/self/ns/mnt)" \
        "devsieved's mount namespace"

# --- A host-side container -------------------------------------------------
"$DEVSIEVE" --runtime-dir "$RT" create side --policy mnstest >/dev/null || fail "devsieve create side failed"
[[ -c $RT/containers/side/dev/null ]] || fail "the host does not see side's /dev view at $RT/containers/side/dev"

# --- A hook container: a process in a mount namespace of its own ----------
hook_container hooked mnstest
assert_eq true "$("$DEVSIEVE" --runtime-dir "$RT" show hooked --json | jq -r .container.detached)" \
        "hooked's views detached"
assert_eq fuse.devsieve "$(awk -v mp="$rootfs/dev" '$5 == mp { for (i = 7; $i != "-"; i++); print $(i + 1) }' \
        "/proc/$nspid/mountinfo")" "the mount at $rootfs/dev in the namespaced process"
in_ns test -c /dev/null || fail "no /dev/null in the namespaced process's view"
assert_host_mounts "$RT" hooked 2
assert_not_contains "$(cat /proc/self/mountinfo)" "$RT/views" "the host's mount table"

# A second daemon for the same runtime directory refuses to start before it
# touches the containers mount the first one shares with the host.
assert_exit 1 timeout 60 "$DEVSIEVED" --foreground --runtime-dir "$RT" --policy-dir "$policies" --device-cgroup off
assert_contains "$ERR" "Another devsieved already serves $RT/devsieved.sock" "the second devsieved's error"

# --- Hot-plug after both started ----------------------------------------------
loop_add HOT
truncate -s 1M "$TEST_TMPDIR/visible-hot.img"
losetup "$HOT" "$TEST_TMPDIR/visible-hot.img" || fail "losetup $HOT failed"
defer "losetup -d '$HOT'"
hot=${HOT#/dev/}

wait_until "$hot in the namespaced process's /dev and /sys" in_ns sh -c "$LISTED_SH" sh "$hot"
assert_eq sysfs "$(in_ns stat -f -c %T "/sys/class/block/$hot/")" "/sys/class/block/$hot/ in the namespaced process"
info=$(in_ns udevadm info "/dev/$hot") || fail "udevadm info /dev/$hot in the namespaced process failed"
assert_match "$info" "^P: /devices/virtual/block/$hot\$" "udevadm info /dev/$hot in the namespaced process"
assert_match "$info" '^E: USEC_INITIALIZED=[0-9]+$' "udevadm info /dev/$hot in the namespaced process"
assert_host_mounts "$RT" hooked 2

# The host-side container's copy in the host got the device's mounts.
wait_until "$hot in side's views in the host" sh -c \
        'ls -A "$1/dev" | grep -qxF "$2" && ls -A "$1/sys/class/block" | grep -qxF "$2"' sh "$RT/containers/side" "$hot"
assert_eq sysfs "$(stat -f -c %T "$RT/containers/side/sys/class/block/$hot/")" \
        "$RT/containers/side/sys/class/block/$hot/ in the host"

# --- Gone ----------------------------------------------------------------------
jq '.status = "stopped"' "$TEST_TMPDIR/state" >"$TEST_TMPDIR/state.stopped"
assert_exit 0 "$DEVSIEVE" --runtime-dir "$RT" oci-hook <"$TEST_TMPDIR/state.stopped"
POSTSTOP_PENDING=
assert_forgotten "$RT" hooked
daemon_stop "$DAEMON_PID" "$RT.log" || fail "devsieved did not stop cleanly"
assert_not_contains "$(cat /proc/self/mountinfo)" "$RT/" "the host's mount table after devsieved stopped"
