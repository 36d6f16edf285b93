#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Hot-plug fan-out: how long a hot-plugged loop device takes to show in the
# /dev view of every container that sees it, when it is seen by K of N
# containers, against the same with one container (the baseline, same
# run). The containers are devsieved's views only (no processes, no relay);
# the poller stats each seeing container's view on the host, so the time
# includes every other container's work the daemon does first. Between two
# sweeps the poller yields its CPU: a poller that spins keeps one of two
# vCPUs from the daemon until the next scheduler tick (4 ms here), and one
# container then measured the tick, not devsieved. What a sweep itself costs
# is printed too: one over N views that changed nothing (the kernel's cached
# entries), and one in which every view is asked for a name it has not
# seen (one FUSE LOOKUP per view, as after a hot-plug). The time to the
# device's /sys directory in every seeing view (the daemon mounts it after
# every container's /dev) is printed against the same with one container.
# A round ends once the device's /sys directories are gone again, so that
# no round pays for the unmounts of the one before. devsieved's CPU time
# per round (its main thread's, and all its threads', from schedstat) says
# what the daemon did, with much less of the machine's other load in it.
#
#   DEVSIEVED=build/daemon/devsieved bench/bench-fanout.sh [ROUNDS]
#
# SCENARIOS="100:10 100:100 1000:100" (the default) lists the N:K pairs.
#
# Needs root (FUSE mounts, loop-control). Every round adds loop device
# 7000 (or the next free number above) with LOOP_CTL_ADD and removes it.
set -euo pipefail

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root" >&2; exit 77; }
DEVSIEVED=${DEVSIEVED:?set DEVSIEVED to the devsieved binary}
ROUNDS=${1:-20}
# N:K pairs: K of N containers see the device.
SCENARIOS=${SCENARIOS:-100:10 100:100 1000:100}
# shellcheck source=bench/tmpfs-dir.sh
source "$(dirname "${BASH_SOURCE[0]}")/tmpfs-dir.sh"
dir=$(tmpfs_dir)
daemon=
cleanup() {
        set +e
        [[ -n $daemon ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
        remove_tmpfs_dir "$dir"
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

python3 - "$dir/run" "$ROUNDS" "$SCENARIOS" "$daemon" <<'PY'
import errno, fcntl, os, socket, sys, time

run, rounds = sys.argv[1], int(sys.argv[2])
scenarios = [tuple(int(x) for x in s.split(":")) for s in sys.argv[3].split()]
daemon = int(sys.argv[4])

def cpu_ns():
    """Time devsieved's main thread and all its threads ran (schedstat):
    what the daemon did, much less blurred than a wall clock by the
    machine's other load."""
    main = total = 0
    for tid in os.listdir("/proc/%d/task" % daemon):
        try:
            with open("/proc/%d/task/%s/schedstat" % (daemon, tid)) as f:
                ns = int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += ns
        if int(tid) == daemon:
            main = ns
    return main, total
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
        if left:
            os.sched_yield()
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
    firsts, alls, syss = [], [], []
    cpu_start = cpu_ns()
    for _ in range(rounds):
        start = time.perf_counter()
        idx = add_loop()
        paths = ["%s/containers/c%d/dev/loop%d" % (run, i, idx) for i in seeing]
        # size: an attribute of the real directory, there once it is mounted
        # (the view's own uevent file is made just before).
        sys_paths = ["%s/containers/c%d/sys/devices/virtual/block/loop%d/size" % (run, i, idx) for i in seeing]
        sys_dirs = ["%s/containers/c%d/sys/devices/virtual/block/loop%d" % (run, i, idx) for i in seeing]
        try:
            first, last = wait_all(paths, True, start)
            _, sys_last = wait_all(sys_paths, True, start)
        finally:
            fcntl.ioctl(ctl, LOOP_CTL_REMOVE, idx)
        # The next round starts once the daemon is done with this one: the
        # /sys directories go last.
        wait_all(paths + sys_dirs, False, time.perf_counter())
        firsts.append(first)
        alls.append(last)
        syss.append(sys_last)
    cpu_end = cpu_ns()
    cpu_round = [(b - a) / rounds / 1e6 for a, b in zip(cpu_start, cpu_end)]
    return median(firsts) * 1000, median(alls) * 1000, median(syss) * 1000, cpu_round

fresh = 0
def sweep_cost(n, k):
    """One sweep over the seeing views: of a name each has cached, and of
    a name none has seen (a LOOKUP each)."""
    global fresh
    seeing = [i for i in range(n) if i % (n // k) == 0]
    cached, cold = [], []
    for _ in range(rounds):
        known = ["%s/containers/c%d/dev/null" % (run, i) for i in seeing]
        [os.path.exists(p) for p in known]
        start = time.perf_counter()
        [os.path.exists(p) for p in known]
        cached.append(time.perf_counter() - start)
        fresh += 1
        unseen = ["%s/containers/c%d/dev/none%d" % (run, i, fresh) for i in seeing]
        start = time.perf_counter()
        [os.path.exists(p) for p in unseen]
        cold.append(time.perf_counter() - start)
    return median(cached) * 1000, median(cold) * 1000

base_first, base_all, base_sys, base_cpu = scenario(1, 1)
print("%-44s %12s %12s %8s" % ("LOOP_CTL_ADD to the node in /dev views", "median ms", "1 container", "ratio"))
print("%-44s %12.3f %12s %8s" % ("seen by 1 of 1", base_all, "-", "-"))
print("%-44s %12.3f %12s %8s" % ("seen by 1 of 1: its /sys directory", base_sys, "-", "-"))
sweeps, cpus = [], []
for n, k in scenarios:
    first, last, sys_last, cpu = scenario(n, k)
    cpus.append((n, k, cpu))
    print("%-44s %12.3f %12.3f %7.2fx" % ("seen by %d of %d: in the first" % (k, n), first, base_all, first / base_all))
    print("%-44s %12.3f %12.3f %7.2fx" % ("seen by %d of %d: in all" % (k, n), last, base_all, last / base_all))
    print("%-44s %12.3f %12.3f %7.2fx" % ("seen by %d of %d: /sys directory in all" % (k, n), sys_last, base_sys,
                                         sys_last / base_sys))
    sweeps.append((n, k) + sweep_cost(n, k))
print("(%d rounds each; baseline: the same with one container, median)" % rounds)
print("%-44s %12s %12s %8s" % ("devsieved's CPU per round (add and remove)", "main ms", "1 container", "ratio"))
print("%-44s %12.3f %12s %8s" % ("seen by 1 of 1: main thread", base_cpu[0], "-", "-"))
print("%-44s %12.3f %12s %8s" % ("seen by 1 of 1: every thread", base_cpu[1], "-", "-"))
for n, k, cpu in cpus:
    print("%-44s %12.3f %12.3f %7.2fx" % ("seen by %d of %d: main thread" % (k, n), cpu[0], base_cpu[0],
                                         cpu[0] / base_cpu[0]))
    print("%-44s %12.3f %12.3f %7.2fx" % ("seen by %d of %d: every thread" % (k, n), cpu[1], base_cpu[1],
                                         cpu[1] / base_cpu[1]))
print("%-44s %12s %12s" % ("the poller's own sweep of the seeing views", "cached ms", "LOOKUP ms"))
for n, k, cached, cold in sweeps:
    print("%-44s %12.3f %12.3f" % ("%d views (%d containers)" % (k, n), cached, cold))
PY
