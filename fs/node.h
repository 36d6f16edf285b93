/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <uthash.h>

#include "handles.h"
#include "macro.h"

/* The in-memory inode tree of one FUSE filesystem (a container's /dev or
 * /sys view).
 *
 * Inode numbers are never reused within a tree, so an inode the kernel
 * still holds can never come to mean another file. A node lives while it is
 * in the tree or the kernel still has a lookup reference to it (nlookup, as
 * in libfuse's passthrough_ll): unlinking takes it out of the tree, the
 * kernel's FORGET frees it.
 *
 * Not thread-safe: each view serializes access with its own lock. */

struct fs_node {
        fuse_ino_t ino;
        struct fs_node *parent; /* NULL for the root and for unlinked nodes */
        char *name;
        struct fs_node *children; /* by name, hh_child */
        UT_hash_handle hh_child;
        UT_hash_handle hh_ino;
        uint64_t nlookup;         /* the kernel's references */
        struct stat st;           /* st_ino == ino; st_nlink kept by the tree */
        char *symlink;            /* target of a symlink */
        uint64_t path_hash;       /* of its path when it was made (fs_tree_set_stable_ids) */
        unsigned kind;            /* what the owning view made it for */
        void *data;               /* the view's, freed by fs_tree.free_data */
};

struct fs_tree {
        struct fs_node *root;
        struct fs_node *by_ino; /* every live node, hh_ino */
        fuse_ino_t next_ino;
        fuse_ino_t last_ino; /* the highest number the tree may give */
        fuse_ino_t first_ino; /* the root's */
        bool stable_ids;     /* numbers follow from paths (fs_tree_set_stable_ids) */
        void (*free_data)(struct fs_node *n);
};

int fs_tree_init(struct fs_tree *t, mode_t root_mode, uid_t uid, gid_t gid, void (*free_data)(struct fs_node *n));
/* A tree whose root is root_ino and whose numbers stay up to last_ino (one
 * view's range of a shared FUSE connection, fs/mux.h). */
int fs_tree_init_at(struct fs_tree *t, fuse_ino_t root_ino, fuse_ino_t last_ino, mode_t root_mode, uid_t uid,
                    gid_t gid, void (*free_data)(struct fs_node *n));
void fs_tree_done(struct fs_tree *t);
/* From now on a node's number follows from its path (a hash into the
 * tree's range; the next free number when that one is taken): a new
 * daemon that builds the same tree again answers for the numbers the
 * kernel still holds from the previous one (docs/restart.md). A number is
 * then given again only once the kernel has forgotten its node. Call
 * before any node but the root is made. */
void fs_tree_set_stable_ids(struct fs_tree *t);

/* In the tree or still referenced by the kernel; NULL otherwise. */
struct fs_node *fs_tree_get(const struct fs_tree *t, fuse_ino_t ino);
struct fs_node *fs_node_child(const struct fs_node *dir, const char *name);
/* The node at path ("a/b/c", relative to the root), or NULL. */
struct fs_node *fs_tree_find(const struct fs_tree *t, const char *path);
static inline bool fs_node_linked(const struct fs_tree *t, const struct fs_node *n) {
        return n == t->root || n->parent;
}

/* Creates name in dir (which must not have it). mode includes the type;
 * target for symlinks, rdev for device nodes. */
int fs_node_new(struct fs_tree *t, struct fs_node *dir, const char *name, mode_t mode, uid_t uid, gid_t gid,
                dev_t rdev, const char *target, struct fs_node **ret);
/* Takes n (and, for a directory, everything below it) out of the tree;
 * nodes the kernel does not hold are freed at once. */
void fs_node_unlink(struct fs_tree *t, struct fs_node *n);
/* Moves n to dir/name; an existing dir/name must have been unlinked. */
int fs_node_move(struct fs_node *n, struct fs_node *dir, const char *name);
/* The kernel dropped nlookup references (FORGET). */
void fs_node_forget(struct fs_tree *t, struct fs_node *n, uint64_t nlookup);
/* FORGET of an inode number, which may be gone already. */
void fs_tree_forget(struct fs_tree *t, fuse_ino_t ino, uint64_t nlookup);

/* Fills e for a LOOKUP/CREATE/MKDIR... reply and counts the reference the
 * reply gives the kernel. */
void fs_node_entry(struct fs_node *n, double timeout, struct fuse_entry_param *e);
void fs_node_touch(struct fs_node *n, bool modified); /* ctime (and mtime) = now */

/* A directory listing taken at opendir: later changes do not move offsets
 * under a reader (as a snapshot of names with their inode numbers). */
struct fs_dir_snapshot {
        size_t n;
        size_t bytes; /* what it holds, about */
        struct fs_dir_entry {
                char *name;
                fuse_ino_t ino;
                mode_t type;
        } *entries;
};

/* filter may be NULL; else a child is listed only when it returns true. */
int fs_dir_snapshot_new(const struct fs_node *dir, bool (*filter)(const struct fs_node *child, void *userdata),
                        void *userdata, struct fs_dir_snapshot **ret);
struct fs_dir_snapshot *fs_dir_snapshot_free(struct fs_dir_snapshot *s);
/* Replies to READDIR from a snapshot. */
void fs_dir_snapshot_reply(fuse_req_t req, const struct fs_dir_snapshot *s, size_t size, off_t offset);

/* OPENDIR/READDIR/RELEASEDIR of both views. The kernel may keep a listing
 * (cache_readdir): it records the directory's mtime when it starts filling
 * its cache, before the READDIR at offset 0, and drops the cache when a
 * later mtime differs. Every change bumps the directory's mtime and the
 * views send an inval_inode of the directory with it. So the listing is
 * taken at each READDIR at offset 0, never at OPENDIR: taken there it could
 * predate the mtime the kernel records, and the stale listing would stick
 * until the kernel dropped its caches. */
/* What the listings of open directories may hold, in all: each handle's
 * listing is counted in *usage (guarded by the view's lock) while the
 * handle holds it; a READDIR that would take *usage over limit fails
 * (ENOMEM). A container could otherwise make the daemon copy a large
 * directory once per handle it opens. */
struct fs_dir_budget {
        uint64_t *usage;
        uint64_t limit;
};
/* Replies to OPENDIR with a handle of handles (fs/handles.h); the caller
 * has checked that ino is a directory. */
void fs_dir_open(fuse_req_t req, struct fuse_file_info *fi, struct fs_handles *handles);
/* Replies to READDIR, or with plus to READDIRPLUS (attributes cached for
 * timeout): ino's listing from tree (guarded by lock). budget may be NULL:
 * listings the container cannot grow (the /sys view). */
void fs_dir_read(fuse_req_t req, struct fuse_file_info *fi, struct fs_handles *handles, pthread_mutex_t *lock,
                 struct fs_tree *tree, const struct fs_dir_budget *budget, fuse_ino_t ino, size_t size, off_t offset,
                 bool plus, double timeout);
/* Replies to RELEASEDIR. lock NULL: the view is gone, only the handle is
 * freed (what its listing counted went with the view). */
void fs_dir_release(fuse_req_t req, struct fuse_file_info *fi, struct fs_handles *handles, pthread_mutex_t *lock);
/* Replies to READDIRPLUS from a snapshot: with each entry still in t its
 * attributes (cached for timeout), which count as a lookup reference, as
 * a LOOKUP's reply does. Call with t's lock held: a FORGET must not
 * overtake the reply. */
void fs_dir_snapshot_reply_plus(fuse_req_t req, const struct fs_dir_snapshot *s, size_t size, off_t offset,
                                struct fs_tree *t, double timeout);

/* --- Handlers every view shares -------------------------------------- */

/* A view of a shared connection (fs/mux.h) as the handlers below see it:
 * the view hands this to fs_mux_add() as its data, and finds itself from
 * it with container_of(). Every view's ops name these handlers, so a fix
 * made here lands in every view. */
struct fs_view_tree {
        pthread_mutex_t *lock; /* the view's one lock */
        struct fs_tree *tree;  /* guarded by lock */
        /* Whether n, taken out of the tree, still answers for its inode
         * (the /dev view: the container's own files live on while open, as
         * on any filesystem). NULL: nothing taken out does. */
        bool (*answers_unlinked)(const struct fs_node *n);
        /* SETATTR's change to n, or why not (negative errno). */
        int (*set_attributes)(struct fs_node *n, const struct stat *attr, int to_set);
        /* What open directories' listings may hold (fs_dir_read); usage
         * NULL: listings the container cannot grow. */
        struct fs_dir_budget budget;
        /* Whether n's contents are read live, on a connection whose files
         * the kernel keeps in its page cache (no OPEN, auto_inval_data):
         * its attributes are never cached, and each reply gives it a new
         * mtime, so the kernel drops the page it cached at the last read
         * and asks again at the next. NULL: no node is. */
        bool (*live)(const struct fs_node *n);
};

/* With the lock held: the node ino names, or NULL when the view no longer
 * answers for it. What the daemon took out is gone for every name: the
 * kernel may still hold its inode, but answering for it would show what
 * the container must not see. */
struct fs_node *fs_view_node(const struct fs_view_tree *v, fuse_ino_t ino);
/* With the lock held: the directory ino names, if it is in the tree; else
 * NULL, and *error says why (ENOENT, ENOTDIR). */
struct fs_node *fs_view_dir(const struct fs_view_tree *v, fuse_ino_t ino, int *error);

/* fuse_lowlevel_ops of a view. LOOKUP caches an absent name as long as a
 * present one: every name that appears later is invalidated, or made
 * through the mount, which the kernel sees. */
void fs_view_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void fs_view_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_view_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi);
void fs_view_readlink(fuse_req_t req, fuse_ino_t ino);
void fs_view_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_view_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi);
/* Every entry with its attributes: `ls -l` of a cold directory costs one
 * round trip instead of one per name. */
void fs_view_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi);
void fs_view_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* In a view's fuse_lowlevel_ops: the handlers above (READDIRPLUS is the
 * view's choice). A new shared handler added here reaches every view. */
#define FS_VIEW_OPS                            \
        .lookup = fs_view_lookup,              \
        .getattr = fs_view_getattr,            \
        .setattr = fs_view_setattr,            \
        .readlink = fs_view_readlink,          \
        .opendir = fs_view_opendir,            \
        .readdir = fs_view_readdir,            \
        .releasedir = fs_view_releasedir
/* fs_mux_class of a view (data: its struct fs_view_tree). */
void fs_view_forget(void *data, fuse_ino_t ino, uint64_t nlookup);
void fs_view_root_entry(void *data, struct fuse_entry_param *e);
