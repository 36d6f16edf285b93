#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The /proc files that name devices, in a real runc container (root = host
# 100000) that binds devsieve's copies over /proc/partitions,
# /proc/diskstats, /proc/bus/input/devices and /proc/bus/pci: they list
# exactly the container's block devices, under its names, byte for byte as
# the kernel writes them, and follow hot-plug and runtime overrides.
#
# Other tests hot-plug loop devices at the same time: the policy allows
# only devices backed by this test's own files, so the container's set is
# known exactly; the host's lists are only ever searched for our devices.
source "$SOURCE_ROOT/tests/integration/lib.sh"

command -v runc >/dev/null || skip "runc is not installed (apt-get install runc)"
command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 is not installed (apt-get install e2fsprogs)"
command -v lspci >/dev/null || skip "lspci is not installed (apt-get install pciutils)"

# One parser for the kernel's files and ours: "MAJ:MIN NAME" per device line.
partition_records() { awk 'NR > 2 && NF == 4 { print $1 ":" $2, $4 }'; }
diskstat_records() { awk 'NF > 3 { print $1 ":" $2, $3 }'; }
# The counters of one device's diskstats line, its name left out.
diskstat_counters() { awk -v d="$1" '$1 ":" $2 == d { $3 = ""; print }'; }

cat >"$TEST_TMPDIR/proc.rules" <<RULES
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$TEST_TMPDIR/visible*", MODE="0640", GROUP="6"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$TEST_TMPDIR/renamed*", NAME="xvdr", MODE="0640", GROUP="6"
RULES
RT=$TEST_TMPDIR/run
daemon_start "$RT"
created=$("$DEVSIEVE" --runtime-dir "$RT" create oci --policy "$TEST_TMPDIR/proc.rules" --json) ||
        fail "devsieve create failed"
proc=$RT/containers/oci/proc
assert_eq "$proc" "$(jq -r .container.proc <<<"$created")" "create's proc directory"
assert_eq "/proc/partitions=$proc/partitions /proc/diskstats=$proc/diskstats \
/proc/bus/input/devices=$proc/bus/input/devices /proc/bus/pci=$proc/bus/pci" \
        "$(jq -r '.container.proc_binds[] | .destination + "=" + .source' <<<"$created" | xargs)" "create's proc_binds"
assert_contains "$("$DEVSIEVE" --runtime-dir "$RT" show oci)" "/proc/partitions: $proc/partitions"

truncate -s 2M "$TEST_TMPDIR/visible.img" "$TEST_TMPDIR/renamed.img" "$TEST_TMPDIR/hidden.img"
mkfs.ext4 -q -F "$TEST_TMPDIR/visible.img"
mkfs.ext4 -q -F "$TEST_TMPDIR/renamed.img"
mkfs.ext4 -q -F "$TEST_TMPDIR/hidden.img"
# REN is removed halfway through: once it is, its number may be another
# test's device, which its cleanup must leave alone (loop_add's would not).
removable_loop_add() {
        local -n __removable_ret=$1
        local dev
        dev=$("$LOOPCTL" add) || fail "loopctl add failed"
        defer "[[ -e '$TEST_TMPDIR/removed-${dev#/dev/}' ]] || { losetup -d $dev 2>/dev/null; loop_remove ${dev#/dev/loop}; }"
        __removable_ret=$dev
}
loop_add VIS
removable_loop_add REN
loop_add HID
losetup "$VIS" "$TEST_TMPDIR/visible.img"
defer "losetup -d $VIS"
losetup "$REN" "$TEST_TMPDIR/renamed.img"
losetup "$HID" "$TEST_TMPDIR/hidden.img"
defer "losetup -d $HID"
vis=${VIS#/dev/}
ren=${REN#/dev/}
hid=${HID#/dev/}
devnum() { cat "/sys/class/block/$1/dev"; }
vis_dev=$(devnum "$vis")
ren_dev=$(devnum "$ren")
hid_dev=$(devnum "$hid")
wait_until "xvdr in the /dev view" test -b "$RT/containers/oci/dev/xvdr"
wait_until "$vis in the /dev view" test -b "$RT/containers/oci/dev/$vis"

# --- The files as the daemon serves them, against the kernel's ----------
expected=$(printf '%s\n' "$vis_dev $vis" "$ren_dev xvdr" | sort)
assert_eq "$expected" "$(partition_records <"$proc/partitions" | sort)" "devices in the view's partitions"
assert_eq "$expected" "$(diskstat_records <"$proc/diskstats" | sort)" "devices in the view's diskstats"
assert_eq "$(head -n 2 /proc/partitions)" "$(head -n 2 "$proc/partitions")" "the header of partitions"
# Byte for byte: a device shown as is has the kernel's very line; a renamed
# one the line the kernel's printf ("%4d  %7d %10llu %s") makes of its name.
kernel_line() { awk -v d="$1" '$1 ":" $2 == d' /proc/partitions; }
view_line() { awk -v d="$1" '$1 ":" $2 == d' "$proc/partitions"; }
assert_eq "$(kernel_line "$vis_dev")" "$(view_line "$vis_dev")" "partitions line of $vis"
assert_eq "$(kernel_line "$ren_dev" | awk '{ printf "%4d  %7d %10d %s\n", $1, $2, $3, "xvdr" }')" \
        "$(view_line "$ren_dev")" "partitions line of $ren as xvdr"
# diskstats: "%4d %7d %s" and the counters, one space apart. Nothing does
# I/O on our devices, but poll: a counter may move between the two reads.
same_stats() {
        local d=$1 name=$2 view kernel
        view=$(awk -v d="$d" '$1 ":" $2 == d' "$proc/diskstats")
        kernel=$(awk -v d="$d" -v n="$name" '$1 ":" $2 == d {
                printf "%4d %7d %s", $1, $2, n; for (i = 4; i <= NF; i++) printf " %s", $i; printf "\n" }' /proc/diskstats)
        [[ -n $view && $view == "$kernel" ]]
}
wait_until "diskstats of $vis to be the kernel's line" same_stats "$vis_dev" "$vis"
wait_until "diskstats of $ren to be the kernel's line, renamed" same_stats "$ren_dev" xvdr
assert_eq "" "$(cat "$proc/bus/input/devices")" "input devices (the container sees none)"
# No PCI device is allowed: /proc/bus/pci holds only an empty list.
assert_eq "devices" "$(ls -A "$proc/bus/pci")" "/proc/bus/pci"
assert_eq "" "$(cat "$proc/bus/pci/devices")" "/proc/bus/pci/devices"
# Reads at an offset come from the text taken at open.
assert_eq "$(tail -c +10 "$proc/partitions")" "$(dd if="$proc/partitions" bs=1 skip=9 status=none)" \
        "partitions read from an offset"
# What was opened is counted, and nothing failed.
stats=$("$DEVSIEVE" --runtime-dir "$RT" status --json | jq -c '.containers[] | select(.name == "oci") | .proc_stats')
assert_eq "2 0 0" "$(jq -r '"\(.devices - 6) \(.open_errors) \(.dropped)"' <<<"$stats")" "proc_stats (6 OCI devices) $stats"
[[ $(jq .opens <<<"$stats") -ge 10 ]] || fail "proc_stats counts no opens: $stats"
# Nothing can be written, not even by host root.
assert_exit 1 bash -c "echo x >'$proc/partitions'"
assert_contains "$ERR" "Read-only file system"

# --- A container that sees one PCI device -------------------------------
# The host's first PCI device of domain 0000, if it has one: lspci through
# /proc (-A linux-proc) in a mount namespace whose /proc/bus/pci is the
# view lists it exactly as it does on the host, and nothing else.
slot=$(ls /sys/bus/pci/devices 2>/dev/null | grep -m1 '^0000:' || true)
if [[ -n $slot ]]; then
        bdf=${slot#0000:}
        printf 'allow SUBSYSTEM=="pci", KERNEL=="%s"\n' "$slot" >"$TEST_TMPDIR/pci.rules"
        "$DEVSIEVE" --runtime-dir "$RT" create pcic --policy "$TEST_TMPDIR/pci.rules" >/dev/null ||
                fail "devsieve create pcic failed"
        pci=$RT/containers/pcic/proc/bus/pci
        bus=${bdf%%:*}
        key=$(printf '%s%02x' "$bus" $(((16#${bdf:3:2} << 3) | ${bdf: -1})))
        assert_eq "$(grep "^$key"$'\t' /proc/bus/pci/devices)" "$(cat "$pci/devices")" "pcic's /proc/bus/pci/devices"
        assert_eq "$bus devices" "$(ls "$pci" | xargs)" "pcic's /proc/bus/pci"
        assert_eq "${bdf#*:}" "$(ls "$pci/$bus")" "pcic's /proc/bus/pci/$bus"
        # Vendor, device, revision and class: what never changes in a header
        # (the status register may, between two reads).
        pci_id() { od -An -tx1 -N4 "$1"; od -An -tx1 -j8 -N4 "$1"; }
        assert_eq "$(pci_id "/proc/bus/pci/$bus/${bdf#*:}")" "$(pci_id "$pci/$bus/${bdf#*:}")" \
                "$bdf's configuration space through the view"
        assert_eq "$(stat -c %s "/proc/bus/pci/$bus/${bdf#*:}")" "$(stat -c %s "$pci/$bus/${bdf#*:}")" \
                "$bdf's configuration space size"
        assert_eq "$(lspci -A linux-proc -n -s "$bdf")" \
                "$(unshare -m sh -c "mount --bind '$pci' /proc/bus/pci && exec lspci -A linux-proc -n")" \
                "lspci through pcic's /proc/bus/pci"
        # The oci container sees no PCI device: not even by a guessed path.
        assert_exit 2 ls "$proc/bus/pci/$bus/${bdf#*:}"
        assert_contains "$ERR" "No such file or directory"
        "$DEVSIEVE" --runtime-dir "$RT" destroy pcic >/dev/null || fail "devsieve destroy pcic failed"
else
        log "no PCI device on this host: the PCI listing is not tested"
fi

# --- A runc container on the views --------------------------------------
bundle=$TEST_TMPDIR/bundle
runc_bundle "$bundle" "$RT/containers/oci" dev sys proc
# runc refuses a mount below /proc in config.json ("inside /proc"), except
# for a few files lxcfs serves: the files are bound from a createContainer
# hook instead, which runs in the container's mount namespace (as its
# root) before pivot_root, where host paths still resolve. This is what an
# OCI hook does for a runtime.
hook=$(jq -r --arg from "$proc" --arg to "$bundle/proc-view" --arg rootfs "$bundle/rootfs" '
        [.container.proc_binds[] | "mount --bind \(.source | sub("^" + $from; $to)) \($rootfs + .destination)"]
        | join(" && ")' <<<"$created")
runc_config "$bundle" '
        .process.args = ["sleep", "600"]
        | .linux.resources.devices += [{"allow": true, "type": "b", "major": 7, "access": "r"}]
        | .hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c", $hook]}]
' --arg hook "set -e; $hook"

name=devsieve-test-$$
defer "runc delete -f $name 2>/dev/null; true"
(cd "$bundle" && timeout 60 runc create "$name" >/dev/null 2>"$TEST_TMPDIR/runc.err") ||
        fail "runc create failed: $(cat "$TEST_TMPDIR/runc.err")"
pid=$(runc state "$name" | jq -r .pid)
"$DEVSIEVE" --runtime-dir "$RT" attach oci --pid "$pid" >/dev/null || fail "devsieve attach failed"
runc start "$name" || fail "runc start failed"
inside() { timeout 60 runc exec "$name" "$@"; }

partitions=$(inside cat /proc/partitions)
log "the container's /proc/partitions:"$'\n'"$partitions"
assert_eq "$expected" "$(partition_records <<<"$partitions" | sort)" "/proc/partitions in the container"
assert_eq "$expected" "$(inside cat /proc/diskstats | diskstat_records | sort)" "/proc/diskstats in the container"
for what in "$hid" "$hid_dev" vda; do
        assert_not_contains "$partitions" " $what"$'\n' "/proc/partitions in the container"
        assert_not_contains "$(inside cat /proc/diskstats)" " $what " "/proc/diskstats in the container"
done
# lsblk (from /sys), blkid (/proc/partitions, then /dev) and /proc/partitions agree.
assert_eq "$(partition_records <<<"$partitions" | awk '{ print $1 }' | sort | xargs)" \
        "$(inside lsblk -n -r -o MAJ:MIN | sort | xargs)" "lsblk in the container"
assert_eq "$(partition_records <<<"$partitions" | awk '{ print "/dev/" $2 }' | sort | xargs)" \
        "$(inside blkid -c /dev/null -o device | sort | xargs)" "blkid in the container"
assert_eq "devices" "$(inside ls -A /proc/bus/pci)" "/proc/bus/pci in the container"
assert_eq "" "$(inside lspci 2>&1)" "lspci in the container"
assert_eq "" "$(inside lspci -A linux-proc 2>&1)" "lspci -A linux-proc in the container"
assert_eq "" "$(inside cat /proc/bus/input/devices)" "/proc/bus/input/devices in the container"
# The container's root owns its files, as it owns its own procfs's.
assert_eq "0:0 0:0 0:0 0:0" "$(inside stat -c %u:%g /proc/partitions /proc/diskstats /proc/bus/input/devices \
        /proc/bus/pci | xargs)" "owner of the /proc files in the container"

# --- Live: hot-plug, override, removal ----------------------------------
in_partitions() { inside cat /proc/partitions | partition_records | grep -qx "$1"; }
not_in_partitions() { ! inside cat /proc/partitions | partition_records | grep -q "^$1 "; }
in_diskstats() { inside cat /proc/diskstats | diskstat_records | grep -qx "$1"; }
not_in_diskstats() { ! inside cat /proc/diskstats | diskstat_records | grep -q "^$1 "; }

loop_add NEW
truncate -s 2M "$TEST_TMPDIR/visible-2.img"
losetup "$NEW" "$TEST_TMPDIR/visible-2.img"
defer "losetup -d $NEW 2>/dev/null; true"
new=${NEW#/dev/}
new_dev=$(devnum "$new")
wait_until "hot-plugged $new in the container's /proc/partitions" in_partitions "$new_dev $new"
wait_until "hot-plugged $new in the container's /proc/diskstats" in_diskstats "$new_dev $new"

# Taken away at runtime: gone from the container's files, still the host's.
"$DEVSIEVE" --runtime-dir "$RT" remove oci "$VIS" >/dev/null || fail "devsieve remove failed"
wait_until "$vis to leave the container's /proc/partitions" not_in_partitions "$vis_dev"
wait_until "$vis to leave the container's /proc/diskstats" not_in_diskstats "$vis_dev"
assert_eq "$vis_dev $vis" "$(partition_records </proc/partitions | grep "^$vis_dev ")" "$vis in the host's file"

# Removed from the host: gone.
losetup -d "$REN"
# The kernel may hold a just-detached device for a while under load.
wait_until "$ren to be removed" "$LOOPCTL" remove "${ren#loop}"
touch "$TEST_TMPDIR/removed-$ren"
wait_until "xvdr to leave the container's /proc/partitions" not_in_partitions "$ren_dev"
wait_until "xvdr to leave the container's /proc/diskstats" not_in_diskstats "$ren_dev"
assert_eq "$new_dev $new" "$(inside cat /proc/partitions | partition_records | xargs)" \
        "/proc/partitions in the container at the end"
