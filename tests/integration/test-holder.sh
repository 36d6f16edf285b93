#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The holder keeps the views' connections while no devsieved runs: a runc
# container (user-namespaced, root = host 100000) whose reader has its
# current directory in /dev, a directory handle of /dev, an open /sys
# uevent file and an open /proc/partitions (the /proc view), across `kill
# -9 devsieved` and a start on the same runtime directory, then across
# `devsieve upgrade` to a rebuilt binary; a second directory handle and
# /proc/partitions opened after the restart are used across the upgrade
# (three daemons' handles on one connection, docs/restart.md). The reader
# never sees an error (its requests wait); the container is listed
# attached with its views adopted; a device added while the daemon was
# down appears, one removed meanwhile is gone (node and /sys), both are
# relayed to a listener in the container (add, remove), hot-plug
# after the restart and after the upgrade arrives; nothing is stacked on
# the host. For the record: the longest single pass of the reader (one
# listing, one stat, one read of the uevent file) across the crash.
source "$SOURCE_ROOT/tests/integration/lib.sh"

command -v runc >/dev/null || skip "runc is not installed (apt-get install runc)"
command -v perl >/dev/null || skip "perl is not installed"
need_env DEVSIEVED LOOPCTL UEVENT_LISTEN

own_loops_policy "$TEST_TMPDIR/c.rules"
RT=$TEST_TMPDIR/run
restart_daemon_start "$RT"
ds() { "$DEVSIEVE" --runtime-dir "$RT" "$@"; }
status() { ds status --json | jq -r "$1"; }

HOLDER=$(status .holder_pid)
[[ $HOLDER =~ ^[0-9]+$ ]] || fail "status names no holder: $HOLDER"
# Whatever happens, the holder goes (a clean stop tells it to).
defer "kill -9 $HOLDER 2>/dev/null; true"
ds create c --policy "$TEST_TMPDIR/c.rules" >/dev/null || fail "create failed"

loop_attach EARLY
early=${EARLY#/dev/}
# Removed while the daemon is down (loop_attach's cleanup leaves alone a
# number that is another test run's by then).
loop_attach OLD
old=${OLD#/dev/}
wait_until "$old in the view" test -b "$RT/containers/c/dev/$old"
wait_until "$early in the view" test -b "$RT/containers/c/dev/$early"

# The reader: per pass, a listing of its current directory (/dev), a
# rewind and listing of a directory handle opened at start, a stat and a
# read of a /sys uevent file opened at start; one line per pass: ok or
# err, when it started and how long it took (ns).
cat >"$TEST_TMPDIR/reader.pl" <<'PERL'
use strict;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);
my $dev = shift;
$| = 1;
chdir "/dev" or die "chdir: $!";
opendir(my $held, ".") or die "opendir: $!";
open(my $u, "<", "/sys/devices/virtual/block/$dev/uevent") or die "open uevent: $!";
open(my $parts, "<", "/proc/partitions") or die "open partitions: $!";
# Handles opened by the second daemon (after the restart), kept across the
# upgrade: the third must not take them for its own, nor for the first's.
my ($held2, $parts2);
while (1) {
        my $t0 = clock_gettime(CLOCK_MONOTONIC);
        my $err = "";
        if (!$held2 && -e "/dev/shm/reopen") {
                opendir($held2, ".") or die "opendir again: $!";
                open($parts2, "<", "/proc/partitions") or die "open partitions again: $!";
                open(my $m, ">", "/dev/shm/reopened") or die "reopened: $!";
                close($m);
        }
        if ($held2) {
                rewinddir($held2);
                my @h = readdir($held2);
                $err ||= "second held handle lacks null" unless grep { $_ eq "null" } @h;
                sysseek($parts2, 0, 0);
                my $t;
                my $n = sysread($parts2, $t, 65536);
                $err ||= "read second held partitions: $!" unless defined $n && $t =~ /\b$dev\b/;
        }
        if (opendir(my $d, ".")) {
                my @e = readdir($d);
                $err = "listing lacks null" unless grep { $_ eq "null" } @e;
                closedir($d);
        } else {
                $err = "opendir: $!";
        }
        rewinddir($held);
        my @h = readdir($held);
        $err ||= "held handle lacks null" unless grep { $_ eq "null" } @h;
        $err ||= "stat null: $!" unless stat("null");
        my $text;
        sysseek($u, 0, 0);
        my $n = sysread($u, $text, 4096);
        $err ||= "read uevent: $!" unless defined $n && $text =~ /DEVNAME=/;
        # The /proc view: a file held open since the start, and a new open.
        sysseek($parts, 0, 0);
        $n = sysread($parts, $text, 65536);
        $err ||= "read held partitions: $!" unless defined $n && $text =~ /\b$dev\b/;
        if (open(my $p, "<", "/proc/partitions")) {
                local $/;
                my $all = <$p>;
                $err ||= "partitions lacks $dev" unless defined $all && $all =~ /\b$dev\b/;
                close($p);
        } else {
                $err ||= "open partitions: $!";
        }
        my $dt = clock_gettime(CLOCK_MONOTONIC) - $t0;
        printf "%s %.0f %.0f %s\n", $err ? "err" : "ok", $t0 * 1e9, $dt * 1e9, $err;
        select(undef, undef, undef, 0.01);
}
PERL

bundle=$TEST_TMPDIR/bundle
runc_bundle "$bundle" "$RT/containers/c" dev sys proc
cp "$TEST_TMPDIR/reader.pl" "$bundle/rootfs/tmp/reader.pl"
cp "$UEVENT_LISTEN" "$bundle/rootfs/tmp/uevent-listen"
# runc refuses mounts below /proc in config.json: the view's partitions is
# bound by a createContainer hook, as an OCI hook does (test-procfs.sh).
hook="mount --bind $bundle/proc-view/partitions $bundle/rootfs/proc/partitions"
runc_config "$bundle" '
        .process.args = ["perl", "/tmp/reader.pl", $early]
        | .hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c", $hook]}]
' --arg early "$early" --arg hook "set -e; $hook"
chmod 0755 "$bundle" "$bundle/rootfs" "$bundle/rootfs/tmp"

name=devsieve-holder-$$
defer "runc delete -f $name 2>/dev/null; true"
READER_LOG=$TEST_TMPDIR/reader.log
(cd "$bundle" && timeout 60 runc create "$name" >"$READER_LOG" 2>"$TEST_TMPDIR/runc.err") ||
        fail "runc create failed: $(cat "$TEST_TMPDIR/runc.err")"
pid=$(runc state "$name" | jq -r .pid)
ds attach c --pid "$pid" >/dev/null || fail "devsieve attach failed"
runc start "$name" || fail "runc start failed"
wait_until "the reader to answer" grep -q '^ok' "$READER_LOG"
in_c() { runc exec "$name" "$@"; }
# A uevent listener in the container's network namespace (the relay's
# netlink mode): what devsieved tells it about devices.
runc exec -d "$name" sh -c '/tmp/uevent-listen --timeout 300 --ready /dev/shm/ready >/dev/shm/events 2>&1' \
        </dev/null >/dev/null 2>&1 || fail "cannot start the listener in the container"
wait_until "the listener in the container" in_c test -e /dev/shm/ready
events() { in_c cat /dev/shm/events; }
passes() { grep -c '^ok' "$READER_LOG"; }
reader_clean() {
        ! grep -q '^err' "$READER_LOG" || fail "the reader saw an error: $(grep -m 3 '^err' "$READER_LOG")"
        [[ "$(runc state "$name" | jq -r .status)" == running ]] ||
                fail "the reader stopped: $(tail -n 3 "$READER_LOG"; cat "$TEST_TMPDIR/runc.err")"
}

# The container looks the one to go up: the kernel keeps its entries.
for p in "/dev/$old" "/sys/class/block/$old" "/sys/block/$old" "/sys/devices/virtual/block/$old"; do
        in_c test -e "$p" || fail "$p is not in the container"
done

# --- kill -9, change the world while down, start again ------------------
# What the container saw is saved at most once a second (docs/restart.md):
# the next daemon expires and relays what went while it was down from it.
wait_until "the saved visible set" jq -e --arg d "/devices/virtual/block/$old" \
        'any(.. | objects | select(has("devpath")); .devpath == $d)' "$RT/containers/c/visible.json"
log "kill -9 devsieved (holder $HOLDER keeps the connections)"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
loop_attach NEW
new=${NEW#/dev/}
losetup -d "$OLD"
loop_remove "${old#loop}"
before=$(passes)
mv "$RT.log" "$RT.1.log"
daemon_start "$RT"
grep -q 'Adopted the views' "$RT.log" || fail "the connections were not adopted:"$'\n'"$(cat "$RT.log")"
grep -q "Adopted the /proc view's connection" "$RT.log" || fail "the /proc view was not adopted:"$'\n'"$(cat "$RT.log")"
# Each daemon on a connection gives handles of its own generation
# (docs/restart.md): the first 1, this one 2.
grep -q 'Adopted the views.*(file handles of generation 2 and 2)' "$RT.log" ||
        fail "the restarted daemon's handles are not of generation 2: $(grep Adopted "$RT.log")"
grep -q "Adopted the /proc view's.*(file handles of generation 2)" "$RT.log" ||
        fail "the restarted daemon's /proc handles are not of generation 2: $(grep Adopted "$RT.log")"
assert_eq "$HOLDER" "$(status .holder_pid)" "the holder after the restart"
assert_exit 0 ds list --json
assert_eq "c attached $pid adopted" "$(jq -r '.containers[] | "\(.name) \(.state) \(.pid) \(.views)"' <<<"$OUT")" \
        "the container after the restart"
assert_exit 0 ds list
assert_match "$OUT" "^c +attached +$pid .* adopted$" "devsieve list after the restart"
wait_until "the reader to go on" sh -c "[ \$(grep -c '^ok' '$READER_LOG') -gt $before ]"
reader_clean
# Handles of this daemon, used across the upgrade below.
in_c touch /dev/shm/reopen || fail "cannot ask the reader to open its handles again"
wait_until "the reader's second handles" in_c test -e /dev/shm/reopened

listing=$(in_c ls /dev) || fail "ls /dev in the container failed after the restart"
parts=$(in_c cat /proc/partitions) || fail "/proc/partitions in the container failed after the restart"
assert_contains "$parts" "$new" "the container's /proc/partitions after the restart"
assert_not_contains "$parts" "$old" "the container's /proc/partitions after the restart"
assert_contains "$listing" "$new" "the container's /dev after the restart (added while down)"
assert_not_contains "$listing" "$old" "the container's /dev after the restart (removed while down)"
in_c test -b "/dev/$new" || fail "/dev/$new is not a block device in the container"
sys=$(in_c ls /sys/class/block) || fail "ls /sys/class/block in the container failed"
assert_contains "$sys" "$new" "the container's /sys/class/block after the restart"
assert_not_contains "$sys" "$old" "the container's /sys/class/block after the restart"
# Also by name: the kernel had looked them up from the previous daemon.
for p in "/dev/$old" "/sys/devices/virtual/block/$old" "/sys/class/block/$old" "/sys/block/$old"; do
        in_c test -e "$p" && fail "$p is still in the container after the restart"
done
# What changed while the daemon was down is relayed once it is back.
wait_until "a relayed add of $new" sh -c "runc exec $name cat /dev/shm/events | grep -q '^add /devices/virtual/block/$new '"
wait_until "a relayed remove of $old" sh -c "runc exec $name cat /dev/shm/events | grep -q '^remove /devices/virtual/block/$old '"

loop_attach LATE
late=${LATE#/dev/}
wait_until "$late in the container" in_c test -b "/dev/$late"
wait_until "$late's /sys directory in the container" in_c test -e "/sys/class/block/$late/uevent"
# Nothing stacked: one mount at each place in devsieved's namespace; the
# host-side ones (below RUNTIME/containers) once in the host's too, the
# connections' own not at all.
for p in "$RT/containers/c/dev" "$RT/containers/c/sys" "$RT/containers/c/sys/devices/virtual/block/$early" \
        "$RT/containers/c/proc"; do
        assert_eq 1 "$(mounts_at "$p" "$DAEMON_PID")" "mounts at $p after the restart (devsieved's namespace)"
        assert_eq 1 "$(mounts_at "$p")" "mounts at $p after the restart (the host's namespace)"
done
for p in "$RT/views/dev" "$RT/views/sys" "$RT/proc-fs"; do
        assert_eq 1 "$(mounts_at "$p" "$DAEMON_PID")" "mounts at $p after the restart (devsieved's namespace)"
        assert_eq 0 "$(mounts_at "$p")" "mounts at $p after the restart (the host's namespace)"
done
reader_clean

# --- devsieve upgrade to a rebuilt binary --------------------------------
log "devsieve upgrade"
install -m 0755 "$DEVSIEVED" "$TEST_TMPDIR/devsieved.new"
mv -f "$TEST_TMPDIR/devsieved.new" "$DEVSIEVED"
before=$(passes)
assert_exit 0 ds upgrade
assert_eq "$DEVSIEVED" "$(readlink "/proc/$DAEMON_PID/exe")" "the binary devsieved runs after the upgrade"
assert_eq "true $HOLDER" "$(status '"\(.views_adopted) \(.holder_pid)"')" "adopted from the holder after the upgrade"
grep -q 'Adopted the views.*(file handles of generation 3 and 3)' "$RT.log" ||
        fail "the upgraded daemon's handles are not of generation 3: $(grep Adopted "$RT.log")"
wait_until "the reader to go on after the upgrade" sh -c "[ \$(grep -c '^ok' '$READER_LOG') -gt $before ]"
loop_attach AFTER
after=${AFTER#/dev/}
wait_until "$after in the container after the upgrade" in_c test -b "/dev/$after"
listing=$(in_c ls /dev) || fail "ls /dev in the container failed after the upgrade"
assert_contains "$listing" "$late" "the container's /dev after the upgrade"
for p in "$RT/containers/c/dev" "$RT/containers/c/sys" "$RT/views/dev" "$RT/views/sys"; do
        assert_eq 1 "$(mounts_at "$p" "$DAEMON_PID")" "mounts at $p after the upgrade (devsieved's namespace)"
done
for p in "$RT/containers/c/dev" "$RT/containers/c/sys"; do
        assert_eq 1 "$(mounts_at "$p")" "mounts at $p after the upgrade (the host's namespace)"
done
reader_clean

log "reader: $(passes) passes, none failed; longest pass $(awk '{ if ($3 > m) m = $3 } END { print int(m / 1e6) }' \
        "$READER_LOG") ms (the daemon down, started, restored)"

# --- a clean stop ends the holder ---------------------------------------
runc kill "$name" KILL 2>/dev/null
wait_until "the container to stop" sh -c "[ \"\$(runc state $name | jq -r .status)\" = stopped ]"
runc delete -f "$name"
ds destroy c >/dev/null || fail "destroy failed"
kill "$DAEMON_PID"
wait "$DAEMON_PID" || fail "devsieved did not stop cleanly"
wait_until "the holder to end at the stop" sh -c "! kill -0 $HOLDER 2>/dev/null || grep -q '^State:.*Z' /proc/$HOLDER/status"
assert_eq 0 "$(awk -v p="$RT/" 'index($5, p) == 1' /proc/self/mountinfo | wc -l)" "mounts below the runtime directory after the stop"
