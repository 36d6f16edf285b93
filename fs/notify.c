/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "log.h"
#include "node.h"
#include "notify.h"

static int push(struct fs_notify_queue *q, struct fs_notify n, const char *name) {
        if (q->n == q->allocated) {
                size_t more = q->allocated * 2 + 16;
                struct fs_notify *grown = realloc(q->items, more * sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                q->items = grown;
                q->allocated = more;
        }
        if (name && !(n.name = strdup(name)))
                return -ENOMEM;
        q->items[q->n++] = n;
        return 0;
}

int fs_notify_add_entry(struct fs_notify_queue *q, fuse_ino_t parent, const char *name) {
        return push(q, (struct fs_notify){ .kind = FS_NOTIFY_INVAL_ENTRY, .parent = parent }, name);
}

int fs_notify_add_delete(struct fs_notify_queue *q, fuse_ino_t parent, fuse_ino_t ino, const char *name) {
        return push(q, (struct fs_notify){ .kind = FS_NOTIFY_DELETE, .parent = parent, .ino = ino }, name);
}

/* How far back a directory's earlier invalidation is looked for: a batch
 * that fills a directory alternates a name's and the directory's. */
#define DIR_CHANGED_LOOKBACK 8

int fs_notify_add_dir_changed(struct fs_notify_queue *q, fuse_ino_t dir) {
        /* One write for a run of changes to one directory, after all of
         * them: an invalidation of it just before goes to the end. */
        for (size_t i = q->n; i > 0 && q->n - i < DIR_CHANGED_LOOKBACK; i--) {
                struct fs_notify *n = &q->items[i - 1];

                if (n->kind != FS_NOTIFY_INVAL_INODE || n->ino != dir)
                        continue;
                if (i == q->n)
                        return 0;
                memmove(n, n + 1, (q->n - i) * sizeof(*n));
                q->items[q->n - 1] = (struct fs_notify){ .kind = FS_NOTIFY_INVAL_INODE, .ino = dir };
                return 0;
        }
        return fs_notify_add_inode(q, dir);
}

int fs_notify_add_expire(struct fs_notify_queue *q, fuse_ino_t parent, const char *name) {
        return push(q, (struct fs_notify){ .kind = FS_NOTIFY_EXPIRE_ENTRY, .parent = parent }, name);
}

int fs_notify_add_expire_path(struct fs_notify_queue *q, const struct fs_tree *t, const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        struct fs_node *parent;
        char *slash;

        if (!dir)
                return -ENOMEM;
        /* The deepest directory of the path still in the tree. */
        for (;;) {
                slash = strrchr(dir, '/');
                if (slash)
                        *slash = '\0';
                parent = slash ? fs_tree_find(t, dir) : t->root;
                if (parent) {
                        /* The component right below it. */
                        const char *name = path + (slash ? strlen(dir) + 1 : 0);
                        _cleanup_free_ char *first = strndup(name, strcspn(name, "/"));

                        return first ? fs_notify_add_expire(q, parent->ino, first) : -ENOMEM;
                }
                if (!slash)
                        return 0;
        }
}

int fs_notify_add_inode(struct fs_notify_queue *q, fuse_ino_t ino) {
        return push(q, (struct fs_notify){ .kind = FS_NOTIFY_INVAL_INODE, .ino = ino }, NULL);
}

static int send_one(struct fuse_session *se, const struct fs_notify *n) {
        switch (n->kind) {
        case FS_NOTIFY_INVAL_ENTRY:
                return fuse_lowlevel_notify_inval_entry(se, n->parent, n->name, strlen(n->name));
        case FS_NOTIFY_DELETE:
                return fuse_lowlevel_notify_delete(se, n->parent, n->ino, n->name, strlen(n->name));
        case FS_NOTIFY_INVAL_INODE:
                return fuse_lowlevel_notify_inval_inode(se, n->ino, 0, 0);
        case FS_NOTIFY_EXPIRE_ENTRY:
                return fuse_lowlevel_notify_expire_entry(se, n->parent, n->name, strlen(n->name),
                                                         FUSE_LL_EXPIRE_ONLY);
        }
        return -EINVAL;
}

int fs_notify_flush(struct fs_notify_queue *q, struct fuse_session *se) {
        int failed = 0;

        for (size_t i = 0; i < q->n; i++) {
                int r = send_one(se, &q->items[i]);

                /* ENOENT: the kernel had nothing cached, nothing to drop. */
                if (r < 0 && r != -ENOENT) {
                        log_debug_errno(r, "FUSE invalidation of %s failed: %m", strempty(q->items[i].name));
                        failed++;
                }
                free(q->items[i].name);
        }
        q->n = 0;
        return failed;
}

int fs_notify_move(struct fs_notify_queue *to, struct fs_notify_queue *from) {
        int r = 0;

        for (size_t i = 0; i < from->n; i++) {
                struct fs_notify n = from->items[i];

                /* push() copies the name: the original goes with from. */
                if (r >= 0)
                        r = push(to, n, n.name);
                free(from->items[i].name);
        }
        from->n = 0;
        return r;
}

void fs_notify_queue_done(struct fs_notify_queue *q) {
        for (size_t i = 0; i < q->n; i++)
                free(q->items[i].name);
        free(q->items);
        *q = (struct fs_notify_queue){};
}
