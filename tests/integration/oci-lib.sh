# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Sourced after lib.sh by the tests that run devsieve's hook under a real
# runtime (test-oci-*.sh, test-cdi.sh, test-lxc.sh): podman (with runc), a
# plain root file system directory, a policy for the test's own devices,
# the checks that nothing is left behind.

# OCI_RUNTIME: the runtime podman uses (default runc).
OCI_RUNTIME=${OCI_RUNTIME:-runc}

# oci_need_podman: skips the test unless podman and OCI_RUNTIME are here.
oci_need_podman() {
        command -v podman >/dev/null || skip "podman is not installed (contrib/deps.sh installs it)"
        command -v "$OCI_RUNTIME" >/dev/null || skip "$OCI_RUNTIME is not installed (contrib/deps.sh installs it)"
}

# wait_long DESCRIPTION COMMAND...: until COMMAND succeeds, for 30 s at
# least (a loaded machine starts containers slowly).
wait_long() {
        local what=$1 end=$((SECONDS + 30))
        shift
        until "$@" >/dev/null 2>&1; do
                ((SECONDS < end)) || fail "timed out after 30 s waiting for $what"
                sleep 0.1
        done
}

# podman with runc by default: Debian's crun refuses hybrid cgroup layouts
# (test-oci-crun.sh tries it). runc cannot raise podman's default rlimits without
# CAP_SYS_RESOURCE, hence the explicit ones. The container's root is host
# uid 100000; /sys/dev/block is masked by podman's defaults, and lsblk
# needs it.
PODMAN_RUN=(run --runtime "$OCI_RUNTIME" --uidmap 0:100000:65536 --gidmap 0:100000:65536
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

# hook_container ID POLICY: a container as a runtime has it when its
# createRuntime hook runs: a process in a mount namespace of its own, on
# a root file system at $TEST_TMPDIR/rootfs (the host's /usr and /etc, its
# own /proc); then `devsieve oci-hook` for it, as the hook (the OCI state at
# $TEST_TMPDIR/state), with policy POLICY. A failing run gets the poststop
# hook unless the test ran it and emptied POSTSTOP_PENDING. Sets nspid and
# rootfs; in_ns runs a command in the container.
hook_container() {
        local id=$1 policy=$2 ready line
        chmod 0755 "$TEST_TMPDIR"
        rootfs=$TEST_TMPDIR/rootfs
        oci_rootfs "$rootfs"
        mkfifo "$TEST_TMPDIR/ready"
        exec {ready}<>"$TEST_TMPDIR/ready"
        unshare -m --propagation private sh -c 'mount --rbind /usr "$2/usr" && mount --rbind /etc "$2/etc" &&
                mount -t proc proc "$2/proc" && echo ready >"$1"; exec sleep infinity' sh "$TEST_TMPDIR/ready" "$rootfs" &
        nspid=$!
        defer "kill $nspid 2>/dev/null; wait $nspid 2>/dev/null; true"
        read -r -t 30 -u "$ready" line || fail "the namespaced process did not start in 30 s"
        exec {ready}>&-
        assert_eq ready "$line" "the namespaced process"

        jq -n --argjson pid "$nspid" --arg id "$id" \
                '{ociVersion: "1.0.2", id: $id, status: "creating", pid: $pid, bundle: "/nowhere"}' >"$TEST_TMPDIR/state"
        POSTSTOP_PENDING=1
        defer 'if [[ -n $POSTSTOP_PENDING ]]; then
                jq ".status = \"stopped\"" "$TEST_TMPDIR/state" | "$DEVSIEVE" --runtime-dir "$RT" oci-hook >/dev/null 2>&1; fi; true'
        assert_exit 0 "$DEVSIEVE" --runtime-dir "$RT" oci-hook --policy "$policy" --rootfs "$rootfs" <"$TEST_TMPDIR/state"
}
in_ns() { nsenter -t "$nspid" -m chroot "$rootfs" "$@"; }

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

# assert_host_mounts RUNTIME_DIR NAME MAX: the namespace devsieved was
# started in (the test's: the host's) holds at most MAX mounts of
# container NAME's views, and none of its /sys view's device directories:
# a hook container's views live in devsieved's own mount namespace and in
# the container's. Mount points in mountinfo escape blanks as octal.
assert_host_mounts() {
        local mine
        mine=$(awk -v c="$1/containers/$2" -v v="$1/views/containers/$2" \
                '$5 == c || index($5, c "/") == 1 || $5 == v || index($5, v "/") == 1 {print $5}' /proc/self/mountinfo)
        log "the host's mounts of $2's views:"$'\n'"$mine"
        (($(grep -c . <<<"$mine") <= $3)) || fail "more than $3 mounts of $2's views in the host's mount table:"$'\n'"$mine"
        assert_not_contains "$mine" "/sys/" "the host's mounts of $2's views"
}

# LISTED_SH: a shell snippet for a container, `sh -c "$LISTED_SH" sh NAME`:
# succeeds once the listings of /dev and /sys/class/block hold NAME. Tests
# wait for a device this way, never by looking the name up: a lookup that
# races with the device's arrival can leave a cached "no such file" in
# the view.
LISTED_SH='ls -A /dev | grep -qxF "$1" && ls -A /sys/class/block | grep -qxF "$1"'

# assert_views_only MOUNTINFO WHAT: in a container's mountinfo, /dev and
# /sys are each one mount, devsieve's FUSE view: the runtime's own /dev and
# /sys are gone, not merely covered (unmounting the view would show them).
assert_views_only() {
        local mp types
        for mp in /dev /sys; do
                types=$(awk -v mp="$mp" '$5 == mp { for (i = 7; $i != "-"; i++); print $(i + 1) }' <<<"$1" | xargs)
                [[ $types == fuse.* && $types != *" "* ]] ||
                        fail "$2: expected one FUSE mount at $mp, found: '$types'"$'\n'"$1"
        done
}

# oci_look EXEC DEVICE HIDDEN: what the container sees, in one run of EXEC
# (e.g. in_podman): sections 0 `ls -A /dev`, 1 `ls /sys/class/block`, 2
# lsblk's names, 3 the file system types of /dev/pts, /dev/shm and
# /dev/mqueue, 4 `ls -l /dev/DEVICE`, 5 how many bytes of DEVICE are
# readable (4096), 6 its mountinfo; read them with oci_section N. HIDDEN
# must appear nowhere.
OCI_LOOK=
oci_look() {
        OCI_LOOK=$("$1" sh -c 'ls -A /dev; echo ==; ls /sys/class/block; echo ==; lsblk -n -o NAME; echo ==
                stat -f -c %T /dev/pts /dev/shm /dev/mqueue; echo ==; ls -l "/dev/$1"; echo ==
                head -c 4096 "/dev/$1" | wc -c; echo ==; cat /proc/self/mountinfo' sh "$2") ||
                fail "looking into the container failed"
        log "the container sees:"$'\n'"$OCI_LOOK"
        assert_not_contains "$(oci_section 0; oci_section 1; oci_section 2)" "$3" "the container's view"
}
oci_section() { awk -v want="$1" 'BEGIN {n = 0} /^==$/ {n++; next} n == want' <<<"$OCI_LOOK"; }

# oci_policy FILE: a policy showing the OCI defaults and only this test's
# loop devices (others hot-plug loop devices meanwhile): those backed by
# $TEST_TMPDIR/visible*.
oci_policy() {
        cat >"$1" <<RULES
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$TEST_TMPDIR/visible*", MODE="0640", GROUP="6"
RULES
}

# oci_policy_dir NAME: sets policies, a policy directory holding
# oci_policy as NAME.rules, and RT, where the test's devsieved runs.
oci_policy_dir() {
        policies=$TEST_TMPDIR/policies
        mkdir -p "$policies"
        oci_policy "$policies/$1.rules"
        RT=$TEST_TMPDIR/run
}

# oci_hooks_dir: sets hooks, a hooks.d directory holding devsieve's file
# as installed, but running this build's devsieve with the devsieved at $RT.
oci_hooks_dir() {
        hooks=$TEST_TMPDIR/hooks.d
        mkdir "$hooks"
        jq --arg path "$DEVSIEVE" --arg rt "$RT" \
                '.hook.path = $path | .hook.args = ["devsieve", "--runtime-dir", $rt, "oci-hook"]' \
                "$SOURCE_ROOT/contrib/oci-hooks.d/devsieve.json" >"$hooks/devsieve.json"
}

# oci_views_scenario NAME [PODMAN-OPTIONS...] -- [RUN-OPTIONS...]: podman
# runs container NAME on $rootfs with devsieve's views (how: the options;
# devsieved at $RT under oci_policy). Its /dev, /sys/class/block and lsblk
# show exactly the policy's devices, the runtime's /dev/pts, /dev/shm and
# /dev/mqueue are on top, an allowed device is readable, a device
# hot-plugged meanwhile arrives and works, and `podman rm -f` leaves no
# record and no mount.
oci_views_scenario() {
        local name=$1 global=() run=() VIS HID HOT vis hid hot id show
        shift
        while [[ $# -gt 0 && $1 != -- ]]; do global+=("$1"); shift; done
        [[ $# -gt 0 ]] && shift
        run=("$@")

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

        defer "podman_rm $name"
        # No --device: runc's device cgroup allows only the OCI defaults, and
        # devsieved grants the devices the view shows when the hook attaches.
        timeout 120 podman "${global[@]}" "${PODMAN_RUN[@]}" -d --name "$name" \
                "${run[@]}" --rootfs "$rootfs" sleep infinity >"$TEST_TMPDIR/id" 2>"$TEST_TMPDIR/podman.err" ||
                fail "podman run failed: $(cat "$TEST_TMPDIR/podman.err")"
        id=$(<"$TEST_TMPDIR/id")
        in_podman() { timeout 60 podman exec "$name" "$@"; }
        # The daemon hears of losetup's change event in its own time. One
        # exec per wait and per look: each costs seconds on a loaded machine.
        wait_long "$vis in the podman container's /dev and /sys" in_podman sh -c "$LISTED_SH" sh "$vis"

        show=$("$DEVSIEVE" --runtime-dir "$RT" show "$id") || fail "devsieve show $id failed"
        log "devsieve show $id:"$'\n'"$show"
        assert_match "$show" "^state: +attached"
        oci_look in_podman "$vis" "$hid"
        assert_eq "$(printf '%s\n' char fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \
                block "$vis" | sort | xargs)" "$(oci_section 0 | sort | xargs)" "the podman container's /dev"
        assert_eq "$vis" "$(oci_section 1)" "/sys/class/block in the podman container"
        assert_eq "$vis" "$(oci_section 2 | xargs)" "lsblk in the podman container"
        assert_eq "devpts tmpfs mqueue" "$(oci_section 3 | xargs)" "the runtime's mounts over the view"
        assert_match "$(oci_section 4)" "^brw-r----- 1 root disk +7, +${vis#loop} "
        assert_eq 4096 "$(oci_section 5 | xargs)" "bytes read from /dev/$vis"
        assert_views_only "$(oci_section 6)" "the podman container"
        # The hook bound the container's udev database at /run/udev: libudev
        # inside sees the device initialized, as udev would show it.
        udev_info=$(in_podman udevadm info "/dev/$vis") || fail "udevadm info /dev/$vis in the podman container failed"
        assert_match "$udev_info" '^E: USEC_INITIALIZED=[0-9]+$' "udevadm info /dev/$vis in the podman container"
        in_podman test -e /run/udev/control || fail "no /run/udev/control in the podman container"
        # Its views were handed over as mount trees: the host's table keeps
        # at most its /proc files.
        assert_host_mounts "$RT" "$id" 2

        # Hot-plug while it runs: the view follows, the device works.
        losetup "$HOT" "$TEST_TMPDIR/visible-hot.img"
        defer "losetup -d '$HOT'"
        wait_long "$hot in the podman container's /dev and /sys" in_podman sh -c "$LISTED_SH" sh "$hot"
        oci_look in_podman "$hot" "$hid"
        assert_eq "$(printf '%s\n' "$vis" "$hot" | sort | xargs)" "$(oci_section 1 | sort | xargs)" \
                "/sys/class/block after hot-plug"
        assert_eq "$(printf '%s\n' "$vis" "$hot" | sort | xargs)" "$(oci_section 2 | sort | xargs)" \
                "lsblk after hot-plug"
        assert_eq 4096 "$(oci_section 5 | xargs)" "bytes read from /dev/$hot"
        # Its /sys directory, mounted in devsieved's namespace after the
        # container started, reached the container's copy of the view: the
        # real sysfs directory that libudev insists on.
        assert_eq sysfs "$(in_podman stat -f -c %T "/sys/class/block/$hot/")" "/sys/class/block/$hot/ in the container"
        udev_info=$(in_podman udevadm info "/dev/$hot") || fail "udevadm info /dev/$hot in the podman container failed"
        assert_match "$udev_info" "^P: /devices/virtual/block/$hot\$" "udevadm info /dev/$hot in the podman container"
        assert_host_mounts "$RT" "$id" 2

        # poststop: nothing left behind.
        timeout 120 podman rm -f -t 0 "$name" >/dev/null || fail "podman rm -f failed"
        assert_forgotten "$RT" "$id"
}
