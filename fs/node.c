/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "mux.h"
#include "node.h"

static void node_free(struct fs_tree *t, struct fs_node *n) {
        HASH_DELETE(hh_ino, t->by_ino, n);
        if (t->free_data && n->data)
                t->free_data(n);
        free(n->symlink);
        free(n->name);
        free(n);
}

static struct timespec now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return ts;
}

void fs_node_touch(struct fs_node *n, bool modified) {
        n->st.st_ctim = now();
        if (modified)
                n->st.st_mtim = n->st.st_ctim;
}

/* FNV-1a over the parent's hash and the name: the path's, one step at a time. */
static uint64_t path_hash(const struct fs_node *dir, const char *name) {
        uint64_t h = dir ? dir->path_hash : UINT64_C(0xcbf29ce484222325);

        for (const unsigned char *p = (const unsigned char *) name;; p++) {
                h ^= *p;
                h *= UINT64_C(0x100000001b3);
                if (!*p)
                        return h;
        }
}

/* The first free number from the path's place in the range (the root's
 * own number excepted); 0 when every number is taken. */
static fuse_ino_t stable_ino(const struct fs_tree *t, uint64_t hash) {
        fuse_ino_t span = t->last_ino - t->first_ino, ino = t->first_ino + 1 + hash % span;

        if ((fuse_ino_t) HASH_CNT(hh_ino, t->by_ino) > span)
                return 0;
        while (fs_tree_get(t, ino))
                ino = ino == t->last_ino ? t->first_ino + 1 : ino + 1;
        return ino;
}

static struct fs_node *node_alloc(struct fs_tree *t, const struct fs_node *dir, const char *name, mode_t mode,
                                  uid_t uid, gid_t gid, dev_t rdev, const char *target) {
        struct fs_node *n = calloc(1, sizeof(*n));

        if (!n)
                return NULL;
        n->name = strdup(name);
        n->symlink = target ? strdup(target) : NULL;
        if (!n->name || (target && !n->symlink)) {
                free(n->name);
                free(n->symlink);
                free(n);
                return NULL;
        }
        n->path_hash = path_hash(dir, name);
        n->ino = t->stable_ids && dir ? stable_ino(t, n->path_hash) : t->next_ino++;
        n->st.st_ino = n->ino;
        n->st.st_mode = mode;
        n->st.st_uid = uid;
        n->st.st_gid = gid;
        n->st.st_rdev = rdev;
        n->st.st_nlink = S_ISDIR(mode) ? 2 : 1;
        n->st.st_size = target ? (off_t) strlen(target) : 0;
        n->st.st_blksize = 4096;
        n->st.st_atim = n->st.st_mtim = n->st.st_ctim = now();
        HASH_ADD(hh_ino, t->by_ino, ino, sizeof(n->ino), n);
        return n;
}

int fs_tree_init_at(struct fs_tree *t, fuse_ino_t root_ino, fuse_ino_t last_ino, mode_t root_mode, uid_t uid,
                    gid_t gid, void (*free_data)(struct fs_node *n)) {
        *t = (struct fs_tree){ .next_ino = root_ino, .last_ino = last_ino, .first_ino = root_ino, .free_data = free_data };
        t->root = node_alloc(t, NULL, "", S_IFDIR | root_mode, uid, gid, 0, NULL);
        return t->root ? 0 : -ENOMEM;
}

int fs_tree_init(struct fs_tree *t, mode_t root_mode, uid_t uid, gid_t gid, void (*free_data)(struct fs_node *n)) {
        return fs_tree_init_at(t, FUSE_ROOT_ID, UINT64_MAX, root_mode, uid, gid, free_data);
}

void fs_tree_set_stable_ids(struct fs_tree *t) {
        t->stable_ids = t->last_ino > t->first_ino;
}

void fs_tree_done(struct fs_tree *t) {
        struct fs_node *n, *tmp;

        /* A children table lives in its first child: clear every table
         * while all nodes still exist, then free the nodes. */
        HASH_ITER(hh_ino, t->by_ino, n, tmp)
                HASH_CLEAR(hh_child, n->children);
        HASH_ITER(hh_ino, t->by_ino, n, tmp)
                node_free(t, n);
        t->root = NULL;
}

struct fs_node *fs_tree_get(const struct fs_tree *t, fuse_ino_t ino) {
        struct fs_node *n;

        HASH_FIND(hh_ino, t->by_ino, &ino, sizeof(ino), n);
        return n;
}

struct fs_node *fs_node_child(const struct fs_node *dir, const char *name) {
        struct fs_node *n;

        HASH_FIND(hh_child, dir->children, name, strlen(name), n);
        return n;
}

struct fs_node *fs_tree_find(const struct fs_tree *t, const char *path) {
        struct fs_node *n = t->root;

        for (const char *p = path; n && *p;) {
                size_t l = strcspn(p, "/");
                _cleanup_free_ char *name = strndup(p, l);

                if (!name)
                        return NULL;
                if (l > 0)
                        n = fs_node_child(n, name);
                p += l + (p[l] == '/');
        }
        return n;
}

static void attach(struct fs_node *dir, struct fs_node *n) {
        n->parent = dir;
        HASH_ADD_KEYPTR(hh_child, dir->children, n->name, strlen(n->name), n);
        if (S_ISDIR(n->st.st_mode))
                dir->st.st_nlink++;
        fs_node_touch(dir, true);
}

static void detach(struct fs_node *n) {
        struct fs_node *dir = n->parent;

        HASH_DELETE(hh_child, dir->children, n);
        if (S_ISDIR(n->st.st_mode))
                dir->st.st_nlink--;
        fs_node_touch(dir, true);
        n->parent = NULL;
}

int fs_node_new(struct fs_tree *t, struct fs_node *dir, const char *name, mode_t mode, uid_t uid, gid_t gid,
                dev_t rdev, const char *target, struct fs_node **ret) {
        struct fs_node *n;

        if (fs_node_child(dir, name))
                return -EEXIST;
        /* Sequential numbers are never reused: a tree that used up its
         * range is full. Stable ones are full when every number is taken. */
        if (t->stable_ids ? (fuse_ino_t) HASH_CNT(hh_ino, t->by_ino) > t->last_ino - t->first_ino
                          : t->next_ino > t->last_ino)
                return -ENOSPC;
        n = node_alloc(t, dir, name, mode, uid, gid, rdev, target);
        if (!n)
                return -ENOMEM;
        attach(dir, n);
        if (ret)
                *ret = n;
        return 0;
}

void fs_node_unlink(struct fs_tree *t, struct fs_node *n) {
        struct fs_node *child, *tmp;

        /* An unlinked directory's children can never be reached by a path
         * again: unlink them too, so no node outlives the tree it hung in. */
        HASH_ITER(hh_child, n->children, child, tmp)
                fs_node_unlink(t, child);
        if (n->parent)
                detach(n);
        if (S_ISDIR(n->st.st_mode))
                n->st.st_nlink = 0;
        else if (n->st.st_nlink > 0)
                n->st.st_nlink--;
        if (n->nlookup == 0 && n != t->root)
                node_free(t, n);
}

int fs_node_move(struct fs_node *n, struct fs_node *dir, const char *name) {
        char *copy = strdup(name);

        if (!copy)
                return -ENOMEM;
        if (fs_node_child(dir, name)) {
                free(copy);
                return -EEXIST;
        }
        detach(n);
        free(n->name);
        n->name = copy;
        attach(dir, n);
        fs_node_touch(n, false);
        return 0;
}

void fs_node_forget(struct fs_tree *t, struct fs_node *n, uint64_t nlookup) {
        n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
        if (n->nlookup == 0 && !fs_node_linked(t, n))
                node_free(t, n);
}

void fs_tree_forget(struct fs_tree *t, fuse_ino_t ino, uint64_t nlookup) {
        struct fs_node *n = fs_tree_get(t, ino);

        if (n)
                fs_node_forget(t, n, nlookup);
}

void fs_node_entry(struct fs_node *n, double timeout, struct fuse_entry_param *e) {
        *e = (struct fuse_entry_param){
                .ino = n->ino,
                .generation = 0, /* inode numbers are never reused */
                .attr = n->st,
                .attr_timeout = timeout,
                .entry_timeout = timeout,
        };
        n->nlookup++;
}

int fs_dir_snapshot_new(const struct fs_node *dir, bool (*filter)(const struct fs_node *child, void *userdata),
                        void *userdata, struct fs_dir_snapshot **ret) {
        _cleanup_free_ struct fs_dir_snapshot *s = calloc(1, sizeof(*s));
        const struct fs_node *child, *tmp;
        size_t n = 0;

        if (!s)
                return -ENOMEM;
        s->entries = calloc(HASH_CNT(hh_child, dir->children) + 2, sizeof(*s->entries));
        if (!s->entries)
                return -ENOMEM;
        s->bytes = sizeof(*s) + (HASH_CNT(hh_child, dir->children) + 2) * sizeof(*s->entries);

        s->entries[n++] = (struct fs_dir_entry){ .name = strdup("."), .ino = dir->ino, .type = S_IFDIR };
        s->entries[n++] = (struct fs_dir_entry){ .name = strdup(".."),
                                                 .ino = dir->parent ? dir->parent->ino : dir->ino,
                                                 .type = S_IFDIR };
        HASH_ITER(hh_child, dir->children, child, tmp) {
                if (filter && !filter(child, userdata))
                        continue;
                s->entries[n++] = (struct fs_dir_entry){ .name = strdup(child->name),
                                                         .ino = child->ino,
                                                         .type = child->st.st_mode & S_IFMT };
                s->bytes += strlen(child->name) + 1;
        }
        s->n = n;
        for (size_t i = 0; i < n; i++)
                if (!s->entries[i].name) {
                        fs_dir_snapshot_free(TAKE_PTR(s));
                        return -ENOMEM;
                }
        *ret = TAKE_PTR(s);
        return 0;
}

struct fs_dir_snapshot *fs_dir_snapshot_free(struct fs_dir_snapshot *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                free(s->entries[i].name);
        free(s->entries);
        free(s);
        return NULL;
}

void fs_dir_snapshot_reply(fuse_req_t req, const struct fs_dir_snapshot *s, size_t size, off_t offset) {
        _cleanup_free_ char *buf = malloc(size);
        size_t used = 0;

        if (!buf) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        /* The offset of an entry is its index + 1: what the next READDIR
         * after it passes back. */
        for (size_t i = offset < 0 ? 0 : (size_t) offset; i < s->n; i++) {
                struct stat st = { .st_ino = s->entries[i].ino, .st_mode = s->entries[i].type };
                size_t l = fuse_add_direntry(req, buf + used, size - used, s->entries[i].name, &st, (off_t) i + 1);

                if (l > size - used)
                        break;
                used += l;
        }
        fuse_reply_buf(req, buf, used);
}

/* Removes the references fs_dir_snapshot_reply_plus() counted for a reply
 * the kernel never got. */
static void forget_listed(struct fs_tree *t, const fuse_ino_t *inos, size_t n) {
        for (size_t i = 0; i < n; i++)
                fs_tree_forget(t, inos[i], 1);
}

void fs_dir_snapshot_reply_plus(fuse_req_t req, const struct fs_dir_snapshot *s, size_t size, off_t offset,
                                struct fs_tree *t, double timeout) {
        /* Zeroed: gcc cannot tell that the entries are written before use. */
        _cleanup_free_ char *buf = calloc(1, size);
        _cleanup_free_ fuse_ino_t *listed = calloc(s->n + 1, sizeof(*listed));
        size_t used = 0, n_listed = 0;

        if (!buf || !listed) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        for (size_t i = offset < 0 ? 0 : (size_t) offset; i < s->n; i++) {
                const struct fs_dir_entry *d = &s->entries[i];
                struct fs_node *n = i >= 2 ? fs_tree_get(t, d->ino) : NULL;
                struct fuse_entry_param e = {};
                size_t l;

                /* "." and "..", and a node gone since the snapshot: a name
                 * without attributes (inode 0), which takes no reference. */
                if (n && fs_node_linked(t, n) && streq(n->name, d->name))
                        fs_node_entry(n, timeout, &e);
                else {
                        n = NULL;
                        e.attr.st_ino = d->ino;
                        e.attr.st_mode = d->type;
                }
                l = fuse_add_direntry_plus(req, buf + used, size - used, d->name, &e, (off_t) i + 1);
                if (l > size - used) {
                        if (n)
                                n->nlookup--;
                        break;
                }
                used += l;
                if (n)
                        listed[n_listed++] = n->ino;
        }
        if (fuse_reply_buf(req, buf, used) != 0)
                forget_listed(t, listed, n_listed);
}

/* An open directory: its listing as of the last READDIR at offset 0. */
struct fs_dir_handle {
        struct fs_dir_snapshot *snapshot;
        uint64_t *usage; /* where snapshot->bytes are counted, or NULL */
};

/* Freed this way only when the kernel will never release it (its
 * connection is gone): nothing of the view it counted against is touched. */
static void dir_handle_free(void *object) {
        struct fs_dir_handle *h = object;

        if (h)
                fs_dir_snapshot_free(h->snapshot);
        free(h);
}

static const struct fs_handle_kind dir_handle_kind = { "directory", dir_handle_free };

/* The handle fh stands for. One of a dead daemon's (an adopted
 * connection, docs/restart.md) gets a new, empty one at its first use:
 * its listing is taken again at the READDIR. NULL with *error. */
static struct fs_dir_handle *dir_handle(struct fs_handles *t, uint64_t fh, int *error) {
        struct fs_dir_handle *h = fs_handles_get(t, fh, &dir_handle_kind), *kept;

        if (h)
                return h;
        if (fs_handles_ours(t, fh) || fh == 0) {
                *error = EBADF;
                return NULL;
        }
        h = calloc(1, sizeof(*h));
        if (!h) {
                *error = ENOMEM;
                return NULL;
        }
        kept = fs_handles_adopt(t, fh, &dir_handle_kind, h);
        if (kept != h)
                free(h);
        if (!kept)
                *error = ENOMEM;
        return kept;
}

void fs_dir_open(fuse_req_t req, struct fuse_file_info *fi, struct fs_handles *handles) {
        struct fs_dir_handle *h = calloc(1, sizeof(*h));

        if (!h) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        /* In the table before the reply: the kernel may send a READDIR of
         * it as soon as it has the reply. */
        fi->fh = fs_handles_add(handles, &dir_handle_kind, h);
        if (!fi->fh) {
                free(h);
                fuse_reply_err(req, ENOMEM);
                return;
        }
        fi->cache_readdir = 1;
        fi->keep_cache = 1;
        if (fuse_reply_open(req, fi) != 0)
                free(fs_handles_take(handles, fi->fh, &dir_handle_kind));
}

void fs_dir_read(fuse_req_t req, struct fuse_file_info *fi, struct fs_handles *handles, pthread_mutex_t *lock,
                 struct fs_tree *tree, const struct fs_dir_budget *budget, fuse_ino_t ino, size_t size, off_t offset,
                 bool plus, double timeout) {
        int error = 0;
        struct fs_dir_handle *h = dir_handle(handles, fi->fh, &error);

        if (!h) {
                fuse_reply_err(req, error);
                return;
        }

        /* The kernel serializes READDIRs of one open directory. */
        if (offset == 0 || !h->snapshot) {
                struct fs_dir_snapshot *s = NULL;
                struct fs_node *dir;
                int r;

                pthread_mutex_lock(lock);
                dir = fs_tree_get(tree, ino);
                r = !dir || !fs_node_linked(tree, dir) ? -ENOENT
                    : !S_ISDIR(dir->st.st_mode)        ? -ENOTDIR
                                                       : fs_dir_snapshot_new(dir, NULL, NULL, &s);
                if (r >= 0 && budget) {
                        uint64_t others = *budget->usage - (h->snapshot && h->usage ? h->snapshot->bytes : 0);

                        if (others > budget->limit || s->bytes > budget->limit - others)
                                r = -ENOMEM;
                        else {
                                *budget->usage = others + s->bytes;
                                h->usage = budget->usage;
                        }
                }
                if (r >= 0) {
                        struct fs_dir_snapshot *old = h->snapshot;
                        h->snapshot = TAKE_PTR(s);
                        s = old;
                }
                pthread_mutex_unlock(lock);
                /* The replaced listing, or the new one refused. */
                fs_dir_snapshot_free(s);
                if (r < 0) {
                        fuse_reply_err(req, -r);
                        return;
                }
        }
        if (!plus) {
                fs_dir_snapshot_reply(req, h->snapshot, size, offset);
                return;
        }
        pthread_mutex_lock(lock);
        fs_dir_snapshot_reply_plus(req, h->snapshot, size, offset, tree, timeout);
        pthread_mutex_unlock(lock);
}

void fs_dir_release(fuse_req_t req, struct fuse_file_info *fi, struct fs_handles *handles, pthread_mutex_t *lock) {
        /* A dead daemon's handle never used here has nothing of ours. */
        struct fs_dir_handle *h = fs_handles_take(handles, fi->fh, &dir_handle_kind);

        if (h && h->snapshot && h->usage && lock) {
                pthread_mutex_lock(lock);
                *h->usage -= h->snapshot->bytes;
                pthread_mutex_unlock(lock);
        }
        if (h)
                fs_dir_snapshot_free(h->snapshot);
        free(h);
        fuse_reply_err(req, 0);
}

struct fs_node *fs_view_node(const struct fs_view_tree *v, fuse_ino_t ino) {
        struct fs_node *n = fs_tree_get(v->tree, ino);

        if (!n || (!fs_node_linked(v->tree, n) && !(v->answers_unlinked && v->answers_unlinked(n))))
                return NULL;
        return n;
}

struct fs_node *fs_view_dir(const struct fs_view_tree *v, fuse_ino_t ino, int *error) {
        struct fs_node *n = fs_view_node(v, ino);

        *error = !n ? ENOENT : !S_ISDIR(n->st.st_mode) ? ENOTDIR : !fs_node_linked(v->tree, n) ? ENOENT : 0;
        return *error ? NULL : n;
}

static const struct fs_view_tree *view_tree(fuse_req_t req, fuse_ino_t ino) {
        return fs_mux_data(req, ino);
}

/* How long the kernel may keep n's attributes (st, a copy of them, is
 * what the reply carries). */
static double attr_timeout(const struct fs_view_tree *v, const struct fs_node *n, struct stat *st) {
        if (!v->live || !v->live(n))
                return FS_CACHE_TIMEOUT;
        st->st_mtim = now();
        return 0;
}

void fs_view_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        const struct fs_view_tree *v = view_tree(req, parent);
        struct fuse_entry_param e = {};
        struct fs_node *dir, *n;
        int error;

        pthread_mutex_lock(v->lock);
        dir = fs_view_dir(v, parent, &error);
        if (!dir) {
                pthread_mutex_unlock(v->lock);
                fuse_reply_err(req, error);
                return;
        }
        n = fs_node_child(dir, name);
        if (n) {
                fs_node_entry(n, FS_CACHE_TIMEOUT, &e);
                e.attr_timeout = attr_timeout(v, n, &e.attr);
        } else
                e.entry_timeout = FS_CACHE_TIMEOUT;
        /* Under the lock: the reference is the kernel's only if the reply
         * reached it, and a FORGET for it must not overtake the reply. */
        if (fuse_reply_entry(req, &e) != 0 && n)
                fs_node_forget(v->tree, n, 1);
        pthread_mutex_unlock(v->lock);
}

void fs_view_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        const struct fs_view_tree *v = view_tree(req, ino);
        struct fs_node *n;
        struct stat st;
        double timeout = 0;

        pthread_mutex_lock(v->lock);
        n = fs_view_node(v, ino);
        if (n) {
                st = n->st;
                timeout = attr_timeout(v, n, &st);
        }
        pthread_mutex_unlock(v->lock);
        if (n)
                fuse_reply_attr(req, &st, timeout);
        else
                fuse_reply_err(req, ENOENT);
}

void fs_view_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
        const struct fs_view_tree *v = view_tree(req, ino);
        struct fs_node *n;
        struct stat st;
        double timeout = 0;
        int r;

        pthread_mutex_lock(v->lock);
        n = fs_view_node(v, ino);
        r = n ? v->set_attributes(n, attr, to_set) : -ENOENT;
        if (r >= 0) {
                st = n->st;
                timeout = attr_timeout(v, n, &st);
        }
        pthread_mutex_unlock(v->lock);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_attr(req, &st, timeout);
}

void fs_view_readlink(fuse_req_t req, fuse_ino_t ino) {
        const struct fs_view_tree *v = view_tree(req, ino);
        _cleanup_free_ char *target = NULL;
        struct fs_node *n;
        int error = 0;

        pthread_mutex_lock(v->lock);
        n = fs_view_node(v, ino);
        if (!n || !n->symlink)
                error = n ? EINVAL : ENOENT;
        else if (!(target = strdup(n->symlink)))
                error = ENOMEM;
        pthread_mutex_unlock(v->lock);
        if (error)
                fuse_reply_err(req, error);
        else
                fuse_reply_readlink(req, target);
}

void fs_view_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        const struct fs_view_tree *v = view_tree(req, ino);
        int error;

        pthread_mutex_lock(v->lock);
        (void) fs_view_dir(v, ino, &error);
        pthread_mutex_unlock(v->lock);
        if (error)
                fuse_reply_err(req, error);
        else
                fs_dir_open(req, fi, fs_mux_handles(req));
}

static void view_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi,
                         bool plus) {
        const struct fs_view_tree *v = view_tree(req, ino);

        fs_dir_read(req, fi, fs_mux_handles(req), v->lock, v->tree, v->budget.usage ? &v->budget : NULL, ino, size,
                    offset, plus, plus ? FS_CACHE_TIMEOUT : 0);
}

void fs_view_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
        view_readdir(req, ino, size, offset, fi, false);
}

void fs_view_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
        view_readdir(req, ino, size, offset, fi, true);
}

void fs_view_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        fs_dir_release(req, fi, fs_mux_handles(req), view_tree(req, ino)->lock);
}

void fs_view_forget(void *data, fuse_ino_t ino, uint64_t nlookup) {
        const struct fs_view_tree *v = data;

        pthread_mutex_lock(v->lock);
        fs_tree_forget(v->tree, ino, nlookup);
        pthread_mutex_unlock(v->lock);
}

void fs_view_root_entry(void *data, struct fuse_entry_param *e) {
        const struct fs_view_tree *v = data;

        pthread_mutex_lock(v->lock);
        fs_node_entry(v->tree->root, FS_CACHE_TIMEOUT, e);
        pthread_mutex_unlock(v->lock);
}
