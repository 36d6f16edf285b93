#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libudev clients in a real runc container (user namespace, root = host
# 100000, its own netns: netlink relay) with devsieve's udev database bound
# at /run/udev:
# - `udevadm info` of a visible, renamed device shows USEC_INITIALIZED, the
#   container's DEVNAME and links; data exists for visible devices only;
#   libudev (tests/helpers/udev-enum) reports the device initialized;
# - `udevadm monitor --udev --property` inside hears a hot-plugged allowed
#   device with the container's DEVNAME, never a hidden one;
# - `udevadm trigger` inside makes udev events for that container alone
#   (a second container seeing the same device hears none of them);
# - a socket-mode container's udev.sock carries the same udev events.
source "$SOURCE_ROOT/tests/integration/lib.sh"

command -v runc >/dev/null || skip "runc is not installed (apt-get install runc)"
command -v udevadm >/dev/null || fail "this test needs 'udevadm' (apt-get install udev)"
need_env NS_RUN UEVENT_LISTEN UDEV_ENUM

# loop_add_free VAR: like lib.sh's loop_add, at a random index far from the
# lowest free one: that is what every other test running on this machine
# takes next, and an index this test frees could come back as someone
# else's device before lib.sh checks for leftovers.
loop_add_free() {
        local -n __loop_add_free_ret=$1
        local i
        for _ in {1..50}; do
                i=$((20000 + RANDOM % 40000))
                [[ -e /sys/block/loop$i ]] && continue
                "$LOOPCTL" add "$i" >/dev/null 2>&1 || continue
                loop_own "$i"
                __loop_add_free_ret=/dev/loop$i
                return 0
        done
        fail "no free loop index found"
}

T=$TEST_TMPDIR
# runc and the containers' root (host 100000) must pass $T.
chmod 0755 "$T"
RT=$T/run

# wait_for FILE REGEX [WHAT]: until FILE has a line matching REGEX (30 s).
wait_for() {
        for _ in {1..600}; do
                grep -Eq -- "$2" "$1" 2>/dev/null && return 0
                kill -0 "$DAEMON_PID" 2>/dev/null || fail "devsieved died:"$'\n'"$(cat "$RT.log")"
                sleep 0.05
        done
        fail "${3:-$1} has no line matching /$2/ after 30 s:"$'\n'"$(cat "$1" 2>/dev/null)"
}

# The policy names this test's backing files exactly: other tests' loop
# devices never match.
cat >"$T/udev.rules" <<RULES
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$T/vis.img", NAME="xvdq", SYMLINK+="disk/by-label/devsieve-vis"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$T/hot.img", NAME="xvdr"
RULES
truncate -s 2M "$T/vis.img" "$T/hid.img" "$T/hot.img" "$T/hid2.img"

daemon_start "$RT"
"$DEVSIEVE" --runtime-dir "$RT" create udevc --policy "$T/udev.rules" >/dev/null || fail "devsieve create failed"
DB=$RT/containers/udevc/udev
[[ -e $DB/control && -d $DB/data && -d $DB/tags ]] || fail "no udev database skeleton in $DB: $(ls -lR "$DB")"

loop_add_free VIS
loop_add_free HID
# The hidden device first: once the visible one's data exists, the daemon
# has seen the hidden one's events too.
losetup "$HID" "$T/hid.img"
defer "losetup -d $HID"
losetup "$VIS" "$T/vis.img"
defer "losetup -d $VIS"
vis=${VIS#/dev/}
hid=${HID#/dev/}
vis_id=b7:${vis#loop}
hid_id=b7:${hid#loop}
wait_until "the udev data of $vis" test -e "$DB/data/$vis_id"
[[ ! -e $DB/data/$hid_id ]] || fail "the hidden $hid has udev data: $(cat "$DB/data/$hid_id")"
data=$(<"$DB/data/$vis_id")
assert_match "$data" '^I:[0-9]+$' "$vis's udev data"
assert_match "$data" '^S:disk/by-label/devsieve-vis$' "$vis's udev data"
assert_match "$data" '^V:1$' "$vis's udev data"
assert_not_contains "$data" "DEVNAME" "$vis's udev data"
# What `devsieve show --udev` says is that very file.
assert_exit 0 "$DEVSIEVE" --runtime-dir "$RT" show udevc --udev
assert_contains "$OUT" "udev database: $DB" "devsieve show --udev"
assert_contains "$OUT" "/dev/xvdq ($vis_id):"$'\n'"$data" "devsieve show --udev"
assert_exit 0 "$DEVSIEVE" --runtime-dir "$RT" show udevc --json
assert_eq "$data" "$(jq -r --arg id "$vis_id" '.devices[] | select(.udev.id == $id) | .udev.data' <<<"$OUT")" \
        "devsieve show --json: the device's udev data"

# A root file system of host binaries, read-only; the helper comes in
# through a directory of its own (the build tree may be unreachable for
# the container's root).
bundle=$T/bundle
runc_bundle "$bundle" "$RT/containers/udevc" dev sys udev
mkdir -p "$bundle/rootfs"/{run/udev,opt/test}
mkdir -m 0755 "$T/helpers"
cp "$UDEV_ENUM" "$T/helpers/udev-enum"
runc_config "$bundle" '
        .process.args = ["sleep", "300"]
        | .mounts += [{"destination": "/run/udev", "type": "bind", "source": ($bundle + "/udev-view"), "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]},
                      {"destination": "/opt/test", "type": "bind", "source": $helpers, "options": ["rbind", "ro"]}]
' --arg helpers "$T/helpers"

name=devsieve-udev-$$
defer "runc delete -f $name >/dev/null 2>&1; true"
(cd "$bundle" && timeout 60 runc create "$name" >/dev/null 2>"$T/runc.err") ||
        fail "runc create failed: $(cat "$T/runc.err")"
pid=$(runc state "$name" | jq -r .pid)
"$DEVSIEVE" --runtime-dir "$RT" attach udevc --pid "$pid" >/dev/null || fail "devsieve attach failed"
runc start "$name" || fail "runc start failed"
wait_for "$RT.log" 'udevc: relaying uevents \(netlink mode\)' "the daemon's log"
inside() { timeout 60 runc exec "$name" "$@"; }

# --- The database, as libudev inside reads it ---------------------------
assert_exit 0 inside udevadm info /dev/xvdq
log "udevadm info /dev/xvdq inside:"$'\n'"$OUT"
assert_match "$OUT" "^P: /devices/virtual/block/$vis\$" "udevadm info"
assert_match "$OUT" '^N: xvdq$' "udevadm info"
assert_match "$OUT" '^S: disk/by-label/devsieve-vis$' "udevadm info"
assert_match "$OUT" '^E: DEVNAME=/dev/xvdq$' "udevadm info"
assert_match "$OUT" '^E: USEC_INITIALIZED=[0-9]+$' "udevadm info"
assert_match "$OUT" '^E: DEVLINKS=/dev/disk/by-label/devsieve-vis$' "udevadm info"
assert_exit 0 inside ls /run/udev/data
assert_contains " $(xargs <<<"$OUT") " " $vis_id " "/run/udev/data inside"
assert_not_contains " $(xargs <<<"$OUT") " " $hid_id " "/run/udev/data inside"
assert_exit 0 inside /opt/test/udev-enum block
log "udev-enum block inside:"$'\n'"$OUT"
assert_match "$OUT" "^$vis initialized=1 devnode=/dev/xvdq .*USEC_INITIALIZED=[0-9]+" "libudev enumeration"
assert_not_contains "$OUT" "$hid " "libudev enumeration"
# Programs that wait for udev do not wait: no queue, "udev" answers.
assert_exit 0 inside udevadm settle --timeout=10

# --- udev events ---------------------------------------------------------
# A second container that sees the same device: it must not hear what the
# first one triggers.
"$NS_RUN" --net --pidfile "$T/other.pid" -- sleep 300 &
defer "kill $! 2>/dev/null; wait $! 2>/dev/null; true"
wait_until "the second container" test -s "$T/other.pid"
other=$(<"$T/other.pid")
"$DEVSIEVE" --runtime-dir "$RT" create other --policy "$T/udev.rules" --pid "$other" >/dev/null ||
        fail "devsieve create other failed"
mkdir -m 0777 "$T/shared"
nsenter -t "$other" -U -m -n "$UEVENT_LISTEN" --udev --timeout 300 --ready "$T/shared/other.ready" \
        >"$T/other.events" 2>"$T/other.err" &
defer "kill $! 2>/dev/null; wait $! 2>/dev/null; true"
wait_until "the second container's listener" test -e "$T/shared/other.ready"

# Socket mode: a container without a process (no netns of its own), its
# udev events on udev.sock.
"$DEVSIEVE" --runtime-dir "$RT" create sockc --policy "$T/udev.rules" --relay socket >/dev/null ||
        fail "devsieve create sockc failed"
[[ -S $RT/containers/sockc/udev.sock ]] || fail "no udev.sock: $(ls "$RT/containers/sockc")"
"$UEVENT_LISTEN" --socket "$RT/containers/sockc/udev.sock" --udev --timeout 300 --ready "$T/sock.ready" \
        >"$T/sock.events" 2>"$T/sock.err" &
defer "kill $! 2>/dev/null; wait $! 2>/dev/null; true"
wait_until "the socket listener" test -e "$T/sock.ready"
wait_for "$RT.log" 'sockc: udev event listener connected' "the daemon's log"

inside udevadm monitor --udev --property --subsystem-match=block >"$T/monitor" 2>&1 &
defer "kill $! 2>/dev/null; wait $! 2>/dev/null; true"
# Ready once it hears something: a host change of the visible device, made
# again until it does (udevadm prints its banner before it listens).
for i in {1..60}; do
        echo "change 00000000-0000-0000-0000-$(printf %012d "$i") PROBE=$i" >"/sys/block/$vis/uevent"
        for _ in {1..10}; do
                grep -q "^SYNTH_ARG_PROBE=" "$T/monitor" 2>/dev/null && break 2
                sleep 0.05
        done
done
wait_for "$T/monitor" '^SYNTH_ARG_PROBE=' "udevadm monitor --udev inside"
wait_for "$T/other.events" "^change /devices/virtual/block/$vis .*SYNTH_ARG_PROBE=" "the second container's udev events"

# Hot-plug: a hidden device first, then an allowed one; once the allowed
# one's event is there, the hidden one's would have been too.
loop_add_free HID2
losetup "$HID2" "$T/hid2.img"
defer "losetup -d $HID2"
loop_add_free HOT
losetup "$HOT" "$T/hot.img"
# Detached by the test itself at the end, unless it fails before.
defer "losetup -d $HOT 2>/dev/null || true"
hot=${HOT#/dev/}
hid2=${HID2#/dev/}
wait_for "$T/monitor" '^DEVNAME=/dev/xvdr$' "udevadm monitor --udev inside"
mon=$(<"$T/monitor")
log "udevadm monitor --udev inside heard:"$'\n'"$mon"
assert_match "$mon" "^UDEV +\[[0-9.]+\] add +/devices/virtual/block/$hot \(block\)\$" "udevadm monitor"
assert_match "$mon" "^DEVPATH=/devices/virtual/block/$hot\$" "udevadm monitor"
assert_match "$mon" '^USEC_INITIALIZED=[0-9]+$' "udevadm monitor"
assert_not_contains "$mon" "/$hid2" "udevadm monitor (a hidden device)"
assert_not_contains "$mon" "/$hid " "udevadm monitor (a hidden device)"
assert_not_contains "$mon" "DEVNAME=/dev/$hot" "udevadm monitor (the host's name)"
[[ -e $DB/data/b7:${hot#loop} ]] || fail "no udev data for the hot-plugged $hot"
# The socket-mode container heard the same, framed as libudev's.
wait_for "$T/sock.events" "^add /devices/virtual/block/$hot .*DEVNAME=/dev/xvdr" "udev.sock"
sock=$(<"$T/sock.events")
assert_match "$sock" "^add /devices/virtual/block/$hot .* USEC_INITIALIZED=[0-9]+ SEQNUM=[0-9]+\$" "udev.sock"
assert_not_contains "$sock" "/$hid2 " "udev.sock (a hidden device)"
[[ ! -e $DB/data/b7:${hid2#loop} ]] || fail "udev data for the hidden $hid2"

# udevadm trigger inside: events for this container only. A host change
# marked DONE follows; once the second container hears it, it would have
# heard the trigger's event before it.
assert_exit 0 inside udevadm trigger --action=change --subsystem-match=block --sysname-match="$vis"
wait_for "$T/monitor" '^SYNTH_UUID=0$' "udevadm monitor --udev inside (the trigger)"
echo "change 00000000-0000-0000-0000-000000000999 DONE=1" >"/sys/block/$vis/uevent"
wait_for "$T/other.events" "SYNTH_ARG_DONE=1" "the second container's udev events"
other_events=$(<"$T/other.events")
assert_not_contains "$other_events" "SYNTH_UUID=0 " "the second container's udev events"
assert_not_contains "$other_events" "SYNTH_UUID=0"$'\n' "the second container's udev events"
mon=$(<"$T/monitor")
# The paragraph (one event) that holds the trigger's SYNTH_UUID.
trigger=$(awk -v RS= '/\nSYNTH_UUID=0(\n|$)/' <<<"$mon")
assert_match "$trigger" "^UDEV +\[[0-9.]+\] change +/devices/virtual/block/$vis \(block\)\$" "the trigger's udev event"
assert_match "$trigger" '^DEVNAME=/dev/xvdq$' "the trigger's udev event"
assert_match "$trigger" '^DEVLINKS=/dev/disk/by-label/devsieve-vis$' "the trigger's udev event"

# Hidden again (detached: the policy no longer matches): the data goes.
losetup -d "$HOT"
wait_until "the udev data of $hot to go" test ! -e "$DB/data/b7:${hot#loop}"
