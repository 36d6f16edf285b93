#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A real OCI runtime: runc runs a user-namespaced container (root = host
# 100000) whose config.json binds devsieve's views at /dev and /sys, and
# the container sees exactly its devices, with runc's own /dev/pts,
# /dev/shm and /dev/mqueue mounted over the view's directories.
source "$SOURCE_ROOT/tests/integration/lib.sh"

command -v runc >/dev/null || skip "runc is not installed (apt-get install runc)"

# Only this test's loop device: other test runs attach theirs meanwhile.
cat >"$TEST_TMPDIR/runc.rules" <<RULES
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$TEST_TMPDIR/visible*", MODE="0640", GROUP="6"
RULES
RT=$TEST_TMPDIR/run
daemon_start "$RT"
"$DEVSIEVE" --runtime-dir "$RT" create oci --policy "$TEST_TMPDIR/runc.rules" >/dev/null ||
        fail "devsieve create failed"
loop_add VIS
loop_add HID
truncate -s 2M "$TEST_TMPDIR/visible.img" "$TEST_TMPDIR/hidden.img"
losetup "$VIS" "$TEST_TMPDIR/visible.img"
defer "losetup -d $VIS"
losetup "$HID" "$TEST_TMPDIR/hidden.img"
defer "losetup -d $HID"
vis=${VIS#/dev/}
hid=${HID#/dev/}
wait_until "$vis in the view" test -b "$RT/containers/oci/dev/$vis"

# A root file system of host binaries (Debian's merged /usr), read-only.
bundle=$TEST_TMPDIR/bundle
runc_bundle "$bundle" "$RT/containers/oci" dev sys
runc_config "$bundle" '
        .process.args = ["sh", "-c", "ls -A /dev; echo ==; ls /sys/class/block; echo ==; head -c 4 /dev/zero | od -An -tx1; echo ==; stat -f -c %T /dev/pts 2>&1; echo ==; lsblk -n -o NAME; echo ==; ls -l /dev"]
'

name=devsieve-test-$$
defer "runc delete -f $name 2>/dev/null; true"
# As a runtime does it: create, attach the container's init to its views
# (ownership through its id maps), start.
(cd "$bundle" && timeout 60 runc create "$name" >"$TEST_TMPDIR/runc.out" 2>"$TEST_TMPDIR/runc.err") ||
        fail "runc create failed: $(cat "$TEST_TMPDIR/runc.err")"
pid=$(runc state "$name" | jq -r .pid)
"$DEVSIEVE" --runtime-dir "$RT" attach oci --pid "$pid" >/dev/null || fail "devsieve attach failed"
runc start "$name" || fail "runc start failed"
wait_until "the runc container to finish" sh -c "[ \"\$(runc state $name | jq -r .status)\" = stopped ]"
out=$(<"$TEST_TMPDIR/runc.out")
log "runc's container saw:"$'\n'"$out"
section() { awk -v want="$1" 'BEGIN {n = 0} /^==$/ {n++; next} n == want' <<<"$out"; }

# Entries: the OCI skeleton, the default devices, the visible loop device.
assert_eq "$(printf '%s\n' block char fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \
        "$vis" | sort | xargs)" "$(section 0 | sort | xargs)" "runc container's /dev"
assert_not_contains "$out" "$hid" "runc container's view"
assert_eq "$vis" "$(section 1)" "/sys/class/block in the runc container"
assert_eq "00 00 00 00" "$(section 2 | xargs)" "/dev/zero"
assert_eq "devpts" "$(section 3)" "runc's devpts over the view's pts"
assert_eq "$vis" "$(section 4 | xargs)" "lsblk in the runc container"
# Owned as the policy says, seen through the container's own id maps.
assert_match "$(section 5)" "^brw-r----- 1 root disk +7, +${vis#loop} .* $vis\$"
assert_match "$(section 5)" "^crw-rw-rw- 1 root root +1, +3 .* null\$"
