#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The /sys views share their scans of device directories for child devices
# to cover (fs/sysfs-children.h): several containers that see one device
# each cover its hidden child, though only the first scanned it; once the
# device went and came back with another child, a container created then
# covers the new child (the scan made before does not outlive the host's
# events), and so do the containers that saw it before; destroying them
# leaves no mount. Views only (no container processes), checked on the
# host-side paths. Other test runs may hot-plug devices meanwhile: only
# this test's macvtap device is shown.
source "$SOURCE_ROOT/tests/integration/lib.sh"

command -v jq >/dev/null || fail "this test needs jq"

# This test's macvtap net device but not its character device, which is
# its child in sysfs.
VETH0=dssh${TEST_ID}a VETH1=dssh${TEST_ID}b MVTAP=dssn$TEST_ID
cat >"$TEST_TMPDIR/shared.rules" <<RULES
include "oci-default"
allow SUBSYSTEM=="net", KERNEL=="$MVTAP"
RULES

RT=$TEST_TMPDIR/run
export DEVSIEVE_RUNTIME_DIR=$RT
daemon_start "$RT"
mounts() { grep -c " $RT/" "/proc/$DAEMON_PID/mountinfo" || true; }
mounts0=$(mounts)
status_field() { "$DEVSIEVE" status --json | jq -r "$1"; }
NAMES="s1 s2 s3"
for c in $NAMES; do
        assert_exit 0 "$DEVSIEVE" create "$c" --policy "$TEST_TMPDIR/shared.rules" --relay none
        defer "'$DEVSIEVE' destroy $c >/dev/null 2>&1 || true"
done

ip link add "$VETH0" type veth peer name "$VETH1"
defer "ip link del $VETH0 2>/dev/null; true"
ip link add link "$VETH1" name "$MVTAP" type macvtap
defer "ip link del $MVTAP 2>/dev/null; true"
DIR=devices/virtual/net/$MVTAP

# covered NAMES...: in each container's view, the device's directory is
# the real one and its child device (this round's tap) is an empty cover.
covered() {
        local c tap
        tap=$(ls "/sys/$DIR/macvtap") || fail "$MVTAP has no child device"
        for c in "$@"; do
                wait_until "$MVTAP in $c's /sys" test -e "$RT/containers/$c/sys/$DIR/address"
                assert_eq "$(<"/sys/$DIR/address")" "$(<"$RT/containers/$c/sys/$DIR/address")" "$c's $MVTAP address"
                assert_eq "$tap" "$(ls "$RT/containers/$c/sys/$DIR/macvtap")" "$c's listing of $MVTAP's children"
                assert_eq "" "$(ls -A "$RT/containers/$c/sys/$DIR/macvtap/$tap")" "$c's $MVTAP child $tap"
        done
}

log "one scan, several views"
covered $NAMES
scans=$(status_field .sys_scans.scans)
reused=$(status_field .sys_scans.reused)
[[ $reused -ge 2 ]] || fail "three views mounted $MVTAP with $scans scans and $reused reused (expected >= 2 reused)"
for c in $NAMES; do
        assert_eq 0 "$(status_field ".containers[] | select(.name == \"$c\") | .sys_stats.mount_errors")" \
                "$c's mount errors"
done

log "the device made again, with another child"
old_tap=$(ls "/sys/$DIR/macvtap")
ip link del "$MVTAP"
for c in $NAMES; do
        wait_until "$MVTAP to leave $c's /sys" sh -c "! test -e '$RT/containers/$c/sys/$DIR'"
done
ip link add link "$VETH1" name "$MVTAP" type macvtap
new_tap=$(ls "/sys/$DIR/macvtap")
[[ $new_tap != "$old_tap" ]] || fail "the new macvtap child has the old one's name ($new_tap): the test proves nothing"
covered $NAMES
assert_exit 0 "$DEVSIEVE" create s4 --policy "$TEST_TMPDIR/shared.rules" --relay none
defer "'$DEVSIEVE' destroy s4 >/dev/null 2>&1 || true"
covered s4
for c in $NAMES s4; do
        assert_eq 0 "$(status_field ".containers[] | select(.name == \"$c\") | .sys_stats.mount_errors")" \
                "$c's mount errors"
done

log "destroy"
for c in $NAMES s4; do
        assert_exit 0 "$DEVSIEVE" destroy "$c"
done
assert_eq "$mounts0" "$(mounts)" "the daemon's mounts after destroying every container"
