#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# devsieve oci-hook under podman (runc), through a hooks.d file like
# contrib/oci-hooks.d/devsieve.json: one annotation gives a user-namespaced
# container devsieve's /dev and /sys with the runtime's own /dev/pts,
# /dev/shm and /dev/mqueue on top, usable devices and hot-plug; `podman rm
# -f` leaves nothing. Then the ways it must fail closed.
source "$SOURCE_ROOT/tests/integration/lib.sh"
source "$SOURCE_ROOT/tests/integration/oci-lib.sh"
oci_need_podman

oci_policy_dir hooktest
daemon_start "$RT" --policy-dir "$policies"

oci_hooks_dir

# The container's root (host uid 100000) must reach its root file system;
# the daemon's containers/ directory stays 0700.
chmod 0755 "$TEST_TMPDIR"
rootfs=$TEST_TMPDIR/rootfs
oci_rootfs "$rootfs"
name=devsieve-hook-$$
oci_views_scenario "$name" --hooks-dir "$hooks" -- --annotation io.devsieve.policy=hooktest

# --- Failing closed -------------------------------------------------------

# The runtime shows the hook's line and the container does not start.
defer "podman_rm $name-nopolicy"
assert_exit 126 timeout 120 podman --hooks-dir "$hooks" "${PODMAN_RUN[@]}" --rm --name "$name-nopolicy" \
        --annotation io.devsieve.policy=no-such-policy --rootfs "$rootfs" true
assert_contains "$ERR" "devsieve: no policy 'no-such-policy' in $policies" "podman's error"

# The hook alone, on states made here.
state() { # ID PID BUNDLE [ANNOTATION-POLICY]
        jq -n --arg id "$1" --argjson pid "$2" --arg bundle "$3" --arg policy "${4:-hooktest}" \
                '{ociVersion: "1.0.2", id: $id, status: "creating", pid: $pid, bundle: $bundle,
                  annotations: {"io.devsieve.policy": $policy}}'
}
bundle=$TEST_TMPDIR/bundle
mkdir -p "$bundle/rootfs"
jq -n '{ociVersion: "1.0.2", root: {path: "rootfs"}}' >"$bundle/config.json"

# The daemon is not running.
state down 1 "$bundle" >"$TEST_TMPDIR/state"
assert_exit 3 "$DEVSIEVE" --runtime-dir "$TEST_TMPDIR/nowhere" oci-hook <"$TEST_TMPDIR/state"
assert_eq "devsieve: devsieved is not running at $TEST_TMPDIR/nowhere/devsieved.sock (No such file or directory); see devsieved(8)." \
        "$ERR" "the hook's error with no daemon"

# The container's process died between create and the hook.
sh -c 'exit 0' &
dead=$!
wait "$dead"
state dead "$dead" "$bundle" >"$TEST_TMPDIR/state"
assert_exit 1 "$DEVSIEVE" --runtime-dir "$RT" oci-hook <"$TEST_TMPDIR/state"
assert_contains "$ERR" "no process $dead" "the hook's error for a dead process"
assert_forgotten "$RT" dead

# A process in the host's own mount namespace: never mount over the host.
sleep infinity &
hostpid=$!
defer "kill $hostpid 2>/dev/null; wait $hostpid 2>/dev/null; true"
state hostns "$hostpid" "$bundle" >"$TEST_TMPDIR/state"
assert_exit 4 "$DEVSIEVE" --runtime-dir "$RT" oci-hook <"$TEST_TMPDIR/state"
assert_contains "$ERR" "Process $hostpid is in the host's mount namespace" "the hook's error"
assert_forgotten "$RT" hostns

# The views cannot be mounted (the root file system has no /dev): the
# record goes too. The process says it is in its own mount namespace
# through a fifo, after unshare: no polling, no race.
mkfifo "$TEST_TMPDIR/ready"
exec {ready}<>"$TEST_TMPDIR/ready"
unshare -m --propagation private sh -c 'echo ready >"$1"; exec sleep infinity' sh "$TEST_TMPDIR/ready" &
nspid=$!
defer "kill $nspid 2>/dev/null; wait $nspid 2>/dev/null; true"
read -r -t 30 -u "$ready" line || fail "the namespaced process did not start in 30 s"
assert_eq ready "$line" "the namespaced process"
state nodev "$nspid" "$bundle" >"$TEST_TMPDIR/state"
assert_exit 4 "$DEVSIEVE" --runtime-dir "$RT" oci-hook <"$TEST_TMPDIR/state"
assert_contains "$ERR" "Cannot mount the view /dev of container nodev at $bundle/rootfs/dev" "the hook's error"
assert_forgotten "$RT" nodev

# poststop of a container devsieved does not know (its create failed): fine.
jq '.status = "stopped"' "$TEST_TMPDIR/state" >"$TEST_TMPDIR/state.stopped"
assert_exit 0 "$DEVSIEVE" --runtime-dir "$RT" oci-hook <"$TEST_TMPDIR/state.stopped"
