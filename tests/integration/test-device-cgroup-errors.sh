#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# When the device cgroup cannot follow the view: a cgroup whose parent
# denies the device (the kernel refuses the allow) is reported in show and
# status with the device, and the views keep working; a process in the
# root cgroup is left alone, and show says why; a container created with
# --no-device-cgroup is left to its runtime.
source "$SOURCE_ROOT/tests/integration/lib.sh"

[[ -w /sys/fs/cgroup/devices/devices.allow ]] || skip "no writable cgroup v1 devices hierarchy"

tag=dcge-$$-$RANDOM
# The loop device alone: the errors name it.
cat >"$TEST_TMPDIR/e.rules" <<RULES
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="*/$tag-visible*", MODE="0660"
RULES
loop_attach VIS 1M "$tag-visible"
vis=${VIS#/dev/}

# A cgroup whose parent denies every device: a child may not allow more.
parent=/sys/fs/cgroup/devices/devsieve-test-$$-$RANDOM
mkdir "$parent"
defer "rmdir '$parent'"
echo a >"$parent/devices.deny"
mkdir "$parent/child"
defer "rmdir '$parent/child'"
sh -c "echo \$\$ >'$parent/child/cgroup.procs' && exec sleep infinity" &
denied=$!
defer "kill $denied 2>/dev/null; wait $denied 2>/dev/null; true"
wait_until "the process to join its cgroup" grep -qx "$denied" "$parent/child/cgroup.procs"

sleep infinity &
rooted=$!
defer "kill $rooted 2>/dev/null; wait $rooted 2>/dev/null; true"

RT=$TEST_TMPDIR/run
daemon_start "$RT"
"$DEVSIEVE" --runtime-dir "$RT" create denied --policy "$TEST_TMPDIR/e.rules" --pid "$denied" >/dev/null ||
        fail "devsieve create denied failed"
# The view works whatever the cgroup said.
wait_until "$vis in the view" test -b "$RT/containers/denied/dev/$vis"
show=$("$DEVSIEVE" --runtime-dir "$RT" show denied --json)
assert_eq "v1" "$(jq -r .container.device_cgroup.mode <<<"$show")" "mode"
assert_eq "${parent#/sys/fs/cgroup/devices}/child" "$(jq -r .container.device_cgroup.path <<<"$show")" "path"
assert_eq "0" "$(jq -r .container.device_cgroup.rules <<<"$show")" "rules"
assert_contains "$(jq -r .container.device_cgroup.last_error <<<"$show")" \
        "b 7:${vis#loop}: Operation not permitted" "last_error"
assert_contains "$("$DEVSIEVE" --runtime-dir "$RT" status)" \
        "denied: device cgroup v1 ${parent#/sys/fs/cgroup/devices}/child: b 7:${vis#loop}: Operation not permitted" \
        "devsieve status"
assert_contains "$(cat "$RT.log")" "denied: device cgroup" "devsieved's log"

# The host's own (root) cgroup is no container's.
"$DEVSIEVE" --runtime-dir "$RT" create rooted --policy "$TEST_TMPDIR/e.rules" --pid "$rooted" >/dev/null ||
        fail "devsieve create rooted failed"
show=$("$DEVSIEVE" --runtime-dir "$RT" show rooted --json)
assert_eq "off" "$(jq -r .container.device_cgroup.mode <<<"$show")" "mode in the root cgroup"
assert_contains "$(jq -r .container.device_cgroup.reason <<<"$show")" "root cgroup" "reason"
assert_eq "null" "$(jq -r .container.device_cgroup.last_error <<<"$show")" "last_error in the root cgroup"

# Left to the runtime: nothing is written, even where it would be allowed.
allowed=/sys/fs/cgroup/devices/devsieve-test-$$-$RANDOM
mkdir "$allowed"
defer "rmdir '$allowed'"
echo a >"$allowed/devices.deny"
sh -c "echo \$\$ >'$allowed/cgroup.procs' && exec sleep infinity" &
runtime=$!
defer "kill $runtime 2>/dev/null; wait $runtime 2>/dev/null; true"
wait_until "the process to join its cgroup" grep -qx "$runtime" "$allowed/cgroup.procs"
"$DEVSIEVE" --runtime-dir "$RT" create left --policy "$TEST_TMPDIR/e.rules" --pid "$runtime" --no-device-cgroup \
        >/dev/null || fail "devsieve create --no-device-cgroup failed"
wait_until "$vis in the view" test -b "$RT/containers/left/dev/$vis"
show=$("$DEVSIEVE" --runtime-dir "$RT" show left --json)
assert_eq "runtime" "$(jq -r .container.device_cgroup.mode <<<"$show")" "mode with --no-device-cgroup"
assert_eq "" "$(cat "$allowed/devices.list")" "devices.list with --no-device-cgroup"
# The same, managed: the rule appears.
"$DEVSIEVE" --runtime-dir "$RT" create managed --policy "$TEST_TMPDIR/e.rules" --pid "$runtime" >/dev/null ||
        fail "devsieve create managed failed"
assert_contains "$(cat "$allowed/devices.list")" "b 7:${vis#loop} rw" "devices.list when managed"
# Someone else (systemd rewriting a unit's rules) drops devsieve's rule:
# reported once asked.
echo "b 7:${vis#loop} rw" >"$allowed/devices.deny"
show=$("$DEVSIEVE" --runtime-dir "$RT" show managed --json)
assert_eq "true" "$(jq -r .container.device_cgroup.replaced <<<"$show")" "replaced after the rule was dropped"
assert_contains "$(jq -r .container.device_cgroup.last_error <<<"$show")" \
        "devices.list lost devsieve's rule for b 7:${vis#loop}" "last_error after the rule was dropped"
assert_contains "$(cat "$RT.log")" "managed: device cgroup ${allowed#/sys/fs/cgroup/devices}: devices.list lost" \
        "devsieved's log"
# Attaching again puts it back.
"$DEVSIEVE" --runtime-dir "$RT" attach managed --pid "$runtime" >/dev/null || fail "devsieve attach again failed"
assert_contains "$(cat "$allowed/devices.list")" "b 7:${vis#loop} rw" "devices.list after attaching again"
show=$("$DEVSIEVE" --runtime-dir "$RT" show managed --json)
assert_eq "false" "$(jq -r .container.device_cgroup.replaced <<<"$show")" "replaced after attaching again"
assert_eq "null" "$(jq -r .container.device_cgroup.last_error <<<"$show")" "last_error after attaching again"
"$DEVSIEVE" --runtime-dir "$RT" destroy managed >/dev/null || fail "devsieve destroy managed failed"
assert_eq "" "$(cat "$allowed/devices.list")" "devices.list after destroy"
