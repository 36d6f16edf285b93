#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the quick benchmarks (bench-model, bench-relay, bench-dev, bench-sys;
# BENCHES="dev sys" for some) of several builds in alternation, ROUNDS
# times, each build with the benchmark scripts of its own source tree, and
# prints for every row the builds share the median of its ratio (against
# the baseline of the same run) with the lowest and highest, and that
# median over the first build's. The order of the builds turns each round,
# so a change of the machine's load falls on all. As root:
#
#     bench/compare-builds.sh ROUNDS OUTDIR LABEL=SRC_DIR:BUILD_DIR...
#
# e.g. bench/compare-builds.sh 4 /tmp/ab before=../old:../old/build after=.:build
# Every run's output stays in OUTDIR (LABEL.BENCH.ROUND.out); a second
# call with the same OUTDIR and FIRST_ROUND=N (the next round's number)
# adds to them.
set -euo pipefail

[[ $# -ge 4 ]] || { echo "usage: $0 ROUNDS OUTDIR LABEL=SRC_DIR:BUILD_DIR LABEL=SRC_DIR:BUILD_DIR..." >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "compare-builds needs root (the benchmarks mount views)" >&2; exit 77; }
rounds=$1 out=$2
shift 2
labels=() srcs=() builds=()
for spec in "$@"; do
        [[ $spec == *=*:* ]] || { echo "not LABEL=SRC_DIR:BUILD_DIR: $spec" >&2; exit 2; }
        labels+=("${spec%%=*}")
        spec=${spec#*=}
        srcs+=("$(realpath "${spec%%:*}")")
        builds+=("$(realpath "${spec#*:}")")
done
mkdir -p "$out"

run_one() { # INDEX BENCH ROUND
        local i=$1 bench=$2 round=$3 src=${srcs[$1]} build=${builds[$1]}
        local log=$out/${labels[$i]}.$bench.$round.out
        case $bench in
        model | relay) "$build/bench/bench-$bench" >"$log" 2>&1 ;;
        dev | sys) bash "$src/bench/bench-$bench.sh" "$build" >"$log" 2>&1 ;;
        esac || { echo "${labels[$i]} bench-$bench failed (round $round): $log" >&2; exit 1; }
}

n=${#labels[@]}
first=${FIRST_ROUND:-1}
for ((round = first; round < first + rounds; round++)); do
        for ((k = 0; k < n; k++)); do
                i=$(((k + round - 1) % n))
                for bench in ${BENCHES:-model relay dev sys}; do
                        echo "round $round: ${labels[$i]} bench-$bench" >&2
                        run_one "$i" "$bench" "$round"
                done
        done
done

python3 - "$out" "${labels[@]}" <<'EOF'
import glob, os, re, statistics, sys

out, labels = sys.argv[1], sys.argv[2:]
row = re.compile(r"^(.*?)\s+(\d+\.\d+)\s{2}(.*?)\s+(\d+\.\d+)\s+(\d+\.\d+)x$")
ratios = {}  # (bench, measurement, baseline) -> label -> [ratio]
order = []
for label in labels:
    for path in sorted(glob.glob(os.path.join(out, f"{label}.*.out"))):
        bench = os.path.basename(path).split(".")[1]
        for line in open(path):
            m = row.match(line.rstrip())
            if not m:
                continue
            # How many devices the host has changes while others hot-plug.
            what = re.sub(r"enumerate \d+ devices", "enumerate the host's devices", m.group(1).strip())
            key = (bench, what, m.group(3).strip())
            if key not in ratios:
                ratios[key] = {}
                order.append(key)
            ratios[key].setdefault(label, []).append(float(m.group(5)))
first = labels[0]
print("| bench | measurement | baseline | " + " | ".join(f"{l}: median ratio [lowest-highest]" for l in labels) + " | " +
      " | ".join(f"{l}/{first}" for l in labels[1:]) + " |")
print("|---" * (3 + 2 * len(labels) - 1) + "|")
for key in order:
    if any(l not in ratios[key] for l in labels):
        continue
    med = {l: statistics.median(ratios[key][l]) for l in labels}
    rel = [f"{med[l] / med[first]:.2f}" if med[first] > 0 else "-" for l in labels[1:]]
    cells = [f"{med[l]:.2f}x [{min(ratios[key][l]):.2f}-{max(ratios[key][l]):.2f}]" for l in labels]
    print(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(cells) + " | " +
          " | ".join(rel) + " |")
EOF
