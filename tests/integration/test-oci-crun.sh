#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The hooks.d scenario of test-oci-hook.sh with crun as podman's runtime.
# crun refuses hosts whose cgroups are in hybrid mode (v1 controllers plus
# a cgroup2 mount): there the test says so and is skipped.
OCI_RUNTIME=crun
source "$SOURCE_ROOT/tests/integration/lib.sh"
source "$SOURCE_ROOT/tests/integration/oci-lib.sh"
oci_need_podman

policies=$TEST_TMPDIR/policies
mkdir -p "$policies"
oci_policy "$policies/cruntest.rules"
RT=$TEST_TMPDIR/run
daemon_start "$RT" --policy-dir "$policies"
hooks=$TEST_TMPDIR/hooks.d
mkdir "$hooks"
jq --arg path "$DEVSIEVE" --arg rt "$RT" '.hook.path = $path | .hook.args = ["devsieve", "--runtime-dir", $rt, "oci-hook"]' \
        "$SOURCE_ROOT/contrib/oci-hooks.d/devsieve.json" >"$hooks/devsieve.json"
chmod 0755 "$TEST_TMPDIR"
rootfs=$TEST_TMPDIR/rootfs
oci_rootfs "$rootfs"

name=devsieve-crun-$$
defer "podman_rm $name-probe"
if ! timeout 120 podman --hooks-dir "$hooks" "${PODMAN_RUN[@]}" --rm --name "$name-probe" \
        --annotation io.devsieve.policy=cruntest --rootfs "$rootfs" true 2>"$TEST_TMPDIR/probe.err"; then
        reason=$(grep -o 'cgroups in hybrid mode not supported[^:]*' "$TEST_TMPDIR/probe.err" || true)
        [[ -n $reason ]] && skip "crun: $reason"
        fail "podman with crun failed: $(cat "$TEST_TMPDIR/probe.err")"
fi
oci_views_scenario "$name" --hooks-dir "$hooks" -- --annotation io.devsieve.policy=cruntest
