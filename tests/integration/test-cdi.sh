#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# CDI: `devsieve cdi` writes a spec with one device per policy, and
# `podman run --device devsieve.io/policy=NAME` gives the container
# devsieve's views under policy NAME, hot-plug included; `podman rm -f`
# leaves nothing.
source "$SOURCE_ROOT/tests/integration/lib.sh"
source "$SOURCE_ROOT/tests/integration/oci-lib.sh"
oci_need_podman

# podman reads CDI specs from /etc/cdi: the spec and its device names are
# this test's own.
policy=cditest-$$
oci_policy_dir "$policy"
echo 'include "oci-default"' >"$policies/other-$$.rules"
echo 'include "oci-default"' >"$policies/not a CDI name.rules"
daemon_start "$RT" --policy-dir "$policies"

if [[ ! -d /etc/cdi ]]; then
        mkdir /etc/cdi
        defer "rmdir /etc/cdi 2>/dev/null; true"
fi
spec=/etc/cdi/devsieve-test-$$.yaml
defer "rm -f '$spec'"
assert_exit 0 "$DEVSIEVE" --runtime-dir "$RT" cdi --policy-dir "$policies" --output "$spec"
assert_contains "$ERR" "$policies/not a CDI name.rules: skipped" "devsieve cdi's warning"
assert_eq "" "$OUT" "devsieve cdi's output with --output"
text=$(<"$spec")
assert_match "$text" '^cdiVersion: "0\.5\.0"$'
assert_match "$text" '^kind: "devsieve\.io/policy"$'
assert_eq "$(printf '%s\n' "other-$$" "$policy" | sort)" "$(sed -n 's/^  - name: "\(.*\)"$/\1/p' "$spec" | sort)" \
        "the spec's devices"
assert_match "$text" "args: \[\"devsieve\", \"--runtime-dir\", \"$RT\", \"oci-hook\", \"--policy\", \"$policy\", \"createRuntime\"\]"
# Without --output: the same spec on stdout.
assert_exit 0 "$DEVSIEVE" --runtime-dir "$RT" cdi --policy-dir "$policies"
assert_eq "$text" "$OUT" "devsieve cdi on stdout"
# No policies: no spec (a spec without devices is invalid).
mkdir "$TEST_TMPDIR/empty"
assert_exit 4 "$DEVSIEVE" cdi --policy-dir "$TEST_TMPDIR/empty" --output "$TEST_TMPDIR/empty.yaml"
assert_contains "$ERR" "No policies (NAME.rules) in $TEST_TMPDIR/empty" "devsieve cdi's error"
[[ ! -e $TEST_TMPDIR/empty.yaml ]] || fail "devsieve cdi wrote a spec without devices"

chmod 0755 "$TEST_TMPDIR"
rootfs=$TEST_TMPDIR/rootfs
oci_rootfs "$rootfs"
oci_views_scenario "devsieve-cdi-$$" -- --device "devsieve.io/policy=$policy"
