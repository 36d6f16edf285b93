#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A hot-plug storm: CYCLES loop device hot-plug steps (add, attach, detach,
# remove) while READERS processes list the views of CONTAINERS containers
# (ls -lR of /dev; /sys/class/block, /sys/block, /sys/dev/block). At the end
# every view must hold exactly what `devsieve check POLICY --all` says its
# policy allows on the host: a listing the kernel cached during the storm
# must not stick. As root:
#
#     bench/storm.sh [BUILD_DIR] [CYCLES [READERS [CONTAINERS]]]
#
# Defaults: 1000 cycles, 20 readers, 3 containers. meson test --benchmark
# bench-storm sets DEVSIEVED, DEVSIEVE and LOOPCTL. Each policy names only
# loop devices of this run's own range, so other device activity on the
# host does not count. Prints the cycles per second and how long the views
# took to settle after the last cycle; exits 1 when a view does not match
# within 30 s.
set -euo pipefail

build=${1:-${BUILD_ROOT:-build}}
CYCLES=${2:-1000}
READERS=${3:-20}
CONTAINERS=${4:-3}
DEVSIEVED=${DEVSIEVED:-$build/daemon/devsieved}
DEVSIEVE=${DEVSIEVE:-$build/cli/devsieve}
LOOPCTL=${LOOPCTL:-$build/tests/helpers/loopctl}
[[ $(id -u) -eq 0 ]] || { echo "storm needs root (FUSE mounts, loop devices)" >&2; exit 77; }
command -v jq >/dev/null || { echo "storm needs jq" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/devsieve-storm.XXXXXX")
run=$dir/run
pid=
readers=()
declare -A seq=() # sysfs inode numbers of the loop devices this run made, by index (not diskseq: attaching changes it)

# Its own range of loop numbers: loop${LB}00 to loop${LB}29.
for _ in {1..100}; do
        LB=$((100 + RANDOM % 800))
        compgen -G "/sys/class/block/loop$LB[0-9][0-9]" >/dev/null || break
done
SLOTS=30

mine() { [[ -n ${seq[$1]:-} && $(stat -c %i "/sys/devices/virtual/block/loop$1" 2>/dev/null) == "${seq[$1]}" ]]; }

cleanup() {
        set +e
        rm -f "$dir/running"
        ((${#readers[@]})) && kill "${readers[@]}" 2>/dev/null && wait "${readers[@]}" 2>/dev/null
        [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        for i in "${!seq[@]}"; do
                mine "$i" || continue
                losetup -d "/dev/loop$i" 2>/dev/null
                for _ in {1..100}; do "$LOOPCTL" remove "$i" 2>/dev/null && break; sleep 0.1; done
        done
        while read -r m; do umount -l "$m"; done < <(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)
        rm -rf "$dir"
}
trap cleanup EXIT

# Three kinds of policy over the range: every device; even numbers; those
# attached to a file of this run (change events make them come and go).
policy() {
        case $(($1 % 3)) in
        0) echo "allow SUBSYSTEM==\"block\", KERNEL==\"loop$LB[0-9][0-9]\"" ;;
        1) echo "allow SUBSYSTEM==\"block\", KERNEL==\"loop$LB[0-9][02468]\", MODE=\"0640\"" ;;
        2) echo "allow SUBSYSTEM==\"block\", KERNEL==\"loop$LB[0-9][0-9]\", ATTR{loop/backing_file}==\"$dir/*\"" ;;
        esac
}
args=()
for ((c = 0; c < CONTAINERS; c++)); do
        policy "$c" >"$dir/c$c.rules"
        args+=(--container "c$c=$dir/c$c.rules")
done
truncate -s 1M "$dir/backing"

"$DEVSIEVED" --foreground --runtime-dir "$run" "${args[@]}" --log-level warning 2>"$dir/devsieved.log" &
pid=$!
for _ in {1..600}; do
        [[ -S $run/devsieved.sock && -d $run/containers/c$((CONTAINERS - 1))/sys/class ]] && break
        kill -0 "$pid" 2>/dev/null || { cat "$dir/devsieved.log" >&2; exit 1; }
        sleep 0.05
done

touch "$dir/running"
for ((r = 0; r < READERS; r++)); do
        view=$run/containers/c$((r % CONTAINERS))
        (while [[ -e $dir/running ]]; do
                ls -lR "$view/dev" >/dev/null 2>&1
                ls "$view/sys/class/block" "$view/sys/block" "$view/sys/dev/block" >/dev/null 2>&1
        done) &
        readers+=($!)
done

# One step on slot i: a missing device is added; an added one is attached;
# an attached one is detached and removed.
step() {
        local n=$((LB * 100 + $1))
        if ! mine "$n"; then
                "$LOOPCTL" add "$n" >/dev/null 2>&1 || return 0 # someone else's number now
                seq[$n]=$(stat -c %i "/sys/devices/virtual/block/loop$n")
        elif [[ -z $(cat "/sys/class/block/loop$n/loop/backing_file" 2>/dev/null) ]] && ((RANDOM % 2)); then
                losetup "/dev/loop$n" "$dir/backing"
        else
                losetup -d "/dev/loop$n" 2>/dev/null || true
                for _ in {1..100}; do "$LOOPCTL" remove "$n" 2>/dev/null && break; sleep 0.01; done
        fi
}

start=${EPOCHREALTIME/./}
for ((i = 0; i < CYCLES; i++)); do
        step $((RANDOM % SLOTS))
done
end=${EPOCHREALTIME/./}

rm "$dir/running"
wait "${readers[@]}" 2>/dev/null || true
readers=()
settle_start=${EPOCHREALTIME/./}

# What each view must show, from the policy and the host as they are now
# (nothing of this run changes any more): taken once per container.
for ((c = 0; c < CONTAINERS; c++)); do
        "$DEVSIEVE" check "$dir/c$c.rules" --all --json >"$dir/c$c.check"
done
expected() { # CONTAINER WHAT
        case $2 in
        dev) jq -r '.[] | select(.type == "block") | .devname' ;;
        sys) jq -r '.[] | select(.subsystem == "block") | .path' ;;
        devnum) jq -r '.[] | select(.type == "block") | "\(.major):\(.minor)"' ;;
        esac <"$dir/$1.check" | sort
}
view_matches() { # CONTAINER
        local v=$run/containers/$1
        [[ $(expected "$1" dev) == "$(cd "$v/dev" && find . -type b | sed 's|^\./|/dev/|' | sort)" ]] &&
                [[ $(expected "$1" sys) == "$(ls "$v/sys/class/block" | sort)" ]] &&
                [[ $(expected "$1" sys) == "$(ls "$v/sys/block" | sort)" ]] &&
                [[ $(expected "$1" devnum) == "$(ls "$v/sys/dev/block" | sort)" ]]
}
status=0
for ((c = 0; c < CONTAINERS; c++)); do
        ok=
        for _ in {1..300}; do
                view_matches "c$c" && { ok=1; break; }
                sleep 0.1
        done
        if [[ -z $ok ]]; then
                v=$run/containers/c$c
                echo "FAIL: c$c's view differs from devsieve check --all after 30 s:" >&2
                diff <(expected "c$c" sys) <(ls "$v/sys/class/block" | sort) | sed 's/^/  sys\/class\/block: /' >&2
                diff <(expected "c$c" dev) <(cd "$v/dev" && find . -type b | sed 's|^\./|/dev/|' | sort) |
                        sed 's/^/  dev: /' >&2
                status=1
        fi
done
settled=${EPOCHREALTIME/./}
kill -0 "$pid" 2>/dev/null || { echo "FAIL: devsieved died:" >&2; cat "$dir/devsieved.log" >&2; exit 1; }

printf 'storm: %d cycles in %.1f s (%.0f/s), %d readers, %d containers; views matched %.0f ms after the last cycle%s\n' \
        "$CYCLES" "$(((end - start) / 1000))e-3" "$((CYCLES * 1000000 / (end - start + 1)))" "$READERS" "$CONTAINERS" \
        "$(((settled - settle_start) / 1000))" "$([[ $status -eq 0 ]] && echo '; every view matches devsieve check --all')"
exit "$status"
