#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# devsieve check against real host devices: two fresh loop devices, one
# allowed (with assignments) and one denied, seen through --all, --device
# and --json; and a broken policy.
source "$SOURCE_ROOT/tests/integration/lib.sh"

loop_add ALLOWED
loop_add DENIED
a=${ALLOWED#/dev/}
b=${DENIED#/dev/}
a_devnum=$(<"/sys/class/block/$a/dev")
b_devnum=$(<"/sys/class/block/$b/dev")
disk_gid=$(getent group disk | cut -d: -f3)
[[ -n $disk_gid ]] || fail "the host has no group 'disk'"

policy=$TEST_TMPDIR/policy.rules
cat >"$policy" <<EOF
# $a is visible with assignments; $b is allowed, then denied again.
allow KERNEL=="$a", MODE="0640", GROUP="disk", SYMLINK+="sieve/$a"
allow KERNEL=="$b"
deny KERNEL=="$b"
EOF

log "validate"
assert_exit 0 "$DEVSIEVE" check "$policy"
assert_eq "$policy: OK (3 rules)" "$OUT" "check output"
assert_exit 0 "$DEVSIEVE" check --json "$policy"
assert_eq true "$(jq -r .valid <<<"$OUT")" "valid"
assert_eq 3 "$(jq -r .rules <<<"$OUT")" "rules"

log "--all"
assert_exit 0 "$DEVSIEVE" check "$policy" --all
assert_match "$OUT" "^PATH +DEVNAME +TYPE +MAJ:MIN +OWNER +GROUP +MODE +RULE$" "the header"
assert_match "$OUT" "^$a +$ALLOWED +block +$a_devnum +0 +$disk_gid +0640 +$policy:2$" "the allowed row"
assert_not_contains "$OUT" "$DENIED" "--all"
assert_eq 2 "$(wc -l <<<"$OUT")" "number of lines (header and one row)"

log "--all --json"
assert_exit 0 "$DEVSIEVE" check "$policy" --all --json
assert_eq 1 "$(jq length <<<"$OUT")" "number of rows"
row=$(jq -c .[0] <<<"$OUT")
assert_eq "$a" "$(jq -r .path <<<"$row")" "path"
assert_eq "$ALLOWED" "$(jq -r .devname <<<"$row")" "devname"
assert_eq "/devices/virtual/block/$a" "$(jq -r .devpath <<<"$row")" "devpath"
assert_eq block "$(jq -r .subsystem <<<"$row")" "subsystem"
assert_eq block "$(jq -r .type <<<"$row")" "type"
assert_eq "$a_devnum" "$(jq -r '"\(.major):\(.minor)"' <<<"$row")" "major:minor"
assert_eq 0 "$(jq -r .uid <<<"$row")" "uid"
assert_eq "$disk_gid" "$(jq -r .gid <<<"$row")" "gid"
assert_eq 0640 "$(jq -r .mode <<<"$row")" "mode"
assert_eq rw "$(jq -r .access <<<"$row")" "access"
assert_eq "[\"sieve/$a\"]" "$(jq -c .symlinks <<<"$row")" "symlinks"
assert_eq "[]" "$(jq -c .writable_attributes <<<"$row")" "writable_attributes"
assert_eq "$policy:2" "$(jq -r .rule <<<"$row")" "rule"

log "--device, allowed"
assert_exit 0 "$DEVSIEVE" check "$policy" --device "$ALLOWED"
assert_match "$OUT" "^verdict: +allow$"
assert_match "$OUT" "^rule: +$policy:2: allow KERNEL==\"$a\""
assert_match "$OUT" "^mode: +0640$"
assert_match "$OUT" "^group: +$disk_gid$"
assert_match "$OUT" "^symlinks: +sieve/$a$"
assert_match "$OUT" "^  $policy:2: matched: "
assert_match "$OUT" "^  $policy:3: no match: allow KERNEL==\"$b\""
assert_match "$OUT" "KERNEL==\"$b\" failed: the device has \"$a\""

log "--device, denied"
assert_exit 1 "$DEVSIEVE" check "$policy" --device "$DENIED"
assert_match "$OUT" "^verdict: +deny$"
assert_match "$OUT" "^rule: +$policy:4: deny KERNEL==\"$b\""
assert_not_contains "$OUT" "mode:" "a hidden device's explanation"

log "--device by number and by sysfs path, --json"
assert_exit 1 "$DEVSIEVE" check "$policy" --json --device "b $b_devnum"
assert_eq deny "$(jq -r .verdict <<<"$OUT")" "verdict"
assert_eq "$policy:4" "$(jq -r .rule <<<"$OUT")" "rule"
assert_eq null "$(jq -r .result <<<"$OUT")" "result"
assert_eq "$DENIED" "$(jq -r .device.devname <<<"$OUT")" "device.devname"
assert_eq "false true true" "$(jq -r '[.trace[].matched] | map(tostring) | join(" ")' <<<"$OUT")" "trace"
assert_exit 0 "$DEVSIEVE" check "$policy" --json --device "b${a_devnum}"
assert_eq allow "$(jq -r .verdict <<<"$OUT")" "verdict"
assert_eq 0640 "$(jq -r .result.mode <<<"$OUT")" "result.mode"
assert_exit 0 "$DEVSIEVE" check "$policy" --json --device "/sys/class/block/$a"
assert_eq "/devices/virtual/block/$a" "$(jq -r .device.devpath <<<"$OUT")" "device.devpath"
assert_exit 1 "$DEVSIEVE" check "$policy" --json --device "/sys/dev/block/$b_devnum"
assert_eq deny "$(jq -r .verdict <<<"$OUT")" "verdict"

log "a device no rule is about"
assert_exit 1 "$DEVSIEVE" check "$policy" --device /dev/null
assert_match "$OUT" "^verdict: +default-deny$"
assert_match "$OUT" "^rule: +no rule matched"

log "--root resolves names in another root"
mkdir -p "$TEST_TMPDIR/root/etc"
echo "sieveuser:x:4321:4322::/:/bin/false" >"$TEST_TMPDIR/root/etc/passwd"
printf 'disk:x:4323:\nsievegroup:x:4322:\n' >"$TEST_TMPDIR/root/etc/group"
assert_exit 0 "$DEVSIEVE" check "$policy" --root "$TEST_TMPDIR/root" --json --device "$ALLOWED"
assert_eq 4323 "$(jq -r .result.gid <<<"$OUT")" "gid with --root"

log "include oci-default; ATTR{} (also in a subdirectory) and ENV{}"
loop_attach ATTACHED 1M
c=${ATTACHED#/dev/}
c_devnum=$(<"/sys/class/block/$c/dev")
backing=$(<"/sys/class/block/$c/loop/backing_file")
oci=$TEST_TMPDIR/oci.rules
cat >"$oci" <<EOF
include "oci-default"
allow ATTR{loop/backing_file}=="$backing", ATTR{size}=="2048", ENV{DEVTYPE}=="disk", \\
      OWNER="root", WRITABLE_ATTR+="queue/read_ahead_kb"
EOF
assert_exit 0 "$DEVSIEVE" check "$oci" --all
paths=$(awk 'NR > 1 { print $1 }' <<<"$OUT")
assert_eq "$(LC_ALL=C sort <<<"$paths")" "$paths" "the PATH column (sorted)"
assert_eq "$(printf '%s\n' full null random tty urandom zero "$c" | LC_ALL=C sort | xargs)" "$(xargs <<<"$paths")" \
        "the visible devices"
assert_match "$OUT" "^null +/dev/null +char +1:3 +0 +0 +0666 +.*oci-default.*:[0-9]+$" "the row of null"
assert_match "$OUT" "^tty +/dev/tty +char +5:0 +0 +0 +0666 +.*oci-default.*:[0-9]+$" "the row of tty"
assert_match "$OUT" "^$c +$ATTACHED +block +$c_devnum +0 +0 +0600 +$oci:2$" "the row of $c"
assert_not_contains "$OUT" "$ALLOWED" "--all"
assert_exit 0 "$DEVSIEVE" check "$oci" --all --json
assert_eq '["queue/read_ahead_kb"]' "$(jq -c ".[] | select(.path == \"$c\") | .writable_attributes" <<<"$OUT")" \
        "writable_attributes"
assert_exit 1 "$DEVSIEVE" check "$oci" --device "$ALLOWED"
assert_match "$OUT" "^verdict: +default-deny$"
assert_match "$OUT" "failed: the device has no value$"

log "errors name the device"
assert_exit 4 "$DEVSIEVE" check "$policy" --device /dev/devsieve-no-such-node
assert_contains "$ERR" "no such device: /dev/devsieve-no-such-node"
assert_exit 4 "$DEVSIEVE" check "$policy" --device "b 7:1048575"
assert_contains "$ERR" "no such device: b 7:1048575"
assert_exit 4 "$DEVSIEVE" check "$policy" --device /sys/class/block/devsieve-nothing
assert_contains "$ERR" "no such device: /sys/class/block/devsieve-nothing"
assert_exit 2 "$DEVSIEVE" check "$policy" --device "$a"
assert_contains "$ERR" "invalid device '$a'"
assert_exit 2 "$DEVSIEVE" check "$policy" --device "$ALLOWED" --all
assert_exit 2 "$DEVSIEVE" check "$policy" --frobnicate
assert_contains "$ERR" "--frobnicate"

log "a broken policy"
broken=$TEST_TMPDIR/broken.rules
cat >"$broken" <<EOF
allow KERNEL=="$a"
allow KERNEL=="$b
allow KERNEL=="$a"
frobnicate KERNEL=="$a"
EOF
assert_exit 1 "$DEVSIEVE" check "$broken"
assert_eq "" "$OUT" "stdout of a failed check"
assert_match "$ERR" "^$broken:2:[0-9]+: error: "
assert_match "$ERR" "^$broken:4:[0-9]+: error: "
assert_exit 1 "$DEVSIEVE" check "$broken" --all
assert_eq "" "$OUT" "stdout of a failed check --all"
assert_match "$ERR" "^$broken:2:[0-9]+: error: "
assert_exit 1 "$DEVSIEVE" check "$broken" --json
assert_eq false "$(jq -r .valid <<<"$OUT")" "valid"
assert_eq 2 "$(jq '[.diagnostics[] | select(.severity == "error")] | length' <<<"$OUT")" "errors"

log "OK"
