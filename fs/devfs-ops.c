/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The /dev view's FUSE handlers, run by the pool's workers: they read and
 * (like a tmpfs) write the view's tree under its lock. What every view
 * answers alike is fs/node.c's (fs_view_*). */
#include <fcntl.h>
#include <sys/param.h>
#include <sys/statvfs.h>

#include "devfs-file.h"
#include "devfs-internal.h"
#include "policy/policy.h"

/* --- Requests ----------------------------------------------------------- */

static struct devfs *view(fuse_req_t req, fuse_ino_t ino) {
        return container_of(fs_mux_data(req, ino), struct devfs, nodes);
}

/* The container's own unlinked files live on while open, as on any
 * filesystem; entries the daemon took out (a hidden device, its links and
 * directories) are gone for good. */
bool devfs_answers_unlinked(const struct fs_node *n) {
        return n->kind == DEVFS_KIND_USER;
}

static struct fs_node *get_node(struct devfs *v, fuse_ino_t ino) {
        return fs_view_node(&v->nodes, ino);
}

static struct fs_node *get_dir(struct devfs *v, fuse_ino_t ino, int *error) {
        return fs_view_dir(&v->nodes, ino, error);
}

int devfs_set_attributes(struct fs_node *n, const struct stat *attr, int to_set) {
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

/* MKDIR, SYMLINK and CREATE (with fi): an entry of the container's own. */
static void make_own_reply(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, const char *target,
                           struct fuse_file_info *fi) {
        struct devfs *v = view(req, parent);
        struct fuse_entry_param e;
        int r;

        pthread_mutex_lock(&v->lock);
        r = make_own(v, req, parent, name, mode, 0, target, &e);
        reply_made(v, req, r, &e, fi);
        pthread_mutex_unlock(&v->lock);
}

static void devfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
        make_own_reply(req, parent, name, S_IFDIR | (mode & 07777), NULL, NULL);
}

static void devfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
        make_own_reply(req, parent, name, S_IFLNK | 0777, link, NULL);
}

static void devfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
        make_own_reply(req, parent, name, S_IFREG | (mode & 07777), NULL, fi);
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
        FS_VIEW_OPS,
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
        .readdirplus = fs_view_readdirplus,
        .statfs = devfs_statfs,
};

const struct fs_mux_class devfs_class = {
        .ops = &devfs_ops,
        .forget = fs_view_forget,
        .root_entry = fs_view_root_entry,
};
