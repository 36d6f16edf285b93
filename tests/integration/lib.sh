# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Sourced by every integration test (tests/integration/test-*.sh):
#
#     source "$SOURCE_ROOT/tests/integration/lib.sh"
#
# meson sets DEVSIEVE (the devsieve binary), LOOPCTL (tests/helpers/loopctl),
# SOURCE_ROOT and BUILD_ROOT. Exit status 77 tells meson the test was skipped.
#
# Whatever a test creates it registers with `defer`, right after creating
# it; the EXIT trap undoes everything in reverse order, also when an
# assertion fails halfway.

set -euo pipefail

__deferred=()
__created_loops=()
# The sysfs inode number of each loop device this test made, by index:
# loop numbers are reused, and another test run may have made loopN again
# after this one removed its own. Not diskseq: attaching and detaching a
# file change it.
declare -A __loop_seq=()

log() {
        echo "### $*" >&2
}

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

skip() {
        echo "SKIP: $*" >&2
        exit 77
}

# defer 'COMMAND': run COMMAND (with eval) when the test exits.
defer() {
        __deferred+=("$1")
}

__cleanup() {
        local rc=$? i

        # A failing cleanup step must not stop the others.
        set +e
        for ((i = ${#__deferred[@]} - 1; i >= 0; i--)); do
                if ! eval "${__deferred[i]}"; then
                        echo "cleanup failed: ${__deferred[i]}" >&2
                        [[ ${__deferred[i]} == daemon_stop* && $rc -eq 0 ]] && rc=1
                fi
        done
        for i in "${__created_loops[@]}"; do
                if loop_is_mine "$i"; then
                        echo "FAIL: loop device loop$i is left over" >&2
                        [[ $rc -eq 0 ]] && rc=1
                fi
        done
        exit "$rc"
}
trap __cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# need_env VAR...: each is set (meson test sets the paths of what a test
# runs).
need_env() {
        local var
        for var in "$@"; do
                [[ -n ${!var:-} ]] || fail "$var is not set: run this test through 'meson test'"
        done
}

[[ $(id -u) -eq 0 ]] || skip "integration tests need root (loop devices, mounts, namespaces); run them as root"
need_env DEVSIEVE LOOPCTL SOURCE_ROOT BUILD_ROOT
for __cmd in jq losetup truncate; do
        command -v "$__cmd" >/dev/null || fail "this test needs '$__cmd' (apt-get install ${__cmd/truncate/coreutils})"
done
unset __cmd

# remove_tree DIR: detaches whatever is still mounted below DIR (a daemon
# that crashed leaves its views mounted), then removes DIR.
remove_tree() {
        local m

        while read -r m; do
                umount -l "$m" 2>/dev/null
        done < <(awk -v dir="$1/" 'index($2, dir) == 1 {print $2}' /proc/self/mounts | sort -r)
        rm -rf "$1"
}

TEST_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/devsieve-test.XXXXXX")
defer "remove_tree '$TEST_TMPDIR'"

# A helper run inside a test's user namespace runs as the container's root
# (host uid 100000), which cannot search a checkout below a 0700 directory
# (root's home on Debian): such helpers, and the sanitizers' suppressions
# they read, run from a copy in a directory everyone may search. /tmp, not
# $TMPDIR: that one may be private too.
HELPER_DIR=$(mktemp -d /tmp/devsieve-helpers.XXXXXX)
defer "rm -rf '$HELPER_DIR'"
chmod 0755 "$HELPER_DIR"
if [[ -n ${UEVENT_LISTEN:-} ]]; then
        install -m 0755 "$UEVENT_LISTEN" "$HELPER_DIR/uevent-listen"
        UEVENT_LISTEN=$HELPER_DIR/uevent-listen
fi
if [[ ${LSAN_OPTIONS:-} =~ (^|:)suppressions=([^:]+) ]]; then
        install -m 0644 "${BASH_REMATCH[2]}" "$HELPER_DIR/lsan.supp"
        LSAN_OPTIONS=${LSAN_OPTIONS/"suppressions=${BASH_REMATCH[2]}"/"suppressions=$HELPER_DIR/lsan.supp"}
        export LSAN_OPTIONS
fi

# TEST_ID: a short name of this run for what lives in a host-wide namespace
# (network interfaces, loop device numbers): another copy of the suite may
# run on this host at the same time.
TEST_ID=$(printf '%04x' $(((RANDOM << 1 ^ $$) & 0xffff)))

# --- Assertions --------------------------------------------------------

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
        [[ $1 == "$2" ]] || fail "${3:-value}: expected '$1', got '$2'"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
        [[ $1 == *"$2"* ]] || fail "${3:-output} does not contain '$2':"$'\n'"$1"
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
        [[ $1 != *"$2"* ]] || fail "${3:-output} contains '$2':"$'\n'"$1"
}

# assert_match HAYSTACK EXTENDED-REGEX [WHAT]: some line of HAYSTACK matches.
assert_match() {
        grep -Eq -- "$2" <<<"$1" || fail "${3:-output} has no line matching /$2/:"$'\n'"$1"
}

# assert_exit CODE COMMAND [ARGS...]: runs COMMAND, fails unless it exits
# with CODE. Its stdout and stderr are left in $OUT and $ERR.
OUT=
ERR=
assert_exit() {
        local expected=$1 rc=0
        shift
        "$@" >"$TEST_TMPDIR/.out" 2>"$TEST_TMPDIR/.err" || rc=$?
        OUT=$(<"$TEST_TMPDIR/.out")
        ERR=$(<"$TEST_TMPDIR/.err")
        if [[ $rc -ne $expected ]]; then
                fail "'$*' exited with $rc, expected $expected"$'\n'"stdout:"$'\n'"$OUT"$'\n'"stderr:"$'\n'"$ERR"
        fi
}

# --- Loop devices ------------------------------------------------------

# loop_add VAR: creates a new, unattached loop device (a block "add"
# uevent), stores its node (/dev/loopN) in VAR and removes it at exit. A
# variable, not stdout: a $(...) subshell would lose the deferred removal.
loop_add() {
        # Locals are prefixed: a nameref resolves in the innermost scope, so a
        # caller's variable named like one of ours would not be reached.
        local -n __loop_add_ret=$1
        local __loop_add_dev __loop_add_index __loop_add_seq

        __loop_add_dev=$("$LOOPCTL" add) || fail "loopctl add failed"
        __loop_add_index=${__loop_add_dev#/dev/loop}
        loop_own "$__loop_add_index"
        [[ -b $__loop_add_dev ]] || fail "$__loop_add_dev did not appear"
        __loop_add_ret=$__loop_add_dev
}

# loop_attach VAR [SIZE [NAME]]: like loop_add, with a SIZE (default 1M)
# backing file attached by losetup, $TEST_TMPDIR/NAME.XXXXXX (NAME default
# "backing": own_loops_policy shows those; oci_policy shows "visible").
loop_attach() {
        local -n __loop_attach_ret=$1
        local __loop_attach_size=${2:-1M} __loop_attach_dev __loop_attach_file

        loop_add __loop_attach_dev
        __loop_attach_file=$(mktemp "$TEST_TMPDIR/${3:-backing}.XXXXXX")
        truncate -s "$__loop_attach_size" "$__loop_attach_file"
        losetup "$__loop_attach_dev" "$__loop_attach_file" ||
                fail "losetup $__loop_attach_dev $__loop_attach_file failed"
        # Detached by the test itself (an unplug) is as good; removed by it,
        # the number may be another test run's device by then.
        defer "! loop_is_mine '${__loop_attach_dev#/dev/loop}' || losetup -d '$__loop_attach_dev' 2>/dev/null ||
                ! losetup '$__loop_attach_dev' >/dev/null 2>&1"
        __loop_attach_ret=$__loop_attach_dev
}

# loop_own N: loopN, just made by this test, is removed at exit, and must
# be gone by then.
loop_own() {
        __loop_seq[$1]=$(stat -c %i "/sys/devices/virtual/block/loop$1") || fail "loop$1 is not in sysfs"
        __created_loops+=("$1")
        defer "loop_remove $1"
}

# loop_is_mine N: loopN is there and is still the device this test made.
loop_is_mine() {
        [[ -n ${__loop_seq[$1]:-} && $(stat -c %i "/sys/devices/virtual/block/loop$1" 2>/dev/null) == "${__loop_seq[$1]}" ]]
}

# The kernel may still hold a just-detached device for a moment, and a
# prober elsewhere on the host may have it open (30 s). A device the test
# removed itself is fine, and a loopN made since by someone else is theirs.
loop_remove() {
        local i

        for i in {1..300}; do
                loop_is_mine "$1" || return 0
                "$LOOPCTL" remove "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        "$LOOPCTL" remove "$1"
}

# runc_bundle DIR CONTAINER_DIR [VIEW...]: a runc bundle at DIR: config.json
# from `runc spec` and a root file system skeleton of the host's merged /usr
# (the test binds /usr and /etc read-only). Each VIEW (dev, sys, udev,
# proc) of CONTAINER_DIR is bound at DIR/VIEW-view: runc mounts as the
# container's root, which cannot pass the daemon's 0700 containers/
# directory (host users must not reach devices through it). Unbound at
# exit; TEST_TMPDIR is opened to the container's root.
runc_bundle() {
        local bundle=$1 from=$2 v l
        shift 2
        chmod 0755 "$TEST_TMPDIR"
        mkdir -p "$bundle/rootfs"/{usr,etc,proc,dev,sys,tmp}
        for l in bin lib lib64 sbin; do ln -s "usr/$l" "$bundle/rootfs/$l"; done
        (cd "$bundle" && runc spec) || fail "runc spec failed in $bundle"
        for v in "$@"; do
                mkdir "$bundle/$v-view"
                mount --rbind "$from/$v" "$bundle/$v-view" || fail "cannot bind $from/$v at $bundle/$v-view"
                defer "umount -l '$bundle/$v-view'"
        done
}

# runc_config BUNDLE FILTER [JQ ARGS...]: config.json of a runc_bundle for
# a container on devsieve's views: no terminal, a read-only root, a user
# namespace (root = host 100000), BUNDLE/dev-view and BUNDLE/sys-view at
# /dev and /sys in place of runc's own (and of its cgroup mount), the
# host's /usr and /etc read-only; then FILTER (jq; $bundle and JQ ARGS
# given) for what the test adds: the process, hooks, more mounts.
runc_config() {
        local bundle=$1 filter=$2
        shift 2
        jq --arg bundle "$bundle" "$@" '
        .process.terminal = false
        | .root.readonly = true
        | .linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        | .mounts |= map(select(.destination != "/sys" and .destination != "/dev" and .destination != "/sys/fs/cgroup"))
        | .mounts = [{"destination": "/dev", "type": "bind", "source": ($bundle + "/dev-view"), "options": ["rbind", "rw", "nosuid"]},
                     {"destination": "/sys", "type": "bind", "source": ($bundle + "/sys-view"), "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]}] + .mounts
        | .mounts += [{"destination": "/usr", "type": "bind", "source": "/usr", "options": ["rbind", "ro"]},
                      {"destination": "/etc", "type": "bind", "source": "/etc", "options": ["rbind", "ro"]}]
        | '"$filter" "$bundle/config.json" >"$bundle/config.json.new" || fail "cannot write $bundle/config.json"
        mv "$bundle/config.json.new" "$bundle/config.json"
}

# --- devsieved ---------------------------------------------------------

# daemon_start RUNTIME_DIR [DEVSIEVED ARGS...]: runs devsieved in the
# foreground (log in RUNTIME_DIR.log), waits until it serves, stops it at
# exit. Sets DAEMON_PID.
DAEMON_PID=
daemon_start() {
        local dir=$1
        shift
        mkdir -p "$dir"
        "$DEVSIEVED" --foreground --runtime-dir "$dir" --log-level debug "$@" >"$dir.log" 2>&1 &
        DAEMON_PID=$!
        defer "daemon_stop $DAEMON_PID '$dir.log'"
        for _ in {1..600}; do
                grep -q 'Serving;' "$dir.log" 2>/dev/null && return 0
                kill -0 "$DAEMON_PID" 2>/dev/null || fail "devsieved exited:"$'\n'"$(cat "$dir.log")"
                sleep 0.05
        done
        fail "devsieved did not start in 30 s:"$'\n'"$(cat "$dir.log")"
}

# restart_daemon_start RUNTIME_DIR [DEVSIEVED ARGS...]: daemon_start for a
# test that kills and starts devsieved again: DEVSIEVED becomes a copy
# that `devsieve upgrade` can replace with a "rebuilt" one, and a failing
# run shows what the last devsieved said ($rc: the status the cleanup is
# about to return; daemon_stop shows only the first daemon's log).
restart_daemon_start() {
        install -m 0755 "$DEVSIEVED" "$TEST_TMPDIR/devsieved"
        DEVSIEVED=$TEST_TMPDIR/devsieved
        defer "[[ \${rc:-0} -eq 0 ]] || tail -n 60 '$1.log' >&2"
        daemon_start "$@"
}

# own_loops_policy FILE: the OCI defaults and the loop devices backed by
# files named $TEST_TMPDIR/backing*: only this test's, whatever other loop
# devices come and go meanwhile.
own_loops_policy() {
        cat >"$1" <<RULES
include "oci-default"
allow SUBSYSTEM=="block", KERNEL=="loop*", ATTR{loop/backing_file}=="$TEST_TMPDIR/backing*", MODE="0640"
RULES
}

# daemon_stop PID LOG: SIGTERM; a daemon that does not exit cleanly (a
# crash, a sanitizer report) fails the test and shows its log.
daemon_stop() {
        local rc=0
        kill "$1" 2>/dev/null || return 0
        wait "$1" || rc=$?
        if [[ $rc -ne 0 ]]; then
                echo "devsieved exited with status $rc; its log:" >&2
                tail -n 60 "$2" >&2
                return 1
        fi
}

# mounts_at PATH [PID]: how many mounts are at PATH in the mount namespace
# of PID (default: this shell's, the host's). devsieved mounts in a
# namespace of its own: its views are in /proc/$DAEMON_PID/mountinfo, and
# only what is below RUNTIME/containers reaches the host.
mounts_at() {
        awk -v p="$1" '$5 == p' "/proc/${2:-self}/mountinfo" | wc -l
}

# wait_until DESCRIPTION COMMAND...: until COMMAND succeeds (30 s: a
# sanitizer build on a machine other test runs keep busy).
wait_until() {
        local what=$1
        shift
        for _ in {1..3000}; do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.01
        done
        fail "timed out waiting for $what"
}

# container_start VAR [NS-RUN ARGS...]: a container (tests/helpers/ns-run)
# that sleeps until the test ends; VAR gets its pid, for nsenter.
container_start() {
        local -n __container_ret=$1
        local pidfile
        shift
        pidfile=$(mktemp "$TEST_TMPDIR/pid.XXXXXX")
        rm -f "$pidfile"
        "$NS_RUN" --pidfile "$pidfile" "$@" -- sleep infinity &
        defer "kill $! 2>/dev/null; wait $! 2>/dev/null; true"
        wait_until "the container to start" test -s "$pidfile"
        __container_ret=$(<"$pidfile")
}

# Background readers loop on a view in a container and fork a child per
# pass; a child blocked on the view (the daemon down) outlives a kill of
# its shell. Start one as `setsid nsenter ... &` (setsid does not fork: a
# background job leads no process group) and call reader_group PID: it
# waits until PID leads a group of its own (setsid runs in the child). group_kill PID kills the whole
# group for sure and reaps PID.
reader_group() {
        wait_until "the reader $1 to lead a process group" sh -c '[ "$(ps -o pgid= -p "$1" | tr -d " ")" = "$1" ]' sh "$1"
}
group_kill() {
        kill -KILL -- "-$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
}

# in_container PID COMMAND...: runs COMMAND in the container, as its root.
in_container() {
        local pid=$1
        shift
        nsenter -t "$pid" -U -m -n -- "$@"
}
