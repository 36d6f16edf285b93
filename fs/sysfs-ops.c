/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The /sys view's FUSE handlers, run by the pool's workers. They answer
 * from the view's tree under its lock; the only files with contents are
 * the synthetic uevent files and the writable attributes, both read from
 * (or written to) the host's sysfs outside the lock. */
#include <fcntl.h>
#include <sys/param.h>
#include <unistd.h>

#include "fileio.h"
#include "strv.h"
#include "sysfs-internal.h"
#include "uevent-file.h"

/* A uevent file or attribute is a page in sysfs; so it is here. */
#define SYSFS_FILE_MAX 4096

static struct sysfs_view *view_of(fuse_req_t req, fuse_ino_t ino) {
        return container_of(fs_mux_data(req, ino), struct sysfs_view, nodes);
}

struct shown_device *sysfs_view_find_shown(struct sysfs_view *v, uint64_t id) {
        struct shown_device *s;

        HASH_FIND(hh, v->shown, &id, sizeof(id), s);
        return s;
}

static void op_init(void *userdata, struct fuse_conn_info *conn) {
        /* Links never change in place (a changed one is a new inode), so
         * the kernel may keep their targets: a path through class/ or dev/
         * then costs no round trip. */
        if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
                conn->want |= FUSE_CAP_CACHE_SYMLINKS;
        /* Files are read through the kernel's page cache (op_open). A
         * uevent file's attributes are kept (its size is its length, so a
         * read does not drop its page) and invalidated explicitly when the
         * device changes; a writable attribute's never are, and every
         * GETATTR gives it a new mtime (sysfs_view_live): with this the
         * kernel asks for them at every read and drops the cached page
         * when the mtime moved, so the attribute is read live. */
        if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
                conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
}

bool sysfs_view_live(const struct fs_node *n) {
        return n->kind == SYSFS_NODE_ATTR;
}

/* The file behind ino, copied: the worker then works without the lock. */
static int file_of(struct sysfs_view *v, fuse_ino_t ino, enum sysfs_node_kind *ret_kind, uint64_t *ret_device,
                   char **ret_path) {
        struct fs_node *n;
        int r = 0;

        pthread_mutex_lock(&v->lock);
        n = fs_view_node(&v->nodes, ino);
        if (!n)
                r = -ENOENT;
        else if (S_ISDIR(n->st.st_mode))
                r = -EISDIR;
        else if (n->kind != SYSFS_NODE_UEVENT && n->kind != SYSFS_NODE_ATTR)
                r = -EACCES;
        else {
                const struct sysfs_file *f = n->data;
                *ret_kind = n->kind;
                *ret_device = f->device_id;
                *ret_path = strdup(f->real_path);
                if (!*ret_path)
                        r = -ENOMEM;
        }
        pthread_mutex_unlock(&v->lock);
        return r;
}

/* No OPEN (nor RELEASE) round trip for any file of the connection: at
 * the first ENOSYS the kernel stops sending them (no_open) and keeps each
 * file's pages across opens, as keep_cache did. Nothing here needs a
 * handle: a READ or WRITE names the file by its inode, and the kernel
 * checks permissions (default_permissions) before it would have asked.
 * What per-open flags did is done through attributes instead (op_init):
 * a uevent file's page is invalidated when its device changes, a
 * writable attribute's at every read. */
static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        fuse_reply_err(req, ENOSYS);
}

/* The uevent file as the container sees it: DEVNAME follows its node. */
static int read_uevent(struct sysfs_view *v, uint64_t device, const char *path, char **ret) {
        _cleanup_free_ char *text = NULL, *node = NULL;
        struct shown_device *s;
        int r;

        pthread_mutex_lock(&v->lock);
        s = sysfs_view_find_shown(v, device);
        r = !s ? -ENODEV : (s->node && !(node = strdup(s->node))) ? -ENOMEM : 0;
        pthread_mutex_unlock(&v->lock);
        if (r < 0)
                return r;
        r = read_small_file_at(v->sysfs_fd, path, SYSFS_FILE_MAX, &text);
        if (r < 0)
                return r;
        return uevent_file_rewrite(text, node, ret);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
        struct sysfs_view *v = view_of(req, ino);
        _cleanup_free_ char *path = NULL, *text = NULL;
        enum sysfs_node_kind kind;
        uint64_t device;
        size_t len;
        int r;

        r = file_of(v, ino, &kind, &device, &path);
        if (r >= 0)
                r = kind == SYSFS_NODE_UEVENT ? read_uevent(v, device, path, &text)
                                              : read_small_file_at(v->sysfs_fd, path, SYSFS_FILE_MAX, &text);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        len = strlen(text);
        if (offset < 0 || (size_t) offset >= len)
                fuse_reply_buf(req, NULL, 0);
        else
                fuse_reply_buf(req, text + offset, MIN(size, len - (size_t) offset));
}

static int write_uevent(struct sysfs_view *v, uint64_t device, const char *path, const char *buf, size_t size) {
        _cleanup_free_ char *text = NULL, *devpath = NULL, *subsystem = NULL;
        _cleanup_strv_free_ char **props = NULL;
        struct synth_request request;
        struct shown_device *s;
        int r;

        r = synth_request_parse(buf, size, &request);
        if (r < 0)
                return r;
        r = read_uevent(v, device, path, &text);
        pthread_mutex_lock(&v->lock);
        s = sysfs_view_find_shown(v, device);
        if (r >= 0 && (!s || !(devpath = strdup(s->devpath)) || (s->subsystem && !(subsystem = strdup(s->subsystem)))))
                r = s ? -ENOMEM : -ENODEV;
        if (r >= 0)
                v->stats.synthetic_events++;
        pthread_mutex_unlock(&v->lock);
        if (r >= 0)
                r = synth_event_properties(&request, devpath, subsystem, text, &props);
        synth_request_done(&request);
        if (r < 0)
                return r;
        /* Never to the host's file: no host listener may hear it. */
        v->on_event(TAKE_PTR(props), v->userdata);
        return 0;
}

static int write_attribute(struct sysfs_view *v, const char *path, const char *buf, size_t size) {
        _cleanup_close_ int fd = openat(v->sysfs_fd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n;

        if (fd < 0)
                return negative_errno();
        /* One write, as the container made it: sysfs takes a value per write. */
        n = write(fd, buf, size);
        if (n < 0)
                return negative_errno();
        return (int) n;
}

/* The kernel wrote what the container wrote into the file's cached page
 * too (a write without O_TRUNC over a page it had read) and dropped the
 * file's attributes: a new mtime makes the next read drop that page and
 * read the file again (auto_inval_data). */
static void changed_by_write(struct sysfs_view *v, fuse_ino_t ino) {
        struct fs_node *n;

        pthread_mutex_lock(&v->lock);
        n = fs_view_node(&v->nodes, ino);
        if (n)
                fs_node_touch(n, true);
        pthread_mutex_unlock(&v->lock);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t offset,
                     struct fuse_file_info *fi) {
        struct sysfs_view *v = view_of(req, ino);
        _cleanup_free_ char *path = NULL;
        enum sysfs_node_kind kind;
        uint64_t device;
        int r;

        r = file_of(v, ino, &kind, &device, &path);
        if (r >= 0 && size > SYSFS_FILE_MAX)
                r = -EINVAL;
        if (r >= 0)
                r = kind == SYSFS_NODE_UEVENT ? write_uevent(v, device, path, buf, size)
                                              : write_attribute(v, path, buf, size);
        if (r >= 0 && kind == SYSFS_NODE_UEVENT)
                changed_by_write(v, ino);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_write(req, kind == SYSFS_NODE_UEVENT ? size : (size_t) r);
}

/* Only the truncation "echo x > file" makes before it writes, and that
 * changes nothing: the write that follows goes to the host. */
int sysfs_view_set_attributes(struct fs_node *n, const struct stat *attr, int to_set) {
        if (to_set != FUSE_SET_ATTR_SIZE || attr->st_size != 0 ||
            (n->kind != SYSFS_NODE_UEVENT && n->kind != SYSFS_NODE_ATTR))
                return -EPERM;
        return 0;
}

/* sysfs has no names of its own to make or take away. */
static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
        fuse_reply_err(req, EROFS);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
        fuse_reply_err(req, EROFS);
}

static void op_remove(fuse_req_t req, fuse_ino_t parent, const char *name) {
        fuse_reply_err(req, EROFS);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
        fuse_reply_err(req, EROFS);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
                      unsigned flags) {
        fuse_reply_err(req, EROFS);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
        fuse_reply_err(req, EROFS);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
        fuse_reply_err(req, EROFS);
}

static const struct fuse_lowlevel_ops sysfs_view_ops = {
        FS_VIEW_OPS,
        .init = op_init,
        .mknod = op_mknod,
        .mkdir = op_mkdir,
        .unlink = op_remove,
        .rmdir = op_remove,
        .symlink = op_symlink,
        .rename = op_rename,
        .link = op_link,
        .create = op_create,
        .open = op_open,
        .read = op_read,
        .write = op_write,
};

const struct fs_mux_class sysfs_view_class = {
        .ops = &sysfs_view_ops,
        .forget = fs_view_forget,
        .root_entry = fs_view_root_entry,
};
