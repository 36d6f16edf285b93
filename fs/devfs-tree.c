/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>

#include "devfs-tree.h"

bool devfs_path_valid(const char *path) {
        const char *p = path;

        if (!path || !*path || strlen(path) >= PATH_MAX)
                return false;
        for (;;) {
                size_t l = strcspn(p, "/");

                if (l == 0 || l > NAME_MAX || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (!p[l])
                        return true;
                p += l + 1;
        }
}

int devfs_relative_target(const char *link_path, const char *target_path, char **ret) {
        size_t depth = 0, l = strlen(target_path);
        char *s, *w;

        for (const char *p = link_path; *p; p++)
                depth += *p == '/';
        s = malloc(depth * 3 + l + 1);
        if (!s)
                return -ENOMEM;
        w = s;
        for (size_t i = 0; i < depth; i++, w += 3)
                memcpy(w, "../", 3);
        memcpy(w, target_path, l + 1);
        *ret = s;
        return 0;
}

/* The kernel caches the directory's attributes (nlink, mtime) and, for a
 * name, its absence: both must go when a name appears or disappears. */
static int queue_dir_changed(struct fs_notify_queue *q, fuse_ino_t dir) {
        return fs_notify_add_dir_changed(q, dir);
}

static int queue_added(struct fs_notify_queue *q, struct fs_node *dir, const char *name) {
        int r = fs_notify_add_entry(q, dir->ino, name);
        return r < 0 ? r : queue_dir_changed(q, dir->ino);
}

int devfs_tree_mkparents(struct fs_tree *t, const char *path, uid_t uid, gid_t gid, struct fs_notify_queue *q,
                         struct fs_node **ret_dir, const char **ret_name) {
        struct fs_node *dir = t->root;
        const char *p = path;
        int r;

        if (!devfs_path_valid(path))
                return -EINVAL;
        for (;;) {
                size_t l = strcspn(p, "/");
                _cleanup_free_ char *name = NULL;
                struct fs_node *child;

                if (!p[l]) {
                        *ret_dir = dir;
                        *ret_name = p;
                        return 0;
                }
                name = strndup(p, l);
                if (!name)
                        return -ENOMEM;
                child = fs_node_child(dir, name);
                if (!child) {
                        r = fs_node_new(t, dir, name, S_IFDIR | 0755, uid, gid, 0, NULL, &child);
                        if (r < 0)
                                return r;
                        child->kind = DEVFS_KIND_AUTODIR;
                        r = queue_added(q, dir, name);
                        if (r < 0)
                                return r;
                } else if (!S_ISDIR(child->st.st_mode))
                        return -EEXIST;
                dir = child;
                p += l + 1;
        }
}

/* Directories made for devices go with their last entry; the root, the
 * skeleton and whatever the container made stay. */
static void prune(struct fs_tree *t, struct fs_node *dir, struct fs_notify_queue *q) {
        while (dir && dir != t->root && dir->kind == DEVFS_KIND_AUTODIR && !dir->children) {
                struct fs_node *parent = dir->parent;

                (void) fs_notify_add_delete(q, parent->ino, dir->ino, dir->name);
                (void) queue_dir_changed(q, parent->ino);
                fs_node_unlink(t, dir);
                dir = parent;
        }
}

int devfs_tree_place(struct fs_tree *t, const char *path, unsigned kind, mode_t mode, uid_t uid, gid_t gid, dev_t rdev,
                     const char *target, uid_t dir_uid, gid_t dir_gid, struct fs_notify_queue *q,
                     struct fs_node **ret) {
        struct fs_node *dir, *n;
        const char *name;
        int r;

        r = devfs_tree_mkparents(t, path, dir_uid, dir_gid, q, &dir, &name);
        if (r < 0)
                return r;
        r = fs_node_new(t, dir, name, mode, uid, gid, rdev, target, &n);
        if (r < 0) {
                /* Directories made just now for a name that is taken. */
                prune(t, dir, q);
                return r;
        }
        n->kind = kind;
        r = queue_added(q, dir, name);
        if (r < 0)
                return r;
        if (ret)
                *ret = n;
        return 0;
}

void devfs_tree_remove(struct fs_tree *t, struct fs_node *n, struct fs_notify_queue *q) {
        struct fs_node *dir = n->parent;

        if (!dir)
                return;
        /* Only ENOMEM can lose an invalidation here; the tree change itself
         * must happen regardless. */
        (void) fs_notify_add_delete(q, dir->ino, n->ino, n->name);
        (void) queue_dir_changed(q, dir->ino);
        fs_node_unlink(t, n);
        prune(t, dir, q);
}

struct fs_node *devfs_tree_find(const struct fs_tree *t, const char *path) {
        return devfs_path_valid(path) ? fs_tree_find(t, path) : NULL;
}
