#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The /sys view inside a real user-namespaced container (root = host
# 100000), checked with the tools people use: ls, cat, lsblk, udevadm.
# Exactly the policy's devices, in every listing, live; nothing hidden by
# any path; attributes read-only unless the policy says, and read live when
# it lets the container write them; uevent writes stay in the container;
# the (page-cached) uevent file follows a rename and a write. Other
# test runs may hot-plug devices on this host meanwhile: the policy names
# this test's devices, and the zram devices it allows are checked by this
# test's own only.
source "$SOURCE_ROOT/tests/integration/lib.sh"

for cmd in lsblk udevadm nsenter; do
        command -v $cmd >/dev/null || fail "this test needs '$cmd'"
done
[[ -w /sys/class/zram-control/hot_add ]] || skip "no zram hot_add on this kernel"

# Loop devices are shown only while backed by this test's file called
# visible*; zram always; this test's macvtap net device but not its
# character device, which is its child in sysfs (this kernel has no
# partition tables to make children of block devices).
VETH0=dssv${TEST_ID}a VETH1=dssv${TEST_ID}b MVTAP=dssm$TEST_ID
cat >"$TEST_TMPDIR/sys.rules" <<RULES
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$TEST_TMPDIR/visible*", \\
      WRITABLE_ATTR+="queue/read_ahead_kb"
allow SUBSYSTEM=="block", KERNEL=="zram*"
allow SUBSYSTEM=="net", KERNEL=="$MVTAP"
RULES

RT=$TEST_TMPDIR/run
VIEW=$RT/containers/sys/sys
daemon_start "$RT"
"$DEVSIEVE" --runtime-dir "$RT" create sys --policy "$TEST_TMPDIR/sys.rules" >/dev/null || fail "devsieve create"
container_start CPID --net --sys "$VIEW"
"$DEVSIEVE" --runtime-dir "$RT" attach sys --pid "$CPID" >/dev/null || fail "devsieve attach"
# Once attached, the files the container may write belong to its root.
in_r() { in_container "$CPID" "$@"; }
in_c() { in_container "$CPID" "$@"; }

loop_add VIS
loop_add HID
vis=${VIS#/dev/}
hid=${HID#/dev/}
truncate -s 4M "$TEST_TMPDIR/visible.img"
truncate -s 2M "$TEST_TMPDIR/hidden.img"
losetup "$VIS" "$TEST_TMPDIR/visible.img"
defer "losetup -d $VIS"
losetup "$HID" "$TEST_TMPDIR/hidden.img"
defer "losetup -d $HID"
vis_mm=$(<"/sys/class/block/$vis/dev")
hid_mm=$(<"/sys/class/block/$hid/dev")
wait_until "$vis in the container's /sys/block" in_c test -e "/sys/block/$vis"
# A visible net device made together with a hidden child device.
ip link add $VETH0 type veth peer name $VETH1
defer "ip link del $VETH0 2>/dev/null; true"
ip link add link $VETH1 name $MVTAP type macvtap
defer "ip link del $MVTAP 2>/dev/null; true"
tap=$(ls /sys/class/net/$MVTAP/macvtap)
tap_mm=$(<"/sys/class/macvtap/$tap/dev")
wait_until "$MVTAP in the container" in_c test -e /sys/class/net/$MVTAP/address

# --- Listings: exactly the visible devices -----------------------------
log "listings"
# The zram devices of other test runs come and go: a listing is compared
# without them, and this test has none yet. Of loop devices the policy
# allows this test's visible one only.
zram_major=$(awk '$2 == "zram" {print $1}' /proc/devices)
not_zram() { grep -Ev "^(zram[0-9]+|$zram_major:[0-9]+)\$" || true; }
expected=$vis
assert_eq "$expected" "$(in_c ls /sys/class/block | not_zram)" "/sys/class/block"
assert_eq "$expected" "$(in_c ls /sys/block | not_zram)" "/sys/block"
assert_eq "$vis_mm" "$(in_c ls /sys/dev/block | not_zram)" "/sys/dev/block"
assert_eq "$(printf '%s\n' mem tty | sort)" "$(in_c ls /sys/dev/char/ | sed 's/:.*//' | sort -u |
        while read -r major; do [[ $major == 1 ]] && echo mem || echo tty; done | sort -u)" "char devices"
assert_eq "$(printf '%s\n' block mem net tty)" "$(in_c ls /sys/class)" "/sys/class"
assert_eq $MVTAP "$(in_c ls /sys/class/net)" "/sys/class/net"
assert_eq "" "$(in_c ls /sys/bus)" "/sys/bus (no bus device is allowed)"
assert_eq "$(readlink "/sys/dev/block/$vis_mm")" "$(in_c readlink "/sys/dev/block/$vis_mm")" "the dev link"

# --- Real tools ---------------------------------------------------------
log "lsblk, udevadm"
json=$(in_c lsblk -J -b -o NAME,SIZE)
assert_eq "4194304" "$(jq -r ".blockdevices[] | select(.name == \"$vis\") | .size" <<<"$json")" "lsblk size of $vis"
assert_eq "" "$(jq -r ".blockdevices[] | select(.name == \"$hid\") | .name" <<<"$json")" "lsblk: hidden $hid"

assert_exit 0 in_c udevadm info "/sys/class/block/$vis"
assert_contains "$OUT" "E: DEVNAME=/dev/$vis" "udevadm info"
assert_exit 0 in_c udevadm info -q path "$VIS"
assert_eq "/devices/virtual/block/$vis" "$OUT" "udevadm info -q path"
assert_exit 1 in_c udevadm info -q path "$HID"
assert_exit 0 in_c udevadm info --attribute-walk "/sys/class/block/$vis"
assert_contains "$OUT" "ATTR{size}==\"8192\"" "attribute walk"

trigger=$(in_c udevadm trigger --dry-run --verbose | grep -Ev '/zram[0-9]+$' || true)
expected_paths=$( (for d in $expected; do echo "/sys$(cd -P "/sys/class/block/$d" && pwd | sed 's|^/sys||')"; done
        in_c sh -c 'for d in /sys/class/mem/* /sys/class/tty/* /sys/class/net/*; do cd -P "$d" && pwd; done') | sort)
assert_eq "$expected_paths" "$(sort <<<"$trigger")" "udevadm trigger --dry-run --verbose"

assert_eq "$(cat /sys/devices/system/cpu/online)" "$(in_c cat /sys/devices/system/cpu/online)" "cpu/online"
assert_eq "$(nproc)" "$(in_c nproc)" "nproc"
in_c test -d /sys/fs/cgroup || fail "/sys/fs/cgroup is missing"

# --- Hidden: by every path ---------------------------------------------
log "hidden devices"
for p in "/sys/dev/block/$hid_mm" "/sys/class/block/$hid" "/sys/block/$hid" "/sys/devices/virtual/block/$hid" \
        "/sys/devices/virtual/block/$hid/size" "/sys/class/macvtap" "/sys/dev/char/$tap_mm" \
        "/sys/devices/virtual/net/$MVTAP/macvtap/$tap/dev" "/sys/devices/virtual/net/$MVTAP/macvtap/$tap/uevent" \
        "/sys/class/net/$VETH0" "/sys/devices/virtual/net/$VETH1"; do
        in_c test -e "$p" && fail "$p is reachable in the container"
done
assert_eq "" "$(in_c ls -A "/sys/devices/virtual/net/$MVTAP/macvtap/$tap")" "the hidden child's directory"
assert_eq "" "$(in_c ls /sys/devices/virtual/block | grep -Fx "$hid" || true)" "/sys/devices/virtual/block"

# --- Attributes: read-only unless the policy says ------------------------
log "attribute writes"
before=$(<"/sys/class/block/$vis/removable")
in_c sh -c "echo 1 > /sys/class/block/$vis/removable" 2>/dev/null && fail "a read-only attribute took a write"
assert_eq "$before" "$(<"/sys/class/block/$vis/removable")" "host attribute after a denied write"
old_ra=$(<"/sys/class/block/$vis/queue/read_ahead_kb")
defer "echo $old_ra > /sys/class/block/$vis/queue/read_ahead_kb"
in_r sh -c "echo 64 > /sys/class/block/$vis/queue/read_ahead_kb" || fail "WRITABLE_ATTR write failed"
assert_eq 64 "$(<"/sys/class/block/$vis/queue/read_ahead_kb")" "read_ahead_kb on the host"
assert_eq 64 "$(in_c cat "/sys/class/block/$vis/queue/read_ahead_kb")" "read_ahead_kb in the container"
# Read live, though the view's files are read through the kernel's page
# cache: the host changes it without any event, and the next read shows
# the new value, also a read of one byte at a time with nothing between
# (cat's fstat() would make the kernel ask for the attributes anyway).
for ra in 128 32 256; do
        echo $ra >"/sys/class/block/$vis/queue/read_ahead_kb"
        assert_eq $ra "$(in_c dd if="/sys/class/block/$vis/queue/read_ahead_kb" bs=1 count=${#ra} status=none)" \
                "read_ahead_kb read byte by byte after the host wrote $ra"
        assert_eq $ra "$(in_c cat "/sys/class/block/$vis/queue/read_ahead_kb")" "read_ahead_kb after the host wrote $ra"
done
in_r sh -c "echo 1 > /sys/class/block/$vis/queue/nomerges" 2>/dev/null && fail "queue/nomerges took a write"
in_r sh -c "echo 1 > /sys/class/block/$vis/removable" 2>/dev/null && fail "the host's root in a container wrote an attribute"
assert_eq "$before" "$(<"/sys/class/block/$vis/removable")" "host attribute after a denied write"

# --- Exposed paths follow the policy on reload -----------------------------
# Two exposed paths, one mounted below the other, both dropped by one
# reload: unmounting the outer one takes the inner one along.
log "expose and reload"
cp "$TEST_TMPDIR/sys.rules" "$TEST_TMPDIR/sys.rules.orig"
printf 'expose "/sys/fs/fuse"\nexpose "/sys/fs/fuse/connections"\n' >>"$TEST_TMPDIR/sys.rules"
"$DEVSIEVE" --runtime-dir "$RT" reload >/dev/null || fail "devsieve reload:"$'\n'"$(tail -n 40 "$RT.log")"
wait_until "/sys/fs/fuse/connections in the container" in_c test -d /sys/fs/fuse/connections
cp "$TEST_TMPDIR/sys.rules.orig" "$TEST_TMPDIR/sys.rules"
"$DEVSIEVE" --runtime-dir "$RT" reload >/dev/null || fail "devsieve reload:"$'\n'"$(tail -n 40 "$RT.log")"
wait_until "/sys/fs/fuse to leave the container" sh -c "! nsenter -t $CPID -U -m test -e /sys/fs/fuse/connections"
kill -0 "$DAEMON_PID" 2>/dev/null || fail "devsieved died on the reload:"$'\n'"$(tail -n 40 "$RT.log")"
in_c test -e "/sys/class/block/$vis" || fail "$vis is gone after the reloads"

# --- Synthetic uevents: accepted, checked, never on the host -------------
log "uevent writes"
assert_contains "$(in_c cat "/sys/class/block/$vis/uevent")" "DEVNAME=$vis" "the uevent file"
udevadm monitor --kernel --subsystem-match=block >"$TEST_TMPDIR/host-monitor" 2>&1 &
mon=$!
defer "kill $mon 2>/dev/null"
# A uevent listener in the container's own network namespace (the relay).
chmod 0755 "$TEST_TMPDIR"
mkdir -m 0777 "$TEST_TMPDIR/shared"
# exec: $! must be the listener itself, for the kill at exit.
(exec nsenter -t "$CPID" -U -m -n -- "$UEVENT_LISTEN" --timeout 60 --ready "$TEST_TMPDIR/shared/listen.ready" \
        >"$TEST_TMPDIR/container-events" 2>&1) &
listener=$!
defer "kill $listener 2>/dev/null"
wait_until "the container's listener" test -e "$TEST_TMPDIR/shared/listen.ready"
sleep 0.3
in_r sh -c "echo change > /sys/class/block/$vis/uevent" || fail "echo change > uevent failed"
in_r sh -c "echo 'add 7b3f1d1e-2a4c-4f4e-9a57-0d3c5f1c2b11 A=1' > /sys/class/block/$vis/uevent" ||
        fail "a write with UUID and arguments failed"
# A write that does not truncate first lands in the kernel's cached page
# of the file too: the next read must show the file, not what was written.
uevent_text=$(in_c cat "/sys/class/block/$vis/uevent")
in_r sh -c "printf online | dd of=/sys/class/block/$vis/uevent conv=notrunc status=none" ||
        fail "a write of online without O_TRUNC failed"
assert_eq "$uevent_text" "$(in_c cat "/sys/class/block/$vis/uevent")" "the uevent file after a write over it"
for bad in bogus "change notauuid" "add 7b3f1d1e-2a4c-4f4e-9a57-0d3c5f1c2b11 =x"; do
        in_r sh -c "echo '$bad' > /sys/class/block/$vis/uevent" 2>/dev/null && fail "'$bad' was accepted"
done
wait_until "the synthetic events in the container" grep -q "^add /devices/virtual/block/$vis .*SYNTH_ARG_A=1" \
        "$TEST_TMPDIR/container-events"
assert_match "$(cat "$TEST_TMPDIR/container-events")" "^change /devices/virtual/block/$vis .*SYNTH_UUID=0"
assert_match "$(cat "$TEST_TMPDIR/container-events")" \
        "^add /devices/virtual/block/$vis .*SYNTH_UUID=7b3f1d1e-2a4c-4f4e-9a57-0d3c5f1c2b11"
wait_until "the event of the write without O_TRUNC in the container" \
        grep -q "^online /devices/virtual/block/$vis .*SYNTH_UUID=0" "$TEST_TMPDIR/container-events"
sleep 0.3
assert_not_contains "$(cat "$TEST_TMPDIR/host-monitor")" "/$vis " "the host's uevent monitor"

# --- Hot-plug ------------------------------------------------------------
log "hot-plug"
z=$(cat /sys/class/zram-control/hot_add)
defer "[[ ! -e /sys/block/zram$z ]] || echo $z >/sys/class/zram-control/hot_remove"
wait_until "zram$z in the container" in_c test -e "/sys/class/block/zram$z"
in_c test -e "/sys/devices/virtual/block/zram$z/disksize" || fail "zram$z has no attributes in the container"
assert_exit 0 in_c udevadm info -q path "/sys/block/zram$z"
echo "$z" >/sys/class/zram-control/hot_remove
wait_until "zram$z to leave the container" sh -c "! nsenter -t $CPID -U -m test -e /sys/class/block/zram$z"

# A directory opened while the device was visible outlives hiding
# (docs/sysfs-view.md): it still reads, but writes nothing.
(exec nsenter -t "$CPID" -U -m -- /usr/bin/python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
open(sys.argv[2] + "/held.ready", "w").close()
while not os.path.exists(sys.argv[2] + "/held.go"):
    time.sleep(0.05)
def read(name):
    f = os.open(name, os.O_RDONLY, dir_fd=fd)
    try:
        return os.read(f, 4096).decode().strip()
    finally:
        os.close(f)
def write(name, text):
    try:
        f = os.open(name, os.O_WRONLY, dir_fd=fd)
        try:
            os.write(f, text.encode())
        finally:
            os.close(f)
        return "written"
    except OSError as e:
        return "refused"
print("size", read("size"))
print("uevent", write("uevent", "change"))
print("removable", write("removable", "1"))
' "/sys/devices/virtual/block/$vis" "$TEST_TMPDIR/shared" >"$TEST_TMPDIR/held.out" 2>&1) &
held=$!
defer "kill $held 2>/dev/null"
wait_until "the held directory" test -e "$TEST_TMPDIR/shared/held.ready"
losetup -d "$VIS"
wait_until "$vis to leave the container" sh -c "! nsenter -t $CPID -U -m test -e /sys/block/$vis"
for p in "/sys/dev/block/$vis_mm" "/sys/class/block/$vis" "/sys/devices/virtual/block/$vis"; do
        in_c test -e "$p" && fail "$p is still there after detach"
done
touch "$TEST_TMPDIR/shared/held.go"
wait "$held" || fail "the process holding $vis's directory failed: $(cat "$TEST_TMPDIR/held.out")"
assert_eq "size 0
uevent refused
removable refused" "$(cat "$TEST_TMPDIR/held.out")" "through a directory held open across hiding"

losetup "$VIS" "$TEST_TMPDIR/visible.img"
wait_until "$vis back in the container" in_c test -e "/sys/block/$vis/size"

# A hidden child hot-plugged into a visible device's directory.
ip link del $MVTAP
wait_until "$MVTAP to leave the container" sh -c "! nsenter -t $CPID -U -m test -e /sys/class/net/$MVTAP"
ip link add link $VETH1 name $MVTAP type macvtap
tap=$(ls /sys/class/net/$MVTAP/macvtap)
wait_until "$MVTAP back in the container" in_c test -e /sys/class/net/$MVTAP/address
assert_eq "" "$(in_c ls -A "/sys/devices/virtual/net/$MVTAP/macvtap/$tap")" "the re-added hidden child's directory"

# --- Listings stay true while readers list during hot-plug ----------------
# The kernel caches listings (cache_readdir): a listing taken before a
# change must not stick after it. Readers list the block directories
# while zram devices come and go; afterwards every listing holds exactly
# what is there.
log "listings under hot-plug"
RUNNING=/tmp/devsieve-test-sysfs-readers.$$
touch "$RUNNING"
defer "rm -f '$RUNNING'"
readers=()
for i in 1 2 3 4; do
        nsenter -t "$CPID" -U -m -- sh -c "while [ -e $RUNNING ]; do
                ls /sys/class/block /sys/block /sys/dev/block >/dev/null || exit 1; done" 2>"$TEST_TMPDIR/reader$i.err" &
        readers+=($!)
done
defer "rm -f '$RUNNING'; kill ${readers[*]} 2>/dev/null; true"
zs=()
for round in {1..15}; do
        z=$(cat /sys/class/zram-control/hot_add)
        defer "[[ ! -e /sys/block/zram$z ]] || echo $z >/sys/class/zram-control/hot_remove"
        zs+=("$z")
        wait_until "zram$z in the container" in_c test -e "/sys/class/block/zram$z"
        in_c ls /sys/class/block /sys/block /sys/dev/block >/dev/null
        if ((round % 3 != 0)); then
                echo "$z" >/sys/class/zram-control/hot_remove
                wait_until "zram$z to leave the container" sh -c "! nsenter -t $CPID -U -m test -e /sys/class/block/zram$z"
        fi
done
rm "$RUNNING"
for pid in "${readers[@]}"; do
        wait "$pid" || fail "a reader failed: $(cat "$TEST_TMPDIR"/reader*.err)"
done
# Kept: every third; the rest were removed. Other runs' zram devices are
# left out of the comparison.
kept=() kept_mm=()
for ((i = 0; i < ${#zs[@]}; i++)); do
        if (((i + 1) % 3 == 0)); then
                kept+=("zram${zs[i]}")
                kept_mm+=("$(<"/sys/class/block/zram${zs[i]}/dev")")
        fi
done
mine() { grep -Ex "$vis|$(IFS='|'; echo "${kept[*]}")|$(printf 'zram%s|' "${zs[@]}")$vis_mm|$(IFS='|'; echo "${kept_mm[*]}")" || true; }
expected=$(printf '%s\n' "$vis" "${kept[@]}" | sort)
assert_eq "$expected" "$(in_c ls /sys/class/block | mine | sort)" "/sys/class/block after hot-plug"
assert_eq "$expected" "$(in_c ls /sys/block | mine | sort)" "/sys/block after hot-plug"
assert_eq "$(printf '%s\n' "$vis_mm" "${kept_mm[@]}" | sort)" "$(in_c ls /sys/dev/block | mine | sort)" \
        "/sys/dev/block after hot-plug"
for z in "${zs[@]}"; do
        [[ -e /sys/block/zram$z ]] && echo "$z" >/sys/class/zram-control/hot_remove
done

# The uevent file comes from the kernel's page cache: a change of the
# device (here its node's name) must reach it.
log "uevent after a change"
in_c cat "/sys/class/block/$vis/uevent" >/dev/null
cat >>"$TEST_TMPDIR/sys.rules" <<RULES
allow SUBSYSTEM=="block", KERNEL=="$vis", ATTR{loop/backing_file}=="$TEST_TMPDIR/visible*", NAME="renamed-$vis"
RULES
"$DEVSIEVE" --runtime-dir "$RT" reload sys >/dev/null || fail "devsieve reload"
wait_until "DEVNAME=renamed-$vis in the container's uevent file" \
        in_c grep -qx "DEVNAME=renamed-$vis" "/sys/class/block/$vis/uevent"
assert_contains "$(in_c cat "/sys/class/block/$vis/uevent")" "MAJOR=7" "the uevent file after the rename"

# Nothing of the view is left in the host's mount table once it is gone.
daemon_stop "$DAEMON_PID" "$RT.log" || fail "devsieved did not stop cleanly"
wait_until "the views' mounts to go" sh -c "! grep -q ' $RT/' /proc/self/mountinfo"
log "ok"
