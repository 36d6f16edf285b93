/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

#include "fuse-pool.h"
#include "macro.h"

/* One mounted FUSE filesystem served by the pool: what the /dev and /sys
 * views have in common. */

/* Entries and attributes are cached by the kernel for this long; every
 * change the kernel cannot see by itself is invalidated explicitly. */
#define FS_CACHE_TIMEOUT 86400.0

struct fs_session {
        struct fuse_session *se;
        struct fuse_pool *pool;
        uint64_t pool_id;
        char *mountpoint;
        bool adopted; /* fs_session_adopt(): served from a connection a previous daemon mounted */
};

/* Mounts at mountpoint (must exist) with options in mount(8) syntax, e.g.
 * "dev,nosuid,allow_other,default_permissions", and starts serving. fsname
 * shows in /proc/mounts. userdata is handed to every op. */
int fs_session_start(const struct fuse_lowlevel_ops *ops, size_t ops_size, void *userdata, const char *mountpoint,
                     const char *fsname, const char *options, struct fuse_pool *pool, struct fs_session **ret);

/* Takes over fd, a /dev/fuse descriptor of a connection mounted (at
 * mountpoint) by a previous devsieved, which a holder kept open
 * (docs/restart.md): libfuse is given the FUSE_INIT the kernel sent the
 * previous daemon, the pool serves it, and the kernel queues again what
 * the previous daemon had read and not answered (fs_session_resend()). */
/* fd is taken in every case: closed on failure, so that a connection
 * nobody serves is not kept alive by a forgotten descriptor. */
int fs_session_adopt(const struct fuse_lowlevel_ops *ops, size_t ops_size, void *userdata, int fd,
                     const char *mountpoint, struct fuse_pool *pool, struct fs_session **ret);
/* FUSE_NOTIFY_RESEND (Linux 6.9; -EINVAL before): every request a reader
 * took and did not answer (or dropped with fuse_reply_none()) is queued
 * again. */
int fs_session_resend(struct fs_session *s);

/* Stops serving, detaches the mount (and whatever is mounted below it)
 * and closes the connection: a container still holding a copy of the
 * mount gets ENOTCONN from then on. */
struct fs_session *fs_session_stop(struct fs_session *s);
DEFINE_POINTER_CLEANUP(struct fs_session, fs_session_stop);
