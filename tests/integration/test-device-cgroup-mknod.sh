#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A privileged runc container (no user namespace, CAP_MKNOD, runc's own
# device cgroup allowing mknod of anything): a node made by hand opens
# only while its device is in the view. devsieve never widens access
# beyond the view.
source "$SOURCE_ROOT/tests/integration/lib.sh"

command -v runc >/dev/null || skip "runc is not installed (apt-get install runc)"
[[ -w /sys/fs/cgroup/devices/devices.allow ]] || skip "no writable cgroup v1 devices hierarchy"

tag=dcgm-$$-$RANDOM
cat >"$TEST_TMPDIR/priv.rules" <<RULES
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*/$tag-visible*", MODE="0600"
RULES
loop_attach VIS 2M "$tag-visible"
loop_attach HID 2M "$tag-hidden"
vis=${VIS#/dev/} hid=${HID#/dev/}

RT=$TEST_TMPDIR/run
daemon_start "$RT"
"$DEVSIEVE" --runtime-dir "$RT" create priv --policy "$TEST_TMPDIR/priv.rules" >/dev/null ||
        fail "devsieve create failed"
wait_until "$vis in the view" test -b "$RT/containers/priv/dev/$vis"

bundle=$TEST_TMPDIR/bundle
runc_bundle "$bundle" "$RT/containers/priv" dev
dev=$bundle/dev-view
jq --arg dev "$dev" '
        .process.terminal = false
        | .process.args = ["sleep", "infinity"]
        | .process.capabilities |= with_entries(.value += ["CAP_MKNOD"])
        | .root.readonly = true
        | .mounts |= map(select(.destination != "/dev"))
        | .mounts = [{"destination": "/dev", "type": "bind", "source": $dev, "options": ["rbind", "rw", "nosuid"]}] + .mounts
        | .mounts += [{"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]},
                      {"destination": "/etc", "type": "bind", "source": "/etc", "options": ["rbind", "ro"]},
                      {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "dev"]}]
' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

name=devsieve-cgm-$$
defer "runc kill $name KILL 2>/dev/null; runc delete -f $name 2>/dev/null; true"
(cd "$bundle" && timeout 60 runc create "$name" >/dev/null 2>"$TEST_TMPDIR/runc.err" </dev/null) ||
        fail "runc create failed: $(cat "$TEST_TMPDIR/runc.err")"
pid=$(runc state "$name" | jq -r .pid)
"$DEVSIEVE" --runtime-dir "$RT" attach priv --pid "$pid" >/dev/null || fail "devsieve attach failed"
runc start "$name" || fail "runc start failed"

in_runc() {
        runc exec "$name" "$@" 2>"$TEST_TMPDIR/exec.err"
}
# The container may make nodes: runc's rules allow mknod of any device.
in_runc mknod /tmp/visible b 7 "${vis#loop}" || fail "mknod in the container: $(cat "$TEST_TMPDIR/exec.err")"
in_runc mknod /tmp/hidden b 7 "${hid#loop}" || fail "mknod in the container: $(cat "$TEST_TMPDIR/exec.err")"

# A hand-made node of a visible device works, one of a hidden device not.
in_runc head -c 16 /tmp/visible >/dev/null || fail "reading /tmp/visible ($vis): $(cat "$TEST_TMPDIR/exec.err")"
in_runc head -c 16 /tmp/hidden >/dev/null && fail "a hand-made node of hidden $hid could be opened"
grep -q "Operation not permitted" "$TEST_TMPDIR/exec.err" ||
        fail "reading /tmp/hidden: expected EPERM, got: $(cat "$TEST_TMPDIR/exec.err")"

# Once hidden, the hand-made node of the once visible device fails too.
"$DEVSIEVE" --runtime-dir "$RT" remove priv "$VIS" >/dev/null || fail "devsieve remove failed"
wait_until "$vis to leave the view" test ! -e "$RT/containers/priv/dev/$vis"
wait_until "/tmp/visible ($vis) to be denied" eval "! in_runc head -c 16 /tmp/visible"
grep -q "Operation not permitted" "$TEST_TMPDIR/exec.err" ||
        fail "reading /tmp/visible after remove: expected EPERM, got: $(cat "$TEST_TMPDIR/exec.err")"
