#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# cgroup v2: processes in a child of the cgroup2 mount, with a deny-all
# device program attached first (as runc does). devsieve's program takes
# the decision over: exactly the view's devices and the OCI defaults are
# allowed, a hot-plugged device is a map update, and a program attached
# later by someone else is reported.
source "$SOURCE_ROOT/tests/integration/lib.sh"

root=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
[[ -n $root ]] || skip "no cgroup2 hierarchy is mounted"

CG=$root/devsieve-test-$$-$RANDOM
mkdir "$CG"
# Removed last: every process in it is gone by then.
defer "rmdir '$CG'"

# The container: a process that stays in the cgroup.
sh -c "echo \$\$ >'$CG/cgroup.procs' && exec sleep infinity" &
holder=$!
defer "kill $holder 2>/dev/null; wait $holder 2>/dev/null; true"
wait_until "the holder to join $CG" grep -qx "$holder" "$CG/cgroup.procs"

# probe DEVICE read|write: a short-lived process of the cgroup opens DEVICE.
probe() {
        local args=("if=$1" of=/dev/null)
        [[ $2 == write ]] && args=(if=/dev/zero "of=$1" conv=notrunc)
        sh -c "echo \$\$ >'$CG/cgroup.procs' && exec dd \"\$@\" bs=512 count=1 status=none" sh "${args[@]}" \
                2>"$TEST_TMPDIR/probe.err"
}
expect_eperm() {
        grep -q "Operation not permitted" "$TEST_TMPDIR/probe.err" ||
                fail "$1: expected EPERM, got: $(cat "$TEST_TMPDIR/probe.err")"
}

# wait_denied DEVICE WHAT: access goes only after the node left the view,
# a moment later.
wait_denied() {
        wait_until "$2 to be denied" eval "! probe '$1' read && grep -q 'Operation not permitted' '$TEST_TMPDIR/probe.err'"
}

"$DEVCG_BPF" deny-all "$CG" || fail "attaching a deny-all program failed"
probe /dev/null write && fail "the deny-all program let /dev/null be opened"
expect_eperm "/dev/null under the deny-all program"

tag=dcg2-$$-$RANDOM
cat >"$TEST_TMPDIR/v2.rules" <<RULES
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*/$tag-visible*", MODE="0660"
RULES
loop_attach VIS 2M "$tag-visible-cold"
loop_attach HID 2M "$tag-hidden"
vis=${VIS#/dev/} hid=${HID#/dev/}

RT=$TEST_TMPDIR/run
daemon_start "$RT" --device-cgroup=v2
"$DEVSIEVE" --runtime-dir "$RT" create c2 --policy "$TEST_TMPDIR/v2.rules" --pid "$holder" >/dev/null ||
        fail "devsieve create failed"
wait_until "$vis in the view" test -b "$RT/containers/c2/dev/$vis"

show=$("$DEVSIEVE" --runtime-dir "$RT" show c2 --json)
assert_eq "v2" "$(jq -r .container.device_cgroup.mode <<<"$show")" "device cgroup mode"
assert_eq "${CG#"$root"}" "$(jq -r .container.device_cgroup.path <<<"$show")" "device cgroup path"
assert_eq "null" "$(jq -r .container.device_cgroup.last_error <<<"$show")" "device cgroup error"
# Ours alone decides now.
assert_eq "1" "$("$DEVCG_BPF" list "$CG" | wc -l)" "device programs on $CG"

# Exactly the view, and the OCI defaults.
probe "$VIS" read || fail "reading visible $vis: $(cat "$TEST_TMPDIR/probe.err")"
probe "$VIS" write || fail "writing visible $vis: $(cat "$TEST_TMPDIR/probe.err")"
probe "$HID" read && fail "hidden $hid could be opened"
expect_eperm "reading hidden $hid"
probe /dev/null write || fail "/dev/null: $(cat "$TEST_TMPDIR/probe.err")"
probe /dev/zero read || fail "/dev/zero: $(cat "$TEST_TMPDIR/probe.err")"

# Hot-plug: a map update, the same program.
loop_attach HOT 2M "$tag-visible-hot"
hot=${HOT#/dev/}
wait_until "$hot in the view" test -b "$RT/containers/c2/dev/$hot"
probe "$HOT" read || fail "reading hot-plugged $hot: $(cat "$TEST_TMPDIR/probe.err")"
assert_eq "1" "$("$DEVCG_BPF" list "$CG" | wc -l)" "device programs on $CG after hot-plug"

# Unplugged (detached): denied again.
losetup -d "$VIS"
wait_until "$vis to leave the view" test ! -e "$RT/containers/c2/dev/$vis"
wait_denied "$VIS" "unplugged $vis"

# A runtime attaches its own program again: reported, in status and the log.
"$DEVCG_BPF" deny-all "$CG" || fail "attaching a second deny-all program failed"
# Noticed at the next change of a visible device, before anyone asks.
echo change >"/sys/class/block/$hot/uevent"
wait_until "the replaced program in devsieved's log" grep -q "c2: device cgroup .*another device program" "$RT.log"
status=$("$DEVSIEVE" --runtime-dir "$RT" status --json)
assert_eq "true" "$(jq -r '.containers[] | select(.name == "c2") | .device_cgroup.replaced' <<<"$status")" \
        "replaced in status"
assert_contains "$(jq -r '.containers[] | select(.name == "c2") | .device_cgroup.last_error' <<<"$status")" \
        "another device program" "last_error in status"
assert_contains "$(cat "$RT.log")" "another device program" "devsieved's log"
assert_contains "$("$DEVSIEVE" --runtime-dir "$RT" status)" "c2: device cgroup v2 ${CG#"$root"}: another device program" \
        "devsieve status"
assert_match "$("$DEVSIEVE" --runtime-dir "$RT" show c2)" "^cgroup: +v2 ${CG#"$root"}, 1 rules, REPLACED$" "devsieve show"

# Attaching again takes the decision back.
"$DEVSIEVE" --runtime-dir "$RT" attach c2 --pid "$holder" >/dev/null || fail "devsieve attach again failed"
assert_eq "1" "$("$DEVCG_BPF" list "$CG" | wc -l)" "device programs on $CG after attaching again"
show=$("$DEVSIEVE" --runtime-dir "$RT" show c2 --json)
assert_eq "false" "$(jq -r .container.device_cgroup.replaced <<<"$show")" "replaced after attaching again"
probe "$HOT" read || fail "reading $hot after attaching again: $(cat "$TEST_TMPDIR/probe.err")"

"$DEVSIEVE" --runtime-dir "$RT" destroy c2 >/dev/null || fail "devsieve destroy failed"
