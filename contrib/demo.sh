#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The quick start's first command: installs dependencies, builds, and shows
# what devsieve makes of this machine's devices with the demo policy while
# two loop devices are hot-plugged, one allowed and one hidden.
set -euo pipefail
cd "$(dirname "$0")/.."

contrib/deps.sh
[[ -d build ]] || meson setup build >/dev/null
meson compile -C build >/dev/null

devsieve=build/cli/devsieve
policy=contrib/policies/demo.rules
work=$(mktemp -d /tmp/devsieve-demo.XXXXXX)
loops=()
cleanup() {
        for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
        rm -rf "$work"
}
trap cleanup EXIT

truncate -s 8M "$work/devsieve-demo-visible.img" "$work/devsieve-demo-hidden.img"
echo "== What $policy lets a container see before the hot-plug:"
"$devsieve" check "$policy" --all
for img in visible hidden; do
        loops+=("$(losetup -f --show "$work/devsieve-demo-$img.img")")
done
echo
echo "== Hot-plugged ${loops[0]} (allowed) and ${loops[1]} (hidden); now:"
"$devsieve" check "$policy" --all
echo
echo "== Why ${loops[1]} stays hidden:"
"$devsieve" check "$policy" --device "${loops[1]}" || true
