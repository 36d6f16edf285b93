#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The device model on real hot-plug: two containers with different policies
# get exactly their own deltas for every hot-plug source this machine has
# (no modules to load here): LOOP_CTL_ADD/REMOVE, losetup attach/detach, zram
# hot_add/hot_remove, a write to a sysfs uevent file, a net rename (move)
# and a macvtap character device. Other test runs may hot-plug devices on
# this host meanwhile: only this test's own devices are checked.
source "$SOURCE_ROOT/tests/integration/lib.sh"

command -v ip >/dev/null || fail "this test needs 'ip' (apt-get install iproute2)"
[[ -w /sys/class/zram-control/hot_add ]] || skip "no zram hot_add on this kernel"

# Network interfaces of this run: veth (T, renamed R), its peer (P) and
# a macvtap on it (M).
T=dsvt$TEST_ID R=dsvr$TEST_ID P=dsvp$TEST_ID M=dsvm$TEST_ID
cat >"$TEST_TMPDIR/disks.rules" <<RULES
allow SUBSYSTEM=="block", KERNEL=="loop*|zram*"
deny  SUBSYSTEM=="block", KERNEL=="zram*"
allow SUBSYSTEM=="net", KERNEL=="$T|$R"
RULES
cat >"$TEST_TMPDIR/other.rules" <<'RULES'
allow SUBSYSTEM=="block", KERNEL=="zram*", MODE="0640"
allow SUBSYSTEM=="macvtap"
RULES

TRACE=$TEST_TMPDIR/trace
"$MODEL_TRACE" disks="$TEST_TMPDIR/disks.rules" other="$TEST_TMPDIR/other.rules" >"$TRACE" 2>"$TRACE.err" &
TRACE_PID=$!
defer "kill $TRACE_PID 2>/dev/null; wait $TRACE_PID 2>/dev/null; true"

# wait_for_line REGEX: until the trace has a line matching REGEX (30 s).
wait_for_line() {
        for _ in {1..600}; do
                grep -Eq -- "$1" "$TRACE" && return 0
                kill -0 "$TRACE_PID" 2>/dev/null || fail "model-trace died: $(cat "$TRACE.err")"
                sleep 0.05
        done
        fail "no delta matching /$1/ after 30 s; trace:"$'\n'"$(cat "$TRACE")"$'\n'"$(cat "$TRACE.err")"
}

wait_for_line '^ready [0-9]+$'
enumerated=$(sed -n 's/^ready //p' "$TRACE")
(( enumerated > 50 )) || fail "enumeration found only $enumerated devices"
# Only what came after enumeration is a hot-plug delta.
mark() { wc -l <"$TRACE"; }
since() { tail -n "+$(($1 + 1))" "$TRACE"; }

# --- Loop devices: add, attach (change), detach (change), remove ---------
m=$(mark)
loop_add dev
n=${dev#/dev/loop}
path=/devices/virtual/block/loop$n
wait_for_line "^disks VISIBLE $path node=loop$n event=add$"
file=$TEST_TMPDIR/backing
truncate -s 1M "$file"
losetup "$dev" "$file"
wait_for_line "^disks CHANGED $path node=loop$n event=change$"
losetup -d "$dev"
for _ in {1..600}; do
        (( $(since "$m" | grep -c "^disks CHANGED $path ") >= 3 )) && break
        sleep 0.05
done
"$LOOPCTL" remove "$n"
wait_for_line "^disks HIDDEN $path node=loop$n event=remove$"
assert_eq "" "$(since "$m" | grep " $path " | grep -v '^disks ' || true)" "deltas of the other container for loop$n"
# attach = change; detach = two changes (DISK_MEDIA_CHANGE): three in all
assert_eq 3 "$(since "$m" | grep -c "^disks CHANGED $path node=loop$n event=change$")" "change deltas"

# --- zram: hot_add, a written "change", hot_remove ---------------------
m=$(mark)
z=$(cat /sys/class/zram-control/hot_add)
defer "[[ -e /sys/block/zram$z ]] && echo $z >/sys/class/zram-control/hot_remove"
zpath=/devices/virtual/block/zram$z
wait_for_line "^other VISIBLE $zpath node=zram$z event=add$"
echo change >"/sys$zpath/uevent"
wait_for_line "^other CHANGED $zpath node=zram$z event=change$"
echo "$z" >/sys/class/zram-control/hot_remove
wait_for_line "^other HIDDEN $zpath node=zram$z event=remove$"
# "disks" allows zram* but a later rule denies it: last match wins.
assert_eq "" "$(since "$m" | grep " $zpath " | grep -v '^other ' || true)" "deltas of the other container for zram$z"

# --- Net devices: add, rename (move), and a macvtap char device ---------
m=$(mark)
ip link add $T type veth peer name $P
defer "ip link del $T 2>/dev/null; ip link del $R 2>/dev/null; true"
wait_for_line "^disks VISIBLE /devices/virtual/net/$T node=- event=add$"
ip link set $T name $R
wait_for_line "^disks CHANGED /devices/virtual/net/$R node=- event=move$"
ip link add link $P name $M type macvtap
defer "ip link del $M 2>/dev/null; true"
tap=$(ls /sys/class/net/$M/macvtap)
wait_for_line "^other VISIBLE /devices/virtual/net/$M/macvtap/$tap node=$tap event=add$"
ip link del $M
wait_for_line "^other HIDDEN /devices/virtual/net/$M/macvtap/$tap node=$tap event=remove$"
ip link del $R
wait_for_line "^disks HIDDEN /devices/virtual/net/$R node=- event=remove$"
# The peer ($P) and the macvtap's net device match neither policy.
assert_eq "" "$(since "$m" | grep -E "$P|/$M " || true)" "deltas for devices no policy allows"
