/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

/* Mounts as /proc/PID/mountinfo lists them, read without touching the
 * mounted filesystems: a dead FUSE mount (its daemon gone, its connection
 * aborted) answers every stat with ENOTCONN, but its line is still there. */

struct mount_entry {
        int id, parent_id;
        char devnum[32];  /* "MAJ:MIN" of the filesystem: one per FUSE connection */
        char *root;       /* within the filesystem, e.g. "/3" for a view's bind */
        char *mountpoint; /* as the reading process's root sees it */
        char *fstype;     /* "fuse.devsieve" */
        char *source;     /* "devsieve-dev" */
};

struct mount_table {
        struct mount_entry *entries;
        size_t n;
};

/* pid 0: this process. */
int mount_table_read(pid_t pid, struct mount_table *ret);
void mount_table_done(struct mount_table *t);

/* The topmost mount at path (the last listed there), or NULL. */
const struct mount_entry *mount_table_top(const struct mount_table *t, const char *path);
/* Detaches every mount of t strictly below path, deepest first, by path
 * (no stat of what is mounted: it may be a FUSE mount nobody answers
 * yet). Returns how many went; the first error, if any, once all were
 * tried. */
int mount_table_umount_below(const struct mount_table *t, const char *path);

/* Detaches (MNT_DETACH) every mount stacked at path, dead ones included;
 * returns how many went. */
int umount_all_at(const char *path);

/* Whether path's mount is dead: a FUSE mount whose connection is gone
 * (ENOTCONN), asked of the filesystem itself, not the kernel's cache. */
bool path_is_dead(const char *path);
