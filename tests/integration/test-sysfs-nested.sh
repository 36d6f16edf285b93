#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A shown device inside another shown device's directory in the /sys view:
# a macvtap net device and its character device, its child in sysfs (the
# nesting this kernel makes without partition tables). Each shown device's
# directory is a mount of its own, the child's on top of the parent's.
# Whatever happens to the parent (hidden, shown again), the child's
# directory stays the real one; the child hidden alone is covered and the
# parent keeps its own. Views only (no container processes), checked on
# the host-side paths. Other test runs may hot-plug devices meanwhile: only
# this test's devices are shown.
source "$SOURCE_ROOT/tests/integration/lib.sh"

VETH0=dsnv${TEST_ID}a VETH1=dsnv${TEST_ID}b MVTAP=dsnm$TEST_ID
ip link add "$VETH0" type veth peer name "$VETH1"
defer "ip link del $VETH0 2>/dev/null; true"
ip link add link "$VETH1" name "$MVTAP" type macvtap
defer "ip link del $MVTAP 2>/dev/null; true"
tap=$(ls "/sys/class/net/$MVTAP/macvtap") || fail "$MVTAP has no child device"
cat >"$TEST_TMPDIR/nested.rules" <<RULES
include "oci-default"
allow SUBSYSTEM=="net", KERNEL=="$MVTAP"
allow SUBSYSTEM=="macvtap", KERNEL=="$tap", NAME="nested-tap"
RULES

RT=$TEST_TMPDIR/run
export DEVSIEVE_RUNTIME_DIR=$RT
daemon_start "$RT"
assert_exit 0 "$DEVSIEVE" create nest --policy "$TEST_TMPDIR/nested.rules" --relay none
defer "'$DEVSIEVE' destroy nest >/dev/null 2>&1 || true"
NET=$RT/containers/nest/sys/devices/virtual/net/$MVTAP
TAP=$NET/macvtap/$tap

# The device's own directory, as the host's: read through the view.
parent_shown() {
        wait_until "$MVTAP's directory in the view" test -e "$NET/address"
        assert_eq "$(<"/sys/class/net/$MVTAP/address")" "$(<"$NET/address")" "$MVTAP's address"
}
# The child's own directory, with the view's uevent file over the host's
# (it names the node as the policy does).
child_shown() {
        wait_until "$tap's directory in the view" test -e "$TAP/dev"
        assert_eq "$(<"/sys/class/macvtap/$tap/dev")" "$(<"$TAP/dev")" "$tap's dev"
        assert_contains "$(<"$TAP/uevent")" "DEVNAME=nested-tap" "$tap's uevent"
}

log "both shown"
parent_shown
child_shown

log "the parent hidden: the child keeps its directory"
assert_exit 0 "$DEVSIEVE" remove nest "/sys/class/net/$MVTAP"
wait_until "$MVTAP's attributes to leave the view" test ! -e "$NET/address"
child_shown

log "the parent shown again: the child's directory comes back on top"
assert_exit 0 "$DEVSIEVE" remove nest "/sys/class/net/$MVTAP" --reset
parent_shown
child_shown

log "the child hidden alone: covered, the parent stays"
assert_exit 0 "$DEVSIEVE" remove nest "/sys/class/macvtap/$tap"
wait_until "$tap's attributes to leave the view" test ! -e "$TAP/dev"
assert_eq "" "$(ls -A "$TAP")" "$tap's directory, covered"
parent_shown

log "the child shown again"
assert_exit 0 "$DEVSIEVE" remove nest "/sys/class/macvtap/$tap" --reset
child_shown
parent_shown
