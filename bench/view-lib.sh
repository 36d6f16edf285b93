# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sourced by bench-sys.sh and bench-proc.sh: a devsieved serving one
# container whose policy shows one loop device of the benchmark's own, and
# lxcfs as a FUSE peer; everything removed at exit. The caller sets NAME
# (for messages) before sourcing; meson test --benchmark sets DEVSIEVED,
# BENCH_FS and LOOPCTL.
set -euo pipefail

build=${1:-${BUILD_ROOT:-build}}
DEVSIEVED=${DEVSIEVED:-$build/daemon/devsieved}
BENCH_FS=${BENCH_FS:-$build/bench/bench-fs}
LOOPCTL=${LOOPCTL:-$build/tests/helpers/loopctl}
[[ $(id -u) -eq 0 ]] || { echo "$NAME needs root (FUSE mounts, loop devices)" >&2; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/devsieve-bench.XXXXXX")
pid= lxcfs_pid= loop=
cleanup() {
        # A killed process makes `wait` fail: no step may stop the others.
        set +e
        [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        [[ -n $lxcfs_pid ]] && kill "$lxcfs_pid" 2>/dev/null && wait "$lxcfs_pid" 2>/dev/null
        umount -l "$dir/lxcfs" 2>/dev/null
        [[ -n $loop ]] && { losetup -d "$loop" 2>/dev/null; "$LOOPCTL" remove "${loop#/dev/loop}" 2>/dev/null; }
        rm -rf "$dir"
}
trap cleanup EXIT

# start_view RULE_OPTIONS: a loop device with a backing file (its name in
# $n), and devsieved serving container "bench" whose policy allows it
# with RULE_OPTIONS appended (e.g. ', NAME="xvdb"'). Sets pid.
start_view() {
        loop=$("$LOOPCTL" add)
        n=${loop#/dev/}
        truncate -s 1M "$dir/backing"
        losetup "$loop" "$dir/backing"
        printf 'allow SUBSYSTEM=="block", KERNEL=="%s"%s\n' "$n" "$1" >"$dir/bench.rules"
        "$DEVSIEVED" --foreground --runtime-dir "$dir/run" --container bench="$dir/bench.rules" --log-level warning &
        pid=$!
}

# wait_view FILE [PATTERN] WHAT: until FILE exists (with PATTERN: holds a
# line matching it); says WHAT and fails if devsieved exits or 30 s pass.
wait_view() {
        local file=$1 pattern=${3:+$2} what=${3:-$2}
        for _ in {1..600}; do
                if [[ -z $pattern ]]; then [[ -e $file ]] && return 0
                else grep -qs -- "$pattern" "$file" && return 0; fi
                kill -0 "$pid" || { echo "devsieved exited" >&2; exit 1; }
                sleep 0.05
        done
        echo "$what after 30 s" >&2
        exit 1
}

# start_lxcfs FILE: lxcfs mounted at $dir/lxcfs, once it serves FILE
# (relative to its mount); false if lxcfs is not installed.
start_lxcfs() {
        command -v lxcfs >/dev/null || {
                echo "lxcfs is not installed: no FUSE peer to compare with (apt-get install lxcfs)"
                return 1
        }
        mkdir "$dir/lxcfs"
        lxcfs -f "$dir/lxcfs" >"$dir/lxcfs.log" 2>&1 &
        lxcfs_pid=$!
        for _ in {1..200}; do
                [[ -e $dir/lxcfs/$1 ]] && break
                sleep 0.05
        done
}
