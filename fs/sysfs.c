/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The /sys view's main-loop side: what it shows (the tree the FUSE
 * handlers answer from) and what it mounts over it (the real device
 * directories, covers, pass-through). docs/sysfs-view.md explains why. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mount-tree.h"
#include "strv.h"
#include "fileio.h"
#include "sysfs-children.h"
#include "sysfs-internal.h"
#include "uevent-file.h"

/* What every container's /sys has, devices or not. fs/cgroup is for the
 * runtime to mount over. */
static const char *const skeleton_dirs[] = {
        "devices", "devices/system", "class", "bus", "block", "dev", "dev/char", "dev/block",
        "kernel",  "kernel/mm",      "fs",    "fs/cgroup",
};

/* Read-only pass-through that ordinary programs need: get_nprocs(), NUMA,
 * allocators checking transparent hugepages. */
static const char *const default_exposed[] = {
        "devices/system/cpu",
        "devices/system/node",
        "kernel/mm/transparent_hugepage",
};

/* --- The tree (under the lock) --------------------------------------- */

/* Whether the kernel may hold something of dir's (its attributes, its
 * listing, a name below it, present or absent): not when it holds no
 * reference to dir, taken under the lock by every reply that gives it
 * one. Then a notification about dir costs a write the kernel answers
 * with ENOENT, and a new view's first devices made a hundred of them.
 * A view on a connection a previous devsieved served cannot tell (the
 * kernel's references are the old process's), nor can one for its root
 * (the mount's own). */
static bool kernel_may_cache(const struct sysfs_view *v, const struct fs_node *dir) {
        return !v->references_known || dir == v->tree.root || dir->nlookup > 0;
}

static int tree_new(struct sysfs_view *v, struct fs_node *dir, const char *name, mode_t mode, uid_t uid, gid_t gid,
                    const char *target, enum sysfs_node_kind kind, struct fs_node **ret) {
        struct fs_node *n;
        int r;

        r = fs_node_new(&v->tree, dir, name, mode, uid, gid, 0, target, &n);
        if (r < 0)
                return r;
        n->kind = kind;
        if (S_ISREG(mode))
                n->st.st_size = 4096; /* as sysfs says of every attribute */
        /* The kernel may have cached that the name did not exist, and the
         * directory's listing without it. */
        r = kernel_may_cache(v, dir) ? fs_notify_add_entry(&v->notify, dir->ino, name) : 0;
        if (r >= 0 && kernel_may_cache(v, dir))
                r = fs_notify_add_dir_changed(&v->notify, dir->ino);
        if (r < 0)
                return r;
        if (ret)
                *ret = n;
        return 0;
}

static int tree_mkpath(struct sysfs_view *v, const char *path, enum sysfs_node_kind kind, struct fs_node **ret) {
        _cleanup_free_ char *copy = strdup(path);
        struct fs_node *n = v->tree.root;
        char *save = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                struct fs_node *child = fs_node_child(n, c);

                if (!child) {
                        r = tree_new(v, n, c, S_IFDIR | 0755, 0, 0, NULL, kind, &child);
                        if (r < 0)
                                return r;
                } else if (!S_ISDIR(child->st.st_mode))
                        return -ENOTDIR;
                n = child;
        }
        if (ret)
                *ret = n;
        return 0;
}

/* name (n) leaves dir: the kernel forgets the name and dir's listing. */
static void queue_delete(struct sysfs_view *v, struct fs_node *dir, struct fs_node *n) {
        if (!kernel_may_cache(v, dir))
                return;
        (void) fs_notify_add_delete(&v->notify, dir->ino, n->ino, n->name);
        (void) fs_notify_add_dir_changed(&v->notify, dir->ino);
}

/* Takes n out and, with it, the directories that only led to it. */
static void tree_remove(struct sysfs_view *v, struct fs_node *n) {
        while (n && n != v->tree.root) {
                struct fs_node *parent = n->parent;

                queue_delete(v, parent, n);
                fs_node_unlink(&v->tree, n);
                n = parent;
                if (n->children || n->kind != SYSFS_NODE_DIR)
                        break;
        }
}

static void sysfs_file_free(struct fs_node *n) {
        struct sysfs_file *f = n->data;

        free(f->real_path);
        free(f);
}

/* A uevent file's size is its length as the container reads it: the
 * kernel keeps it in its page cache (op_open), and a file shorter than
 * its size would be read again every time. Kept right by the
 * invalidation on every change of the device (queue_uevent_changed);
 * when the real file cannot be read, the page sysfs claims. */
static void uevent_set_size(struct sysfs_view *v, const struct shown_device *s, struct fs_node *n) {
        _cleanup_free_ char *path = NULL, *text = NULL, *rewritten = NULL;

        if (!n)
                return;
        n->st.st_size = 4096;
        if (asprintf(&path, "%s/uevent", s->devpath + 1) >= 0 &&
            read_small_file_at(v->sysfs_fd, path, 4096, &text) >= 0 &&
            uevent_file_rewrite(text, s->node, &rewritten) >= 0)
                n->st.st_size = (off_t) strlen(rewritten);
}

static int tree_add_file(struct sysfs_view *v, struct fs_node *dir, const char *name, enum sysfs_node_kind kind,
                         uint64_t device_id, const char *real_path) {
        _cleanup_free_ struct sysfs_file *f = calloc(1, sizeof(*f));
        struct fs_node *n;
        int r;

        if (!f || !(f->real_path = strdup(real_path)))
                return -ENOMEM;
        f->device_id = device_id;
        /* A name the device had before it was hidden and shown again. */
        n = fs_node_child(dir, name);
        if (n) {
                queue_delete(v, dir, n);
                fs_node_unlink(&v->tree, n);
        }
        r = tree_new(v, dir, name, S_IFREG | 0644, v->root_uid, v->root_gid, NULL, kind, &n);
        if (r < 0) {
                free(f->real_path);
                return r;
        }
        n->data = TAKE_PTR(f);
        return 0;
}

static int tree_add_link(struct sysfs_view *v, const char *path, const char *target) {
        _cleanup_free_ char *dir_path = strdup(path);
        struct fs_node *dir;
        char *slash;
        int r;

        if (!dir_path || !(slash = strrchr(dir_path, '/')))
                return dir_path ? -EINVAL : -ENOMEM;
        *slash = '\0';
        r = tree_mkpath(v, dir_path, SYSFS_NODE_DIR, &dir);
        if (r < 0)
                return r;
        return tree_new(v, dir, slash + 1, S_IFLNK | 0777, 0, 0, target, SYSFS_NODE_LINK, NULL);
}

/* --- Shown devices (under the lock) ---------------------------------- */

static void shown_device_free(struct shown_device *s) {
        if (!s)
                return;
        free(s->devpath);
        free(s->subsystem);
        free(s->node);
        strv_free(s->writable);
        strv_free(s->links);
        strv_free(s->wanted_links);
        free(s);
}

static struct shown_device *find_shown_path(struct sysfs_view *v, const char *devpath) {
        struct shown_device *s;

        HASH_FIND(hh_path, v->shown_by_path, devpath, strlen(devpath), s);
        return s;
}

static unsigned path_depth(const char *path) {
        unsigned n = 0;

        for (; *path; path++)
                n += *path == '/';
        return n;
}

static bool path_is_below(const char *path, const char *prefix) {
        const char *rest = startswith(path, prefix);
        return rest && (*rest == '/' || *rest == '\0');
}

/* Where tools look for the device, as the kernel links it: relative links
 * into devices/, so they resolve inside whatever /sys the view is bound at. */
static int device_links(const struct device *d, const char *devpath, char ***ret) {
        const char *subsystem = d->pd.subsystem, *sysname = d->pd.sysname;
        _cleanup_strv_free_ char **links = NULL;
        char *link = NULL;
        int r = 0;

#define ADD_LINK(...)                                                                     \
        do {                                                                              \
                if (asprintf(&link, __VA_ARGS__) < 0 || strv_consume(&links, link) < 0)   \
                        return -ENOMEM;                                                   \
        } while (0)
        if (subsystem && d->subsystem_kind == SUBSYSTEM_KIND_CLASS)
                ADD_LINK("class/%s/%s\n../../%s", subsystem, sysname, devpath + 1);
        if (subsystem && d->subsystem_kind == SUBSYSTEM_KIND_BUS)
                ADD_LINK("bus/%s/devices/%s\n../../../%s", subsystem, sysname, devpath + 1);
        if (streq_ptr(subsystem, "block") && streq_ptr(d->pd.devtype, "disk"))
                ADD_LINK("block/%s\n../%s", sysname, devpath + 1);
        if (d->type)
                ADD_LINK("dev/%s/%u:%u\n../../%s", d->type == 'b' ? "block" : "char", major(d->devnum),
                         minor(d->devnum), devpath + 1);
#undef ADD_LINK
        *ret = TAKE_PTR(links);
        return r;
}

static int add_links(struct sysfs_view *v, struct shown_device *s) {
        _cleanup_strv_free_ char **specs = TAKE_PTR(s->wanted_links);
        int r;

        STRV_FOREACH(spec, specs) {
                char *nl = strchr(*spec, '\n');

                *nl = '\0';
                /* Two devices of one class with one name cannot both exist on
                 * the host; a failure here is a stale link, not a leak. */
                r = tree_add_link(v, *spec, nl + 1);
                if (r < 0 && r != -EEXIST)
                        return r;
                if (r >= 0 && strv_extend(&s->links, *spec) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static void remove_links(struct sysfs_view *v, struct shown_device *s) {
        STRV_FOREACH(l, s->links) {
                struct fs_node *n = fs_tree_find(&v->tree, *l);
                if (n && n->kind == SYSFS_NODE_LINK)
                        tree_remove(v, n);
        }
        s->links = strv_free(s->links);
}

/* Attributes may sit in a subdirectory ("queue/read_ahead_kb"). */
static int add_attribute_file(struct sysfs_view *v, struct shown_device *s, struct fs_node *dir, const char *name,
                              const char *real) {
        const char *slash = strrchr(name, '/');
        int r;

        if (slash) {
                _cleanup_free_ char *sub = NULL;
                if (asprintf(&sub, "%s/%.*s", s->devpath + 1, (int) (slash - name), name) < 0)
                        return -ENOMEM;
                r = tree_mkpath(v, sub, SYSFS_NODE_DIR, &dir);
                if (r < 0)
                        return r;
                name = slash + 1;
        }
        return tree_add_file(v, dir, name, SYSFS_NODE_ATTR, s->id, real);
}

static int show_begin(struct sysfs_view *v, const struct delta *delta, struct shown_device **ret) {
        const struct visible_device *vd = delta->new;
        struct device *d = delta->device;
        _cleanup_free_ char *uevent = NULL;
        struct shown_device *s;
        struct fs_node *dir;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->id = d->id;
        s->depth = path_depth(d->devpath);
        if (!(s->devpath = strdup(d->devpath)) || (d->pd.subsystem && !(s->subsystem = strdup(d->pd.subsystem))) ||
            (vd->node && !(s->node = strdup(vd->node))) || strv_copy(vd->writable_attributes, &s->writable) < 0) {
                shown_device_free(s);
                return -ENOMEM;
        }
        if (device_links(d, s->devpath, &s->wanted_links) < 0) {
                shown_device_free(s);
                return -ENOMEM;
        }
        HASH_ADD(hh, v->shown, id, sizeof(s->id), s);
        HASH_ADD_KEYPTR(hh_path, v->shown_by_path, s->devpath, strlen(s->devpath), s);
        path_counts_add(&v->shown_below, s->devpath + 1);
        v->stats.devices++;

        r = tree_mkpath(v, s->devpath + 1, SYSFS_NODE_DIR, &dir);
        if (r < 0)
                return r;
        if (asprintf(&uevent, "%s/uevent", s->devpath + 1) < 0)
                return -ENOMEM;
        r = tree_add_file(v, dir, "uevent", SYSFS_NODE_UEVENT, s->id, uevent);
        if (r < 0)
                return r;
        uevent_set_size(v, s, fs_node_child(dir, "uevent"));
        STRV_FOREACH(a, s->writable) {
                _cleanup_free_ char *real = NULL;
                struct stat st;

                if (asprintf(&real, "%s/%s", s->devpath + 1, *a) < 0)
                        return -ENOMEM;
                /* Only what the device has: the policy may name attributes
                 * of other kinds of devices. */
                if (fstatat(v->sysfs_fd, real, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                r = add_attribute_file(v, s, dir, *a, real);
                if (r < 0)
                        return r;
        }
        *ret = s;
        return 0;
}

/* The files of device id below n, and the directories only they needed. */
static void remove_device_files(struct sysfs_view *v, struct fs_node *n, uint64_t id) {
        struct fs_node *child, *tmp;

        HASH_ITER(hh_child, n->children, child, tmp) {
                const struct sysfs_file *f = child->data;
                bool remove;

                if (S_ISDIR(child->st.st_mode)) {
                        remove_device_files(v, child, id);
                        remove = !child->children && child->kind == SYSFS_NODE_DIR;
                } else
                        remove = (child->kind == SYSFS_NODE_UEVENT || child->kind == SYSFS_NODE_ATTR) &&
                                 f->device_id == id;
                if (remove) {
                        queue_delete(v, n, child);
                        fs_node_unlink(&v->tree, child);
                }
        }
}

/* The device's own files in the tree; its directory goes with them unless
 * it still leads to another shown device. */
static void show_end(struct sysfs_view *v, struct shown_device *s) {
        struct fs_node *dir = fs_tree_find(&v->tree, s->devpath + 1);

        /* Shown again at the same place (a remount): the files are its own. */
        if (dir && !find_shown_path(v, s->devpath)) {
                remove_device_files(v, dir, s->id);
                if (!dir->children && dir->kind == SYSFS_NODE_DIR)
                        tree_remove(v, dir);
        }
        shown_device_free(s);
}

static void unshow(struct sysfs_view *v, struct shown_device *s) {
        remove_links(v, s);
        HASH_DELETE(hh, v->shown, s);
        HASH_DELETE(hh_path, v->shown_by_path, s);
        path_counts_remove(&v->shown_below, s->devpath + 1);
        v->stats.devices--;
}

/* --- Mounts (main loop, unlocked) ------------------------------------ */

static struct view_mount *find_mount(struct sysfs_view *v, const char *path) {
        struct view_mount *m;

        HASH_FIND_STR(v->mounts, path, m);
        return m;
}

/* Whether the device's own directory is mounted at path: a cover there (the
 * device was hidden inside a shown one) is not it. */
static bool device_mounted(struct sysfs_view *v, const char *path) {
        struct view_mount *m = find_mount(v, path);

        return m && m->kind == VIEW_MOUNT_DEVICE;
}

/* v->stats is read by other threads (status): only under the lock. */
static void count_mount_error(struct sysfs_view *v) {
        pthread_mutex_lock(&v->lock);
        v->stats.mount_errors++;
        pthread_mutex_unlock(&v->lock);
}

static int record_mount(struct sysfs_view *v, const char *path, enum view_mount_kind kind) {
        struct view_mount *m = calloc(1, sizeof(*m));

        if (!m || !(m->path = strdup(path))) {
                free(m);
                return -ENOMEM;
        }
        m->kind = kind;
        HASH_ADD_KEYPTR(hh, v->mounts, m->path, strlen(m->path), m);
        path_counts_add(&v->mounts_below, m->path);
        pthread_mutex_lock(&v->lock);
        v->stats.mounts++;
        v->stats.covered += kind == VIEW_MOUNT_COVER;
        pthread_mutex_unlock(&v->lock);
        return 0;
}

static void forget_mount(struct sysfs_view *v, struct view_mount *m) {
        HASH_DEL(v->mounts, m);
        path_counts_remove(&v->mounts_below, m->path);
        pthread_mutex_lock(&v->lock);
        v->stats.mounts--;
        v->stats.covered -= m->kind == VIEW_MOUNT_COVER;
        pthread_mutex_unlock(&v->lock);
        free(m->path);
        free(m);
}

static int compare_depth_desc(const void *a, const void *b) {
        const struct view_mount *x = *(struct view_mount *const *) a, *y = *(struct view_mount *const *) b;
        unsigned dx = path_depth(x->path), dy = path_depth(y->path);

        return dx < dy ? 1 : dx > dy ? -1 : 0;
}

static int compare_path_depth_desc(const void *a, const void *b) {
        unsigned dx = path_depth(*(char *const *) a), dy = path_depth(*(char *const *) b);

        return dx < dy ? 1 : dx > dy ? -1 : 0;
}

/* Everything mounted at or below path, deepest first: a detached mount
 * takes what is mounted on it along, so unmounting in this order only
 * ever finds what is still there. */
static void unmount_below(struct sysfs_view *v, const char *path) {
        _cleanup_free_ struct view_mount **list = NULL;
        struct view_mount *m, *tmp;
        size_t n = 0;

        if (!find_mount(v, path) && !path_counts_any_below(&v->mounts_below, path))
                return;
        list = calloc(HASH_COUNT(v->mounts) + 1, sizeof(*list));
        if (!list)
                return;
        HASH_ITER(hh, v->mounts, m, tmp)
                if (path_is_below(m->path, path))
                        list[n++] = m;
        qsort(list, n, sizeof(*list), compare_depth_desc);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *target = NULL;

                if (asprintf(&target, "%s/%s", v->mountpoint, list[i]->path) >= 0)
                        (void) umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW);
                forget_mount(v, list[i]);
        }
}

/* The closest mount strictly above path. */
static struct view_mount *mount_above(struct sysfs_view *v, const char *path) {
        _cleanup_free_ char *p = strdup(path);
        char *slash;

        while (p && (slash = strrchr(p, '/'))) {
                struct view_mount *m;

                *slash = '\0';
                m = find_mount(v, p);
                if (m)
                        return m;
        }
        return NULL;
}

static int clone_empty(struct sysfs_view *v, int *ret_fd) {
        return mount_tree_clone(v->empty_fd, "", false, ret_fd);
}

static int cover(struct sysfs_view *v, const char *path) {
        _cleanup_free_ char *target = NULL;
        int fd, r;

        if (asprintf(&target, "%s/%s", v->mountpoint, path) < 0)
                return -ENOMEM;
        r = clone_empty(v, &fd);
        if (r < 0)
                return r;
        r = mount_tree_attach(fd, AT_FDCWD, target);
        if (r < 0)
                return r;
        return record_mount(v, path, VIEW_MOUNT_COVER);
}

/* The child devices of the device directory path that the container does
 * not see (relative to path): the cache's scan, less those the view shows
 * (they get mounts of their own, on top). */
static int hidden_children(struct sysfs_view *v, const char *path, char ***ret) {
        _cleanup_strv_free_ char **hidden = NULL;
        char *const *children;
        int r;

        r = sysfs_children_get(v->children, v->sysfs_fd, path, &children);
        if (r < 0)
                return r;
        STRV_FOREACH(c, (char **) children) {
                _cleanup_free_ char *devpath = NULL;

                if (asprintf(&devpath, "/%s/%s", path, *c) < 0)
                        return -ENOMEM;
                if (!find_shown_path(v, devpath) && strv_extend(&hidden, *c) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(hidden);
        return 0;
}

/* Covers the hidden children on the detached tree; a child that went
 * meanwhile (the cache learns it from the host's event, which may not have
 * been read yet) leaves the list: it needs no cover. */
static int cover_hidden(struct sysfs_view *v, int tree, char **hidden) {
        size_t kept = 0;
        int fd, r;

        STRV_FOREACH(h, hidden) {
                r = clone_empty(v, &fd);
                if (r < 0)
                        return r;
                r = mount_tree_attach(fd, tree, *h);
                if (r == -ENOENT) {
                        free(*h);
                        continue;
                }
                if (r < 0)
                        return r;
                hidden[kept++] = *h;
        }
        if (hidden)
                hidden[kept] = NULL;
        return 0;
}

static int attach_clone_file(struct sysfs_view *v, int tree, const char *dir, const char *name) {
        _cleanup_free_ char *source = NULL;
        int fd, r;

        if (asprintf(&source, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = mount_tree_clone_file(v->fuse_root_fd, source, &fd);
        if (r < 0)
                return r;
        return mount_tree_attach(fd, tree, name);
}

static int compare_shown_depth(const void *a, const void *b) {
        const struct shown_device *x = *(struct shown_device *const *) a, *y = *(struct shown_device *const *) b;
        return x->depth < y->depth ? -1 : x->depth > y->depth ? 1 : 0;
}

static int mount_device(struct sysfs_view *v, struct shown_device *s);

/* Shown devices below path, parents first. */
static int mount_shown_below(struct sysfs_view *v, const char *path) {
        _cleanup_free_ struct shown_device **list = NULL;
        struct shown_device *s, *tmp;
        size_t n = 0;
        int r = 0;

        if (!path_counts_any_below(&v->shown_below, path))
                return 0;
        list = calloc(HASH_COUNT(v->shown) + 1, sizeof(*list));
        if (!list)
                return -ENOMEM;
        HASH_ITER(hh, v->shown, s, tmp)
                if (path_is_below(s->devpath + 1, path) && !streq(s->devpath + 1, path))
                        list[n++] = s;
        qsort(list, n, sizeof(*list), compare_shown_depth);
        for (size_t i = 0; i < n; i++)
                if (!device_mounted(v, list[i]->devpath + 1))
                        RET_GATHER(r, mount_device(v, list[i]));
        return r;
}

/* The real directory, read-only, with the view's uevent file (and the
 * writable attributes) over the host's and hidden children covered, built
 * detached and moved into place in one step. */
static int mount_device(struct sysfs_view *v, struct shown_device *s) {
        _cleanup_strv_free_ char **hidden = NULL;
        _cleanup_free_ char *target = NULL;
        _cleanup_close_ int tree = -EBADF;
        const char *path = s->devpath + 1;
        struct view_mount *above;
        int r;

        unmount_below(v, path);
        /* Below a hidden device's cover there is nowhere to show it. */
        above = mount_above(v, path);
        if (above && above->kind == VIEW_MOUNT_COVER)
                return -EHOSTDOWN;

        r = mount_tree_clone(v->sysfs_fd, path, false, &tree);
        if (r < 0)
                return r;
        r = hidden_children(v, path, &hidden);
        if (r < 0)
                return r;
        r = cover_hidden(v, tree, hidden);
        if (r < 0)
                return r;
        r = attach_clone_file(v, tree, path, "uevent");
        if (r < 0)
                return r;
        STRV_FOREACH(a, s->writable)
                if (faccessat(tree, *a, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
                        r = attach_clone_file(v, tree, path, *a);
                        if (r < 0)
                                return r;
                }

        if (asprintf(&target, "%s/%s", v->mountpoint, path) < 0)
                return -ENOMEM;
        r = mount_tree_attach(TAKE_FD(tree), AT_FDCWD, target);
        if (r < 0)
                return r;
        r = record_mount(v, path, VIEW_MOUNT_DEVICE);
        STRV_FOREACH(h, hidden) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", path, *h) < 0)
                        return -ENOMEM;
                RET_GATHER(r, record_mount(v, p, VIEW_MOUNT_COVER));
        }
        if (r < 0)
                return r;
        return mount_shown_below(v, path);
}

/* A device going away: its mounts go, and what it covered is covered
 * again if it sits inside a directory the container still sees. */
static void unmount_device(struct sysfs_view *v, const char *devpath) {
        const char *path = devpath + 1;
        struct view_mount *above;

        unmount_below(v, path);
        above = mount_above(v, path);
        if (above && above->kind == VIEW_MOUNT_DEVICE) {
                if (faccessat(v->sysfs_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 && cover(v, path) < 0)
                        count_mount_error(v);
                return;
        }
        if (mount_shown_below(v, path) < 0)
                count_mount_error(v);
}

/* --- Applying deltas ------------------------------------------------- */

struct pending {
        struct shown_device **items;
        size_t n;
};

/* Whether a still visible device must be taken down and shown again: it
 * moved, or its writable attributes (mounted over it) changed. */
static bool needs_remount(const struct shown_device *s, const struct delta *delta) {
        return !streq(s->devpath, delta->device->devpath) ||
               !strv_equal(s->writable, delta->new->writable_attributes);
}

static int set_node(struct shown_device *s, const char *node) {
        char *copy = NULL;

        if (node && !(copy = strdup(node)))
                return -ENOMEM;
        free(s->node);
        s->node = copy;
        return 0;
}

/* The uevent file is read from the kernel's page cache (op_open): a host
 * event may have changed the real one, a new node name DEVNAME. */
static int queue_uevent_changed(struct sysfs_view *v, const struct shown_device *s) {
        _cleanup_free_ char *path = NULL;
        struct fs_node *n;

        if (asprintf(&path, "%s/uevent", s->devpath + 1) < 0)
                return -ENOMEM;
        n = fs_tree_find(&v->tree, path);
        if (!n || n->kind != SYSFS_NODE_UEVENT)
                return 0;
        uevent_set_size(v, s, n);
        return fs_notify_add_inode(&v->notify, n->ino);
}

/* Every delta is applied, whatever an earlier one's fate: one device that
 * cannot be shown must not keep the next one shown after it was hidden.
 * Failures are counted (status). */
void sysfs_view_apply(struct sysfs_view *v, const struct delta *deltas, size_t n_deltas) {
        struct pending gone = {}, added = {};
        uint64_t failed = 0, mount_failed = 0;

        /* Room for every delta up front: a device taken down must reach its
         * unmount below, so nothing in the loop may fail to note it. */
        gone.items = calloc(n_deltas ?: 1, sizeof(*gone.items));
        added.items = calloc(n_deltas ?: 1, sizeof(*added.items));
        if (!gone.items || !added.items) {
                free(gone.items);
                free(added.items);
                pthread_mutex_lock(&v->lock);
                v->stats.apply_errors += n_deltas;
                pthread_mutex_unlock(&v->lock);
                return;
        }

        pthread_mutex_lock(&v->lock);
        for (size_t i = 0; i < n_deltas; i++) {
                const struct delta *delta = deltas + i;
                struct shown_device *s = sysfs_view_find_shown(v, delta->device->id), *new;

                if (s && (delta->kind == DELTA_HIDDEN || delta->kind == DELTA_VISIBLE ||
                          (delta->kind == DELTA_CHANGED && needs_remount(s, delta)))) {
                        unshow(v, s);
                        gone.items[gone.n++] = s;
                        s = NULL;
                }
                if (delta->kind == DELTA_HIDDEN)
                        continue;
                if (s) {
                        if (set_node(s, delta->new->node) < 0 || queue_uevent_changed(v, s) < 0)
                                failed++;
                        continue;
                }
                if (show_begin(v, delta, &new) < 0) {
                        failed++;
                        continue;
                }
                added.items[added.n++] = new;
        }
        v->stats.apply_errors += failed;
        pthread_mutex_unlock(&v->lock);
        (void) fs_mux_flush(v->mux, &v->notify);

        for (size_t i = 0; i < gone.n; i++)
                unmount_device(v, gone.items[i]->devpath);
        if (added.items)
                qsort(added.items, added.n, sizeof(*added.items), compare_shown_depth);
        for (size_t i = 0; i < added.n; i++)
                if (!device_mounted(v, added.items[i]->devpath + 1) && mount_device(v, added.items[i]) < 0)
                        mount_failed++;

        pthread_mutex_lock(&v->lock);
        v->stats.mount_errors += mount_failed;
        for (size_t i = 0; i < gone.n; i++)
                show_end(v, gone.items[i]);
        for (size_t i = 0; i < added.n; i++) {
                struct shown_device *s = added.items[i];
                /* Listed only once its directory is the real one: a tool
                 * following a link never lands on a half-made device. */
                if (device_mounted(v, s->devpath + 1))
                        (void) add_links(v, s);
        }
        pthread_mutex_unlock(&v->lock);
        (void) fs_mux_flush(v->mux, &v->notify);
        free(gone.items);
        free(added.items);
}

void sysfs_view_host_event(struct sysfs_view *v, const char *devpath, bool added) {
        const char *path = devpath + 1;
        struct view_mount *m = find_mount(v, path), *above;

        if (!added) {
                /* The kernel took the directory and what was mounted on it. */
                if (m && m->kind == VIEW_MOUNT_COVER)
                        forget_mount(v, m);
                return;
        }
        if (m || find_shown_path(v, devpath))
                return;
        above = mount_above(v, path);
        if (above && above->kind == VIEW_MOUNT_DEVICE && cover(v, path) < 0)
                count_mount_error(v);
}

/* --- Pass-through ---------------------------------------------------- */

static int expose(struct sysfs_view *v, const char *path) {
        _cleanup_free_ char *target = NULL;
        struct fs_node *dir, *anchor;
        _cleanup_free_ char *parent = NULL;
        struct stat st;
        int r, fd;

        if (fstatat(v->sysfs_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno == -ENOENT ? 0 : negative_errno(); /* not on this host: nothing to show */
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return -EINVAL;
        parent = strdup(path);
        if (!parent)
                return -ENOMEM;
        *(strrchr(parent, '/') ?: parent) = '\0';

        pthread_mutex_lock(&v->lock);
        r = tree_mkpath(v, parent, SYSFS_NODE_DIR, &dir);
        anchor = r >= 0 ? fs_node_child(dir, strrchr(path, '/') ? strrchr(path, '/') + 1 : path) : NULL;
        if (r >= 0 && !anchor)
                r = tree_new(v, dir, strrchr(path, '/') ? strrchr(path, '/') + 1 : path, st.st_mode & (S_IFMT | 0755),
                             0, 0, NULL, SYSFS_NODE_ANCHOR, &anchor);
        if (r >= 0 && anchor->kind == SYSFS_NODE_DIR)
                anchor->kind = SYSFS_NODE_ANCHOR;
        pthread_mutex_unlock(&v->lock);
        (void) fs_mux_flush(v->mux, &v->notify);
        if (r < 0)
                return r;

        r = mount_tree_clone(v->sysfs_fd, path, false, &fd);
        if (r < 0)
                return r;
        if (asprintf(&target, "%s/%s", v->mountpoint, path) < 0) {
                safe_close(fd);
                return -ENOMEM;
        }
        r = mount_tree_attach(fd, AT_FDCWD, target);
        if (r < 0)
                return r;
        return record_mount(v, path, VIEW_MOUNT_PASS);
}

static void unexpose(struct sysfs_view *v, const char *path) {
        struct fs_node *anchor;

        unmount_below(v, path);
        pthread_mutex_lock(&v->lock);
        anchor = fs_tree_find(&v->tree, path);
        if (anchor && anchor->kind == SYSFS_NODE_ANCHOR) {
                anchor->kind = SYSFS_NODE_DIR;
                if (!anchor->children)
                        tree_remove(v, anchor);
        }
        pthread_mutex_unlock(&v->lock);
        (void) fs_mux_flush(v->mux, &v->notify);
}

int sysfs_view_set_exposed(struct sysfs_view *v, char *const *paths) {
        _cleanup_strv_free_ char **wanted = NULL, **unwanted = NULL;
        struct view_mount *m, *tmp;
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(default_exposed); i++)
                if (strv_extend(&wanted, default_exposed[i]) < 0)
                        return -ENOMEM;
        STRV_FOREACH(p, (char **) paths) {
                const char *rel = startswith(*p, "/sys/");
                if (rel && *rel && !strv_contains(wanted, rel) && strv_extend(&wanted, rel) < 0)
                        return -ENOMEM;
        }
        /* Unexposing one path unmounts and forgets every mount below it,
         * which may be the next one a walk of v->mounts would visit: collect
         * the paths first. Deepest first, so that an anchor below another
         * is gone before the upper one checks whether it has children. */
        HASH_ITER(hh, v->mounts, m, tmp)
                if (m->kind == VIEW_MOUNT_PASS && !strv_contains(wanted, m->path) &&
                    strv_extend(&unwanted, m->path) < 0)
                        return -ENOMEM;
        if (unwanted)
                qsort(unwanted, strv_length(unwanted), sizeof(char *), compare_path_depth_desc);
        STRV_FOREACH(u, unwanted)
                unexpose(v, *u);
        STRV_FOREACH(w, wanted)
                if (!find_mount(v, *w))
                        RET_GATHER(r, expose(v, *w));
        return r;
}

/* --- Life ------------------------------------------------------------ */

static int make_skeleton(struct sysfs_view *v) {
        for (size_t i = 0; i < ELEMENTSOF(skeleton_dirs); i++) {
                int r = tree_mkpath(v, skeleton_dirs[i], SYSFS_NODE_SKELETON, NULL);
                if (r < 0)
                        return r;
        }
        /* Nothing is cached yet. */
        fs_notify_queue_done(&v->notify);
        return 0;
}

static void node_data_free(struct fs_node *n) {
        if (n->kind == SYSFS_NODE_UEVENT || n->kind == SYSFS_NODE_ATTR)
                sysfs_file_free(n);
}

int sysfs_view_mux_new(struct fuse_pool *pool, const char *mountpoint, struct fs_mux **ret) {
        /* Not "ro": the uevent files cloned from it take writes. The
         * container cannot make anything (every such request gets EROFS). */
        return fs_mux_new(pool, &sysfs_view_class, mountpoint, "devsieve-sys",
                          "nosuid,nodev,noexec,allow_other,default_permissions", ret);
}

void sysfs_view_expire(struct sysfs_view *v, const char *path) {
        pthread_mutex_lock(&v->lock);
        (void) fs_notify_add_expire_path(&v->notify, &v->tree, path);
        pthread_mutex_unlock(&v->lock);
        (void) fs_mux_flush(v->mux, &v->notify);
}

int sysfs_view_mux_adopt(struct fuse_pool *pool, const char *mountpoint, int fd, uint64_t next_slot,
                         uint32_t generation, struct fs_mux **ret) {
        return fs_mux_adopt(pool, &sysfs_view_class, mountpoint, fd, next_slot, generation, ret);
}

int sysfs_view_new(struct fs_mux *mux, struct sysfs_children *children, const char *mountpoint,
                   const char *container_name, uid_t root_uid, gid_t root_gid, sysfs_event_fn on_event,
                   void *userdata, struct sysfs_view **ret) {
        _cleanup_(sysfs_view_freep) struct sysfs_view *v = NULL;
        fuse_ino_t first;
        int r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->sysfs_fd = v->fuse_root_fd = v->empty_fd = -EBADF;
        pthread_mutex_init(&v->lock, NULL);
        v->nodes = (struct fs_view_tree){
                .lock = &v->lock,
                .tree = &v->tree,
                .set_attributes = sysfs_view_set_attributes,
                .live = sysfs_view_live,
        };
        v->root_uid = root_uid;
        v->root_gid = root_gid;
        v->on_event = on_event;
        v->userdata = userdata;
        v->children = children;
        if (!(v->name = strdup(container_name)))
                return -ENOMEM;
        v->mux = mux;
        v->references_known = !fs_mux_adopting_slot(mux);
        r = fs_mux_add(mux, &v->nodes, &v->slot, &first);
        if (r < 0) {
                v->slot = 0;
                return r;
        }
        r = fs_tree_init_at(&v->tree, first, first + FS_MUX_SLOT_INODES - 2, 0755, 0, 0, node_data_free);
        if (r < 0)
                return r;
        /* A devsieved that adopts the connection answers for them. */
        fs_tree_set_stable_ids(&v->tree);
        r = make_skeleton(v);
        if (r < 0)
                return r;
        v->sysfs_fd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (v->sysfs_fd < 0)
                return negative_errno();
        r = mount_tree_empty_dir(&v->empty_fd);
        if (r < 0)
                return r;

        r = fs_mux_bind(mux, v->slot, mountpoint);
        if (r < 0)
                return r;
        /* Set only once mounted: free unmounts what has a mountpoint. */
        v->mountpoint = strdup(mountpoint);
        if (!v->mountpoint) {
                (void) umount2(mountpoint, MNT_DETACH);
                return -ENOMEM;
        }
        /* What is mounted below the view later must reach the copies a
         * container already holds. */
        if (mount(NULL, mountpoint, NULL, MS_SHARED, NULL) < 0)
                return negative_errno();
        r = mount_tree_clone_file(AT_FDCWD, mountpoint, &v->fuse_root_fd);
        if (r < 0)
                return r;
        r = sysfs_view_set_exposed(v, NULL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

struct sysfs_view *sysfs_view_free(struct sysfs_view *v) {
        struct shown_device *s, *tmp;
        struct view_mount *m, *mtmp;

        if (!v)
                return NULL;
        safe_close(v->fuse_root_fd);
        safe_close(v->empty_fd);
        /* The lazy unmount takes every device mount below along. */
        if (v->mountpoint)
                (void) umount2(v->mountpoint, MNT_DETACH);
        if (v->slot)
                fs_mux_remove(v->mux, v->slot);
        HASH_ITER(hh, v->mounts, m, mtmp) {
                HASH_DEL(v->mounts, m);
                free(m->path);
                free(m);
        }
        path_counts_clear(&v->mounts_below);
        /* A table lives in its first element: clear the second one first. */
        HASH_CLEAR(hh_path, v->shown_by_path);
        path_counts_clear(&v->shown_below);
        HASH_ITER(hh, v->shown, s, tmp) {
                HASH_DELETE(hh, v->shown, s);
                shown_device_free(s);
        }
        if (v->tree.root)
                fs_tree_done(&v->tree);
        fs_notify_queue_done(&v->notify);
        safe_close(v->sysfs_fd);
        pthread_mutex_destroy(&v->lock);
        free(v->mountpoint);
        free(v->name);
        free(v);
        return NULL;
}

void sysfs_view_set_root_owner(struct sysfs_view *v, uid_t uid, gid_t gid) {
        struct fs_node *n, *tmp;

        pthread_mutex_lock(&v->lock);
        v->root_uid = uid;
        v->root_gid = gid;
        HASH_ITER(hh_ino, v->tree.by_ino, n, tmp)
                if (n->kind == SYSFS_NODE_UEVENT || n->kind == SYSFS_NODE_ATTR) {
                        n->st.st_uid = uid;
                        n->st.st_gid = gid;
                        (void) fs_notify_add_inode(&v->notify, n->ino);
                }
        pthread_mutex_unlock(&v->lock);
        (void) fs_mux_flush(v->mux, &v->notify);
}

void sysfs_view_get_stats(struct sysfs_view *v, struct sysfs_view_stats *ret) {
        pthread_mutex_lock(&v->lock);
        *ret = v->stats;
        pthread_mutex_unlock(&v->lock);
}

uint64_t sysfs_view_get_slot(const struct sysfs_view *v) {
        return v->slot;
}
