#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# LXC: an unprivileged container (root = host uid 100000) on a directory
# root file system, configured with contrib/lxc/devsieve.conf and its hook,
# sees exactly its policy's devices in /dev, /sys and lsblk, LXC's devpts
# on top, a readable device, and a device hot-plugged while it runs;
# lxc-stop leaves nothing.
source "$SOURCE_ROOT/tests/integration/lib.sh"
source "$SOURCE_ROOT/tests/integration/oci-lib.sh"

command -v lxc-start >/dev/null || skip "lxc is not installed (contrib/deps.sh installs it)"
# With the shadow tools installed LXC maps ids through them, which need a
# range for root in /etc/subuid and /etc/subgid.
if command -v newuidmap >/dev/null &&
        ! grep -qE '^(root|0):100000:65536$' /etc/subuid /etc/subgid 2>/dev/null; then
        skip "newuidmap is installed and /etc/subuid, /etc/subgid give root no 100000:65536 range"
fi

oci_policy_dir lxctest
daemon_start "$RT" --policy-dir "$policies"

loop_add VIS
loop_add HID
loop_add HOT # attached (and so shown) only once the container runs
truncate -s 1M "$TEST_TMPDIR/visible.img" "$TEST_TMPDIR/hidden.img" "$TEST_TMPDIR/visible-hot.img"
losetup "$VIS" "$TEST_TMPDIR/visible.img"
defer "losetup -d $VIS"
losetup "$HID" "$TEST_TMPDIR/hidden.img"
defer "losetup -d $HID"
vis=${VIS#/dev/}
hid=${HID#/dev/}
hot=${HOT#/dev/}

chmod 0755 "$TEST_TMPDIR"
rootfs=$TEST_TMPDIR/rootfs
oci_rootfs "$rootfs"
lxcpath=$TEST_TMPDIR/lxc
name=devsieve-lxc-$$
mkdir -p "$lxcpath/$name"
# The snippet as shipped, its hook lines pointing at this checkout; the
# hook finds this build's devsieve and this test's daemon in its
# environment, which LXC passes on.
cat >"$lxcpath/$name/config" <<CONFIG
lxc.uts.name = $name
lxc.rootfs.path = dir:$rootfs
lxc.idmap = u 0 100000 65536
lxc.idmap = g 0 100000 65536
lxc.net.0.type = empty
lxc.mount.auto = proc:mixed sys:ro
lxc.mount.entry = /usr usr none bind,ro 0 0
lxc.mount.entry = /etc etc none bind,ro 0 0
lxc.init.cmd = /usr/bin/sleep infinity
lxc.log.file = $TEST_TMPDIR/lxc.log
lxc.log.level = DEBUG
lxc.include = $SOURCE_ROOT/contrib/lxc/devsieve.conf
lxc.hook.start-host =
lxc.hook.post-stop =
lxc.hook.start-host = $SOURCE_ROOT/contrib/lxc/devsieve-hook lxctest
lxc.hook.post-stop = $SOURCE_ROOT/contrib/lxc/devsieve-hook lxctest
CONFIG
export DEVSIEVE_RUNTIME_DIR=$RT
defer "timeout 60 lxc-stop -P '$lxcpath' -n $name -k >/dev/null 2>&1; true"
timeout 120 lxc-start -P "$lxcpath" -n "$name" -d 2>"$TEST_TMPDIR/lxc.err" ||
        fail "lxc-start failed: $(cat "$TEST_TMPDIR/lxc.err")"$'\n'"$(tail -n 30 "$TEST_TMPDIR/lxc.log")"
in_lxc() { timeout 60 lxc-attach -P "$lxcpath" -n "$name" -- "$@"; }

show=$("$DEVSIEVE" show "$name") || fail "devsieve show $name failed"
assert_match "$show" "^state: +attached"
wait_long "$vis in the LXC container's /dev and /sys" in_lxc sh -c "$LISTED_SH" sh "$vis"
oci_look in_lxc "$vis" "$hid"
assert_eq "$(printf '%s\n' char fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero block \
        "$vis" | sort | xargs)" "$(oci_section 0 | sort | xargs)" "the LXC container's /dev"
assert_eq "$vis" "$(oci_section 1)" "/sys/class/block in the LXC container"
assert_eq "$vis" "$(oci_section 2 | xargs)" "lsblk in the LXC container"
# LXC mounts a devpts only; /dev/shm and /dev/mqueue are the view's.
assert_eq devpts "$(oci_section 3 | head -n 1)" "LXC's devpts over the view"
assert_match "$(oci_section 4)" "^brw-r----- 1 root disk +7, +${vis#loop} "
assert_eq 4096 "$(oci_section 5 | xargs)" "bytes read from /dev/$vis"
assert_views_only "$(oci_section 6)" "the LXC container"

losetup "$HOT" "$TEST_TMPDIR/visible-hot.img"
defer "losetup -d '$HOT'"
wait_long "$hot in the LXC container's /dev and /sys" in_lxc sh -c "$LISTED_SH" sh "$hot"
oci_look in_lxc "$hot" "$hid"
assert_eq "$(printf '%s\n' "$vis" "$hot" | sort | xargs)" "$(oci_section 1 | sort | xargs)" \
        "/sys/class/block after hot-plug"
assert_eq "$(printf '%s\n' "$vis" "$hot" | sort | xargs)" "$(oci_section 2 | sort | xargs)" "lsblk after hot-plug"
assert_eq 4096 "$(oci_section 5 | xargs)" "bytes read from /dev/$hot"

timeout 60 lxc-stop -P "$lxcpath" -n "$name" -k || fail "lxc-stop failed"
assert_forgotten "$RT" "$name"
