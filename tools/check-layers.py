#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks devsieve's layering on the built objects.

Every source file has a role; roles are ordered from the bottom (util) to
the top (the programs). A file may call functions of, and include headers
of, its own role or roles below it, never above: that keeps the graph
between roles free of circles, so each part can be built, tested and read
alone. Calls are read from `nm` of every object file of the build (real
calls, not what headers promise); includes from the sources.

Usage: check-layers.py BUILD_DIR SOURCE_DIR
"""
import os
import subprocess
import sys

# Bottom to top. A role may use its own and every role before it.
# The views (fs) read the model's records (fs/view-delta.h) but call none
# of its functions; the registry wires them together.
ROLES = ["util", "policy", "model", "fs", "relay", "cgroup", "udev-db", "registry", "control", "daemon", "cli"]

DAEMON_ROLES = {
    "model": ["model", "device", "container", "names", "udev-source", "uevent", "uevent-wire", "udev-data", "udev-wire"],
    "relay": ["relay", "relay-netlink", "relay-socket"],
    "cgroup": ["device-cgroup", "cgroup-v1", "cgroup-v2"],
    "udev-db": ["udev-db"],
    "registry": ["registry", "state", "restore", "repair", "reconnect", "holder"],
    "control": ["control", "control-commands", "control-json", "control-monitor", "control-request"],
    "daemon": ["daemon", "main", "mount-ns"],
}


# daemon.h defines the daemon's one context (struct daemon) and the
# registry's record of a container, which the registry and the control
# socket are handed; only main.c calls the functions it declares.
# fs/view-delta.h defines the records the model hands the views (data
# only): the model includes it to define them, the views to read them.
HEADER_ROLES = {"daemon/daemon.h": "registry", "fs/view-delta.h": "model"}

# Stricter than the order: fs/ builds and links without daemon/ (fs_dep
# alone), so an fs/ file includes no daemon/ header, even through another
# header, and calls no function of the model.
APART = {"fs": ("daemon/", "model")}


def role_of(source):
    """The role of a source file (relative to the source dir), or None."""
    if source in HEADER_ROLES:
        return HEADER_ROLES[source]
    parts = source.split("/")
    if parts[0] in ("util", "fs", "cli"):
        return parts[0]
    if parts[0] == "policy":
        return "policy"
    if parts[0] == "daemon":
        stem = os.path.splitext(parts[-1])[0]
        for role, stems in DAEMON_ROLES.items():
            if stem in stems:
                return role
        return "unknown"
    return None  # tests, benchmarks, fuzzers: not part of the layering


def objects(build_dir, source_dir):
    """(object path, source path relative to source_dir) for each product object."""
    for root, _, files in os.walk(build_dir):
        for name in files:
            if not name.endswith(".c.o"):
                continue
            src = name[: -len(".o")]
            # meson names objects after the source, relative to the target's dir
            rel_dir = os.path.relpath(root, build_dir)
            target_dir = os.path.dirname(rel_dir)
            candidate = os.path.normpath(os.path.join(target_dir, src.replace("_", "/")))
            for guess in (os.path.normpath(os.path.join(target_dir, src)), candidate):
                if os.path.exists(os.path.join(source_dir, guess)):
                    yield os.path.join(root, name), guess
                    break


def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "U":
            undefined.add(fields[1])
        elif len(fields) == 3 and fields[1] in "TDBR":
            defined.add(fields[2])
    return defined, undefined


def include_errors(source_dir, sources):
    """Errors for #include "..." lines that reach a role above the file's,
    or a folder the file's role keeps apart from (APART)."""
    errors = []
    for src in sorted(sources):
        role = role_of(src)
        for header in headers_of(source_dir, src):
            if role in APART and header.startswith(APART[role][0]):
                errors.append(f"{src} includes {header}: {role}/ builds without {APART[role][0]}")
            target = role_of(header)
            if target in (None, "unknown") or role == "unknown":
                continue
            if ROLES.index(target) > ROLES.index(role):
                errors.append(f"{src} ({role}) includes {header} ({target}), a role above it")
    return errors


def project_headers(source_dir):
    """Every header of a file with a role, relative to source_dir."""
    found = set()
    for folder in ("util", "policy", "daemon", "fs", "cli"):
        for root, _, files in os.walk(os.path.join(source_dir, folder)):
            for name in files:
                if name.endswith(".h"):
                    found.add(os.path.relpath(os.path.join(root, name), source_dir))
    return found


def headers_of(source_dir, src, seen=None):
    """Every project header src includes, directly or not."""
    seen = set() if seen is None else seen
    path = os.path.join(source_dir, src)
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return seen
    for line in lines:
        line = line.strip()
        if not line.startswith('#include "'):
            continue
        name = line.split('"')[1]
        for base in (os.path.dirname(src), "", "util", "policy"):
            cand = os.path.normpath(os.path.join(base, name))
            if os.path.exists(os.path.join(source_dir, cand)):
                if cand not in seen:
                    seen.add(cand)
                    headers_of(source_dir, cand, seen)
                break
    return seen


def main():
    build_dir, source_dir = sys.argv[1], sys.argv[2]
    owner, uses = {}, {}
    for obj, src in objects(build_dir, source_dir):
        role = role_of(src)
        if role is None:
            continue
        defined, undefined = symbols(obj)
        for sym in defined:
            owner.setdefault(sym, (src, role))
        uses.setdefault(src, (role, set()))[1].update(undefined)

    errors = []
    edges = set()
    for src, (role, undefined) in sorted(uses.items()):
        if role == "unknown":
            errors.append(f"{src}: no role; add it to DAEMON_ROLES in tools/check-layers.py")
            continue
        for sym in sorted(undefined):
            if sym not in owner:
                continue  # a library outside the project
            dst, dst_role = owner[sym]
            if dst_role == role or dst_role == "unknown":
                continue
            edges.add((role, dst_role))
            if ROLES.index(dst_role) > ROLES.index(role):
                errors.append(f"{src} ({role}) calls {sym}() of {dst} ({dst_role}), a role above it")
            elif role in APART and dst_role == APART[role][1]:
                errors.append(f"{src} ({role}) calls {sym}() of {dst} ({dst_role}): {role}/ links without it")
    if not uses:
        errors.append(f"no objects found below {build_dir}: build first")
    # Headers too, whether or not a built file includes them.
    errors += include_errors(source_dir, set(uses.keys()) | project_headers(source_dir))
    for role in ROLES:
        below = sorted({d for s, d in edges if s == role}, key=ROLES.index)
        print(f"{role:9} uses {', '.join(below) or '-'}")
    for e in errors:
        print("FAIL:", e)
    print(f"{len(uses)} files checked, {len(errors)} layering errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
