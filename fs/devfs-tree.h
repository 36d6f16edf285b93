/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "node.h"
#include "notify.h"

/* Path and tree operations of the /dev view that need no FUSE session:
 * placing a device's entries at a policy path (making parent directories),
 * taking them out again (pruning directories that only existed for them),
 * and the relative symlink targets. Callers hold the view's lock; every
 * change the kernel cannot see by itself is queued on the notify queue. */

/* fs_node.kind in a /dev view. */
enum devfs_kind {
        DEVFS_KIND_SKELETON = 1, /* the OCI skeleton (and the root): the container's, re-owned on attach */
        DEVFS_KIND_AUTODIR, /* a directory made for device paths; goes when it is empty */
        DEVFS_KIND_DEVICE, /* a visible device's node */
        DEVFS_KIND_DEVLINK, /* a policy SYMLINK+= or a char/M:m, block/M:m link */
        DEVFS_KIND_USER, /* made by the container: never removed by the daemon */
};

/* Entries of this kind belong to the container: it may rename, remove and
 * chmod them like on a tmpfs. */
static inline bool devfs_kind_is_own(unsigned kind) {
        return kind == DEVFS_KIND_USER || kind == DEVFS_KIND_SKELETON;
}

/* A path relative to /dev as a policy gives it: non-empty components, no
 * "." or "..", no leading or trailing '/', short enough for a name. */
bool devfs_path_valid(const char *path);

/* The target of a symlink at link_path that points at target_path, both
 * relative to the view's root: "../../loop5" for "disk/by-x/y" -> "loop5". */
int devfs_relative_target(const char *link_path, const char *target_path, char **ret);

/* Where path's last component lives: walks (and makes, as
 * DEVFS_KIND_AUTODIR owned by uid/gid, mode 0755) the directories before
 * it. -EEXIST when a non-directory holds a directory's name; -EINVAL for an
 * invalid path. *ret_name points into path. */
int devfs_tree_mkparents(struct fs_tree *t, const char *path, uid_t uid, gid_t gid, struct fs_notify_queue *q,
                         struct fs_node **ret_dir, const char **ret_name);

/* Places a node of kind at path (directories made as needed). -EEXIST when
 * the name is taken: the caller decides whether that is a conflict. */
int devfs_tree_place(struct fs_tree *t, const char *path, unsigned kind, mode_t mode, uid_t uid, gid_t gid, dev_t rdev,
                     const char *target, uid_t dir_uid, gid_t dir_gid, struct fs_notify_queue *q, struct fs_node **ret);

/* Takes n out of the tree (the kernel is told), then every directory above
 * it that was made for devices and is empty now. */
void devfs_tree_remove(struct fs_tree *t, struct fs_node *n, struct fs_notify_queue *q);

/* The node whose path is path, or NULL. */
struct fs_node *devfs_tree_find(const struct fs_tree *t, const char *path);
