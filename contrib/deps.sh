#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs what building, testing and the demo need on Debian 12.
set -euo pipefail

packages=(
        # build
        meson ninja-build pkg-config gcc clang libclang-rt-14-dev
        libfuse3-dev libudev-dev libsystemd-dev uthash-dev libjansson-dev libcmocka-dev
        # run: fusermount/fuse.conf, udevadm, lsblk/losetup/unshare, ip
        fuse3 udev util-linux iproute2
        # tests, demo and benchmarks: real tools and peers
        jq runc lxcfs procps psmisc
        # test-install: man formats the installed pages
        man-db
        # test-udev-host, test-procfs: ext4 images (mkfs.ext4, blkid)
        e2fsprogs
        # test-procfs: lspci reads /proc/bus/pci
        pciutils
        # runtimes the OCI hook, CDI and LXC tests run: podman (with runc; crun is
        # tried and skipped where it refuses the host's cgroups), LXC. Not uidmap:
        # with newuidmap present LXC maps ids through it even for root, which
        # then needs a root range in /etc/subuid.
        podman crun lxc
)

[[ $(id -u) -eq 0 ]] || { echo "deps.sh: run as root (apt-get install)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
