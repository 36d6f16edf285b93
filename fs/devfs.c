/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's /dev: the view's state, the deltas that change it and the
 * FUSE requests that read and (like a tmpfs) write it. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/param.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "devfs-file.h"
#include "devfs-tree.h"
#include "devfs.h"
#include "notify.h"
#include "policy/policy.h"
#include "mux.h"
#include "strv.h"

/* What a container may keep in its /dev: tmpfs gives a container half the
 * RAM; a /dev holds sockets, locks and the odd file, not data. */
#define DEVFS_MEMORY_MAX (64u << 20)
#define DEVFS_NODES_MAX 65536u
/* What one entry of the container's costs the daemon besides its name and
 * symlink target: the node, its file record, the hash handles. */
#define DEVFS_ENTRY_COST 256u

/* The view's copy of one visible device: what its entries must show. */
struct devfs_device {
        uint64_t id; /* struct device.id: never reused */
        char type; /* 'c' or 'b' */
        dev_t devnum;
        char *node; /* relative to /dev, or NULL */
        char **symlinks; /* relative to /dev */
        uid_t uid; /* host ids */
        gid_t gid;
        mode_t mode; /* permission bits */
        unsigned access; /* POLICY_ACCESS_* */

        /* Where its entries are (0: not placed). Inode numbers are never
         * reused, so a number names this very entry or nothing. */
        fuse_ino_t node_ino, devnum_link_ino;
        fuse_ino_t *link_inos; /* one per symlink */
        bool conflict; /* the container's own entry holds the node's name */
        bool removed; /* the container unlinked one of its entries: until the next delta */
        UT_hash_handle hh;
};

struct devfs {
        pthread_mutex_t lock; /* tree, devices, memory, apply_errors, root ids */
        struct fs_tree tree;
        struct fs_view_tree nodes; /* what the handlers every view shares see (node.h); the mux's data */
        struct devfs_device *devices; /* by id */
        uint64_t memory; /* bytes held for the container's files */
        uint64_t apply_errors; /* deltas that could not be applied */
        uid_t root_uid;
        gid_t root_gid;

        /* Main loop only: filled under the lock, sent after it. */
        struct fs_notify_queue notify;
        struct fs_mux *mux;
        uint64_t slot; /* 0 until it is in the mux */
        char *mountpoint;
};

/* --- Devices ------------------------------------------------------------ */

static struct devfs_device *devfs_device_free(struct devfs_device *d) {
        if (!d)
                return NULL;
        free(d->node);
        strv_free(d->symlinks);
        free(d->link_inos);
        free(d);
        return NULL;
}
DEFINE_POINTER_CLEANUP(struct devfs_device, devfs_device_free);

static int devfs_device_from_visible(const struct visible_device *v, struct devfs_device **ret) {
        _cleanup_(devfs_device_freep) struct devfs_device *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->id = v->device->id;
        d->type = v->device->type;
        d->devnum = v->device->devnum;
        d->uid = v->uid;
        d->gid = v->gid;
        d->mode = v->mode & 07777;
        d->access = v->access;
        if (v->node && !(d->node = strdup(v->node)))
                return -ENOMEM;
        if (strv_copy(v->symlinks, &d->symlinks) < 0)
                return -ENOMEM;
        d->link_inos = calloc(strv_length(d->symlinks) + 1, sizeof(*d->link_inos));
        if (!d->link_inos)
                return -ENOMEM;
        *ret = TAKE_PTR(d);
        return 0;
}

static bool devfs_device_same_names(const struct devfs_device *a, const struct devfs_device *b) {
        return a->type == b->type && a->devnum == b->devnum && streq_ptr(a->node, b->node) &&
               strv_equal(a->symlinks, b->symlinks);
}

static bool is_device_type(char type) {
        return type == 'c' || type == 'b';
}

static mode_t device_file_type(char type) {
        return type == 'b' ? S_IFBLK : S_IFCHR;
}

/* The entry with this number, if it is still in the tree and is what we
 * placed there. */
static struct fs_node *placed(struct devfs *v, fuse_ino_t ino, unsigned kind) {
        struct fs_node *n = ino ? fs_tree_get(&v->tree, ino) : NULL;

        return n && fs_node_linked(&v->tree, n) && n->kind == kind ? n : NULL;
}

static void unplace_one(struct devfs *v, fuse_ino_t *ino, unsigned kind) {
        struct fs_node *n = placed(v, *ino, kind);

        if (n)
                devfs_tree_remove(&v->tree, n, &v->notify);
        *ino = 0;
}

static void unplace(struct devfs *v, struct devfs_device *d) {
        unplace_one(v, &d->devnum_link_ino, DEVFS_KIND_DEVLINK);
        for (size_t i = 0; d->symlinks && d->symlinks[i]; i++)
                unplace_one(v, &d->link_inos[i], DEVFS_KIND_DEVLINK);
        unplace_one(v, &d->node_ino, DEVFS_KIND_DEVICE);
        d->conflict = false;
}

static int place_link(struct devfs *v, const struct devfs_device *d, const char *path, fuse_ino_t *ino) {
        _cleanup_free_ char *target = NULL;
        struct fs_node *n;
        int r;

        if (placed(v, *ino, DEVFS_KIND_DEVLINK))
                return 0;
        r = devfs_relative_target(path, d->node, &target);
        if (r < 0)
                return r;
        r = devfs_tree_place(&v->tree, path, DEVFS_KIND_DEVLINK, S_IFLNK | 0777, v->root_uid, v->root_gid, 0, target,
                             v->root_uid, v->root_gid, &v->notify, &n);
        /* A name the container holds stays the container's. */
        if (r == -EEXIST)
                return 0;
        if (r < 0)
                return r;
        *ino = n->ino;
        return 0;
}

/* Puts whatever of d's entries is missing into the tree. */
static int place(struct devfs *v, struct devfs_device *d) {
        char devnum_path[64];
        struct fs_node *n;
        int r;

        if (!d->node || !is_device_type(d->type) || d->removed)
                return 0;
        if (!placed(v, d->node_ino, DEVFS_KIND_DEVICE)) {
                r = devfs_tree_place(&v->tree, d->node, DEVFS_KIND_DEVICE, device_file_type(d->type) | d->mode, d->uid,
                                     d->gid, d->devnum, NULL, v->root_uid, v->root_gid, &v->notify, &n);
                d->conflict = r == -EEXIST;
                if (r < 0)
                        return d->conflict ? 0 : r;
                d->node_ino = n->ino;
        }
        for (size_t i = 0; d->symlinks && d->symlinks[i]; i++) {
                r = place_link(v, d, d->symlinks[i], &d->link_inos[i]);
                if (r < 0)
                        return r;
        }
        snprintf(devnum_path, sizeof(devnum_path), "%s/%u:%u", d->type == 'b' ? "block" : "char", major(d->devnum),
                 minor(d->devnum));
        return place_link(v, d, devnum_path, &d->devnum_link_ino);
}

/* Nodes the container made with mknod for a device it may no longer see:
 * keeping them would leak the device. */
static void remove_user_nodes(struct devfs *v, char type, dev_t devnum) {
        mode_t want = device_file_type(type);
        struct fs_node *n, *tmp;
        bool again = true;

        /* Removing may free other nodes (the directories above): start over
         * after each, rather than walk on with a stale iterator. */
        while (again) {
                again = false;
                HASH_ITER (hh_ino, v->tree.by_ino, n, tmp)
                        if (n->kind == DEVFS_KIND_USER && fs_node_linked(&v->tree, n) &&
                            (n->st.st_mode & S_IFMT) == want && n->st.st_rdev == devnum) {
                                devfs_tree_remove(&v->tree, n, &v->notify);
                                again = true;
                                break;
                        }
        }
}

/* The kernel may be instantiating n's inode from a LOOKUP reply sent just
 * before the change: inval_inode finds no inode then and the old attributes
 * would stick. An entry notification waits for the directory lock that the
 * lookup holds, so expiring the name as well closes that window. Expire,
 * not invalidate: the runtime may have mounted over n (pts, shm, a bind
 * over a node), and an invalidation would detach that mount. */
static void queue_attributes_changed(struct devfs *v, struct fs_node *n) {
        (void) fs_notify_add_inode(&v->notify, n->ino);
        if (n->parent)
                (void) fs_notify_add_expire(&v->notify, n->parent->ino, n->name);
}

static void update_attributes(struct devfs *v, struct devfs_device *d, const struct devfs_device *now) {
        struct fs_node *n = placed(v, d->node_ino, DEVFS_KIND_DEVICE);

        d->uid = now->uid;
        d->gid = now->gid;
        d->mode = now->mode;
        d->access = now->access;
        if (!n || (n->st.st_uid == d->uid && n->st.st_gid == d->gid && (n->st.st_mode & 07777) == d->mode))
                return;
        n->st.st_uid = d->uid;
        n->st.st_gid = d->gid;
        n->st.st_mode = (n->st.st_mode & S_IFMT) | d->mode;
        fs_node_touch(n, false);
        queue_attributes_changed(v, n);
}

static int apply_one(struct devfs *v, const struct delta *delta) {
        _cleanup_(devfs_device_freep) struct devfs_device *now = NULL;
        struct devfs_device *d;
        uint64_t id = delta->device->id;
        int r;

        HASH_FIND(hh, v->devices, &id, sizeof(id), d);
        if (delta->kind == DELTA_HIDDEN || !delta->new) {
                if (!d)
                        return 0;
                unplace(v, d);
                if (is_device_type(d->type))
                        remove_user_nodes(v, d->type, d->devnum);
                HASH_DEL(v->devices, d);
                devfs_device_free(d);
                return 0;
        }

        r = devfs_device_from_visible(delta->new, &now);
        if (r < 0)
                return r;
        if (d && devfs_device_same_names(d, now)) {
                update_attributes(v, d, now);
                d->removed = false;
                return place(v, d);
        }
        if (d) {
                unplace(v, d);
                if (is_device_type(d->type) && (d->type != now->type || d->devnum != now->devnum))
                        remove_user_nodes(v, d->type, d->devnum);
                HASH_DEL(v->devices, d);
                devfs_device_free(d);
        }
        d = TAKE_PTR(now);
        HASH_ADD(hh, v->devices, id, sizeof(d->id), d);
        return place(v, d);
}

void devfs_apply(struct devfs *v, const struct delta *deltas, size_t n_deltas) {
        struct devfs_device *d, *tmp;

        pthread_mutex_lock(&v->lock);
        /* Every delta, whatever an earlier one's fate; failures are counted
         * (status). */
        for (size_t i = 0; i < n_deltas; i++)
                v->apply_errors += apply_one(v, &deltas[i]) < 0;
        /* A name the container has given up since the last batch goes to
         * the device that wanted it. Not at once from the request: the
         * kernel must learn of the new entry, and only this thread may tell
         * it. */
        HASH_ITER (hh, v->devices, d, tmp)
                if (d->conflict)
                        (void) place(v, d);
        pthread_mutex_unlock(&v->lock);

        (void) fs_notify_flush(&v->notify, fs_mux_session(v->mux));
}

void devfs_set_root_owner(struct devfs *v, uid_t uid, gid_t gid) {
        struct fs_node *n, *tmp;

        pthread_mutex_lock(&v->lock);
        /* What the daemon made for the container follows its root; what
         * the container made itself keeps the owner it gave. */
        HASH_ITER (hh_ino, v->tree.by_ino, n, tmp) {
                if (n->kind == DEVFS_KIND_USER || n->kind == DEVFS_KIND_DEVICE)
                        continue;
                if (n->st.st_uid != v->root_uid || n->st.st_gid != v->root_gid)
                        continue;
                n->st.st_uid = uid;
                n->st.st_gid = gid;
                fs_node_touch(n, false);
                queue_attributes_changed(v, n);
        }
        v->root_uid = uid;
        v->root_gid = gid;
        pthread_mutex_unlock(&v->lock);

        (void) fs_notify_flush(&v->notify, fs_mux_session(v->mux));
}

void devfs_get_stats(struct devfs *v, struct devfs_stats *ret) {
        struct devfs_device *d, *dtmp;
        struct fs_node *n, *tmp;

        *ret = (struct devfs_stats){};
        pthread_mutex_lock(&v->lock);
        HASH_ITER (hh_ino, v->tree.by_ino, n, tmp) {
                if (!fs_node_linked(&v->tree, n))
                        continue;
                if (n->kind == DEVFS_KIND_DEVICE)
                        ret->device_nodes++;
                else if (n->kind == DEVFS_KIND_USER)
                        ret->user_entries++;
        }
        HASH_ITER (hh, v->devices, d, dtmp)
                ret->conflicts += d->conflict;
        ret->memory_bytes = v->memory;
        ret->apply_errors = v->apply_errors;
        pthread_mutex_unlock(&v->lock);
}

/* --- Requests ----------------------------------------------------------- */

static struct devfs *view(fuse_req_t req, fuse_ino_t ino) {
        return container_of(fs_mux_data(req, ino), struct devfs, nodes);
}

/* The container's own unlinked files live on while open, as on any
 * filesystem; entries the daemon took out (a hidden device, its links and
 * directories) are gone for good. */
static bool answers_unlinked(const struct fs_node *n) {
        return n->kind == DEVFS_KIND_USER;
}

static struct fs_node *get_node(struct devfs *v, fuse_ino_t ino) {
        return fs_view_node(&v->nodes, ino);
}

static struct fs_node *get_dir(struct devfs *v, fuse_ino_t ino, int *error) {
        return fs_view_dir(&v->nodes, ino, error);
}

static int set_attributes(struct fs_node *n, const struct stat *attr, int to_set) {
        struct devfs_file *f = n->data;
        struct timespec now;
        int r;

        /* Device nodes (also those made by mknod), their links and
         * directories carry what the policy says; the container cannot
         * change that. */
        if ((to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) &&
            (!devfs_kind_is_own(n->kind) || S_ISCHR(n->st.st_mode) || S_ISBLK(n->st.st_mode)))
                return -EPERM;
        if (to_set & FUSE_SET_ATTR_SIZE) {
                if (S_ISDIR(n->st.st_mode))
                        return -EISDIR;
                if (!S_ISREG(n->st.st_mode) || !f)
                        return -EINVAL;
                r = devfs_file_truncate(f, attr->st_size);
                if (r < 0)
                        return r;
                n->st.st_size = attr->st_size;
                fs_node_touch(n, true);
        }
        if (to_set & FUSE_SET_ATTR_MODE)
                n->st.st_mode = (n->st.st_mode & S_IFMT) | (attr->st_mode & 07777);
        if (to_set & FUSE_SET_ATTR_UID)
                n->st.st_uid = attr->st_uid;
        if (to_set & FUSE_SET_ATTR_GID)
                n->st.st_gid = attr->st_gid;
        clock_gettime(CLOCK_REALTIME, &now);
        if (to_set & FUSE_SET_ATTR_ATIME)
                n->st.st_atim = attr->st_atim;
        if (to_set & FUSE_SET_ATTR_ATIME_NOW)
                n->st.st_atim = now;
        if (to_set & FUSE_SET_ATTR_MTIME)
                n->st.st_mtim = attr->st_mtim;
        if (to_set & FUSE_SET_ATTR_MTIME_NOW)
                n->st.st_mtim = now;
        n->st.st_ctim = (to_set & FUSE_SET_ATTR_CTIME) ? attr->st_ctim : now;
        return 0;
}

static uint64_t entry_cost(const char *name, const char *target) {
        return DEVFS_ENTRY_COST + strlen(name) + 1 + (target ? strlen(target) + 1 : 0);
}

/* Makes an entry of the container's own in parent. */
static int make_own(struct devfs *v, fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev,
                    const char *target, struct fuse_entry_param *e) {
        const struct fuse_ctx *ctx = fuse_req_ctx(req);
        uid_t uid = ctx->uid;
        gid_t gid = ctx->gid;
        struct fs_node *dir, *n;
        int error, r;

        dir = get_dir(v, parent, &error);
        if (!dir)
                return -error;
        /* The kernel passes names up to FUSE's own limit (1024). */
        if (strlen(name) > NAME_MAX)
                return -ENAMETOOLONG;
        if (HASH_CNT(hh_ino, v->tree.by_ino) >= DEVFS_NODES_MAX)
                return -ENOSPC;
        /* Set-group-ID directories hand their group down, as on any
         * filesystem. */
        if (dir->st.st_mode & S_ISGID) {
                gid = dir->st.st_gid;
                if (S_ISDIR(mode))
                        mode |= S_ISGID;
        }
        r = fs_node_new(&v->tree, dir, name, mode, uid, gid, rdev, target, &n);
        if (r < 0)
                return r;
        n->kind = DEVFS_KIND_USER;
        /* Every entry, not only files, is counted against the container's
         * memory: names and symlink targets cost too. */
        r = devfs_file_new(&v->memory, DEVFS_MEMORY_MAX, (struct devfs_file **) &n->data);
        if (r >= 0)
                r = devfs_file_set_overhead(n->data, entry_cost(name, target));
        if (r < 0) {
                fs_node_unlink(&v->tree, n);
                return r;
        }
        fs_node_entry(n, FS_CACHE_TIMEOUT, e);
        return 0;
}

/* mknod of a device node: only a device the container sees and may mknod,
 * and then with the attributes its policy gives. */
static int make_device(struct devfs *v, fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev,
                       struct fuse_entry_param *e) {
        struct devfs_device *d, *tmp;
        char type = S_ISBLK(mode) ? 'b' : 'c';

        HASH_ITER (hh, v->devices, d, tmp)
                if (d->type == type && d->devnum == rdev && (d->access & POLICY_ACCESS_MKNOD)) {
                        int r = make_own(v, req, parent, name, (mode & S_IFMT) | d->mode, rdev, NULL, e);
                        struct fs_node *n = r >= 0 ? fs_tree_get(&v->tree, e->ino) : NULL;

                        if (n) {
                                n->st.st_uid = d->uid;
                                n->st.st_gid = d->gid;
                                e->attr = n->st;
                        }
                        return r;
                }
        /* The same answer whether the device exists on the host or not. */
        return -EPERM;
}

/* Under the lock, as for LOOKUP: the reference make_own counted is the
 * kernel's only once the reply reached it, and a FORGET for it must not
 * overtake the reply. */
static void reply_made(struct devfs *v, fuse_req_t req, int r, const struct fuse_entry_param *e,
                       struct fuse_file_info *fi) {
        struct fs_node *n;

        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        if ((fi ? fuse_reply_create(req, e, fi) : fuse_reply_entry(req, e)) == 0)
                return;
        n = fs_tree_get(&v->tree, e->ino);
        if (n)
                fs_node_forget(&v->tree, n, 1);
}

static void devfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
        struct devfs *v = view(req, parent);
        struct fuse_entry_param e;
        int r = -EINVAL;

        pthread_mutex_lock(&v->lock);
        if (S_ISCHR(mode) || S_ISBLK(mode))
                r = make_device(v, req, parent, name, mode, rdev, &e);
        else if (S_ISFIFO(mode) || S_ISSOCK(mode) || S_ISREG(mode))
                r = make_own(v, req, parent, name, mode, 0, NULL, &e);
        reply_made(v, req, r, &e, NULL);
        pthread_mutex_unlock(&v->lock);
}

static void devfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
        struct devfs *v = view(req, parent);
        struct fuse_entry_param e;
        int r;

        pthread_mutex_lock(&v->lock);
        r = make_own(v, req, parent, name, S_IFDIR | (mode & 07777), 0, NULL, &e);
        reply_made(v, req, r, &e, NULL);
        pthread_mutex_unlock(&v->lock);
}

static void devfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
        struct devfs *v = view(req, parent);
        struct fuse_entry_param e;
        int r;

        pthread_mutex_lock(&v->lock);
        r = make_own(v, req, parent, name, S_IFLNK | 0777, 0, link, &e);
        reply_made(v, req, r, &e, NULL);
        pthread_mutex_unlock(&v->lock);
}

static void devfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
        struct devfs *v = view(req, parent);
        struct fuse_entry_param e;
        int r;

        pthread_mutex_lock(&v->lock);
        r = make_own(v, req, parent, name, S_IFREG | (mode & 07777), 0, NULL, &e);
        reply_made(v, req, r, &e, fi);
        pthread_mutex_unlock(&v->lock);
}

/* The container removed an entry: its own go, a device's entries are
 * hidden until the next delta about that device. */
static void removed_by_container(struct devfs *v, struct fs_node *n) {
        struct devfs_device *d, *tmp;

        if (n->kind == DEVFS_KIND_DEVICE || n->kind == DEVFS_KIND_DEVLINK)
                HASH_ITER (hh, v->devices, d, tmp) {
                        bool ours = d->node_ino == n->ino || d->devnum_link_ino == n->ino;

                        for (size_t i = 0; !ours && d->symlinks && d->symlinks[i]; i++)
                                ours = d->link_inos[i] == n->ino;
                        if (ours) {
                                d->removed = true;
                                break;
                        }
                }
        fs_node_unlink(&v->tree, n);
}

static int remove_entry(struct devfs *v, fuse_ino_t parent, const char *name, bool dir_wanted) {
        struct fs_node *dir, *n;
        int error;

        dir = get_dir(v, parent, &error);
        if (!dir)
                return -error;
        n = fs_node_child(dir, name);
        if (!n)
                return -ENOENT;
        if (dir_wanted && !S_ISDIR(n->st.st_mode))
                return -ENOTDIR;
        if (!dir_wanted && S_ISDIR(n->st.st_mode))
                return -EISDIR;
        if (dir_wanted && n->children)
                return -ENOTEMPTY;
        removed_by_container(v, n);
        return 0;
}

static void devfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
        struct devfs *v = view(req, parent);
        int r;

        pthread_mutex_lock(&v->lock);
        r = remove_entry(v, parent, name, false);
        pthread_mutex_unlock(&v->lock);
        fuse_reply_err(req, -r);
}

static void devfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
        struct devfs *v = view(req, parent);
        int r;

        pthread_mutex_lock(&v->lock);
        r = remove_entry(v, parent, name, true);
        pthread_mutex_unlock(&v->lock);
        fuse_reply_err(req, -r);
}

static bool is_below(const struct fs_node *n, const struct fs_node *dir) {
        for (; n; n = n->parent)
                if (n == dir)
                        return true;
        return false;
}

static int move_entry(struct devfs *v, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
                      unsigned flags) {
        struct fs_node *dir, *newdir, *n, *old;
        int error, r;

        if (flags & ~RENAME_NOREPLACE)
                return -EINVAL;
        dir = get_dir(v, parent, &error);
        newdir = dir ? get_dir(v, newparent, &error) : NULL;
        if (!newdir)
                return -error;
        n = fs_node_child(dir, name);
        if (!n)
                return -ENOENT;
        /* Devices, their links and directories stay where the policy put
         * them. */
        if (!devfs_kind_is_own(n->kind))
                return -EPERM;
        if (S_ISDIR(n->st.st_mode) && is_below(newdir, n))
                return -EINVAL;
        if (strlen(newname) > NAME_MAX)
                return -ENAMETOOLONG;
        old = fs_node_child(newdir, newname);
        if (old == n)
                return 0;
        if (old) {
                if (flags & RENAME_NOREPLACE)
                        return -EEXIST;
                if (!devfs_kind_is_own(old->kind))
                        return -EPERM;
                if (S_ISDIR(n->st.st_mode) && !S_ISDIR(old->st.st_mode))
                        return -ENOTDIR;
                if (!S_ISDIR(n->st.st_mode) && S_ISDIR(old->st.st_mode))
                        return -EISDIR;
                if (old->children)
                        return -ENOTEMPTY;
        }
        /* The new name is counted instead of the old one. */
        if (n->kind == DEVFS_KIND_USER && n->data) {
                r = devfs_file_set_overhead(n->data, entry_cost(newname, n->symlink));
                if (r < 0)
                        return r;
        }
        if (old)
                fs_node_unlink(&v->tree, old);
        r = fs_node_move(n, newdir, newname);
        if (r < 0 && n->kind == DEVFS_KIND_USER && n->data)
                (void) devfs_file_set_overhead(n->data, entry_cost(n->name, n->symlink));
        return r;
}

static void devfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
                         unsigned int flags) {
        struct devfs *v = view(req, parent);
        int r;

        pthread_mutex_lock(&v->lock);
        r = move_entry(v, parent, name, newparent, newname, flags);
        pthread_mutex_unlock(&v->lock);
        fuse_reply_err(req, -r);
}

static void devfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
        /* An inode has one name in the tree. */
        fuse_reply_err(req, EPERM);
}

static void devfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct devfs *v = view(req, ino);
        struct fs_node *n;
        int error = 0;

        pthread_mutex_lock(&v->lock);
        n = get_node(v, ino);
        if (!n)
                error = ENOENT;
        else if (!S_ISREG(n->st.st_mode) || !n->data)
                error = EINVAL;
        else if (fi->flags & O_TRUNC) {
                /* FUSE_CAP_ATOMIC_O_TRUNC: no SETATTR follows. */
                error = -devfs_file_truncate(n->data, 0);
                if (!error) {
                        n->st.st_size = 0;
                        fs_node_touch(n, true);
                }
        }
        pthread_mutex_unlock(&v->lock);
        if (error)
                fuse_reply_err(req, error);
        else
                fuse_reply_open(req, fi);
}

static void devfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        struct devfs *v = view(req, ino);
        _cleanup_free_ char *buf = malloc(size ?: 1);
        size_t n = 0;
        int error = buf ? 0 : ENOMEM;

        if (buf) {
                struct fs_node *node;

                pthread_mutex_lock(&v->lock);
                node = get_node(v, ino);
                if (!node || !node->data)
                        error = node ? EINVAL : ENOENT;
                else
                        n = devfs_file_read(node->data, buf, size, off);
                pthread_mutex_unlock(&v->lock);
        }
        if (error)
                fuse_reply_err(req, error);
        else
                fuse_reply_buf(req, buf, n);
}

static void devfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                        struct fuse_file_info *fi) {
        struct devfs *v = view(req, ino);
        struct fs_node *n;
        ssize_t r = -ENOENT;

        pthread_mutex_lock(&v->lock);
        n = get_node(v, ino);
        if (n && !n->data)
                r = -EINVAL;
        else if (n) {
                r = devfs_file_write(n->data, buf, size, off);
                if (r >= 0) {
                        n->st.st_size = (off_t) ((struct devfs_file *) n->data)->size;
                        fs_node_touch(n, true);
                }
        }
        pthread_mutex_unlock(&v->lock);
        if (r < 0)
                fuse_reply_err(req, (int) -r);
        else
                fuse_reply_write(req, (size_t) r);
}

static void devfs_statfs(fuse_req_t req, fuse_ino_t ino) {
        struct devfs *v = view(req, ino);
        struct statvfs st = {.f_bsize = 4096, .f_frsize = 4096, .f_namemax = NAME_MAX};
        uint64_t memory, nodes;

        pthread_mutex_lock(&v->lock);
        memory = MIN(v->memory, DEVFS_MEMORY_MAX);
        nodes = MIN(HASH_CNT(hh_ino, v->tree.by_ino), DEVFS_NODES_MAX);
        pthread_mutex_unlock(&v->lock);
        st.f_blocks = DEVFS_MEMORY_MAX / 4096;
        st.f_bfree = st.f_bavail = (DEVFS_MEMORY_MAX - memory) / 4096;
        st.f_files = DEVFS_NODES_MAX;
        st.f_ffree = st.f_favail = DEVFS_NODES_MAX - nodes;
        fuse_reply_statfs(req, &st);
}

/* No extended attributes at all (no getxattr/listxattr/setxattr): the
 * kernel answers EOPNOTSUPP for every node alike after the first ENOSYS,
 * so they can tell nothing about any device. */
static const struct fuse_lowlevel_ops devfs_ops = {
        .lookup = fs_view_lookup,
        .getattr = fs_view_getattr,
        .setattr = fs_view_setattr,
        .readlink = fs_view_readlink,
        .mknod = devfs_mknod,
        .mkdir = devfs_mkdir,
        .symlink = devfs_symlink,
        .unlink = devfs_unlink,
        .rmdir = devfs_rmdir,
        .rename = devfs_rename,
        .link = devfs_link,
        .create = devfs_create,
        .open = devfs_open,
        .read = devfs_read,
        .write = devfs_write,
        .opendir = fs_view_opendir,
        .readdir = fs_view_readdir,
        .readdirplus = fs_view_readdirplus,
        .releasedir = fs_view_releasedir,
        .statfs = devfs_statfs,
};

/* --- Life --------------------------------------------------------------- */

static void free_node_data(struct fs_node *n) {
        devfs_file_free(n->data);
}

/* What the OCI runtime specification puts into every container's /dev
 * besides devices; runtimes mount devpts, shm and mqueue over the
 * directories. */
static int add_skeleton(struct devfs *v) {
        static const struct {
                const char *name;
                mode_t mode;
                const char *target;
        } skeleton[] = {
                {"fd", S_IFLNK | 0777, "/proc/self/fd"},
                {"stdin", S_IFLNK | 0777, "/proc/self/fd/0"},
                {"stdout", S_IFLNK | 0777, "/proc/self/fd/1"},
                {"stderr", S_IFLNK | 0777, "/proc/self/fd/2"},
                {"ptmx", S_IFLNK | 0777, "pts/ptmx"},
                {"pts", S_IFDIR | 0755, NULL},
                {"shm", S_IFDIR | 01777, NULL},
                {"mqueue", S_IFDIR | 01777, NULL},
        };

        for (size_t i = 0; i < ELEMENTSOF(skeleton); i++) {
                struct fs_node *n;
                int r = fs_node_new(&v->tree, v->tree.root, skeleton[i].name, skeleton[i].mode, v->root_uid,
                                    v->root_gid, 0, skeleton[i].target, &n);
                if (r < 0)
                        return r;
                n->kind = DEVFS_KIND_SKELETON;
        }
        return 0;
}

static const struct fs_mux_class devfs_class = {
        .ops = &devfs_ops,
        .forget = fs_view_forget,
        .root_entry = fs_view_root_entry,
};

int devfs_mux_new(struct fuse_pool *pool, const char *mountpoint, struct fs_mux **ret) {
        return fs_mux_new(pool, &devfs_class, mountpoint, "devsieve-dev", "dev,nosuid,allow_other,default_permissions",
                          ret);
}

int devfs_new(struct fs_mux *mux, const char *mountpoint, uid_t root_uid, gid_t root_gid, struct devfs **ret) {
        _cleanup_(devfs_freep) struct devfs *v = NULL;
        fuse_ino_t first;
        int r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        pthread_mutex_init(&v->lock, NULL);
        v->nodes = (struct fs_view_tree){
                .lock = &v->lock,
                .tree = &v->tree,
                .answers_unlinked = answers_unlinked,
                .set_attributes = set_attributes,
                /* Listings count against the same memory as the container's files. */
                .budget = { .usage = &v->memory, .limit = DEVFS_MEMORY_MAX },
        };
        v->mux = mux;
        v->root_uid = root_uid;
        v->root_gid = root_gid;
        r = fs_mux_add(mux, &v->nodes, &v->slot, &first);
        if (r < 0) {
                v->slot = 0;
                return r;
        }
        r = fs_tree_init_at(&v->tree, first, first + FS_MUX_SLOT_INODES - 2, 0755, root_uid, root_gid,
                            free_node_data);
        if (r < 0)
                return r;
        v->tree.root->kind = DEVFS_KIND_SKELETON;
        r = add_skeleton(v);
        if (r < 0)
                return r;

        r = fs_mux_bind(mux, v->slot, mountpoint);
        if (r < 0)
                return r;
        v->mountpoint = strdup(mountpoint);
        if (!v->mountpoint) {
                (void) umount2(mountpoint, MNT_DETACH);
                return -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

struct devfs *devfs_free(struct devfs *v) {
        struct devfs_device *d, *tmp;

        if (!v)
                return NULL;
        /* Lazy: the container may still have it bound at its /dev; its
         * copy gets ENOTCONN from now on. */
        if (v->mountpoint)
                (void) umount2(v->mountpoint, MNT_DETACH);
        /* Then no worker may be inside a handler while the tree goes. */
        if (v->slot)
                fs_mux_remove(v->mux, v->slot);
        HASH_ITER (hh, v->devices, d, tmp) {
                HASH_DEL(v->devices, d);
                devfs_device_free(d);
        }
        if (v->tree.root)
                fs_tree_done(&v->tree);
        fs_notify_queue_done(&v->notify);
        pthread_mutex_destroy(&v->lock);
        free(v->mountpoint);
        free(v);
        return NULL;
}
