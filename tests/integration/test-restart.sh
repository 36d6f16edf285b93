#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# devsieved and its holder killed with SIGKILL and devsieved started again
# on the same runtime directory (the holder's own case is test-holder.sh):
# the container (ns-run, root = host 100000) stays registered
# and attached, its dead /dev and /sys are covered with live views in its
# own mount namespace, a device added while the daemon was down is there,
# one removed meanwhile is gone, hot-plug after the restart arrives, and
# nothing is stacked on the host. A second kill and restart repairs the
# repaired views again. A container whose process died while the daemon
# was down is cleaned up at start. A connection aborted under the running
# daemon (fusectl) is mounted again with every view, the container's copies
# repaired. `devsieve upgrade` to a replaced binary re-executes it with the
# same pid and the container repaired. destroy and create of the name
# leave exactly one mount.
source "$SOURCE_ROOT/tests/integration/lib.sh"

need_env DEVSIEVED NS_RUN

own_loops_policy "$TEST_TMPDIR/c.rules"
RT=$TEST_TMPDIR/run
restart_daemon_start "$RT"
ds() { "$DEVSIEVE" --runtime-dir "$RT" "$@"; }
# assert_unstacked WHEN [PATH...]: one mount at c1's /dev and /sys in
# devsieved's namespace and in the host's (nothing stacked on a dead one),
# and at each PATH in devsieved's; WHEN goes into the messages.
assert_unstacked() {
        local when=$1 p
        shift
        for p in "$RT/containers/c1/dev" "$RT/containers/c1/sys" "$@"; do
                assert_eq 1 "$(mounts_at "$p" "$DAEMON_PID")" "mounts at $p$when (devsieved's namespace)"
        done
        for p in "$RT/containers/c1/dev" "$RT/containers/c1/sys"; do
                assert_eq 1 "$(mounts_at "$p")" "mounts at $p$when (the host's namespace)"
        done
}

ds create c1 --policy "$TEST_TMPDIR/c.rules" >/dev/null || fail "create c1 failed"
ds create gone --policy oci-default >/dev/null || fail "create gone failed"
container_start C1 --dev "$RT/containers/c1/dev" --sys "$RT/containers/c1/sys"
ds attach c1 --pid "$C1" >/dev/null || fail "attach c1 failed"
# A container whose process will be gone when the daemon comes back.
"$NS_RUN" --pidfile "$TEST_TMPDIR/gone.pid" -- sleep infinity &
GONE_NS_RUN=$!
defer "kill $GONE_NS_RUN 2>/dev/null; wait $GONE_NS_RUN 2>/dev/null; true"
wait_until "the second container to start" test -s "$TEST_TMPDIR/gone.pid"
ds attach gone --pid "$(<"$TEST_TMPDIR/gone.pid")" >/dev/null || fail "attach gone failed"

# Removed while the daemon is down (loop_attach's cleanup leaves alone a
# number that is another test run's by then).
loop_attach OLD
old=${OLD#/dev/}
wait_until "$old in the container" in_container "$C1" test -b "/dev/$old"
jq -e '.pid > 0 and .dev_view.root != null' "$RT/containers/c1/container.json" >/dev/null ||
        fail "c1's saved state lacks its pid or views:"$'\n'"$(cat "$RT/containers/c1/container.json")"

# A reader in the container: one listing of /dev per line (a readdir
# always reaches the daemon; a stat may be answered from the kernel's
# cache), with when it started and how long it took, until the test ends.
# Not through in_container: $! must be the reader itself (setsid and
# nsenter exec it), leading its own process group (lib.sh, group_kill).
setsid nsenter -t "$C1" -U -m -n -- sh -c 'while :; do
        s=$(date +%s%N); if ls /dev >/dev/null 2>&1; then r=ok; else r=err; fi
        echo "$r $s $(( $(date +%s%N) - s ))"; sleep 0.01; done' >"$TEST_TMPDIR/reader.log" 2>&1 &
READER=$!
# Only while it runs: a reaped reader's pid may be another process's.
defer 'if [[ -n $READER ]]; then group_kill "$READER"; fi; true'
reader_group "$READER"
wait_until "the reader to start" grep -q '^ok' "$TEST_TMPDIR/reader.log"

# --- kill -9 of devsieved and its holder, change the world, start again --
# Without the holder (holder.h) nothing keeps the connections: the views
# die and the next devsieved repairs them. test-holder.sh has the holder.
holder_pid() { ds status --json | jq -r .holder_pid; }
HOLDER=$(holder_pid)
[[ $HOLDER =~ ^[0-9]+$ ]] || fail "status names no holder: $HOLDER"
log "kill -9 devsieved and its holder"
killed_at=$(date +%s%N)
kill -9 "$DAEMON_PID" "$HOLDER"
wait "$DAEMON_PID" 2>/dev/null || true
wait_until "the holder to be gone" sh -c "! kill -0 $HOLDER 2>/dev/null || grep -q '^State:.*Z' /proc/$HOLDER/status"
in_container "$C1" ls /dev >/dev/null 2>&1 && fail "the container's /dev still answers with no daemon"

# While down: a device added, one removed, a container's process gone.
loop_attach NEW
new=${NEW#/dev/}
losetup -d "$OLD"
loop_remove "${old#loop}"
kill "$GONE_NS_RUN"
wait "$GONE_NS_RUN" 2>/dev/null || true

mv "$RT.log" "$RT.1.log"
daemon_start "$RT"
grep -q 'c1: restored (attached)' "$RT.log" || fail "c1 not restored:"$'\n'"$(cat "$RT.log")"
wait_until "a listing in the container to answer again" sh -c "tail -n 1 '$TEST_TMPDIR/reader.log' | grep -q '^ok'"
recovered_at=$(date +%s%N)
log "$(( (recovered_at - killed_at) / 1000000 )) ms from kill -9 to the container's /dev answering again"

assert_exit 0 ds list --json
assert_eq "c1" "$(jq -r '[.containers[].name] | join(",")' <<<"$OUT")" "containers after the restart"
assert_eq "attached $C1 repaired" "$(jq -r '.containers[0] | "\(.state) \(.pid) \(.views)"' <<<"$OUT")" "c1 after the restart"
[[ ! -e $RT/containers/gone ]] || fail "the container whose process died was not cleaned up: $(find "$RT/containers/gone" | head; grep " $RT/containers/gone" /proc/self/mountinfo)"

listing=$(in_container "$C1" ls /dev) || fail "ls /dev in the container failed after the restart"
assert_contains "$listing" "$new" "the container's /dev after the restart"
assert_not_contains "$listing" "$old" "the container's /dev after the restart"
in_container "$C1" test -b "/dev/$new" || fail "/dev/$new is not a block device in the container"
sys=$(in_container "$C1" ls /sys/class/block) || fail "ls /sys/class/block in the container failed"
assert_contains "$sys" "$new" "the container's /sys/class/block after the restart"
assert_not_contains "$sys" "$old" "the container's /sys/class/block after the restart"

# Hot-plug after the restart reaches the repaired view.
loop_attach LATE
late=${LATE#/dev/}
wait_until "$late in the container" in_container "$C1" test -b "/dev/$late"
# Its /sys directory is a mount of the real one below the view: it reaches
# the repaired copy too.
wait_until "$late's /sys directory mounted in the container" in_container "$C1" \
        grep -q " /sys/devices/virtual/block/$late " /proc/self/mountinfo
# ... as a slave: what the container mounts there does not reach the host.
top_sys=$(in_container "$C1" awk '$5 == "/sys"' /proc/self/mountinfo | tail -n 1)
assert_contains "$top_sys" " master:" "the repaired /sys in the container"
assert_not_contains "$top_sys" " shared:" "the repaired /sys in the container"

# Nothing stacked on the host: one mount at each place.
assert_unstacked "" "$RT/views"

# --- again: the repaired views are repaired -----------------------------
log "kill -9 devsieved and its holder again"
HOLDER=$(holder_pid)
kill -9 "$DAEMON_PID" "$HOLDER"
wait "$DAEMON_PID" 2>/dev/null || true
wait_until "the holder to be gone" sh -c "! kill -0 $HOLDER 2>/dev/null || grep -q '^State:.*Z' /proc/$HOLDER/status"
mv "$RT.log" "$RT.2.log"
daemon_start "$RT"
assert_exit 0 ds show c1 --json
assert_eq "attached repaired" "$(jq -r '.container | "\(.state) \(.views)"' <<<"$OUT")" "c1 after the second restart"
listing=$(in_container "$C1" ls /dev) || fail "ls /dev in the container failed after the second restart"
assert_contains "$listing" "$late" "the container's /dev after the second restart"
assert_unstacked " after the second restart"
# The host's copy is the live view, not the previous namespace's dead one.
listing=$(ls "$RT/containers/c1/dev" 2>&1) || fail "ls of c1's /dev view in the host failed after the second restart: $listing"
assert_contains "$listing" "$late" "c1's /dev view in the host after the second restart"

# For the record: the listings fail while nobody serves (no holder keeps
# the connection yet); the longest gap between two that answered.
log "reader: $(grep -c '^ok' "$TEST_TMPDIR/reader.log") listings answered, $(grep -c '^err' "$TEST_TMPDIR/reader.log") failed;" \
        "longest gap $(awk '$1 == "ok" { if (last && $2 - last > gap) gap = $2 - last; last = $2 } END { print int(gap / 1e6) }' \
        "$TEST_TMPDIR/reader.log") ms"
grep -q '^err' "$TEST_TMPDIR/reader.log" || fail "the reader never saw the daemon down: it measures nothing"

# --- a connection aborted under the running daemon ----------------------
# The kernel's FUSE control file system names each connection by its
# device number; mounted here if nobody has.
if ! mountpoint -q /sys/fs/fuse/connections; then
        mount -t fusectl fusectl /sys/fs/fuse/connections || fail "cannot mount fusectl"
        defer "umount /sys/fs/fuse/connections 2>/dev/null; true"
fi
for kind in dev sys; do
        conn=$(stat -c %Ld "$RT/containers/c1/$kind") || fail "stat of c1's $kind view failed"
        [[ -w /sys/fs/fuse/connections/$conn/abort ]] || fail "no fusectl abort file for c1's $kind view ($conn)"
        log "aborting the $kind views' connection $conn"
        echo 1 >"/sys/fs/fuse/connections/$conn/abort"
        wait_until "a new $kind connection" sh -c "[ \"\$(stat -c %Ld '$RT/containers/c1/$kind' 2>/dev/null)\" != $conn ]"
        assert_exit 0 ds show c1 --json
        assert_eq "attached repaired" "$(jq -r '.container | "\(.state) \(.views)"' <<<"$OUT")" "c1 after the $kind connection was aborted"
        assert_eq 1 "$(mounts_at "$RT/containers/c1/$kind" "$DAEMON_PID")" "mounts at c1/$kind after the abort (devsieved's namespace)"
        assert_eq 1 "$(mounts_at "$RT/containers/c1/$kind")" "mounts at c1/$kind after the abort (the host's namespace)"
done
listing=$(in_container "$C1" ls /dev 2>&1) || fail "ls /dev in the container failed after the aborts: $listing"
assert_contains "$listing" "$late" "the container's /dev after the aborts"
sys=$(in_container "$C1" ls /sys/class/block) || fail "ls /sys/class/block in the container failed after the aborts"
assert_contains "$sys" "$late" "the container's /sys/class/block after the aborts"
loop_attach AFTER_ABORT
after_abort=${AFTER_ABORT#/dev/}
wait_until "$after_abort in the container after the aborts" in_container "$C1" test -b "/dev/$after_abort"
kill -0 "$DAEMON_PID" || fail "devsieved died"

# --- devsieve upgrade to a rebuilt binary --------------------------------
log "devsieve upgrade"
install -m 0755 "$DEVSIEVED" "$TEST_TMPDIR/devsieved.new"
mv -f "$TEST_TMPDIR/devsieved.new" "$DEVSIEVED"
[[ $(readlink "/proc/$DAEMON_PID/exe") == *"(deleted)" ]] || fail "the binary was not replaced"
assert_exit 0 ds upgrade
assert_contains "$OUT" "(pid $DAEMON_PID) serves 1 container(s)" "devsieve upgrade"
assert_eq "$DEVSIEVED" "$(readlink "/proc/$DAEMON_PID/exe")" "the binary devsieved runs after the upgrade"
assert_exit 0 ds show c1 --json
# The holder kept the connections across the exec: taken over, not repaired.
assert_eq "attached adopted" "$(jq -r '.container | "\(.state) \(.views)"' <<<"$OUT")" "c1 after the upgrade"
listing=$(in_container "$C1" ls /dev 2>&1) || fail "ls /dev in the container failed after the upgrade: $listing"
assert_contains "$listing" "$after_abort" "the container's /dev after the upgrade"
loop_attach AFTER_UPGRADE
after_upgrade=${AFTER_UPGRADE#/dev/}
wait_until "$after_upgrade in the container after the upgrade" in_container "$C1" test -b "/dev/$after_upgrade"
assert_unstacked " after the upgrade" "$RT/views"

# --- destroy and create of the name leave exactly one mount -------------
group_kill "$READER"
READER=
ds destroy c1 >/dev/null || fail "destroy c1 failed"
[[ ! -e $RT/containers/c1 ]] || fail "destroy left $RT/containers/c1"
for ns in "$DAEMON_PID" self; do
        assert_eq 0 "$(awk -v p="$RT/containers/c1/" 'index($5, p) == 1' "/proc/$ns/mountinfo" | wc -l)" "mounts below c1 after destroy ($ns)"
done
ds create c1 --policy oci-default >/dev/null || fail "create c1 again failed"
assert_eq 1 "$(mounts_at "$RT/containers/c1/dev" "$DAEMON_PID")" "mounts at c1/dev after create (devsieved's namespace)"
assert_eq 1 "$(mounts_at "$RT/containers/c1/dev")" "mounts at c1/dev after create (the host's namespace)"
ds destroy c1 >/dev/null || fail "destroy c1 failed"

# --- the holder alone killed: devsieved notices, reaps it, serves on ------
HOLDER=$(holder_pid)
[[ $HOLDER =~ ^[0-9]+$ ]] || fail "status names no holder: $HOLDER"
log "kill -9 the holder (pid $HOLDER) alone"
kill -9 "$HOLDER"
wait_until "devsieved to say the holder ended" grep -q "The holder of the views' connections (pid $HOLDER) ended" "$RT.log"
assert_eq null "$(holder_pid)" "the holder in status once it ended"
# Reaped by devsieved, its parent: no zombie left behind.
wait_until "the holder to be reaped" sh -c "! kill -0 $HOLDER 2>/dev/null"
ds create c2 --policy oci-default >/dev/null || fail "create c2 without a holder failed"
[[ -c $RT/containers/c2/dev/null ]] || fail "c2's /dev/null is missing without a holder"
ds destroy c2 >/dev/null || fail "destroy c2 failed"
