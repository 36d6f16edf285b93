/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon-wide /proc view: each container's directory, its copy of the
 * devices it sees, and the FUSE requests that read them. */
#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/param.h>
#include <sys/sysmacros.h>

#include "node.h"
#include "procfs-filter.h"
#include "procfs.h"
#include "session.h"

/* /proc/diskstats is one line per block device: thousands of devices are a
 * few hundred KiB. */
#define PROCFS_FILE_MAX (16u << 20)

/* A container's inodes: its number shifted, plus one of these. Numbers
 * are never reused, so an inode names this container's file or nothing. */
enum procfs_file {
        PROCFS_DIR,
        PROCFS_PARTITIONS,
        PROCFS_DISKSTATS,
        PROCFS_BUS,
        PROCFS_BUS_INPUT,
        PROCFS_INPUT_DEVICES,
        PROCFS_BUS_PCI,
        PROCFS_PCI_DEVICES,
        _PROCFS_FILE_MAX,
};
#define PROCFS_INO_SHIFT 3

static const struct {
        enum procfs_file parent;
        const char *name;
        mode_t mode;
        const char *kernel; /* below /proc, for files */
} entries[_PROCFS_FILE_MAX] = {
        [PROCFS_DIR] = { PROCFS_DIR, NULL, S_IFDIR | 0555, NULL },
        [PROCFS_PARTITIONS] = { PROCFS_DIR, "partitions", S_IFREG | 0444, "partitions" },
        [PROCFS_DISKSTATS] = { PROCFS_DIR, "diskstats", S_IFREG | 0444, "diskstats" },
        [PROCFS_BUS] = { PROCFS_DIR, "bus", S_IFDIR | 0555, NULL },
        [PROCFS_BUS_INPUT] = { PROCFS_BUS, "input", S_IFDIR | 0555, NULL },
        [PROCFS_INPUT_DEVICES] = { PROCFS_BUS_INPUT, "devices", S_IFREG | 0444, "bus/input/devices" },
        [PROCFS_BUS_PCI] = { PROCFS_BUS, "pci", S_IFDIR | 0555, NULL },
        /* lspci refuses a /proc/bus/pci without it. */
        [PROCFS_PCI_DEVICES] = { PROCFS_BUS_PCI, "devices", S_IFREG | 0444, "bus/pci/devices" },
};
_Static_assert(_PROCFS_FILE_MAX <= 1u << PROCFS_INO_SHIFT, "a container's inodes must fit below the next one's");

const char *const procfs_files[] = { "partitions", "diskstats", "bus/input/devices", "bus/pci", NULL };

/* The view's copy of one device the container sees. */
struct procfs_device {
        uint64_t id; /* struct device.id */
        char type;
        dev_t devnum;
        char *node;    /* the container's name, or NULL */
        char *devpath; /* "/devices/..." */
        UT_hash_handle hh;        /* by id */
        UT_hash_handle hh_devnum; /* block devices with a node, by devnum */
};

struct procfs_container {
        struct procfs *procfs;
        uint64_t number; /* inode base >> PROCFS_INO_SHIFT */
        char *name;
        struct procfs_device *devices;
        struct procfs_device *blocks; /* hh_devnum */
        UT_hash_handle hh;        /* by name */
        UT_hash_handle hh_number; /* by number */
};

struct procfs {
        pthread_mutex_t lock; /* containers (both tables) and everything in them */
        struct procfs_container *by_name;
        struct procfs_container *by_number;
        uint64_t next_number;
        struct fs_session *session;
};

/* An open file: the text as it was at open. */
struct procfs_handle {
        char *text;
        size_t size;
};

DEFINE_POINTER_CLEANUP(struct fs_dir_snapshot, fs_dir_snapshot_free);

static struct procfs *procfs_of(fuse_req_t req) {
        return fuse_req_userdata(req);
}

/* --- Devices (main loop, under the lock) --------------------------------- */

static void procfs_device_free(struct procfs_device *d) {
        if (!d)
                return;
        free(d->node);
        free(d->devpath);
        free(d);
}

static int procfs_device_new(const struct visible_device *v, struct procfs_device **ret) {
        struct procfs_device *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->id = v->device->id;
        d->type = v->device->type;
        d->devnum = v->device->devnum;
        if ((v->node && !(d->node = strdup(v->node))) || !(d->devpath = strdup(v->device->devpath))) {
                procfs_device_free(d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

static void forget_device(struct procfs_container *c, uint64_t id) {
        struct procfs_device *d;

        HASH_FIND(hh, c->devices, &id, sizeof(id), d);
        if (!d)
                return;
        HASH_DELETE(hh, c->devices, d);
        if (d->type == 'b' && d->node)
                HASH_DELETE(hh_devnum, c->blocks, d);
        procfs_device_free(d);
}

static void remember_device(struct procfs_container *c, struct procfs_device *d) {
        HASH_ADD(hh, c->devices, id, sizeof(d->id), d);
        if (d->type == 'b' && d->node)
                HASH_ADD(hh_devnum, c->blocks, devnum, sizeof(d->devnum), d);
}

void procfs_container_apply(struct procfs_container *c, const struct delta *deltas, size_t n_deltas) {
        pthread_mutex_lock(&c->procfs->lock);
        for (size_t i = 0; i < n_deltas; i++) {
                struct procfs_device *d;

                forget_device(c, deltas[i].device->id);
                if (!deltas[i].new)
                        continue;
                /* Out of memory: the device is left out, never shown wrong. */
                if (procfs_device_new(deltas[i].new, &d) >= 0)
                        remember_device(c, d);
        }
        pthread_mutex_unlock(&c->procfs->lock);
}

/* --- Containers ------------------------------------------------------------ */

static void procfs_container_free(struct procfs_container *c) {
        struct procfs_device *d, *tmp;

        HASH_CLEAR(hh_devnum, c->blocks);
        HASH_ITER(hh, c->devices, d, tmp) {
                HASH_DELETE(hh, c->devices, d);
                procfs_device_free(d);
        }
        free(c->name);
        free(c);
}

int procfs_add_container(struct procfs *p, const char *name, struct procfs_container **ret) {
        struct procfs_container *c, *existing;

        c = calloc(1, sizeof(*c));
        if (!c || !(c->name = strdup(name))) {
                free(c);
                return -ENOMEM;
        }
        c->procfs = p;
        pthread_mutex_lock(&p->lock);
        HASH_FIND_STR(p->by_name, name, existing);
        if (!existing) {
                c->number = p->next_number++;
                HASH_ADD_KEYPTR(hh, p->by_name, c->name, strlen(c->name), c);
                HASH_ADD(hh_number, p->by_number, number, sizeof(c->number), c);
        }
        pthread_mutex_unlock(&p->lock);
        if (existing) {
                procfs_container_free(c);
                return -EEXIST;
        }
        *ret = c;
        return 0;
}

void procfs_remove_container(struct procfs_container *c) {
        struct procfs *p;

        if (!c)
                return;
        p = c->procfs;
        pthread_mutex_lock(&p->lock);
        HASH_DELETE(hh, p->by_name, c);
        HASH_DELETE(hh_number, p->by_number, c);
        pthread_mutex_unlock(&p->lock);
        procfs_container_free(c);
}

/* --- Inodes ------------------------------------------------------------- */

static fuse_ino_t ino_of(uint64_t number, enum procfs_file f) {
        return (fuse_ino_t) (number << PROCFS_INO_SHIFT) | f;
}

/* Under the lock: the container and file an inode names; -ENOENT for a
 * container that is gone. Not for the root. */
static int resolve(struct procfs *p, fuse_ino_t ino, struct procfs_container **ret_c, enum procfs_file *ret_f) {
        uint64_t number = ino >> PROCFS_INO_SHIFT;
        unsigned f = ino & ((1u << PROCFS_INO_SHIFT) - 1);
        struct procfs_container *c;

        if (f >= _PROCFS_FILE_MAX)
                return -ENOENT;
        HASH_FIND(hh_number, p->by_number, &number, sizeof(number), c);
        if (!c)
                return -ENOENT;
        *ret_c = c;
        *ret_f = f;
        return 0;
}

static void fill_stat(fuse_ino_t ino, mode_t mode, struct stat *st) {
        *st = (struct stat){ .st_ino = ino, .st_mode = mode, .st_nlink = S_ISDIR(mode) ? 2 : 1 };
}

/* --- Requests ------------------------------------------------------------- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        struct procfs *p = procfs_of(req);
        struct fuse_entry_param e = { .entry_timeout = FS_CACHE_TIMEOUT, .attr_timeout = FS_CACHE_TIMEOUT };
        struct procfs_container *c;
        enum procfs_file pf;
        int r = -ENOENT;

        pthread_mutex_lock(&p->lock);
        if (parent == FUSE_ROOT_ID) {
                HASH_FIND_STR(p->by_name, name, c);
                if (c) {
                        e.ino = ino_of(c->number, PROCFS_DIR);
                        /* A container of the same name made later is another directory. */
                        e.entry_timeout = 0;
                        r = 0;
                }
        } else if (resolve(p, parent, &c, &pf) >= 0)
                for (unsigned f = 0; f < _PROCFS_FILE_MAX; f++)
                        if (f != PROCFS_DIR && entries[f].parent == pf && streq(entries[f].name, name)) {
                                e.ino = ino_of(c->number, f);
                                r = 0;
                        }
        pthread_mutex_unlock(&p->lock);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        fill_stat(e.ino, entries[e.ino & ((1u << PROCFS_INO_SHIFT) - 1)].mode, &e.attr);
        fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct procfs *p = procfs_of(req);
        struct procfs_container *c;
        enum procfs_file f;
        struct stat st;
        int r;

        if (ino == FUSE_ROOT_ID) {
                fill_stat(ino, S_IFDIR | 0700, &st);
                fuse_reply_attr(req, &st, FS_CACHE_TIMEOUT);
                return;
        }
        pthread_mutex_lock(&p->lock);
        r = resolve(p, ino, &c, &f);
        pthread_mutex_unlock(&p->lock);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        fill_stat(ino, entries[f].mode, &st);
        fuse_reply_attr(req, &st, FS_CACHE_TIMEOUT);
}

static int dir_snapshot_add(struct fs_dir_snapshot *s, const char *name, fuse_ino_t ino, mode_t type) {
        char *copy = strdup(name);

        if (!copy)
                return -ENOMEM;
        s->entries[s->n++] = (struct fs_dir_entry){ .name = copy, .ino = ino, .type = type };
        return 0;
}

/* Under the lock: the listing of ino. */
static int dir_snapshot(struct procfs *p, fuse_ino_t ino, struct fs_dir_snapshot **ret) {
        _cleanup_(fs_dir_snapshot_freep) struct fs_dir_snapshot *s = calloc(1, sizeof(*s));
        struct procfs_container *c, *tmp;
        enum procfs_file pf;
        size_t max;
        int r;

        if (!s)
                return -ENOMEM;
        if (ino != FUSE_ROOT_ID) {
                r = resolve(p, ino, &c, &pf);
                if (r < 0)
                        return r;
                if (!S_ISDIR(entries[pf].mode))
                        return -ENOTDIR;
        }
        max = 2 + (ino == FUSE_ROOT_ID ? HASH_CNT(hh, p->by_name) : _PROCFS_FILE_MAX);
        s->entries = calloc(max, sizeof(*s->entries));
        if (!s->entries)
                return -ENOMEM;
        r = dir_snapshot_add(s, ".", ino, S_IFDIR);
        if (r >= 0)
                r = dir_snapshot_add(s, "..", FUSE_ROOT_ID, S_IFDIR);
        if (r < 0)
                return r;
        if (ino == FUSE_ROOT_ID)
                HASH_ITER(hh, p->by_name, c, tmp) {
                        r = dir_snapshot_add(s, c->name, ino_of(c->number, PROCFS_DIR), S_IFDIR);
                        if (r < 0)
                                return r;
                }
        else
                for (unsigned f = 0; f < _PROCFS_FILE_MAX; f++)
                        if (f != PROCFS_DIR && entries[f].parent == pf) {
                                r = dir_snapshot_add(s, entries[f].name, ino_of(c->number, f),
                                                     entries[f].mode & S_IFMT);
                                if (r < 0)
                                        return r;
                        }
        *ret = TAKE_PTR(s);
        return 0;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct procfs *p = procfs_of(req);
        struct fs_dir_snapshot *s = NULL;
        int r;

        pthread_mutex_lock(&p->lock);
        r = dir_snapshot(p, ino, &s);
        pthread_mutex_unlock(&p->lock);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        fi->fh = (uintptr_t) s;
        if (fuse_reply_open(req, fi) != 0)
                fs_dir_snapshot_free(s);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
        fs_dir_snapshot_reply(req, (const struct fs_dir_snapshot *) (uintptr_t) fi->fh, size, offset);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        fs_dir_snapshot_free((struct fs_dir_snapshot *) (uintptr_t) fi->fh);
        fuse_reply_err(req, 0);
}

static const char *block_name(unsigned major, unsigned minor, void *userdata) {
        struct procfs_container *c = userdata;
        dev_t devnum = makedev(major, minor);
        struct procfs_device *d;

        HASH_FIND(hh_devnum, c->blocks, &devnum, sizeof(devnum), d);
        return d ? d->node : NULL;
}

/* An input device is the container's when it sees it or one of its handlers
 * (event3 is a child of input3 in sysfs). */
static bool input_visible(const char *sysfs_path, void *userdata) {
        struct procfs_container *c = userdata;
        size_t len = strlen(sysfs_path);
        struct procfs_device *d, *tmp;

        HASH_ITER(hh, c->devices, d, tmp)
                if (strncmp(d->devpath, sysfs_path, len) == 0 && (d->devpath[len] == '\0' || d->devpath[len] == '/'))
                        return true;
        return false;
}

/* A handler is a child device (input3/event3) or none of its own (kbd,
 * sysrq, leds). The container's name for a child it sees is its node's; a
 * node-like name ("js0") that is not the container's is left out, whether
 * or not the host has it. */
static const char *input_handler(const char *sysfs_path, const char *handler, void *userdata) {
        struct procfs_container *c = userdata;
        size_t len = strlen(sysfs_path);
        struct procfs_device *d, *tmp;

        HASH_ITER(hh, c->devices, d, tmp)
                if (strncmp(d->devpath, sysfs_path, len) == 0 && d->devpath[len] == '/' &&
                    streq(d->devpath + len + 1, handler)) {
                        const char *slash = d->node ? strrchr(d->node, '/') : NULL;
                        return slash ? slash + 1 : d->node ?: handler;
                }
        return handler[0] && strchr("0123456789", handler[strlen(handler) - 1]) ? NULL : handler;
}

/* The kernel's file to EOF, in a buffer that grows as it fills: most are
 * a few KiB, and a buffer of the largest size would cost a mapping each
 * open. *ret is NUL-terminated; returns the size. */
static int read_kernel_file(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        if (fd < 0)
                return negative_errno();
        for (;;) {
                ssize_t n;

                if (allocated - size < 4096) {
                        char *p;

                        if (allocated >= PROCFS_FILE_MAX)
                                return -EFBIG;
                        allocated = allocated ? allocated * 2 : 16384;
                        p = realloc(buf, allocated + 1);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                }
                n = read(fd, buf + size, allocated - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        return (int) size;
}

/* A PCI device's sysfs name is "DDDD:BB:SS.F". */
static bool pci_visible(unsigned bus, unsigned devfn, void *userdata) {
        struct procfs_container *c = userdata;
        struct procfs_device *d, *tmp;
        char want[32];
        size_t n;

        n = (size_t) snprintf(want, sizeof(want), "/0000:%02x:%02x.%x", bus, devfn >> 3, devfn & 7);
        HASH_ITER(hh, c->devices, d, tmp) {
                size_t len = strlen(d->devpath);
                if (len >= n && streq(d->devpath + len - n, want))
                        return true;
        }
        return false;
}

static int filter(enum procfs_file f, const char *kernel, size_t size, struct procfs_container *c,
                  struct procfs_handle *h) {
        switch (f) {
        case PROCFS_PARTITIONS:
                return procfs_filter_partitions(kernel, size, block_name, c, &h->text, &h->size);
        case PROCFS_DISKSTATS:
                return procfs_filter_diskstats(kernel, size, block_name, c, &h->text, &h->size);
        case PROCFS_INPUT_DEVICES:
                return procfs_filter_input_devices(kernel, size, input_visible, input_handler, c, &h->text, &h->size);
        case PROCFS_PCI_DEVICES:
                return procfs_filter_pci_devices(kernel, size, pci_visible, c, &h->text, &h->size);
        default:
                return -EISDIR;
        }
}

/* The kernel's text now, filtered against what the container sees now. */
static int read_filtered(struct procfs *p, fuse_ino_t ino, struct procfs_handle *h) {
        _cleanup_free_ char *kernel = NULL, *path = NULL;
        struct procfs_container *c;
        enum procfs_file f;
        int r, size;

        pthread_mutex_lock(&p->lock);
        r = resolve(p, ino, &c, &f);
        pthread_mutex_unlock(&p->lock);
        if (r < 0)
                return r;
        if (!entries[f].kernel)
                return -EISDIR;
        if (asprintf(&path, "/proc/%s", entries[f].kernel) < 0)
                return -ENOMEM;
        size = read_kernel_file(path, &kernel);
        /* A kernel without input or PCI support has no such file: nothing to show. */
        if (size == -ENOENT)
                size = 0;
        else if (size < 0)
                return size;

        pthread_mutex_lock(&p->lock);
        /* The container may have gone while the kernel was read. */
        r = resolve(p, ino, &c, &f);
        if (r >= 0)
                r = filter(f, kernel ?: "", (size_t) size, c, h);
        pthread_mutex_unlock(&p->lock);
        return r;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct procfs_handle *h;
        int r;

        if ((fi->flags & O_ACCMODE) != O_RDONLY) {
                fuse_reply_err(req, EACCES);
                return;
        }
        h = calloc(1, sizeof(*h));
        if (!h) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        r = read_filtered(procfs_of(req), ino, h);
        if (r < 0) {
                free(h);
                fuse_reply_err(req, -r);
                return;
        }
        fi->fh = (uintptr_t) h;
        /* The size is unknown until the file is read: no page cache, every
         * read is answered from the text taken at open. */
        fi->direct_io = 1;
        if (fuse_reply_open(req, fi) != 0) {
                free(h->text);
                free(h);
        }
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
        const struct procfs_handle *h = (const struct procfs_handle *) (uintptr_t) fi->fh;
        _cleanup_free_ char *copy = NULL;
        size_t n;

        if (offset < 0 || (size_t) offset >= h->size) {
                fuse_reply_buf(req, NULL, 0);
                return;
        }
        /* Reply from a copy: once the kernel has the reply, the reader may
         * close the file and another worker free the handle while this one
         * is still returning from writev() (ASan checks the buffer then). */
        n = MIN(size, h->size - (size_t) offset);
        copy = malloc(n);
        if (!copy) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        memcpy(copy, h->text + offset, n);
        fuse_reply_buf(req, copy, n);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct procfs_handle *h = (struct procfs_handle *) (uintptr_t) fi->fh;

        free(h->text);
        free(h);
        fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops procfs_ops = {
        .lookup = op_lookup,
        .getattr = op_getattr,
        .opendir = op_opendir,
        .readdir = op_readdir,
        .releasedir = op_releasedir,
        .open = op_open,
        .read = op_read,
        .release = op_release,
};

/* --- The mount ------------------------------------------------------------ */

int procfs_new(struct fuse_pool *pool, const char *mountpoint, struct procfs **ret) {
        struct procfs *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return -ENOMEM;
        pthread_mutex_init(&p->lock, NULL);
        p->next_number = 1;
        r = fs_session_start(&procfs_ops, sizeof(procfs_ops), p, mountpoint, "devsieve-proc",
                             "ro,nosuid,nodev,noexec,allow_other,default_permissions", pool, &p->session);
        if (r < 0) {
                procfs_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

struct procfs *procfs_free(struct procfs *p) {
        if (!p)
                return NULL;
        fs_session_stop(p->session);
        assert(!p->by_name);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}
