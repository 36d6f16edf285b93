/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "session.h"

/* Kernel cache invalidations a view collects while it changes its tree
 * under its lock, and sends once the lock is released, from the main loop.
 * Sending one under the lock would deadlock: the kernel holds a directory's
 * lock while a request in it waits for a worker, and the worker waits for
 * the view's lock. */

struct fs_notify {
        enum { FS_NOTIFY_INVAL_ENTRY, FS_NOTIFY_DELETE, FS_NOTIFY_INVAL_INODE, FS_NOTIFY_EXPIRE_ENTRY } kind;
        fuse_ino_t parent, ino;
        char *name;
};

struct fs_notify_queue {
        struct fs_notify *items;
        size_t n, allocated;
};

/* A new name appeared (the kernel may have cached its absence). */
int fs_notify_add_entry(struct fs_notify_queue *q, fuse_ino_t parent, const char *name);
/* name (inode ino) is gone from parent. */
int fs_notify_add_delete(struct fs_notify_queue *q, fuse_ino_t parent, fuse_ino_t ino, const char *name);
/* ino's attributes (owner, mode) or contents changed. */
int fs_notify_add_inode(struct fs_notify_queue *q, fuse_ino_t ino);
/* A name appeared in or left directory dir: the kernel must drop the
 * directory's cached attributes (its mtime) and with them its cached
 * listing (see fs_dir_read). Once for a run of changes to one directory,
 * after the last of them (an invalidation of dir a few items back moves
 * to the end). */
int fs_notify_add_dir_changed(struct fs_notify_queue *q, fuse_ino_t dir);
/* The next access to parent/name must look it up again, but whatever is
 * mounted over it stays (an invalidation would detach such mounts). */
int fs_notify_add_expire(struct fs_notify_queue *q, fuse_ino_t parent, const char *name);

struct fs_tree;
/* The next access to path (relative to t's root) must look it up again:
 * a name gone while no daemon ran, whose entry the kernel may still have
 * from the previous one. Nothing when its directory is not in t (the
 * kernel then has nothing below it to keep either, once that one is
 * expired). Call with t's lock held. */
int fs_notify_add_expire_path(struct fs_notify_queue *q, const struct fs_tree *t, const char *path);

/* Sends and empties the queue. Errors the kernel gives for what it does
 * not cache (ENOENT) are success; others are counted in the return value. */
int fs_notify_flush(struct fs_notify_queue *q, struct fuse_session *se);
/* Appends what from holds to to, in order, and empties from (for later:
 * an adopted connection's notifications wait until it serves, fs/mux.h).
 * Without memory the rest is dropped: -ENOMEM. */
int fs_notify_move(struct fs_notify_queue *to, struct fs_notify_queue *from);
void fs_notify_queue_done(struct fs_notify_queue *q);
