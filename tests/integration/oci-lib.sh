# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Sourced after lib.sh by the tests that run devsieve as an OCI hook under
# a real runtime (test-oci-hook.sh, test-cdi.sh): a podman that uses runc,
# a plain root file system directory, and the test's own policy directory.

command -v podman >/dev/null || skip "podman is not installed (contrib/deps.sh installs it)"
command -v runc >/dev/null || skip "runc is not installed (contrib/deps.sh installs it)"

# wait_long DESCRIPTION COMMAND...: until COMMAND succeeds, up to 30 s (a
# loaded machine starts containers slowly).
wait_long() {
        local what=$1
        shift
        for _ in {1..300}; do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        fail "timed out after 30 s waiting for $what"
}

# podman with runc: Debian's crun refuses this kind of host's hybrid cgroup
# layout. runc cannot raise podman's default rlimits without
# CAP_SYS_RESOURCE, hence the explicit ones. The container's root is host
# uid 100000; /sys/dev/block is masked by podman's defaults, and lsblk
# needs it.
PODMAN_RUN=(run --runtime runc --uidmap 0:100000:65536 --gidmap 0:100000:65536
        --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --network none
        --security-opt unmask=/sys/dev/block
        -v /usr:/usr:ro -v /etc:/etc:ro)

# oci_rootfs DIR: a root file system of the host's binaries (Debian's merged
# /usr, bound read-only by PODMAN_RUN). The user-namespaced root cannot
# create podman's /run/.containerenv mountpoint itself.
oci_rootfs() {
        mkdir -p "$1"/{usr,etc,proc,dev,sys,tmp,run}
        for l in bin lib lib64 sbin; do ln -s "usr/$l" "$1/$l"; done
        touch "$1/run/.containerenv"
}

# podman_rm NAME: what `podman rm -f` leaves must not be left by a test.
podman_rm() {
        timeout 120 podman rm -f -t 0 "$1" >/dev/null 2>&1 || true
}

# assert_forgotten RUNTIME_DIR NAME: devsieved has no record of NAME and
# no mount of its views is left on the host.
assert_forgotten() {
        local listing
        listing=$("$DEVSIEVE" --runtime-dir "$1" list --json) || fail "devsieve list failed"
        assert_eq "" "$(jq -r --arg n "$2" '.containers[] | select(.name == $n) | .name' <<<"$listing")" \
                "containers named $2 in devsieve list"
        assert_not_contains "$(cat /proc/self/mountinfo)" "$1/containers/$2/" "the host's mount table"
}
