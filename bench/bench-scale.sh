#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# How devsieved scales with containers: its start time (to ready: the
# detaching parent exits only once the daemon serves), its resident memory
# with 0, 1, 100, 500 and 1000 containers (beyond libfuse's 512 sessions:
# the views share one FUSE connection per kind), the memory and the mounts (two FUSE
# views and the /sys device mounts, in the daemon's namespace) each
# container costs, and
# the median time of one create request (sent over one connection, so no
# process start is counted). Mounts are counted in the daemon's mount
# namespace and in the host's (this script's): host-side containers
# (RUNTIME/containers/NAME) have theirs in both, then DETACHED (default 100)
# detached containers, the OCI hook's kind, are created to show what they
# cost the host. The baselines are the same run's: the daemon with no
# container, and a status request.
#
#   DEVSIEVED=build/daemon/devsieved bench/bench-scale.sh [POLICY]
#
# The runtime directory is a tmpfs of the script's own, as /run is
# (bench/tmpfs-dir.sh says why).
#
# Needs root (FUSE mounts once the views are built). POLICY defaults to
# "ten": the OCI default devices and four more char devices every Linux
# host has (kmsg, fuse, tun, loop-control); a policy that shows more
# devices costs more per container.
set -euo pipefail

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root" >&2; exit 77; }
DEVSIEVED=${DEVSIEVED:?set DEVSIEVED to the devsieved binary}
POLICY=${1:-ten}
# shellcheck source=bench/tmpfs-dir.sh
source "$(dirname "${BASH_SOURCE[0]}")/tmpfs-dir.sh"
RUNTIME=$(tmpfs_dir)
PID=

cleanup() {
        [[ -n $PID ]] && kill "$PID" 2>/dev/null && while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done
        remove_tmpfs_dir "$RUNTIME"
}
trap cleanup EXIT
mkdir "$RUNTIME/policies"
cat >"$RUNTIME/policies/ten.rules" <<'RULES'
include "oci-default"
allow SUBSYSTEM=="mem", KERNEL=="kmsg", TYPE=="char", MODE="0600"
allow SUBSYSTEM=="misc", KERNEL=="fuse|tun|loop-control", TYPE=="char", MODE="0600"
RULES

now_ns() { date +%s%N; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
# Only the daemon's own: other mounts on the host come and go meanwhile.
mounts() { grep -c " $RUNTIME/" "/proc/$PID/mountinfo" || true; }
host_mounts() { grep -c " $RUNTIME/" /proc/self/mountinfo || true; }
DETACHED=${DETACHED:-100}

# Sends requests (one JSON object per line on stdin) over one connection;
# prints the median and the 95th percentile of their latencies in ms, and
# fails on any error reply.
cat >"$RUNTIME/requests.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile('rwb')
times = []
for line in sys.stdin.buffer:
    t = time.perf_counter()
    f.write(line)
    f.flush()
    reply = f.readline()
    times.append((time.perf_counter() - t) * 1000)
    if b'"ok":true' not in reply:
        sys.exit("request failed: " + line.decode().strip() + " -> " + reply.decode().strip())
times.sort()
print("%.3f %.3f" % (times[len(times) // 2], times[min(len(times) - 1, len(times) * 95 // 100)]))
PY
requests() {
        python3 "$RUNTIME/requests.py" "$RUNTIME/devsieved.sock"
}

create() { # FROM TO [DETACHED]
        for ((i = $1; i <= $2; i++)); do
                printf '{"command":"create","name":"bench%d","policy":"%s","relay":"none","detached":%s}\n' "$i" \
                        "$POLICY" "${3:-false}"
        done | requests
}

# The daemon, not its holder: a child forked with the same command line
# (the newest match), which stays a zombie of the daemon once killed.
daemon_pid() { pgrep -o -f "devsieved --runtime-dir $RUNTIME"; }

# --- start: median of 5 ---------------------------------------------------
starts=()
for _ in 1 2 3 4 5; do
        t0=$(now_ns)
        "$DEVSIEVED" --runtime-dir "$RUNTIME" --policy-dir "$RUNTIME/policies" --log-level warning
        t1=$(now_ns)
        starts+=($(( (t1 - t0) / 1000 )))
        PID=$(daemon_pid) || { echo "devsieved did not stay up" >&2; exit 1; }
        kill "$PID"
        while kill -0 "$PID" 2>/dev/null; do sleep 0.02; done
        PID=
done
start_us=$(printf '%s\n' "${starts[@]}" | sort -n | sed -n 3p)

"$DEVSIEVED" --runtime-dir "$RUNTIME" --policy-dir "$RUNTIME/policies" --log-level warning
PID=$(daemon_pid)
read -r status_ms _ < <(for _ in $(seq 50); do echo '{"command":"status"}'; done | requests)
rss0=$(rss_kib)
mounts0=$(mounts)
host_mounts0=$(host_mounts)

printf '%-34s %12s %12s %10s\n' "devsieved ($POLICY)" "value" "baseline" "ratio"
printf '%-34s %10.1f ms %10s %10s\n' "start to ready (median of 5)" "$(bc -l <<<"$start_us / 1000")" "-" "-"
printf '%-34s %9.2f MiB %12s %10s\n' "RSS, no container" "$(bc -l <<<"$rss0 / 1024")" "-" "-"

have=0
for n in 1 100 500 1000; do
        read -r create_ms create_p95 < <(create $((have + 1)) "$n")
        have=$n
        rss=$(rss_kib)
        printf '%-34s %9.2f MiB %8.2f MiB %9.2fx\n' "RSS, $n container(s)" "$(bc -l <<<"$rss / 1024")" \
                "$(bc -l <<<"$rss0 / 1024")" "$(bc -l <<<"$rss / $rss0")"
        printf '%-34s %9.1f KiB %12s %10s\n' "  memory per container" "$(bc -l <<<"($rss - $rss0) / $n")" "-" "-"
        printf '%-34s %13.1f %12s %10s\n' "  mounts per container" "$(bc -l <<<"($(mounts) - $mounts0) / $n")" "-" "-"
        printf '%-34s %13.1f %12s %10s\n' "  of them in the host's table" \
                "$(bc -l <<<"($(host_mounts) - $host_mounts0) / $n")" "-" "-"
        printf '%-34s %10.3f ms %9.3f ms %9.2fx\n' "  create, median (p95 $create_p95 ms)" "$create_ms" "$status_ms" \
                "$(bc -l <<<"$create_ms / $status_ms")"
done
read -r destroy_ms _ < <(for i in $(seq 1 "$have"); do printf '{"command":"destroy","name":"bench%d"}\n' "$i"; done | requests)
printf '%-34s %10.3f ms %9.3f ms %9.2fx\n' "destroy, median of $have" "$destroy_ms" "$status_ms" \
        "$(bc -l <<<"$destroy_ms / $status_ms")"
printf '%-34s %13d %12d %10s\n' "mounts after destroying all" "$(mounts)" "$mounts0" "-"
printf '%-34s %9.2f MiB %8.2f MiB %9.2fx\n' "RSS after destroying all" "$(bc -l <<<"$(rss_kib) / 1024")" \
        "$(bc -l <<<"$rss0 / 1024")" "$(bc -l <<<"$(rss_kib) / $rss0")"

# Detached containers (devsieve oci-hook's): their views are in the
# daemon's namespace only.
read -r create_ms create_p95 < <(create $((have + 1)) $((have + DETACHED)) true)
printf '%-34s %13.1f %12s %10s\n' "$DETACHED detached: mounts per container" \
        "$(bc -l <<<"($(mounts) - $mounts0) / $DETACHED")" "-" "-"
printf '%-34s %13.1f %12s %10s\n' "  of them in the host's table" \
        "$(bc -l <<<"($(host_mounts) - $host_mounts0) / $DETACHED")" "-" "-"
printf '%-34s %10.3f ms %9.3f ms %9.2fx\n' "  create, median (p95 $create_p95 ms)" "$create_ms" "$status_ms" \
        "$(bc -l <<<"$create_ms / $status_ms")"
for i in $(seq $((have + 1)) $((have + DETACHED))); do printf '{"command":"destroy","name":"bench%d"}\n' "$i"; done |
        requests >/dev/null
printf '%-34s %13d %12d %10s\n' "host mounts after destroying all" "$(host_mounts)" "$host_mounts0" "-"
echo "(baselines: the daemon with no container; a status request, median $status_ms ms)"
