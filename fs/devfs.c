/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's /dev on the main loop: the view's state and the deltas
 * that change it, the kernel told after each change; its life. The FUSE
 * requests that read and write it are devfs-ops.c's. */
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "devfs-file.h"
#include "devfs-internal.h"
#include "strv.h"

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

        (void) fs_mux_flush(v->mux, &v->notify);
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

        (void) fs_mux_flush(v->mux, &v->notify);
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
int devfs_mux_new(struct fuse_pool *pool, const char *mountpoint, struct fs_mux **ret) {
        return fs_mux_new(pool, &devfs_class, mountpoint, "devsieve-dev", "dev,nosuid,allow_other,default_permissions",
                          ret);
}

int devfs_mux_adopt(struct fuse_pool *pool, const char *mountpoint, int fd, uint64_t next_slot, uint32_t generation,
                    struct fs_mux **ret) {
        return fs_mux_adopt(pool, &devfs_class, mountpoint, fd, next_slot, generation, ret);
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
                .answers_unlinked = devfs_answers_unlinked,
                .set_attributes = devfs_set_attributes,
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
        /* A devsieved that adopts the connection answers for them. */
        fs_tree_set_stable_ids(&v->tree);
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

void devfs_expire(struct devfs *v, const char *path) {
        pthread_mutex_lock(&v->lock);
        (void) fs_notify_add_expire_path(&v->notify, &v->tree, path);
        pthread_mutex_unlock(&v->lock);
        (void) fs_mux_flush(v->mux, &v->notify);
}

uint64_t devfs_get_slot(const struct devfs *v) {
        return v->slot;
}
