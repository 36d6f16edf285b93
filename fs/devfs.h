/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "view-delta.h"
#include "fuse-pool.h"
#include "mux.h"
#include "macro.h"

/* A container's /dev: the OCI skeleton, a node for every visible device (as
 * its policy names, owns and modes it), the policy's symlinks and
 * char/M:m, block/M:m links; and, like a tmpfs, whatever the container
 * creates itself (sockets, fifos, files, directories), kept in memory for
 * the container's lifetime. */

struct devfs;

struct devfs_stats {
        uint64_t device_nodes;  /* nodes shown for visible devices */
        uint64_t user_entries;  /* entries the container created */
        uint64_t conflicts;     /* device nodes not shown because the container's own entry holds the name */
        uint64_t memory_bytes;  /* held for the container's own files */
        uint64_t apply_errors;  /* deltas that could not be applied (the others were) */
};

/* The one FUSE connection every container's /dev is served from, mounted
 * at mountpoint on the host, as root: a FUSE mount made inside a user
 * namespace could never hold device nodes. */
int devfs_mux_new(struct fuse_pool *pool, const char *mountpoint, struct fs_mux **ret);
/* The connection a previous devsieved mounted at mountpoint, from its
 * /dev/fuse descriptor fd (fs_mux_adopt(): fd is taken in every case). */
int devfs_mux_adopt(struct fuse_pool *pool, const char *mountpoint, int fd, uint64_t next_slot, uint32_t generation,
                    struct fs_mux **ret);

/* A new view in mux, bound at mountpoint (an existing empty directory).
 * root_uid/root_gid: host ids of the container's root (owner of the
 * skeleton). */
int devfs_new(struct fs_mux *mux, const char *mountpoint, uid_t root_uid, gid_t root_gid, struct devfs **ret);
/* Unmounts (lazily: the container may still hold it), closes the
 * connection, frees everything. */
struct devfs *devfs_free(struct devfs *v);
DEFINE_POINTER_CLEANUP(struct devfs, devfs_free);

/* Main loop only. Applies one batch of deltas and sends the kernel the
 * invalidations it needs, after releasing the view's lock. */
void devfs_apply(struct devfs *v, const struct delta *deltas, size_t n_deltas);
/* Main loop only: the container's root changed (attach). */
void devfs_set_root_owner(struct devfs *v, uid_t uid, gid_t gid);

void devfs_get_stats(struct devfs *v, struct devfs_stats *ret);
/* The view's slot in its connection (fs/mux.h): its bind's root is /SLOT. */
/* The kernel must look path (relative to /dev) up again: a node a
 * previous daemon showed, gone while no daemon ran (docs/restart.md). */
void devfs_expire(struct devfs *v, const char *path);
uint64_t devfs_get_slot(const struct devfs *v);
