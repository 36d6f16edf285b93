/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/param.h>
#include <uthash.h>

#include "mux.h"
#include "node.h"
#include "notify.h"

struct mux_slot {
        uint64_t slot;
        void *data;
        unsigned in_flight; /* workers inside one of the view's handlers */
        bool closing;
        bool bound;         /* adopted: its bind is there already */
        UT_hash_handle hh;
};

struct fs_mux {
        const struct fs_mux_class *class;
        struct fuse_lowlevel_ops ops; /* the wrappers of what class->ops has */
        struct fs_session *session;
        char *mountpoint;
        pthread_mutex_t lock;
        pthread_cond_t idle; /* a closing slot's in_flight reached 0 */
        struct mux_slot *slots;
        uint64_t next_slot;
        bool quiet; /* fs_mux_quiet(): removing a view tells the kernel nothing */
        uint64_t adopt_slot; /* fs_mux_adopt_slot(): what the next fs_mux_add() takes */
        /* Directory handles given to the kernel, of this process and of
         * the previous ones on an adopted connection (fs/handles.h). */
        struct fs_handles handles;
        /* Until fs_mux_adopted(): requests of others than this process are
         * left unanswered (the kernel queues them again then), so that no
         * container sees a view half restored. */
        bool adopting;
        pid_t own_pid;
        /* Notifications made while adopting: sent once the containers'
         * requests are served. An invalidation waits for the directory's
         * lock, which a request put off holds until it is answered. */
        struct fs_notify_queue deferred;
};

static uint64_t slot_of(fuse_ino_t ino) {
        return ino >> FS_MUX_SLOT_SHIFT;
}

static struct mux_slot *find_locked(struct fs_mux *m, uint64_t slot) {
        struct mux_slot *s;

        HASH_FIND(hh, m->slots, &slot, sizeof(slot), s);
        return s;
}

/* NULL unless slot is a live view. */
static struct mux_slot *hold(struct fs_mux *m, uint64_t slot) {
        struct mux_slot *s;

        pthread_mutex_lock(&m->lock);
        s = find_locked(m, slot);
        if (s && s->closing)
                s = NULL;
        if (s)
                s->in_flight++;
        pthread_mutex_unlock(&m->lock);
        return s;
}

/* While an adopted connection's views are made again: a request of a
 * container is dropped without an answer (it stays with the kernel, which
 * sends it again at fs_mux_adopted()); the daemon's own (its mounts below
 * the /sys views) are served. */
static bool put_off(struct fs_mux *m, fuse_req_t req) {
        if (!__atomic_load_n(&m->adopting, __ATOMIC_ACQUIRE) || fuse_req_ctx(req)->pid == m->own_pid)
                return false;
        fuse_reply_none(req);
        return true;
}

/* NULL (and the request answered) unless ino is a live view's. */
static struct mux_slot *enter(struct fs_mux *m, fuse_req_t req, fuse_ino_t ino) {
        struct mux_slot *s;

        if (put_off(m, req))
                return NULL;

        if (slot_of(ino) == 0) {
                /* The connection's root: only bound views live below it. */
                fuse_reply_err(req, EPERM);
                return NULL;
        }
        s = hold(m, slot_of(ino));
        if (!s)
                fuse_reply_err(req, ENOTCONN);
        return s;
}

static void leave(struct fs_mux *m, struct mux_slot *s) {
        pthread_mutex_lock(&m->lock);
        if (--s->in_flight == 0 && s->closing)
                pthread_cond_broadcast(&m->idle);
        pthread_mutex_unlock(&m->lock);
}

void *fs_mux_data(fuse_req_t req, fuse_ino_t ino) {
        struct fs_mux *m = fuse_req_userdata(req);
        struct mux_slot *s;

        /* The wrapper that called the handler holds the slot. */
        pthread_mutex_lock(&m->lock);
        s = find_locked(m, slot_of(ino));
        pthread_mutex_unlock(&m->lock);
        return s ? s->data : NULL;
}

struct fuse_session *fs_mux_session(const struct fs_mux *m) {
        return m->session->se;
}

/* --- The connection's root ---------------------------------------------- */

static void root_stat(struct stat *st) {
        *st = (struct stat){ .st_ino = FUSE_ROOT_ID, .st_mode = S_IFDIR | 0700, .st_nlink = 2, .st_blksize = 4096 };
}

static void root_lookup(struct fs_mux *m, fuse_req_t req, const char *name) {
        struct fuse_entry_param e = {};
        struct mux_slot *s;
        char *end;
        uint64_t slot;

        if (put_off(m, req))
                return;

        errno = 0;
        slot = strtoull(name, &end, 10);
        if (errno != 0 || *end || end == name || slot == 0 || slot >= ((uint64_t) 1 << (64 - FS_MUX_SLOT_SHIFT))) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        s = hold(m, slot);
        if (!s) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        m->class->root_entry(s->data, &e);
        if (fuse_reply_entry(req, &e) != 0)
                m->class->forget(s->data, e.ino, 1);
        leave(m, s);
}

/* --- Wrappers ----------------------------------------------------------- */

#define MUX(req) ((struct fs_mux *) fuse_req_userdata(req))

/* Calls the class's op for the view ino belongs to. */
#define FORWARD(req, ino, op, ...)                                           \
        do {                                                                 \
                struct fs_mux *m_ = MUX(req);                                \
                struct mux_slot *s_ = enter(m_, req, ino);                   \
                if (s_) {                                                    \
                        m_->class->ops->op(req, __VA_ARGS__);                \
                        leave(m_, s_);                                       \
                }                                                            \
        } while (0)

static void mux_init(void *userdata, struct fuse_conn_info *conn) {
        struct fs_mux *m = userdata;

        m->class->ops->init(NULL, conn);
}

static void mux_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        if (parent == FUSE_ROOT_ID)
                root_lookup(MUX(req), req, name);
        else
                FORWARD(req, parent, lookup, parent, name);
}

static void forget_one(struct fs_mux *m, fuse_ino_t ino, uint64_t nlookup) {
        struct mux_slot *s;

        if (slot_of(ino) == 0)
                return;
        s = hold(m, slot_of(ino));
        /* A removed view's nodes are gone already. */
        if (!s)
                return;
        m->class->forget(s->data, ino, nlookup);
        leave(m, s);
}

static void mux_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
        forget_one(MUX(req), ino, nlookup);
        fuse_reply_none(req);
}

static void mux_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
        for (size_t i = 0; i < count; i++)
                forget_one(MUX(req), forgets[i].ino, forgets[i].nlookup);
        fuse_reply_none(req);
}

static void mux_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct stat st;

        if (ino != FUSE_ROOT_ID) {
                FORWARD(req, ino, getattr, ino, fi);
                return;
        }
        root_stat(&st);
        fuse_reply_attr(req, &st, FS_CACHE_TIMEOUT);
}

static void mux_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
        FORWARD(req, ino, setattr, ino, attr, to_set, fi);
}

static void mux_readlink(fuse_req_t req, fuse_ino_t ino) {
        FORWARD(req, ino, readlink, ino);
}

static void mux_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
        FORWARD(req, parent, mknod, parent, name, mode, rdev);
}

static void mux_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
        FORWARD(req, parent, mkdir, parent, name, mode);
}

static void mux_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
        FORWARD(req, parent, unlink, parent, name);
}

static void mux_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
        FORWARD(req, parent, rmdir, parent, name);
}

static void mux_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
        struct fs_mux *m = MUX(req);
        struct mux_slot *s = enter(m, req, parent);

        if (s) {
                m->class->ops->symlink(req, link, parent, name);
                leave(m, s);
        }
}

/* Views are separate filesystems: the kernel only checks that both
 * directories are on one mount, which the connection's root is. */
static void mux_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                       const char *newname, unsigned flags) {
        if (slot_of(parent) != slot_of(newparent)) {
                fuse_reply_err(req, EXDEV);
                return;
        }
        FORWARD(req, parent, rename, parent, name, newparent, newname, flags);
}

static void mux_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
        if (slot_of(ino) != slot_of(newparent)) {
                fuse_reply_err(req, EXDEV);
                return;
        }
        FORWARD(req, ino, link, ino, newparent, newname);
}

static void mux_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
        FORWARD(req, parent, create, parent, name, mode, fi);
}

static void mux_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        FORWARD(req, ino, open, ino, fi);
}

static void mux_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        FORWARD(req, ino, read, ino, size, off, fi);
}

static void mux_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                      struct fuse_file_info *fi) {
        FORWARD(req, ino, write, ino, buf, size, off, fi);
}

static void mux_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        FORWARD(req, ino, release, ino, fi);
}

struct fs_handles *fs_mux_handles(fuse_req_t req) {
        return &MUX(req)->handles;
}

static void mux_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        if (ino == FUSE_ROOT_ID) {
                fi->fh = 0;
                fuse_reply_open(req, fi);
                return;
        }
        FORWARD(req, ino, opendir, ino, fi);
}

static void mux_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        if (ino != FUSE_ROOT_ID) {
                FORWARD(req, ino, readdir, ino, size, off, fi);
                return;
        }
        /* Views are found by name only: nobody learns of another's. */
        fuse_reply_buf(req, NULL, 0);
}

static void mux_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        if (ino != FUSE_ROOT_ID) {
                FORWARD(req, ino, readdirplus, ino, size, off, fi);
                return;
        }
        fuse_reply_buf(req, NULL, 0);
}

/* Also for a removed view: what a handle holds must be freed. A live
 * view's releasedir gives back what the listing counted against it; a
 * removed view's handle is only freed (fs_dir_release without a lock
 * touches nothing of the view). */
static void mux_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct fs_mux *m = MUX(req);
        struct mux_slot *s;

        if (ino == FUSE_ROOT_ID) {
                fuse_reply_err(req, 0);
                return;
        }
        if (put_off(m, req))
                return;
        s = hold(m, slot_of(ino));
        if (!s) {
                fs_dir_release(req, fi, &m->handles, NULL);
                return;
        }
        m->class->ops->releasedir(req, ino, fi);
        leave(m, s);
}

static void mux_statfs(fuse_req_t req, fuse_ino_t ino) {
        struct statvfs st = { .f_bsize = 4096, .f_frsize = 4096, .f_namemax = NAME_MAX };

        if (ino != FUSE_ROOT_ID) {
                FORWARD(req, ino, statfs, ino);
                return;
        }
        fuse_reply_statfs(req, &st);
}

/* Only what the class implements: for the rest the kernel gets ENOSYS
 * from libfuse, as it did from a session of its own. */
static void make_ops(const struct fuse_lowlevel_ops *c, struct fuse_lowlevel_ops *o) {
#define WRAP(op) o->op = c->op ? mux_##op : NULL
        WRAP(init);
        WRAP(setattr);
        WRAP(readlink);
        WRAP(mknod);
        WRAP(mkdir);
        WRAP(unlink);
        WRAP(rmdir);
        WRAP(symlink);
        WRAP(rename);
        WRAP(link);
        WRAP(create);
        WRAP(open);
        WRAP(read);
        WRAP(write);
        WRAP(release);
        WRAP(readdirplus);
#undef WRAP
        /* The root needs these whatever the views do. */
        o->lookup = mux_lookup;
        o->forget = mux_forget;
        o->forget_multi = mux_forget_multi;
        o->getattr = mux_getattr;
        o->opendir = mux_opendir;
        o->readdir = mux_readdir;
        o->releasedir = mux_releasedir;
        o->statfs = c->statfs ? mux_statfs : NULL;
}

/* --- Life --------------------------------------------------------------- */

static int mux_alloc(const struct fs_mux_class *class, const char *mountpoint, uint32_t generation,
                     struct fs_mux **ret) {
        _cleanup_(fs_mux_freep) struct fs_mux *m = NULL;
        int r;

        /* The root answers these itself, for the views the class must. */
        if (!class->ops->lookup || !class->ops->getattr || !class->ops->opendir || !class->ops->readdir ||
            !class->ops->releasedir || !class->forget || !class->root_entry)
                return -EINVAL;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->class = class;
        m->next_slot = 1;
        pthread_mutex_init(&m->lock, NULL);
        pthread_cond_init(&m->idle, NULL);
        r = fs_handles_init(&m->handles, generation);
        if (r < 0)
                return r;
        make_ops(class->ops, &m->ops);
        m->mountpoint = strdup(mountpoint);
        if (!m->mountpoint)
                return -ENOMEM;
        *ret = TAKE_PTR(m);
        return 0;
}

int fs_mux_new(struct fuse_pool *pool, const struct fs_mux_class *class, const char *mountpoint, const char *fsname,
               const char *options, struct fs_mux **ret) {
        _cleanup_(fs_mux_freep) struct fs_mux *m = NULL;
        int r;

        /* Nobody before us on a connection of our own. */
        r = mux_alloc(class, mountpoint, 1, &m);
        if (r < 0)
                return r;
        r = fs_session_start(&m->ops, sizeof(m->ops), m, mountpoint, fsname, options, pool, &m->session);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int fs_mux_adopt(struct fuse_pool *pool, const struct fs_mux_class *class, const char *mountpoint, int fd,
                 uint64_t next_slot, uint32_t generation, struct fs_mux **ret) {
        _cleanup_(fs_mux_freep) struct fs_mux *m = NULL;
        _cleanup_close_ int owned = fd;
        int r;

        r = mux_alloc(class, mountpoint, generation, &m);
        if (r < 0)
                return r;
        m->adopting = true;
        m->own_pid = getpid();
        m->next_slot = MAX(next_slot, (uint64_t) 1);
        r = fs_session_adopt(&m->ops, sizeof(m->ops), m, TAKE_FD(owned), mountpoint, pool, &m->session);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int fs_mux_adopted(struct fs_mux *m) {
        int r;

        if (!m->adopting)
                return 0;
        __atomic_store_n(&m->adopting, false, __ATOMIC_RELEASE);
        r = fs_session_resend(m->session);
        /* Now the requests that hold directories' locks get answers. The
         * views made their mounts meanwhile (the /sys views' device
         * directories): an entry is only expired, whatever is mounted on
         * it stays (an invalidation would detach it). */
        for (size_t i = 0; i < m->deferred.n; i++)
                if (m->deferred.items[i].kind == FS_NOTIFY_INVAL_ENTRY)
                        m->deferred.items[i].kind = FS_NOTIFY_EXPIRE_ENTRY;
        (void) fs_notify_flush(&m->deferred, m->session->se);
        return r;
}

int fs_mux_flush(struct fs_mux *m, struct fs_notify_queue *q) {
        if (m->adopting)
                return fs_notify_move(&m->deferred, q);
        return fs_notify_flush(q, m->session->se);
}

int fs_mux_fd(const struct fs_mux *m) {
        return fuse_session_fd(m->session->se);
}

uint32_t fs_mux_generation(const struct fs_mux *m) {
        return m->handles.generation;
}

uint64_t fs_mux_next_slot(const struct fs_mux *m) {
        return m->next_slot;
}

void fs_mux_adopt_slot(struct fs_mux *m, uint64_t slot) {
        m->adopt_slot = slot;
}

bool fs_mux_adopting_slot(const struct fs_mux *m) {
        return m->adopt_slot != 0;
}

struct fs_mux *fs_mux_free(struct fs_mux *m) {
        struct mux_slot *s, *tmp;

        if (!m)
                return NULL;
        fs_session_stop(m->session);
        HASH_ITER(hh, m->slots, s, tmp) {
                HASH_DEL(m->slots, s);
                free(s);
        }
        /* No request comes any more: what the kernel never released. */
        fs_handles_done(&m->handles);
        fs_notify_queue_done(&m->deferred);
        pthread_cond_destroy(&m->idle);
        pthread_mutex_destroy(&m->lock);
        free(m->mountpoint);
        free(m);
        return NULL;
}

int fs_mux_add(struct fs_mux *m, void *data, uint64_t *ret_slot, fuse_ino_t *ret_first_ino) {
        struct mux_slot *s;

        /* Never reused (see mux.h); 2^32 views in one daemon's life. */
        if (m->next_slot >= ((uint64_t) 1 << (64 - FS_MUX_SLOT_SHIFT)))
                return -ENOSPC;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->data = data;
        pthread_mutex_lock(&m->lock);
        if (m->adopt_slot && !find_locked(m, m->adopt_slot)) {
                /* The previous daemon's view, bound where it was. */
                s->slot = m->adopt_slot;
                s->bound = true;
                m->next_slot = MAX(m->next_slot, s->slot + 1);
        } else
                s->slot = m->next_slot++;
        m->adopt_slot = 0;
        HASH_ADD(hh, m->slots, slot, sizeof(s->slot), s);
        pthread_mutex_unlock(&m->lock);
        *ret_slot = s->slot;
        *ret_first_ino = s->slot << FS_MUX_SLOT_SHIFT | 1;
        return 0;
}

int fs_mux_bind(struct fs_mux *m, uint64_t slot, const char *mountpoint) {
        _cleanup_free_ char *source = NULL;
        struct mux_slot *s;
        bool bound;

        pthread_mutex_lock(&m->lock);
        s = find_locked(m, slot);
        bound = s && s->bound;
        pthread_mutex_unlock(&m->lock);
        if (bound)
                return 0;

        if (asprintf(&source, "%s/%" PRIu64, m->mountpoint, slot) < 0)
                return -ENOMEM;
        if (mount(source, mountpoint, NULL, MS_BIND, NULL) < 0)
                return negative_errno();
        return 0;
}

void fs_mux_remove(struct fs_mux *m, uint64_t slot) {
        char name[21];
        struct mux_slot *s;

        pthread_mutex_lock(&m->lock);
        s = find_locked(m, slot);
        if (!s) {
                pthread_mutex_unlock(&m->lock);
                return;
        }
        s->closing = true;
        while (s->in_flight > 0)
                pthread_cond_wait(&m->idle, &m->lock);
        HASH_DEL(m->slots, s);
        pthread_mutex_unlock(&m->lock);
        free(s);

        if (m->quiet)
                return;
        /* ENOENT: the kernel had not cached it. */
        snprintf(name, sizeof(name), "%" PRIu64, slot);
        if (m->adopting)
                (void) fs_notify_add_entry(&m->deferred, FUSE_ROOT_ID, name);
        else
                (void) fuse_lowlevel_notify_inval_entry(m->session->se, FUSE_ROOT_ID, name, strlen(name));
}

uint64_t fs_mux_pool_id(const struct fs_mux *m) {
        return m->session->pool_id;
}

void fs_mux_quiet(struct fs_mux *m) {
        m->quiet = true;
}
