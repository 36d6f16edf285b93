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

oci_policy_dir cruntest
daemon_start "$RT" --policy-dir "$policies"
oci_hooks_dir
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
