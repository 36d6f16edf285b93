/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "fileio.h"
#include "log.h"
#include "strv.h"
#include "udev-data.h"
#include "udev-db.h"

/* A data file is at most a few kilobytes; this bounds what show reads. */
#define DATA_FILE_MAX (1024 * 1024)

/* A database is a page per file on tmpfs: this holds thousands of devices
 * and costs only what is used. */
#define TMPFS_OPTIONS "mode=0755,size=64m"

struct udev_db {
        char *dir;
        char *name;
        bool mounted; /* a tmpfs of its own at dir */
        int dir_fd, data_fd, tags_fd;
        /* Directories made in tags/: while there are none (no host udevd,
         * no tags), no device can have a tag file to remove. */
        unsigned n_tag_dirs;
        struct udev_db_stats stats;
};

/* Removes every entry of the directory fd (one level of subdirectories:
 * tags/TAG/ID); fd stays open. */
static int empty_dir(int fd) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *e;
        int dup_fd, r = 0;

        dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return negative_errno();
        d = fdopendir(dup_fd);
        if (!d) {
                safe_close(dup_fd);
                return negative_errno();
        }
        rewinddir(d);
        while ((e = readdir(d))) {
                if (streq(e->d_name, ".") || streq(e->d_name, ".."))
                        continue;
                if (e->d_type == DT_DIR) {
                        _cleanup_close_ int sub =
                                openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (sub >= 0)
                                RET_GATHER(r, empty_dir(sub));
                        if (unlinkat(fd, e->d_name, AT_REMOVEDIR) < 0)
                                RET_GATHER(r, negative_errno());
                } else if (unlinkat(fd, e->d_name, 0) < 0)
                        RET_GATHER(r, negative_errno());
        }
        return r;
}

/* 1 when it made the directory, 0 when it was there. */
static int open_subdir(int dir_fd, const char *name, int *ret) {
        bool made = true;
        int fd;

        if (mkdirat(dir_fd, name, 0755) < 0) {
                if (errno != EEXIST)
                        return negative_errno();
                made = false;
        }
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        *ret = fd;
        return made;
}

/* A tmpfs of its own, whatever the runtime directory is on: writes never
 * touch a disk (a runtime directory on ext4 with discard made every
 * replaced file a synchronous discard), and destroying the database is one
 * unmount, not an unlink per file. Without the right to mount (a test as
 * non-root), a plain directory does the same job more slowly. */
/* A previous devsieved's tmpfs at dir (it died: a stop unmounts it, an
 * upgrade with the holder keeps it; the container it served may still be
 * running, with a bind of it at /run/udev). */
static bool is_our_tmpfs(const char *dir) {
        struct statx stx;
        struct statfs sfs;

        return statx(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) >= 0 &&
               (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) &&
               statfs(dir, &sfs) >= 0 && sfs.f_type == TMPFS_MAGIC;
}

static int mount_tmpfs(struct udev_db *db) {
        /* Kept: a running container's bind of it then sees the files this
         * daemon writes (after a moment without "control"). */
        if (is_our_tmpfs(db->dir)) {
                db->mounted = true;
                return 0;
        }
        if (mount("devsieve-udev", db->dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, TMPFS_OPTIONS) < 0) {
                if (errno != EPERM)
                        return negative_errno();
                log_debug("%s: no right to mount a tmpfs at %s: a plain directory.", db->name, db->dir);
                return 0;
        }
        db->mounted = true;
        return 0;
}

int udev_db_new(const char *dir, const char *name, struct udev_db **ret) {
        _cleanup_(udev_db_freep) struct udev_db *db = NULL;
        int fd, r;

        db = calloc(1, sizeof(*db));
        if (!db)
                return -ENOMEM;
        db->dir_fd = db->data_fd = db->tags_fd = -EBADF;
        db->dir = strdup(dir);
        db->name = strdup(name);
        if (!db->dir || !db->name)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        r = mount_tmpfs(db);
        if (r < 0)
                return r;
        db->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (db->dir_fd < 0)
                return negative_errno();
        /* The runtime binds it for the container's users to read. */
        if (fchmod(db->dir_fd, 0755) < 0)
                return negative_errno();
        r = empty_dir(db->dir_fd);
        if (r < 0)
                return r;
        r = open_subdir(db->dir_fd, "data", &db->data_fd);
        if (r < 0)
                return r;
        r = open_subdir(db->dir_fd, "tags", &db->tags_fd);
        if (r < 0)
                return r;
        /* Last: libudev takes "control" to mean udev runs and its database
         * is complete. */
        fd = openat(db->dir_fd, "control", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        safe_close(fd);
        *ret = TAKE_PTR(db);
        return 0;
}

struct udev_db *udev_db_free(struct udev_db *db) {
        if (!db)
                return NULL;
        if (db->dir_fd >= 0) {
                /* control first: from then on libudev inside stops trusting
                 * what is left. */
                (void) unlinkat(db->dir_fd, "control", 0);
                if (!db->mounted)
                        (void) empty_dir(db->dir_fd);
        }
        safe_close(db->data_fd);
        safe_close(db->tags_fd);
        safe_close(db->dir_fd);
        /* Detached: a runtime's bind of it keeps what it had until the
         * container goes (without "control", which libudev then misses). */
        if (db->mounted)
                (void) umount2(db->dir, MNT_DETACH | UMOUNT_NOFOLLOW);
        if (db->dir)
                (void) rmdir(db->dir);
        free(db->dir);
        free(db->name);
        free(db);
        return NULL;
}

static int write_atomically(int dir_fd, const char *name, const char *text, size_t size) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        if (asprintf(&tmp, ".#%s", name) < 0)
                return -ENOMEM;
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        n = write(fd, text, size);
        if (n < 0 || (size_t) n != size) {
                int r = n < 0 ? negative_errno() : -EIO;
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
                int r = negative_errno();
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        return 0;
}

/* A tag names a directory: anything that could leave tags/ is not one. */
static bool tag_is_valid(const char *tag) {
        return *tag && !strchr(tag, '/') && !streq(tag, ".") && !streq(tag, "..");
}

/* tags/TAG/ID for each of tags, and none under any other tag. */
static int sync_tags(struct udev_db *db, const char *id, char *const *tags) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *e;
        int dup_fd, r = 0;

        STRV_FOREACH(t, tags) {
                _cleanup_close_ int fd = -EBADF, tag_fd = -EBADF;

                if (!tag_is_valid(*t))
                        continue;
                r = open_subdir(db->tags_fd, *t, &tag_fd);
                if (r < 0)
                        return r;
                db->n_tag_dirs += r;
                fd = openat(tag_fd, id, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0)
                        return negative_errno();
        }

        if (db->n_tag_dirs == 0)
                return 0;
        dup_fd = fcntl(db->tags_fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return negative_errno();
        d = fdopendir(dup_fd);
        if (!d) {
                safe_close(dup_fd);
                return negative_errno();
        }
        rewinddir(d);
        while ((e = readdir(d))) {
                _cleanup_close_ int tag_fd = -EBADF;

                if (e->d_name[0] == '.' || strv_contains(tags, e->d_name))
                        continue;
                tag_fd = openat(db->tags_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (tag_fd >= 0 && unlinkat(tag_fd, id, 0) < 0 && errno != ENOENT)
                        RET_GATHER(r, negative_errno());
        }
        return r;
}

static int write_device(struct udev_db *db, const struct visible_device *v, const char *id) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = udev_data_format(v, &text, &size);
        if (r < 0)
                return r;
        /* Tags before data: once data says the device is there, so do its
         * tags. */
        r = sync_tags(db, id, v->device->tags);
        if (r < 0)
                return r;
        r = write_atomically(db->data_fd, id, text, size);
        if (r < 0)
                return r;
        db->stats.written++;
        return 0;
}

static int remove_device(struct udev_db *db, const char *id) {
        int r = 0;

        if (unlinkat(db->data_fd, id, 0) < 0 && errno != ENOENT)
                r = negative_errno();
        else
                db->stats.removed++;
        RET_GATHER(r, sync_tags(db, id, NULL));
        return r;
}

/* A renamed device whose id follows its name leaves nothing under the old
 * one. */
static void forget_old_name(struct udev_db *db, const struct delta *d) {
        _cleanup_free_ char *old = NULL;
        int r;

        if (udev_data_old_id(d->device, d->event->devpath_old, &old) < 0)
                return;
        r = remove_device(db, old);
        if (r < 0) {
                db->stats.failed++;
                log_warning_errno(r, "%s: failed to remove the udev database entry %s/data/%s of %s (renamed): %m",
                                  db->name, db->dir, old, d->device->devpath);
        }
}

void udev_db_apply(struct udev_db *db, const struct delta *deltas, size_t n_deltas) {
        for (size_t i = 0; i < n_deltas; i++) {
                const struct delta *d = &deltas[i];
                _cleanup_free_ char *id = NULL;
                int r;

                if (udev_data_id(d->device, &id) < 0)
                        continue; /* no subsystem: udev keeps nothing for it */
                if (d->event && d->event->action == UEVENT_MOVE)
                        forget_old_name(db, d);
                r = d->kind == DELTA_HIDDEN ? remove_device(db, id) : write_device(db, d->new, id);
                if (r < 0) {
                        db->stats.failed++;
                        log_warning_errno(r, "%s: failed to %s the udev database entry %s/data/%s of %s: %m", db->name,
                                          d->kind == DELTA_HIDDEN ? "remove" : "write", db->dir, id,
                                          d->device->devpath);
                }
        }
}

int udev_db_read(const struct udev_db *db, const char *id, char **ret) {
        if (!*id || strchr(id, '/') || id[0] == '.')
                return -EINVAL;
        return read_small_file_at(db->data_fd, id, DATA_FILE_MAX, ret);
}

const char *udev_db_path(const struct udev_db *db) {
        return db->dir;
}

void udev_db_get_stats(const struct udev_db *db, struct udev_db_stats *ret) {
        *ret = db->stats;
}
