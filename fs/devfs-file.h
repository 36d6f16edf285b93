/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* The contents of a regular file a container made in its /dev, in memory
 * like on a tmpfs. Every byte allocated is counted in *usage (the view's
 * total), and a write that would take the total over limit fails with
 * ENOSPC: a container must not be able to eat the daemon's memory. Callers
 * hold the view's lock. */

struct devfs_file {
        char *data;
        size_t size, allocated;
        uint64_t overhead; /* what the entry itself costs: its node, name, symlink target */
        uint64_t *usage;
        uint64_t limit;
};

int devfs_file_new(uint64_t *usage, uint64_t limit, struct devfs_file **ret);
/* Sets what the entry itself costs (every entry a container makes has a
 * devfs_file, regular or not); ENOSPC when that would exceed the limit. */
int devfs_file_set_overhead(struct devfs_file *f, uint64_t overhead);
/* Gives back the contents and the overhead. */
void devfs_file_free(struct devfs_file *f);

/* Returns how many bytes were copied to buf (0 at or past the end). */
size_t devfs_file_read(const struct devfs_file *f, char *buf, size_t size, off_t offset);
/* Returns size or a negative errno; a gap before offset reads as zeros. */
ssize_t devfs_file_write(struct devfs_file *f, const char *buf, size_t size, off_t offset);
int devfs_file_truncate(struct devfs_file *f, off_t size);
