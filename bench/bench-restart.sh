#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What a crash costs with N containers (default 100, created, not
# attached): devsieved is killed with SIGKILL and started again on the same
# runtime directory, and we time
#   - restart-to-serving: from the exec of the new daemon to its control
#     socket answering a status request;
#   - the pause a reader sees: the longest single `ls` of one container's
#     /dev view (from the host, in a loop) across the kill and the start.
# Two rounds in the same run: with the holder (the views' connections are
# adopted: the reader waits), and the baseline, the holder killed too (the
# views die and are repaired: the reader fails meanwhile, and the pause is
# the longest time between two listings that answered).
#
#   DEVSIEVED=build/daemon/devsieved DEVSIEVE=build/cli/devsieve bench/bench-restart.sh [N]
set -euo pipefail

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root" >&2; exit 77; }
DEVSIEVED=${DEVSIEVED:?set DEVSIEVED to the devsieved binary}
DEVSIEVE=${DEVSIEVE:?set DEVSIEVE to the devsieve binary}
N=${1:-100}
RUNTIME=$(mktemp -d /tmp/devsieve-bench.XXXXXX)
PID= READER= HOLDER=

cleanup() {
        local rc=$?

        if [[ -n $READER ]]; then kill "$READER" 2>/dev/null; fi
        if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
                kill "$PID"
                while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
        fi
        # A clean stop ends the holder; one left by a failure goes here.
        if [[ -n $HOLDER ]]; then kill -9 "$HOLDER" 2>/dev/null; fi
        awk -v dir="$RUNTIME/" 'index($5, dir) == 1 {print $5}' /proc/self/mountinfo | sort -r |
                while read -r m; do umount -l "$m" 2>/dev/null; done
        rm -rf "$RUNTIME"
        exit "$rc"
}
trap cleanup EXIT

ds() { "$DEVSIEVE" --runtime-dir "$RUNTIME/run" "$@"; }
now_ns() { date +%s%N; }

start() {
        "$DEVSIEVED" --foreground --runtime-dir "$RUNTIME/run" --log-level warning >>"$RUNTIME/log" 2>&1 &
        PID=$!
        until ds status >/dev/null 2>&1; do
                kill -0 "$PID" 2>/dev/null || { cat "$RUNTIME/log" >&2; exit 1; }
                sleep 0.01
        done
}

# One line per listing: ok|err, start (ns), duration (ns).
reader() {
        while :; do
                s=$(now_ns)
                if ls "$RUNTIME/run/containers/c1/dev" >/dev/null 2>&1; then r=ok; else r=err; fi
                echo "$r $s $(($(now_ns) - s))"
                sleep 0.01
        done
}

round() {
        local what=$1 kill_holder=$2 t0 t1
        HOLDER=$(ds status --json | jq -r .holder_pid)
        reader >"$RUNTIME/reader.$what" 2>/dev/null &
        READER=$!
        sleep 0.5
        kill -9 "$PID"
        wait "$PID" 2>/dev/null || true
        [[ $kill_holder == yes ]] && kill -9 "$HOLDER"
        t0=$(now_ns)
        start
        t1=$(now_ns)
        until [[ $(tail -n 1 "$RUNTIME/reader.$what" | cut -d' ' -f1) == ok ]]; do sleep 0.01; done
        sleep 0.5
        kill "$READER"
        wait "$READER" 2>/dev/null || true
        READER=
        awk -v what="$what" -v serve=$(((t1 - t0) / 1000000)) '
                { if ($3 > longest) longest = $3 }
                $1 == "ok" { if (last && $2 - last > gap) gap = $2 - last; last = $2 + $3 }
                $1 == "err" { errors++ }
                END { printf "%-22s restart-to-serving %6d ms   longest listing %6d ms   longest gap between answers %6d ms   failed listings %d\n",
                      what, serve, longest / 1e6, gap / 1e6, errors }' "$RUNTIME/reader.$what"
}

start
for i in $(seq 1 "$N"); do
        ds create "c$i" --policy oci-default >/dev/null
done
echo "$N containers, $(ds status --json | jq .devices) host devices"
round "holder (adopted)" no
round "no holder (repaired)" yes
HOLDER=$(ds status --json | jq -r .holder_pid)
