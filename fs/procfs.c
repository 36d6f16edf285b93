/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon-wide /proc view: each container's directory, its copy of the
 * devices it sees, and the FUSE requests that read them. */
#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/param.h>
#include <sys/sysmacros.h>

#include "fileio.h"
#include "node.h"
#include "procfs-filter.h"
#include "procfs.h"
#include "session.h"

/* /proc/diskstats is one line per block device: thousands of devices are a
 * few hundred KiB. */
#define PROCFS_FILE_MAX (16u << 20)

/* A container's fixed entries. Numbers of containers are never reused, so
 * an inode names this container's entry or nothing. */
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
/* A container's inodes: its number shifted by this, plus a local number:
 * a fixed entry, or a PCI entry (PCI_BUS_BASE, PCI_CONFIG_BASE). */
#define PROCFS_INO_SHIFT 20

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
        struct procfs_container_stats stats; /* devices is counted when asked */
        uid_t root_uid; /* host ids of the container's root: the owner of its files */
        gid_t root_gid;
        UT_hash_handle hh;        /* by name */
        UT_hash_handle hh_number; /* by number */
};

struct procfs {
        pthread_mutex_t lock; /* containers (both tables) and everything in them */
        struct procfs_container *by_name;
        struct procfs_container *by_number;
        uint64_t next_number;
        uint64_t adopt_number; /* procfs_adopt_number(): what the next container gets */
        struct fs_session *session;
        /* Adopted: until procfs_adopted() others' requests are put off. */
        bool adopting;
        pid_t own_pid;
        /* Open files and listings given to the kernel, of this process and
         * of the previous ones on an adopted connection (fs/handles.h). */
        struct fs_handles handles;
};

/* An open file: the text as it was at open, or a PCI device's
 * configuration space. */
struct procfs_handle {
        char *text;
        size_t size;
        int fd; /* the host's configuration-space file, or -EBADF */
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
                else
                        c->stats.dropped++;
        }
        pthread_mutex_unlock(&c->procfs->lock);
}

void procfs_container_get_stats(struct procfs_container *c, struct procfs_container_stats *ret) {
        pthread_mutex_lock(&c->procfs->lock);
        *ret = c->stats;
        ret->devices = HASH_CNT(hh, c->devices);
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
        if (!existing && p->adopt_number) {
                struct procfs_container *taken;

                HASH_FIND(hh_number, p->by_number, &p->adopt_number, sizeof(p->adopt_number), taken);
                if (!taken) {
                        /* The previous daemon's directory, bound where it was. */
                        c->number = p->adopt_number;
                        p->next_number = MAX(p->next_number, c->number + 1);
                }
        }
        p->adopt_number = 0;
        if (!existing) {
                if (!c->number)
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

/* Below a container's number, an inode is one of the fixed entries, a bus
 * directory of /proc/bus/pci or a PCI device's configuration space. */
#define PCI_BUS_BASE 0x100u    /* + bus */
#define PCI_CONFIG_BASE 0x10000u /* + (bus << 8 | devfn) */

static fuse_ino_t ino_of(uint64_t number, unsigned local) {
        return (fuse_ino_t) (number << PROCFS_INO_SHIFT) | local;
}

static bool is_pci_bus(unsigned local) {
        return local >= PCI_BUS_BASE && local < PCI_BUS_BASE + 0x100;
}

static bool is_pci_config(unsigned local) {
        return local >= PCI_CONFIG_BASE && local < PCI_CONFIG_BASE + 0x10000;
}

static mode_t local_mode(unsigned local) {
        if (local < _PROCFS_FILE_MAX)
                return entries[local].mode;
        return is_pci_bus(local) ? S_IFDIR | 0555 : S_IFREG | 0444;
}

/* The bus and devfn of a PCI device of domain 0000 ("/devices/.../0000:BB:SS.F"). */
static bool pci_slot_of(const char *devpath, unsigned *ret_bus, unsigned *ret_devfn) {
        const char *base = strrchr(devpath, '/');
        unsigned bus, slot, func;
        char again[16];

        base = base ? base + 1 : devpath;
        if (strlen(base) != 12 || sscanf(base, "0000:%2x:%2x.%1x", &bus, &slot, &func) != 3 || slot > 0x1f ||
            func > 7)
                return false;
        /* Exactly the kernel's spelling, nothing sscanf let through. */
        snprintf(again, sizeof(again), "0000:%02x:%02x.%x", bus, slot, func);
        if (!streq(again, base))
                return false;
        *ret_bus = bus;
        *ret_devfn = slot << 3 | func;
        return true;
}

static bool pci_visible(unsigned bus, unsigned devfn, void *userdata) {
        struct procfs_container *c = userdata;
        struct procfs_device *d, *tmp;
        unsigned b, f;

        HASH_ITER(hh, c->devices, d, tmp)
                if (pci_slot_of(d->devpath, &b, &f) && b == bus && f == devfn)
                        return true;
        return false;
}

static bool pci_bus_visible(struct procfs_container *c, unsigned bus) {
        struct procfs_device *d, *tmp;
        unsigned b, f;

        HASH_ITER(hh, c->devices, d, tmp)
                if (pci_slot_of(d->devpath, &b, &f) && b == bus)
                        return true;
        return false;
}

/* Under the lock: the container and entry an inode names; -ENOENT for a
 * container that is gone or a PCI device it no longer sees. Not for the
 * root. */
static int resolve(struct procfs *p, fuse_ino_t ino, struct procfs_container **ret_c, unsigned *ret_local) {
        uint64_t number = ino >> PROCFS_INO_SHIFT;
        unsigned local = ino & ((1u << PROCFS_INO_SHIFT) - 1);
        struct procfs_container *c;

        HASH_FIND(hh_number, p->by_number, &number, sizeof(number), c);
        if (!c)
                return -ENOENT;
        if (local >= _PROCFS_FILE_MAX &&
            !(is_pci_bus(local) && pci_bus_visible(c, local - PCI_BUS_BASE)) &&
            !(is_pci_config(local) &&
              pci_visible((local - PCI_CONFIG_BASE) >> 8, (local - PCI_CONFIG_BASE) & 0xff, c)))
                return -ENOENT;
        *ret_c = c;
        *ret_local = local;
        return 0;
}

/* Under the lock: the entry called name in directory parent. */
static int lookup_child(struct procfs_container *c, unsigned parent, const char *name, unsigned *ret) {
        unsigned bus, slot, func;
        char again[16];

        for (unsigned f = 0; f < _PROCFS_FILE_MAX; f++)
                if (f != PROCFS_DIR && entries[f].parent == parent && parent < _PROCFS_FILE_MAX &&
                    streq(entries[f].name, name)) {
                        *ret = f;
                        return 0;
                }
        if (parent == PROCFS_BUS_PCI && strlen(name) == 2 && sscanf(name, "%2x", &bus) == 1) {
                snprintf(again, sizeof(again), "%02x", bus);
                if (streq(again, name) && pci_bus_visible(c, bus)) {
                        *ret = PCI_BUS_BASE + bus;
                        return 0;
                }
        }
        if (is_pci_bus(parent) && strlen(name) == 4 && sscanf(name, "%2x.%1x", &slot, &func) == 2 && slot <= 0x1f &&
            func <= 7) {
                bus = parent - PCI_BUS_BASE;
                snprintf(again, sizeof(again), "%02x.%x", slot, func);
                if (streq(again, name) && pci_visible(bus, slot << 3 | func, c)) {
                        *ret = PCI_CONFIG_BASE + (bus << 8 | slot << 3 | func);
                        return 0;
                }
        }
        return -ENOENT;
}

/* The host's configuration-space file of a PCI entry. */
static int pci_config_path(unsigned local, char **ret) {
        unsigned bus = (local - PCI_CONFIG_BASE) >> 8, devfn = (local - PCI_CONFIG_BASE) & 0xff;

        return asprintf(ret, "/proc/bus/pci/%02x/%02x.%x", bus, devfn >> 3, devfn & 7) < 0 ? -ENOMEM : 0;
}

/* A configuration space is 256 or 4096 bytes, as the host's file says. */
static int fill_stat(fuse_ino_t ino, unsigned local, uid_t uid, gid_t gid, struct stat *st) {
        *st = (struct stat){ .st_ino = ino,
                             .st_mode = local_mode(local),
                             .st_nlink = S_ISDIR(local_mode(local)) ? 2 : 1,
                             .st_uid = uid,
                             .st_gid = gid };
        if (is_pci_config(local)) {
                _cleanup_free_ char *path = NULL;
                struct stat host;

                if (pci_config_path(local, &path) < 0)
                        return -ENOMEM;
                if (stat(path, &host) < 0)
                        return negative_errno();
                st->st_size = host.st_size;
        }
        return 0;
}

void procfs_container_set_root_owner(struct procfs_container *c, uid_t uid, gid_t gid) {
        pthread_mutex_lock(&c->procfs->lock);
        c->root_uid = uid;
        c->root_gid = gid;
        pthread_mutex_unlock(&c->procfs->lock);
        /* The kernel keeps the fixed entries' attributes for a day (the
         * runtime looked them up to bind them before it attached): it must
         * ask again. PCI entries are never cached. ENOENT: not looked up. */
        /* Not while adopting: nothing may wait on a request put off (an
         * adopted container's owner is the one the kernel has). */
        if (c->procfs->adopting)
                return;
        for (unsigned f = 0; f < _PROCFS_FILE_MAX; f++)
                (void) fuse_lowlevel_notify_inval_inode(c->procfs->session->se, ino_of(c->number, f), 0, 0);
}

/* --- Requests ------------------------------------------------------------- */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        struct procfs *p = procfs_of(req);
        struct fuse_entry_param e = { .entry_timeout = FS_CACHE_TIMEOUT, .attr_timeout = FS_CACHE_TIMEOUT };
        struct procfs_container *c = NULL;
        unsigned pl, local = 0;
        uid_t uid = 0;
        gid_t gid = 0;
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
        } else {
                r = resolve(p, parent, &c, &pl);
                if (r >= 0)
                        r = lookup_child(c, pl, name, &local);
                if (r >= 0)
                        e.ino = ino_of(c->number, local);
        }
        if (r >= 0) {
                uid = c->root_uid;
                gid = c->root_gid;
        }
        pthread_mutex_unlock(&p->lock);
        /* What a PCI device's entries show comes and goes with the device:
         * ask again each time rather than invalidate. */
        if (is_pci_bus(local) || is_pci_config(local))
                e.entry_timeout = e.attr_timeout = 0;
        if (r >= 0)
                r = fill_stat(e.ino, local, uid, gid, &e.attr);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct procfs *p = procfs_of(req);
        struct procfs_container *c;
        unsigned local;
        struct stat st;
        uid_t uid = 0;
        gid_t gid = 0;
        int r;

        if (ino == FUSE_ROOT_ID) {
                st = (struct stat){ .st_ino = ino, .st_mode = S_IFDIR | 0700, .st_nlink = 2 };
                fuse_reply_attr(req, &st, FS_CACHE_TIMEOUT);
                return;
        }
        pthread_mutex_lock(&p->lock);
        r = resolve(p, ino, &c, &local);
        if (r >= 0) {
                uid = c->root_uid;
                gid = c->root_gid;
        }
        pthread_mutex_unlock(&p->lock);
        if (r >= 0)
                r = fill_stat(ino, local, uid, gid, &st);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        fuse_reply_attr(req, &st, local < _PROCFS_FILE_MAX ? FS_CACHE_TIMEOUT : 0);
}

static int dir_snapshot_add(struct fs_dir_snapshot *s, const char *name, fuse_ino_t ino, mode_t type) {
        char *copy = strdup(name);

        if (!copy)
                return -ENOMEM;
        s->entries[s->n++] = (struct fs_dir_entry){ .name = copy, .ino = ino, .type = type };
        return 0;
}

/* Under the lock: the PCI entries of directory local (its buses, or a
 * bus's devices), each once. */
static int list_pci(struct procfs_container *c, unsigned local, struct fs_dir_snapshot *s) {
        struct procfs_device *d, *tmp;
        bool listed[256] = {};
        unsigned bus, devfn;
        char name[16];
        int r;

        HASH_ITER(hh, c->devices, d, tmp) {
                if (!pci_slot_of(d->devpath, &bus, &devfn))
                        continue;
                if (local == PROCFS_BUS_PCI && !listed[bus]) {
                        listed[bus] = true;
                        snprintf(name, sizeof(name), "%02x", bus);
                        r = dir_snapshot_add(s, name, ino_of(c->number, PCI_BUS_BASE + bus), S_IFDIR);
                } else if (is_pci_bus(local) && bus == local - PCI_BUS_BASE && !listed[devfn]) {
                        listed[devfn] = true;
                        snprintf(name, sizeof(name), "%02x.%x", devfn >> 3, devfn & 7);
                        r = dir_snapshot_add(s, name, ino_of(c->number, PCI_CONFIG_BASE + (bus << 8 | devfn)),
                                             S_IFREG);
                } else
                        continue;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Under the lock: the listing of ino. */
static int dir_snapshot(struct procfs *p, fuse_ino_t ino, struct fs_dir_snapshot **ret) {
        _cleanup_(fs_dir_snapshot_freep) struct fs_dir_snapshot *s = calloc(1, sizeof(*s));
        struct procfs_container *c, *tmp;
        unsigned local = 0;
        size_t max;
        int r;

        if (!s)
                return -ENOMEM;
        if (ino != FUSE_ROOT_ID) {
                r = resolve(p, ino, &c, &local);
                if (r < 0)
                        return r;
                if (!S_ISDIR(local_mode(local)))
                        return -ENOTDIR;
        }
        max = 2 + (ino == FUSE_ROOT_ID ? HASH_CNT(hh, p->by_name) : _PROCFS_FILE_MAX + 256);
        s->entries = calloc(max, sizeof(*s->entries));
        if (!s->entries)
                return -ENOMEM;
        r = dir_snapshot_add(s, ".", ino, S_IFDIR);
        if (r >= 0)
                r = dir_snapshot_add(s, "..", FUSE_ROOT_ID, S_IFDIR);
        if (r < 0)
                return r;
        if (ino == FUSE_ROOT_ID) {
                HASH_ITER(hh, p->by_name, c, tmp) {
                        r = dir_snapshot_add(s, c->name, ino_of(c->number, PROCFS_DIR), S_IFDIR);
                        if (r < 0)
                                return r;
                }
        } else {
                for (unsigned f = 0; f < _PROCFS_FILE_MAX && local < _PROCFS_FILE_MAX; f++)
                        if (f != PROCFS_DIR && entries[f].parent == local) {
                                r = dir_snapshot_add(s, entries[f].name, ino_of(c->number, f),
                                                     entries[f].mode & S_IFMT);
                                if (r < 0)
                                        return r;
                        }
                if (local == PROCFS_BUS_PCI || is_pci_bus(local)) {
                        r = list_pci(c, local, s);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static void dir_free(void *object) {
        fs_dir_snapshot_free(object);
}

static const struct fs_handle_kind dir_kind = { "listing", dir_free };

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
        /* In the table before the reply: a READDIR may follow at once. */
        fi->fh = fs_handles_add(&p->handles, &dir_kind, s);
        if (!fi->fh) {
                fs_dir_snapshot_free(s);
                fuse_reply_err(req, ENOMEM);
                return;
        }
        if (fuse_reply_open(req, fi) != 0)
                fs_dir_snapshot_free(fs_handles_take(&p->handles, fi->fh, &dir_kind));
}

static int reopen_dir(struct procfs *p, fuse_ino_t ino, void **ret) {
        struct fs_dir_snapshot *s = NULL;
        int r;

        pthread_mutex_lock(&p->lock);
        r = dir_snapshot(p, ino, &s);
        pthread_mutex_unlock(&p->lock);
        if (r >= 0)
                *ret = s;
        return r;
}

static void *own_handle(struct procfs *p, fuse_ino_t ino, uint64_t fh, const struct fs_handle_kind *kind,
                        int *ret_error);

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
        int error = 0;
        const struct fs_dir_snapshot *s = own_handle(procfs_of(req), ino, fi->fh, &dir_kind, &error);

        if (!s)
                fuse_reply_err(req, error);
        else
                fs_dir_snapshot_reply(req, s, size, offset);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        /* A dead daemon's listing never read here: nothing of ours. */
        fs_dir_snapshot_free(fs_handles_take(&procfs_of(req)->handles, fi->fh, &dir_kind));
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

/* The kernel's file to EOF. Most are a few KiB: the first read takes
 * them whole, so a device coming or going cannot fall between two reads. */
static int read_kernel_file(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        if (fd < 0)
                return negative_errno();
        r = read_fd_bounded(fd, PROCFS_FILE_MAX + 1, 64 * 1024, &buf, &size);
        if (r < 0)
                return r;
        if (size > PROCFS_FILE_MAX)
                return -EFBIG;
        *ret = TAKE_PTR(buf);
        return (int) size;
}

static int filter(unsigned f, const char *kernel, size_t size, struct procfs_container *c, struct procfs_handle *h) {
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

/* A device's configuration space is the host's file, read on each READ
 * (it is live); the entry's checks ran at lookup and run again at read. */
static int open_pci_config(unsigned local, struct procfs_handle *h) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = pci_config_path(local, &path);
        if (r < 0)
                return r;
        h->fd = open(path, O_RDONLY | O_CLOEXEC);
        return h->fd < 0 ? negative_errno() : 0;
}

/* The kernel's text now, filtered against what the container sees now. */
static int open_handle(struct procfs *p, fuse_ino_t ino, struct procfs_handle *h) {
        _cleanup_free_ char *kernel = NULL, *path = NULL;
        struct procfs_container *c;
        unsigned f;
        int r, size;

        pthread_mutex_lock(&p->lock);
        r = resolve(p, ino, &c, &f);
        pthread_mutex_unlock(&p->lock);
        if (r < 0)
                return r;
        if (is_pci_config(f))
                return open_pci_config(f, h);
        if (f >= _PROCFS_FILE_MAX || !entries[f].kernel)
                return -EISDIR;
        if (asprintf(&path, "/proc/%s", entries[f].kernel) < 0)
                return -ENOMEM;
        size = read_kernel_file(path, &kernel);
        /* A kernel without input or PCI support has no such file: nothing to show. */
        if (size == -ENOENT)
                size = 0;

        pthread_mutex_lock(&p->lock);
        /* The container may have gone while the kernel was read. */
        r = resolve(p, ino, &c, &f);
        if (r >= 0) {
                r = size < 0 ? size : filter(f, kernel ?: "", (size_t) size, c, h);
                if (r < 0)
                        c->stats.open_errors++;
                else
                        c->stats.opens++;
        }
        pthread_mutex_unlock(&p->lock);
        return r;
}

static struct procfs_handle *procfs_handle_free(struct procfs_handle *h) {
        if (!h)
                return NULL;
        safe_close(h->fd);
        free(h->text);
        free(h);
        return NULL;
}
DEFINE_POINTER_CLEANUP(struct procfs_handle, procfs_handle_free);

static void file_free(void *object) {
        procfs_handle_free(object);
}

static const struct fs_handle_kind file_kind = { "file", file_free };

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        _cleanup_(procfs_handle_freep) struct procfs_handle *h = NULL;
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
        h->fd = -EBADF;
        r = open_handle(procfs_of(req), ino, h);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        /* In the table before the reply: a READ may follow at once. */
        fi->fh = fs_handles_add(&procfs_of(req)->handles, &file_kind, h);
        if (!fi->fh) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        TAKE_PTR(h);
        /* The size is unknown until the file is read: no page cache, every
         * read is answered from the text taken at open (or the device). */
        fi->direct_io = 1;
        if (fuse_reply_open(req, fi) != 0)
                procfs_handle_free(fs_handles_take(&procfs_of(req)->handles, fi->fh, &file_kind));
}

/* A PCI device the container stopped seeing is read no more. */
static void read_pci_config(fuse_req_t req, fuse_ino_t ino, const struct procfs_handle *h, size_t size,
                            off_t offset) {
        struct procfs *p = procfs_of(req);
        _cleanup_free_ char *buf = NULL;
        struct procfs_container *c;
        unsigned local;
        ssize_t n;
        int r;

        pthread_mutex_lock(&p->lock);
        r = resolve(p, ino, &c, &local);
        pthread_mutex_unlock(&p->lock);
        if (r < 0) {
                fuse_reply_err(req, ENODEV);
                return;
        }
        buf = malloc(MAX(size, 1u));
        if (!buf) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        n = pread(h->fd, buf, size, offset);
        if (n < 0)
                fuse_reply_err(req, errno);
        else
                fuse_reply_buf(req, buf, (size_t) n);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
        int error = 0;
        const struct procfs_handle *h = own_handle(procfs_of(req), ino, fi->fh, &file_kind, &error);
        _cleanup_free_ char *copy = NULL;
        size_t n;

        if (!h) {
                fuse_reply_err(req, error);
                return;
        }
        if (h->fd >= 0) {
                read_pci_config(req, ino, h, size, offset);
                return;
        }
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
        /* A dead daemon's file never read here: nothing of ours. */
        procfs_handle_free(fs_handles_take(&procfs_of(req)->handles, fi->fh, &file_kind));
        fuse_reply_err(req, 0);
}

/* --- An adopted connection ---------------------------------------------- */

/* Until procfs_adopted(): a request of another process is dropped without
 * an answer (the kernel sends it again then); the daemon's own are served. */
static bool put_off(struct procfs *p, fuse_req_t req) {
        if (!__atomic_load_n(&p->adopting, __ATOMIC_ACQUIRE) || fuse_req_ctx(req)->pid == p->own_pid)
                return false;
        fuse_reply_none(req);
        return true;
}

static int reopen_file(struct procfs *p, fuse_ino_t ino, void **ret) {
        _cleanup_(procfs_handle_freep) struct procfs_handle *h = calloc(1, sizeof(*h));
        int r;

        if (!h)
                return -ENOMEM;
        h->fd = -EBADF;
        r = open_handle(p, ino, h);
        if (r >= 0)
                *ret = TAKE_PTR(h);
        return r;
}

/* The object of ours fh stands for. One of a dead daemon's (an adopted
 * connection) is opened again at its first use and kept for the next:
 * text taken anew, never another file's. NULL with *ret_error (a
 * positive errno) when fh is none of ours or nothing can be opened. */
static void *own_handle(struct procfs *p, fuse_ino_t ino, uint64_t fh, const struct fs_handle_kind *kind,
                        int *ret_error) {
        void *object = fs_handles_get(&p->handles, fh, kind), *kept;
        int r;

        if (object)
                return object;
        if (fh == 0 || fs_handles_ours(&p->handles, fh)) {
                *ret_error = EBADF;
                return NULL;
        }
        r = kind == &dir_kind ? reopen_dir(p, ino, &object) : reopen_file(p, ino, &object);
        if (r < 0) {
                *ret_error = -r;
                return NULL;
        }
        kept = fs_handles_adopt(&p->handles, fh, kind, object);
        if (kept != object)
                kind->free(object);
        if (!kept)
                *ret_error = ENOMEM;
        return kept;
}

static void ad_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        if (!put_off(procfs_of(req), req))
                op_lookup(req, parent, name);
}

static void ad_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        if (!put_off(procfs_of(req), req))
                op_getattr(req, ino, fi);
}

static void ad_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        if (!put_off(procfs_of(req), req))
                op_opendir(req, ino, fi);
}

static void ad_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        if (!put_off(procfs_of(req), req))
                op_open(req, ino, fi);
}

static void ad_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
        if (!put_off(procfs_of(req), req))
                op_readdir(req, ino, size, offset, fi);
}

static void ad_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, struct fuse_file_info *fi) {
        if (!put_off(procfs_of(req), req))
                op_read(req, ino, size, offset, fi);
}

static const struct fuse_lowlevel_ops adopted_ops = {
        .lookup = ad_lookup,
        .getattr = ad_getattr,
        .opendir = ad_opendir,
        .readdir = ad_readdir,
        .releasedir = op_releasedir,
        .open = ad_open,
        .read = ad_read,
        .release = op_release,
};

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

static int procfs_alloc(uint32_t generation, struct procfs **ret) {
        struct procfs *p = calloc(1, sizeof(*p));
        int r;

        if (!p)
                return -ENOMEM;
        r = fs_handles_init(&p->handles, generation);
        if (r < 0) {
                free(p);
                return r;
        }
        pthread_mutex_init(&p->lock, NULL);
        p->next_number = 1;
        *ret = p;
        return 0;
}

int procfs_adopt(struct fuse_pool *pool, const char *mountpoint, int fd, uint64_t next_number, uint32_t generation,
                 struct procfs **ret) {
        _cleanup_close_ int owned = fd;
        struct procfs *p;
        int r;

        r = procfs_alloc(generation, &p);
        if (r < 0)
                return r;
        p->next_number = MAX(next_number, (uint64_t) 1);
        p->adopting = true;
        p->own_pid = getpid();
        r = fs_session_adopt(&adopted_ops, sizeof(adopted_ops), p, TAKE_FD(owned), mountpoint, pool, &p->session);
        if (r < 0) {
                procfs_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int procfs_adopted(struct procfs *p) {
        if (!p->adopting)
                return 0;
        __atomic_store_n(&p->adopting, false, __ATOMIC_RELEASE);
        return fs_session_resend(p->session);
}

void procfs_adopt_number(struct procfs *p, uint64_t number) {
        p->adopt_number = number;
}

bool procfs_adopting_number(const struct procfs *p) {
        return p->adopt_number != 0;
}

uint64_t procfs_next_number(const struct procfs *p) {
        return p->next_number;
}

uint64_t procfs_container_number(const struct procfs_container *c) {
        return c->number;
}

uint32_t procfs_generation(const struct procfs *p) {
        return p->handles.generation;
}

int procfs_fd(const struct procfs *p) {
        return fuse_session_fd(p->session->se);
}

int procfs_new(struct fuse_pool *pool, const char *mountpoint, struct procfs **ret) {
        struct procfs *p;
        int r;

        /* Nobody before us on a connection of our own. */
        r = procfs_alloc(1, &p);
        if (r < 0)
                return r;
        r = fs_session_start(&procfs_ops, sizeof(procfs_ops), p, mountpoint, "devsieve-proc",
                             "ro,nosuid,nodev,noexec,allow_other,default_permissions", pool, &p->session);
        if (r < 0) {
                procfs_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

uint64_t procfs_pool_id(const struct procfs *p) {
        return p->session->pool_id;
}

struct procfs *procfs_free(struct procfs *p) {

        if (!p)
                return NULL;
        fs_session_stop(p->session);
        assert(!p->by_name);
        /* Handles the kernel never released (no request comes any more). */
        fs_handles_done(&p->handles);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}
