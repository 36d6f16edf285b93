# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Sourced by the benchmarks whose measured path writes to devsieved's
# runtime directory (a directory per container, its state files, its udev
# database). devsieved's own is /run/devsieve, a tmpfs on every systemd
# host; a directory on a disk file system measures that file system
# instead: on this project's ext4 /tmp, after many test runs, ext4's inode
# allocator (its scan for recently deleted inodes) took 39% of devsieved's
# CPU during creates and doubled their p95. So these benchmarks run
# devsieved on a tmpfs of their own.

# Prints a new directory with a private tmpfs mounted on it.
tmpfs_dir() {
        local dir
        dir=$(mktemp -d "${TMPDIR:-/tmp}/devsieve-bench.XXXXXX")
        mount -t tmpfs -o mode=0700 devsieve-bench "$dir" || { rmdir "$dir"; return 1; }
        echo "$dir"
}

# Unmounts DIR (whatever is still mounted below it goes too) and removes it.
remove_tmpfs_dir() {
        umount -l "$1" 2>/dev/null
        rm -rf "$1"
}
