#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `meson install --destdir` installs what a package needs: both programs,
# the three man pages, the systemd unit with the configured sbindir, the
# example policies and an empty policy directory. Arguments: the build
# directory, the configured prefix, sbindir and policy directory.
set -euo pipefail

build=$1 prefix=$2 sbindir=$3 policy_dir=$4
dest=$(mktemp -d /tmp/devsieve-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$dest.log" 2>&1 ||
        { cat "$dest.log" >&2; rm -f "$dest.log"; fail "meson install failed"; }
rm -f "$dest.log"

[[ $sbindir = /* ]] || sbindir=$prefix/$sbindir
expect=(
        "$prefix/bin/devsieve"
        "$sbindir/devsieved"
        "$prefix/share/man/man1/devsieve.1"
        "$prefix/share/man/man5/devsieve.rules.5"
        "$prefix/share/man/man8/devsieved.8"
        "$prefix/share/devsieve/policies/oci-default-only.rules"
)
for f in "${expect[@]}"; do
        [[ -f $dest$f ]] || fail "$f is not installed"
        echo "ok: $f"
done
[[ -x $dest$sbindir/devsieved && -x $dest$prefix/bin/devsieve ]] || fail "the programs are not executable"
[[ -d $dest$policy_dir ]] || fail "the policy directory $policy_dir is not created"
echo "ok: $policy_dir/"

mapfile -t units < <(find "$dest" -name devsieved.service)
((${#units[@]} == 1)) || fail "expected one devsieved.service, found ${#units[@]}"
grep -qx "ExecStart=$sbindir/devsieved --foreground .*--policy-dir $policy_dir" "${units[0]}" ||
        fail "the unit's ExecStart does not name $sbindir/devsieved: $(grep ExecStart= "${units[0]}")"
! grep -q '@[a-z_]*@' "${units[0]}" || fail "the unit has unreplaced @...@ placeholders"
echo "ok: ${units[0]#"$dest"}"

# Every installed man page is a page man can format.
while read -r page; do
        MANWIDTH=80 man -l "$page" >/dev/null 2>&1 || fail "man cannot format ${page#"$dest"}"
done < <(find "$dest" -path '*/man/man*' -type f)
echo "PASS"
