#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The whole test suite, as CI runs it: installs dependencies, then builds
# and runs every suite (unit, integration, fuzz) twice: a gcc build, and a
# clang build with AddressSanitizer and UndefinedBehaviorSanitizer (which
# also runs the libFuzzer targets for a bounded time). Ends with meson's
# summary of the sanitizer run.
set -euo pipefail
cd "$(dirname "$0")/.."

contrib/deps.sh

setup() { # setup DIR [meson options]
        local dir=$1
        shift
        if [[ -d $dir ]]; then
                meson setup --reconfigure "$dir" "$@" >/dev/null
        else
                meson setup "$dir" "$@" >/dev/null
        fi
}

setup build-test -Dwerror=true
meson compile -C build-test
meson test -C build-test --print-errorlogs

CC=clang setup build-test-sanitize -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-test-sanitize
meson test -C build-test-sanitize --print-errorlogs
