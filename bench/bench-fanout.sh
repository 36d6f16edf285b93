#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Hot-plug fan-out: how long a hot-plugged loop device takes to show in the
# /dev view of every container that sees it, when it is seen by K of N
# containers, against the same with one container (the baseline, same
# run). The containers are devsieved's views only (no processes, no relay);
# the poller stats each seeing container's view on the host, so the time
# includes every other container's work the daemon does first.
#
#   DEVSIEVED=build/daemon/devsieved bench/bench-fanout.sh [ROUNDS]
#
# Needs root (FUSE mounts, loop-control). Every round adds loop device
# 7000 (or the next free number above) with LOOP_CTL_ADD and removes it.
set -euo pipefail

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root" >&2; exit 77; }
DEVSIEVED=${DEVSIEVED:?set DEVSIEVED to the devsieved binary}
ROUNDS=${1:-20}
dir=$(mktemp -d "${TMPDIR:-/tmp}/devsieve-bench.XXXXXX")
daemon=
cleanup() {
        set +e
        [[ -n $daemon ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
        rm -rf "$dir"
}
trap cleanup EXIT

mkdir "$dir/policies"
printf '%s\n' 'include "oci-default"' 'allow SUBSYSTEM=="block", KERNEL=="loop[0-9]*"' >"$dir/policies/sees.rules"
printf '%s\n' 'include "oci-default"' >"$dir/policies/blind.rules"
"$DEVSIEVED" --foreground --runtime-dir "$dir/run" --policy-dir "$dir/policies" --log-level warning \
        2>"$dir/log" &
daemon=$!
for _ in {1..200}; do
        [[ -S $dir/run/devsieved.sock ]] && break
        kill -0 "$daemon" 2>/dev/null || { cat "$dir/log" >&2; exit 1; }
        sleep 0.05
done

python3 - "$dir/run" "$ROUNDS" <<'PY'
import errno, fcntl, os, socket, sys, time

run, rounds = sys.argv[1], int(sys.argv[2])
LOOP_CTL_ADD, LOOP_CTL_REMOVE = 0x4C80, 0x4C81
TIMEOUT = 30.0

sock = socket.socket(socket.AF_UNIX)
sock.connect(run + "/devsieved.sock")
f = sock.makefile('rwb')

def request(line):
    f.write(line.encode() + b"\n")
    f.flush()
    reply = f.readline()
    if b'"ok":true' not in reply:
        sys.exit("request failed: %s -> %s" % (line, reply.decode().strip()))

have = 0
def set_containers(n, k):
    global have
    for i in range(have):
        request('{"command":"destroy","name":"c%d"}' % i)
    step = n // k
    for i in range(n):
        policy = "sees" if i % step == 0 else "blind"
        request('{"command":"create","name":"c%d","policy":"%s","relay":"none"}' % (i, policy))
    have = n
    return [i for i in range(n) if i % step == 0]

ctl = os.open("/dev/loop-control", os.O_RDWR | os.O_CLOEXEC)

def add_loop():
    for idx in range(7000, 8000):
        try:
            fcntl.ioctl(ctl, LOOP_CTL_ADD, idx)
            return idx
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
    sys.exit("no free loop device number in 7000-7999")

def wait_all(paths, present, start):
    left = list(paths)
    first = None
    while left:
        left = [p for p in left if os.path.exists(p) != present]
        now = time.perf_counter()
        if first is None and len(left) < len(paths):
            first = now - start
        if now - start > TIMEOUT:
            sys.exit("timed out: %d of %d views" % (len(left), len(paths)))
    return first, time.perf_counter() - start

def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]

def scenario(n, k):
    seeing = set_containers(n, k)
    firsts, alls = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        idx = add_loop()
        paths = ["%s/containers/c%d/dev/loop%d" % (run, i, idx) for i in seeing]
        try:
            first, last = wait_all(paths, True, start)
        finally:
            fcntl.ioctl(ctl, LOOP_CTL_REMOVE, idx)
        wait_all(paths, False, time.perf_counter())
        firsts.append(first)
        alls.append(last)
    return median(firsts) * 1000, median(alls) * 1000

base_first, base_all = scenario(1, 1)
print("%-44s %12s %12s %8s" % ("LOOP_CTL_ADD to the node in /dev views", "median ms", "1 container", "ratio"))
print("%-44s %12.3f %12s %8s" % ("seen by 1 of 1", base_all, "-", "-"))
for n, k in ((100, 10), (100, 100), (1000, 100)):
    first, last = scenario(n, k)
    print("%-44s %12.3f %12.3f %7.2fx" % ("seen by %d of %d: in the first" % (k, n), first, base_all, first / base_all))
    print("%-44s %12.3f %12.3f %7.2fx" % ("seen by %d of %d: in all" % (k, n), last, base_all, last / base_all))
print("(%d rounds each; baseline: the same with one container, median)" % rounds)
PY
