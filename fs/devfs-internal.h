/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the /dev view's main-loop side (devfs.c) and its FUSE handlers
 * (devfs-ops.c) share. */

#include <pthread.h>

#include "devfs-tree.h"
#include "devfs.h"
#include "mux.h"

/* What a container may keep in its /dev: tmpfs gives a container half the
 * RAM; a /dev holds sockets, locks and the odd file, not data. */
#define DEVFS_MEMORY_MAX (64u << 20)
#define DEVFS_NODES_MAX 65536u
/* What one entry of the container's costs the daemon besides its name and
 * symlink target: the node, its file record, the hash handles. */
#define DEVFS_ENTRY_COST 256u

/* The view's copy of one visible device: what its entries must show. */
struct devfs_device {
        uint64_t id; /* struct device.id: never reused */
        char type; /* 'c' or 'b' */
        dev_t devnum;
        char *node; /* relative to /dev, or NULL */
        char **symlinks; /* relative to /dev */
        uid_t uid; /* host ids */
        gid_t gid;
        mode_t mode; /* permission bits */
        unsigned access; /* POLICY_ACCESS_* */

        /* Where its entries are (0: not placed). Inode numbers are never
         * reused, so a number names this very entry or nothing. */
        fuse_ino_t node_ino, devnum_link_ino;
        fuse_ino_t *link_inos; /* one per symlink */
        bool conflict; /* the container's own entry holds the node's name */
        bool removed; /* the container unlinked one of its entries: until the next delta */
        UT_hash_handle hh;
};

struct devfs {
        pthread_mutex_t lock; /* tree, devices, memory, apply_errors, root ids */
        struct fs_tree tree;
        struct fs_view_tree nodes; /* what the handlers every view shares see (node.h); the mux's data */
        struct devfs_device *devices; /* by id */
        uint64_t memory; /* bytes held for the container's files */
        uint64_t apply_errors; /* deltas that could not be applied */
        uid_t root_uid;
        gid_t root_gid;

        /* Main loop only: filled under the lock, sent after it. */
        struct fs_notify_queue notify;
        struct fs_mux *mux;
        uint64_t slot; /* 0 until it is in the mux */
        char *mountpoint;
};

extern const struct fs_mux_class devfs_class;

/* fs_view_tree.answers_unlinked and .set_attributes of the view. */
bool devfs_answers_unlinked(const struct fs_node *n);
int devfs_set_attributes(struct fs_node *n, const struct stat *attr, int to_set);
