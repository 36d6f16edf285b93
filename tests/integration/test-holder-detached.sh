#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A detached container (set up by `devsieve oci-hook`: its views live only
# in devsieved's mount namespace, below RUNTIME/views/containers/NAME, and
# were handed to it as mount trees) across `kill -9 devsieved` and a start
# on the same runtime directory: the holder kept devsieved's namespace and
# the views' connections, the new daemon joins that namespace and adopts
# them. A reader in the container with its current directory in /dev
# never sees an error; the container comes back detached with its views
# adopted; a device hot-plugged after the restart reaches its /dev and
# /sys; the host still holds at most its /proc files. Then kill -9 of the
# daemon and the holder: the views are repaired inside the container.
source "$SOURCE_ROOT/tests/integration/lib.sh"
source "$SOURCE_ROOT/tests/integration/oci-lib.sh"
command -v unshare >/dev/null || skip "unshare is not installed (util-linux)"

oci_policy_dir hdtest
# The device cgroup is not under test: the namespaced process below shares
# this test's cgroup.
restart_daemon_start "$RT" --policy-dir "$policies" --device-cgroup off
ds() { "$DEVSIEVE" --runtime-dir "$RT" "$@"; }
status() { ds status --json | jq -r "$1"; }
HOLDER=$(status .holder_pid)
[[ $HOLDER =~ ^[0-9]+$ ]] || fail "status names no holder: $HOLDER"
defer "kill -9 $HOLDER 2>/dev/null; true"
assert_eq "$(readlink "/proc/$DAEMON_PID/ns/mnt")" "$(readlink "/proc/$HOLDER/ns/mnt")" \
        "the holder's mount namespace (devsieved's)"

# --- A hook container: a process in a mount namespace of its own ----------
hook_container held hdtest
assert_eq true "$(ds show held --json | jq -r .container.detached)" "held's views detached"
in_ns test -c /dev/null || fail "no /dev/null in the container's view"

loop_attach EARLY 1M visible
early=${EARLY#/dev/}
wait_until "$early in the container's /dev and /sys" in_ns sh -c "$LISTED_SH" sh "$early"

# The reader: its current directory is the /dev view; one line per pass.
# Not through in_ns: $! must be the reader itself (setsid, nsenter and
# chroot exec it), leading its own process group (lib.sh, group_kill).
setsid nsenter -t "$nspid" -m chroot "$rootfs" sh -c 'cd /dev || exit 1; while :; do
        if ls . | grep -qx null && cat "/sys/class/block/$1/uevent" >/dev/null; then echo ok; else echo err; fi
        done' sh "$early" >"$TEST_TMPDIR/reader.log" 2>&1 &
READER=$!
# Only while it runs: a reaped reader's pid may be another process's.
defer 'if [[ -n $READER ]]; then group_kill "$READER"; fi; true'
reader_group "$READER"
reader_ok() { grep -c '^ok' "$TEST_TMPDIR/reader.log" || true; }
wait_until "the reader to run" sh -c "[ \$(grep -c '^ok' '$TEST_TMPDIR/reader.log') -gt 2 ]"

# --- kill -9 devsieved: the holder keeps its namespace and connections -----
log "kill -9 devsieved"
old_ns=$(readlink "/proc/$DAEMON_PID/ns/mnt")
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
before=$(reader_ok)
mv "$RT.log" "$RT.1.log"
daemon_start "$RT" --policy-dir "$policies" --device-cgroup off
assert_eq "$old_ns" "$(readlink "/proc/$DAEMON_PID/ns/mnt")" "the restarted devsieved's mount namespace (the holder's)"
assert_exit 0 ds show held --json
assert_eq "attached true adopted" "$(jq -r '.container | "\(.state) \(.detached) \(.views)"' <<<"$OUT")" \
        "held after the restart"
assert_eq null "$(jq -r .container.dev <<<"$OUT")" "held's host-side /dev path after the restart"
wait_until "the reader to go on after the restart" sh -c "[ \$(grep -c '^ok' '$TEST_TMPDIR/reader.log') -gt $before ]"
grep -q '^err' "$TEST_TMPDIR/reader.log" && fail "the reader saw an error:"$'\n'"$(grep -v '^ok' "$TEST_TMPDIR/reader.log" | head)"

loop_attach LATE 1M visible
late=${LATE#/dev/}
wait_until "$late in the container's /dev and /sys after the restart" in_ns sh -c "$LISTED_SH" sh "$late"
assert_eq sysfs "$(in_ns stat -f -c %T "/sys/class/block/$late/")" "/sys/class/block/$late/ in the container"
# Nothing stacked in devsieved's namespace; the host holds its /proc files only.
for v in dev sys; do
        assert_eq 1 "$(mounts_at "$RT/views/containers/held/$v" "$DAEMON_PID")" "mounts at held's $v view (devsieved's namespace)"
done
assert_host_mounts "$RT" held 2
assert_not_contains "$(cat /proc/self/mountinfo)" "$RT/views" "the host's mount table"
group_kill "$READER"
READER=
grep -q '^err' "$TEST_TMPDIR/reader.log" && fail "the reader saw an error:"$'\n'"$(grep -v '^ok' "$TEST_TMPDIR/reader.log" | head)"
log "reader: $(reader_ok) passes across the restart, none failed"

# --- kill -9 of both: a new namespace; the container's views repaired -----
log "kill -9 devsieved and its holder"
HOLDER=$(status .holder_pid)
[[ $HOLDER =~ ^[0-9]+$ ]] || fail "status names no holder after the restart: $HOLDER"
kill -9 "$DAEMON_PID" "$HOLDER"
wait "$DAEMON_PID" 2>/dev/null || true
wait_until "the holder to be gone" sh -c "! kill -0 $HOLDER 2>/dev/null || grep -q '^State:.*Z' /proc/$HOLDER/status"
mv "$RT.log" "$RT.2.log"
daemon_start "$RT" --policy-dir "$policies" --device-cgroup off
HOLDER=$(status .holder_pid)
defer "kill -9 $HOLDER 2>/dev/null; true"
assert_exit 0 ds show held --json
assert_eq "attached true repaired" "$(jq -r '.container | "\(.state) \(.detached) \(.views)"' <<<"$OUT")" \
        "held after devsieved and its holder were killed"
listing=$(in_ns ls -A /dev 2>&1) || fail "ls /dev in the container failed after the repair: $listing"
assert_contains "$listing" "$late" "the container's /dev after the repair"
wait_until "$late in the container's /dev and /sys after the repair" in_ns sh -c "$LISTED_SH" sh "$late"
assert_host_mounts "$RT" held 2

# --- Gone ----------------------------------------------------------------------
jq '.status = "stopped"' "$TEST_TMPDIR/state" >"$TEST_TMPDIR/state.stopped"
assert_exit 0 ds oci-hook <"$TEST_TMPDIR/state.stopped"
POSTSTOP_PENDING=
assert_forgotten "$RT" held
[[ ! -e $RT/views/containers/held ]] || fail "$RT/views/containers/held is left after the container is gone"
daemon_stop "$DAEMON_PID" "$RT.log" || fail "devsieved did not stop cleanly"
wait_until "the holder to end at the stop" sh -c "! kill -0 $HOLDER 2>/dev/null || grep -q '^State:.*Z' /proc/$HOLDER/status"
assert_not_contains "$(cat /proc/self/mountinfo)" "$RT/" "the host's mount table after devsieved stopped"
