/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "session.h"

/* One FUSE connection serving one kind of view (/dev or /sys) for every
 * container, as lxcfs serves all containers from one mount: libfuse takes a
 * pthread key per session and glibc has 1024, so a session per view would
 * stop at 512 containers. docs/fuse-sessions.md has the design.
 *
 * Each view gets a slot; its inode numbers are (slot << FS_MUX_SLOT_SHIFT) |
 * n, so the inode number of every request says whose it is. The
 * connection's root (inode 1) is the daemon's: mode 0700, lists nothing,
 * and its entry "SLOT" (decimal) is the root of that view, which is bound
 * at the view's mountpoint. Slots are never reused, so an inode the kernel
 * still holds of a destroyed view can never come to mean another's file.
 *
 * Requests for a view are answered by its class's ops with the view's
 * inode numbers; the ops find their view with fs_mux_data(). Requests for
 * a removed view get ENOTCONN. */

#define FS_MUX_SLOT_SHIFT 32
#define FS_MUX_SLOT_INODES ((fuse_ino_t) 1 << FS_MUX_SLOT_SHIFT)

struct fs_mux;
struct fs_handles;

/* What the views of one kind have in common. */
struct fs_mux_class {
        /* forget and forget_multi are not used: the kernel batches forgets
         * of several views in one request. releasedir is called for live
         * views only; a removed view's directory handles (the kernel
         * releases a directory a container still had open later) are
         * fs_dir handles (node.h) in fs_mux_handles(), freed by
         * fs_dir_release() alone. */
        const struct fuse_lowlevel_ops *ops;
        /* The kernel dropped nlookup references to ino. */
        void (*forget)(void *data, fuse_ino_t ino, uint64_t nlookup);
        /* Fills e for the view's root and counts the reference it gives
         * the kernel. */
        void (*root_entry)(void *data, struct fuse_entry_param *e);
};

/* Mounts the connection at mountpoint (an existing directory; the caller
 * keeps it from propagating) with options in mount(8) syntax. */
int fs_mux_new(struct fuse_pool *pool, const struct fs_mux_class *class, const char *mountpoint, const char *fsname,
               const char *options, struct fs_mux **ret);
/* Takes over fd, the /dev/fuse descriptor of a connection a previous
 * devsieved mounted at mountpoint (fs_session_adopt()), and serves it at
 * once; but until fs_mux_adopted() only this process's requests are
 * answered (the daemon's own mounts below its views while it makes them
 * again); the containers' wait in the kernel. Slots from next_slot on are
 * new; the previous daemon's views come back with fs_mux_adopt_slot().
 * generation is this process's on the connection (fs/handles.h: higher
 * than that of every process that served it before); directory handles
 * the kernel still holds of those are opened again at their first use.
 * fd is taken in every case (closed on failure). */
int fs_mux_adopt(struct fuse_pool *pool, const struct fs_mux_class *class, const char *mountpoint, int fd,
                 uint64_t next_slot, uint32_t generation, struct fs_mux **ret);
/* Every view is back: the containers' requests are served, those put off
 * are sent again by the kernel. Nothing for a connection of our own. */
int fs_mux_adopted(struct fs_mux *m);
/* The connection's /dev/fuse descriptor, for the holder (docs/restart.md). */
int fs_mux_fd(const struct fs_mux *m);
/* This process's generation of handles on the connection: the holder
 * keeps it, and gives the next daemon a higher one. */
uint32_t fs_mux_generation(const struct fs_mux *m);
/* The slot the next new view gets: a next daemon adopting the connection
 * must start there (slots are never reused on a connection). */
uint64_t fs_mux_next_slot(const struct fs_mux *m);
/* The next fs_mux_add() takes slot (a view of the previous daemon, whose
 * bind is in place: fs_mux_bind() of it does nothing) unless it is taken. */
void fs_mux_adopt_slot(struct fs_mux *m, uint64_t slot);
/* Whether fs_mux_adopt_slot() was called and no view took the slot yet. */
bool fs_mux_adopting_slot(const struct fs_mux *m);
/* Every view must have been removed. Unmounts lazily. */
struct fs_mux *fs_mux_free(struct fs_mux *m);
DEFINE_POINTER_CLEANUP(struct fs_mux, fs_mux_free);

/* A new view with data handed to the class's callbacks; its inode numbers
 * start at *ret_first_ino (its root) and stay below *ret_first_ino +
 * FS_MUX_SLOT_INODES - 1. Then fs_mux_bind() puts it into place. */
int fs_mux_add(struct fs_mux *m, void *data, uint64_t *ret_slot, fuse_ino_t *ret_first_ino);
/* Bind-mounts the view's root at mountpoint (an existing directory). */
int fs_mux_bind(struct fs_mux *m, uint64_t slot, const char *mountpoint);
/* From then on requests for the view get ENOTCONN; returns once no worker
 * is inside one of the view's handlers. Its entry in the connection's root
 * is dropped from the kernel's cache. */
void fs_mux_remove(struct fs_mux *m, uint64_t slot);

/* The connection is dead, or is about to be (shutdown): from then on
 * fs_mux_remove() sends the kernel nothing. The kernel still acts on
 * notifications of an aborted connection, and an invalidated root entry
 * would make the containers' dead copies of the views impossible to cover
 * (nothing can be mounted on an unlinked dentry). */
void fs_mux_quiet(struct fs_mux *m);

/* In a handler of the class's ops: the data of the view ino belongs to. */
void *fs_mux_data(fuse_req_t req, fuse_ino_t ino);
/* In a handler of the class's ops: the connection's table of directory
 * handles (fs_dir_open() and the others in node.h). */
struct fs_handles *fs_mux_handles(fuse_req_t req);
struct fs_notify_queue;
/* Sends a view's notifications (main loop only, see fuse-pool.h); while
 * the connection is being adopted they wait until fs_mux_adopted(). */
int fs_mux_flush(struct fs_mux *m, struct fs_notify_queue *q);
/* For notifications (main loop only, see fuse-pool.h). */
struct fuse_session *fs_mux_session(const struct fs_mux *m);
/* The connection's id in the pool: what fuse_pool_drain_exited() reports
 * when it ends (aborted, or unmounted from outside). */
uint64_t fs_mux_pool_id(const struct fs_mux *m);
