#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What devsieve's OCI hook adds to a container's start: the median
# wall-clock time of `podman run --rm ... true` (runc, user namespace, a
# plain root file system) with the hook (annotation io.devsieve.policy,
# policy oci-default) against the same command without the annotation,
# runs interleaved. As root:
#
#     bench/bench-oci-start.sh [BUILD_DIR] [RUNS]
#
# meson test --benchmark sets DEVSIEVED and DEVSIEVE.
set -euo pipefail

build=$(realpath "${1:-${BUILD_ROOT:-build}}")
runs=${2:-${BENCH_RUNS:-15}}
DEVSIEVED=${DEVSIEVED:-$build/daemon/devsieved}
DEVSIEVE=${DEVSIEVE:-$build/cli/devsieve}
[[ $(id -u) -eq 0 ]] || { echo "bench-oci-start needs root (podman, FUSE mounts)" >&2; exit 77; }
command -v podman >/dev/null && command -v runc >/dev/null ||
        { echo "bench-oci-start needs podman and runc" >&2; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/devsieve-bench.XXXXXX")
chmod 0755 "$dir"
pid=
cleanup() {
        set +e
        [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$dir"
}
trap cleanup EXIT

"$DEVSIEVED" --foreground --runtime-dir "$dir/run" --log-level warning &
pid=$!
for _ in {1..200}; do
        [[ -S $dir/run/devsieved.sock ]] && break
        kill -0 "$pid" || { echo "devsieved exited" >&2; exit 1; }
        sleep 0.05
done
# The hook through a wrapper that times each createRuntime and poststop
# call (microseconds), to show the hook's own share.
cat >"$dir/hook" <<HOOK
#!/bin/bash
state=\$(cat)
t0=\$(date +%s%N)
"$DEVSIEVE" "\$@" <<<"\$state"
rc=\$?
t1=\$(date +%s%N)
echo \$(((t1 - t0) / 1000)) >>"$dir/hook-\$(jq -r .status <<<"\$state")"
exit \$rc
HOOK
chmod 0755 "$dir/hook"
mkdir "$dir/hooks.d"
jq -n --arg path "$dir/hook" --arg rt "$dir/run" '{version: "1.0.0",
        hook: {path: $path, args: ["devsieve", "--runtime-dir", $rt, "oci-hook"]},
        when: {annotations: {"^io\\.devsieve\\.policy$": ".+"}}, stages: ["createRuntime", "poststop"]}' \
        >"$dir/hooks.d/devsieve.json"
rootfs=$dir/rootfs
mkdir -p "$rootfs"/{usr,etc,proc,dev,sys,tmp,run}
for l in bin lib lib64 sbin; do ln -s "usr/$l" "$rootfs/$l"; done
touch "$rootfs/run/.containerenv"

run=(podman --hooks-dir "$dir/hooks.d" run --rm --runtime runc --uidmap 0:100000:65536 --gidmap 0:100000:65536
        --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --network none -v /usr:/usr:ro -v /etc:/etc:ro)
# once FILE [OPTIONS...]: appends the milliseconds of one run to FILE; a
# failed run stops the benchmark.
once() {
        local out=$1 t0 t1
        shift
        t0=$(date +%s%N)
        "${run[@]}" "$@" --rootfs "$rootfs" true >/dev/null
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000000)) >>"$out"
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

once "$dir/warm" # caches
once "$dir/warm" --annotation io.devsieve.policy=oci-default
for ((i = 0; i < runs; i++)); do
        once "$dir/base"
        once "$dir/hook" --annotation io.devsieve.policy=oci-default
done
b=$(median <"$dir/base")
h=$(median <"$dir/hook")
printf '%-44s %10s %10s\n' "podman run --rm (runc, userns) true" "median ms" "ratio"
printf '%-44s %10s %10s\n' "without the hook (baseline)" "$b" "1.00"
printf '%-44s %10s %10.2f\n' "with devsieve oci-hook (oci-default)" "$h" "$(awk -v h="$h" -v b="$b" 'BEGIN {print h / b}')"
printf 'runs: %d each, interleaved; the hook adds %s ms at the median\n' "$runs" "$(awk -v h="$h" -v b="$b" 'BEGIN {print h - b}')"
printf 'the hook itself, median: createRuntime %s ms, poststop %s ms\n' \
        "$(median <"$dir/hook-creating" | awk '{print $1 / 1000}')" "$(median <"$dir/hook-stopped" | awk '{print $1 / 1000}')"
[[ -z $("$DEVSIEVE" --runtime-dir "$dir/run" list --json | jq -r '.containers[].name') ]] ||
        { echo "bench-oci-start: containers left in devsieved" >&2; exit 1; }
