#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# runc with devsieve oci-hook in its config.json (hooks.createRuntime and
# hooks.poststop), no glue code around it: `runc run` of a user-namespaced
# container sees exactly its policy's devices in /dev, /sys and lsblk, with
# runc's devpts on top and a readable device; when runc deletes the
# container nothing is left.
source "$SOURCE_ROOT/tests/integration/lib.sh"
source "$SOURCE_ROOT/tests/integration/oci-lib.sh"
command -v runc >/dev/null || skip "runc is not installed (contrib/deps.sh installs it)"

oci_policy_dir runctest
daemon_start "$RT" --policy-dir "$policies"

loop_add VIS
loop_add HID
truncate -s 1M "$TEST_TMPDIR/visible.img" "$TEST_TMPDIR/hidden.img"
losetup "$VIS" "$TEST_TMPDIR/visible.img"
defer "losetup -d $VIS"
losetup "$HID" "$TEST_TMPDIR/hidden.img"
defer "losetup -d $HID"
vis=${VIS#/dev/}
hid=${HID#/dev/}

chmod 0755 "$TEST_TMPDIR"
bundle=$TEST_TMPDIR/bundle
mkdir -p "$bundle"
oci_rootfs "$bundle/rootfs"
(cd "$bundle" && runc spec)
# The container waits until the views list its device (the daemon hears of
# losetup's change event in its own time; see LISTED_SH), then reports.
script='listed() { '"$LISTED_SH"'; }
for i in $(seq 300); do listed '$vis' && break; sleep 0.1; done
ls -A /dev; echo ==; ls /sys/class/block; echo ==; stat -f -c %T /dev/pts; echo ==; lsblk -n -o NAME; echo ==
head -c 4096 /dev/'$vis' | wc -c; echo ==; cat /proc/self/mountinfo'
jq --arg devsieve "$DEVSIEVE" --arg rt "$RT" --arg script "$script" '
        .process.terminal = false
        | .process.args = ["sh", "-c", $script]
        | .root.readonly = true
        | .linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .mounts |= map(select(.destination != "/sys/fs/cgroup"))
        | .mounts += [{"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]},
                      {"destination": "/etc", "type": "bind", "source": "/etc", "options": ["rbind", "ro"]}]
        | .hooks.createRuntime = [{"path": $devsieve,
                                   "args": ["devsieve", "--runtime-dir", $rt, "oci-hook", "--policy", "runctest"]}]
        | .hooks.poststop = [{"path": $devsieve, "args": ["devsieve", "--runtime-dir", $rt, "oci-hook"]}]
' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

name=devsieve-runc-hook-$$
defer "runc delete -f $name 2>/dev/null; true"
(cd "$bundle" && timeout 120 runc run "$name" >"$TEST_TMPDIR/runc.out" 2>"$TEST_TMPDIR/runc.err") ||
        fail "runc run failed: $(cat "$TEST_TMPDIR/runc.err")"
out=$(<"$TEST_TMPDIR/runc.out")
log "runc's container saw:"$'\n'"$out"
section() { awk -v want="$1" 'BEGIN {n = 0} /^==$/ {n++; next} n == want' <<<"$out"; }

assert_eq "$(printf '%s\n' block char fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \
        "$vis" | sort | xargs)" "$(section 0 | sort | xargs)" "runc container's /dev"
assert_eq "$vis" "$(section 1)" "/sys/class/block in the runc container"
assert_eq devpts "$(section 2)" "runc's devpts over the view"
assert_eq "$vis" "$(section 3 | xargs)" "lsblk in the runc container"
assert_eq 4096 "$(section 4 | xargs)" "bytes read from /dev/$vis"
assert_views_only "$(section 5)" "the runc container"
assert_not_contains "$out" "$hid" "the runc container"
# runc ran the poststop hook when it deleted the container.
assert_forgotten "$RT" "$name"
