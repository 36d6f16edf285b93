#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Visible means usable: a runc container (user namespace, cgroup v1 devices
# controller) can open every device its view shows, with the policy's
# ACCESS, whether cold-plugged, hot-plugged or added with `devsieve add`;
# a device that leaves the view (remove, unplug, destroy) is denied again,
# and the runtime's own rules (the OCI default devices) stay.
source "$SOURCE_ROOT/tests/integration/lib.sh"

command -v runc >/dev/null || skip "runc is not installed (apt-get install runc)"
[[ -w /sys/fs/cgroup/devices/devices.allow ]] || skip "no writable cgroup v1 devices hierarchy"

# Backing files named for this run alone: other tests attach loop devices
# at the same time.
tag=dcg-$$-$RANDOM
cat >"$TEST_TMPDIR/cg.rules" <<RULES
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*/$tag-visible*", MODE="0660"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*/$tag-readonly*", MODE="0660", ACCESS="r"
RULES
RT=$TEST_TMPDIR/run
daemon_start "$RT"
"$DEVSIEVE" --runtime-dir "$RT" create acc --policy "$TEST_TMPDIR/cg.rules" >/dev/null ||
        fail "devsieve create failed"

loop_attach VIS 2M "$tag-visible-cold"
loop_attach RO 2M "$tag-readonly"
loop_attach HID 2M "$tag-hidden"
vis=${VIS#/dev/} ro=${RO#/dev/} hid=${HID#/dev/}
wait_until "$vis in the view" test -b "$RT/containers/acc/dev/$vis"
wait_until "$ro in the view" test -b "$RT/containers/acc/dev/$ro"

# --- A user-namespaced runc container on the views -----------------------
bundle=$TEST_TMPDIR/bundle
runc_bundle "$bundle" "$RT/containers/acc" dev sys
runc_config "$bundle" '
        .process.args = ["sleep", "infinity"]
'

name=devsieve-cg-$$
defer "runc kill $name KILL 2>/dev/null; runc delete -f $name 2>/dev/null; true"
(cd "$bundle" && timeout 60 runc create "$name" >/dev/null 2>"$TEST_TMPDIR/runc.err" </dev/null) ||
        fail "runc create failed: $(cat "$TEST_TMPDIR/runc.err")"
pid=$(runc state "$name" | jq -r .pid)
cgpath=$(sed -n 's/^[0-9]*:devices:\(.*\)$/\1/p' "/proc/$pid/cgroup")
[[ -n $cgpath && $cgpath != / ]] || fail "runc's container has no devices cgroup of its own: $(cat "/proc/$pid/cgroup")"
CG=/sys/fs/cgroup/devices$cgpath
baseline=$(sort "$CG/devices.list")
log "runc's own rules:"$'\n'"$baseline"

"$DEVSIEVE" --runtime-dir "$RT" attach acc --pid "$pid" >/dev/null || fail "devsieve attach failed"
runc start "$name" || fail "runc start failed"

# in_runc COMMAND...: runs COMMAND in the container, stderr to ERR.
in_runc() {
        runc exec "$name" "$@" 2>"$TEST_TMPDIR/exec.err"
}
# probe DEVICE read|write: a host process in the container's devices cgroup
# opens DEVICE: this works whatever the container's /dev shows.
probe() {
        local args=("if=$1" of=/dev/null)
        [[ $2 == write ]] && args=(if=/dev/zero "of=$1" conv=notrunc)
        sh -c "echo \$\$ >'$CG/cgroup.procs' && exec dd \"\$@\" bs=512 count=1 status=none" sh "${args[@]}" \
                2>"$TEST_TMPDIR/probe.err"
}
expect_eperm() {
        grep -q "Operation not permitted" "$1" || fail "$2: expected EPERM, got: $(cat "$1")"
}

# wait_denied DEVICE WHAT: access goes only after the node left the view,
# a moment later.
wait_denied() {
        wait_until "$2 to be denied" eval "! probe '$1' read && grep -q 'Operation not permitted' '$TEST_TMPDIR/probe.err'"
}

show=$("$DEVSIEVE" --runtime-dir "$RT" show acc --json)
assert_eq "v1" "$(jq -r .container.device_cgroup.mode <<<"$show")" "device cgroup mode"
assert_eq "$cgpath" "$(jq -r .container.device_cgroup.path <<<"$show")" "device cgroup path"
assert_eq "null" "$(jq -r .container.device_cgroup.last_error <<<"$show")" "device cgroup error"
assert_eq "2" "$(jq -r .container.device_cgroup.rules <<<"$show")" "device cgroup rules ($vis, $ro)"

# Cold-plugged: read and written from inside.
in_runc head -c 16 "/dev/$vis" >/dev/null || fail "reading cold-plugged /dev/$vis: $(cat "$TEST_TMPDIR/exec.err")"
in_runc dd if=/dev/zero of="/dev/$vis" bs=512 count=1 conv=notrunc status=none ||
        fail "writing /dev/$vis: $(cat "$TEST_TMPDIR/exec.err")"
# ACCESS="r": read, not written.
in_runc head -c 16 "/dev/$ro" >/dev/null || fail "reading read-only /dev/$ro: $(cat "$TEST_TMPDIR/exec.err")"
if in_runc dd if=/dev/zero of="/dev/$ro" bs=512 count=1 conv=notrunc status=none; then
        fail "/dev/$ro was written, its ACCESS is r"
fi
expect_eperm "$TEST_TMPDIR/exec.err" "writing /dev/$ro"
assert_contains "$(cat "$CG/devices.list")" "b 7:${ro#loop} r" "devices.list"

# reload: the policy's ACCESS changes, and the cgroup with it, both ways.
sed -i 's/ACCESS="r"/ACCESS="rw"/' "$TEST_TMPDIR/cg.rules"
"$DEVSIEVE" --runtime-dir "$RT" reload acc >/dev/null || fail "devsieve reload failed"
in_runc dd if=/dev/zero of="/dev/$ro" bs=512 count=1 conv=notrunc status=none ||
        fail "writing /dev/$ro after ACCESS=rw: $(cat "$TEST_TMPDIR/exec.err")"
sed -i 's/ACCESS="rw"/ACCESS="r"/' "$TEST_TMPDIR/cg.rules"
"$DEVSIEVE" --runtime-dir "$RT" reload acc >/dev/null || fail "devsieve reload failed"
# The denial follows the delta (reload's reply comes after it).
if in_runc dd if=/dev/zero of="/dev/$ro" bs=512 count=1 conv=notrunc status=none; then
        fail "/dev/$ro was written after ACCESS went back to r"
fi
expect_eperm "$TEST_TMPDIR/exec.err" "writing /dev/$ro after ACCESS=r again"
in_runc head -c 16 "/dev/$ro" >/dev/null || fail "reading /dev/$ro after reload: $(cat "$TEST_TMPDIR/exec.err")"
# Hidden: not opened even by a host process in the cgroup.
probe "$HID" read && fail "$hid is hidden but could be opened in the container's cgroup"
expect_eperm "$TEST_TMPDIR/probe.err" "reading hidden $hid"

# Hot-plugged: openable once its node is there.
loop_attach HOT 2M "$tag-visible-hot"
hot=${HOT#/dev/}
wait_until "$hot in the view" test -b "$RT/containers/acc/dev/$hot"
in_runc head -c 16 "/dev/$hot" >/dev/null || fail "reading hot-plugged /dev/$hot: $(cat "$TEST_TMPDIR/exec.err")"

# `devsieve add`: openable; `devsieve remove`: denied again.
"$DEVSIEVE" --runtime-dir "$RT" add acc "$HID" >/dev/null || fail "devsieve add failed"
wait_until "$hid in the view" test -b "$RT/containers/acc/dev/$hid"
in_runc head -c 16 "/dev/$hid" >/dev/null || fail "reading added /dev/$hid: $(cat "$TEST_TMPDIR/exec.err")"
"$DEVSIEVE" --runtime-dir "$RT" remove acc "$HID" >/dev/null || fail "devsieve remove failed"
wait_until "$hid to leave the view" test ! -e "$RT/containers/acc/dev/$hid"
wait_denied "$HID" "removed $hid"

# Unplugged (detached: no backing file, the policy no longer matches).
probe "$VIS" read || fail "probe of visible $vis failed: $(cat "$TEST_TMPDIR/probe.err")"
losetup -d "$VIS"
wait_until "$vis to leave the view" test ! -e "$RT/containers/acc/dev/$vis"
wait_denied "$VIS" "unplugged $vis"

# The runtime's defaults keep working.
assert_eq "00 00 00 00" "$(in_runc head -c 4 /dev/zero | od -An -tx1 | xargs)" "/dev/zero in the container"
in_runc sh -c 'echo x >/dev/null' || fail "writing /dev/null: $(cat "$TEST_TMPDIR/exec.err")"

# Destroy: everything devsieve granted goes; runc's own rules stay as they were.
probe "$HOT" read || fail "probe of visible $hot failed: $(cat "$TEST_TMPDIR/probe.err")"
"$DEVSIEVE" --runtime-dir "$RT" destroy acc >/dev/null || fail "devsieve destroy failed"
probe "$HOT" read && fail "$hot can still be opened in the container's cgroup after destroy"
expect_eperm "$TEST_TMPDIR/probe.err" "reading $hot after destroy"
probe /dev/zero read || fail "/dev/zero after destroy: $(cat "$TEST_TMPDIR/probe.err")"
probe /dev/null write || fail "/dev/null after destroy: $(cat "$TEST_TMPDIR/probe.err")"
assert_eq "$baseline" "$(sort "$CG/devices.list")" "devices.list after destroy"
