/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "macro.h"
#include "strv.h"
#include "sysfs-children.h"
#include <uthash.h>

/* Deep enough for block/<disk>/<partition> and a bus's glue directories;
 * a device directory deeper than this below a visible one is not a child
 * any kernel makes. */
#define CHILD_SCAN_DEPTH 6

/* A host with more visible device directories than this is unusual; the
 * cache starts over rather than grow without bound. */
#define CHILDREN_MAX 4096


struct children_entry {
        char *path;      /* the device's directory below /sys */
        char **children; /* relative to path; NULL when none */
        uint64_t scanned_usec;
        UT_hash_handle hh;
};

struct sysfs_children {
        struct children_entry *entries;
        uint64_t max_age_usec;
        uint64_t scans, hits;
};

static void entry_free(struct children_entry *e) {
        if (!e)
                return;
        free(e->path);
        strv_free(e->children);
        free(e);
}

static void entry_drop(struct sysfs_children *c, struct children_entry *e) {
        HASH_DEL(c->entries, e);
        entry_free(e);
}

static void drop_all(struct sysfs_children *c) {
        struct children_entry *e, *tmp;

        HASH_ITER(hh, c->entries, e, tmp)
                entry_drop(c, e);
}

int sysfs_children_new(uint64_t max_age_usec, struct sysfs_children **ret) {
        struct sysfs_children *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->max_age_usec = max_age_usec;
        *ret = c;
        return 0;
}

struct sysfs_children *sysfs_children_free(struct sysfs_children *c) {
        if (!c)
                return NULL;
        drop_all(c);
        free(c);
        return NULL;
}

/* Child devices below the directory open at dir_fd: sub is where that is
 * in the device's directory, and the names collected are relative to it.
 * A directory with a uevent file is a device: collected, not entered.
 * getdents64 on directories opened relative to their parent: opendir's
 * stat and fcntl calls and a path walk from /sys for each directory were a
 * good part of the time a hot-plugged device took to reach the container
 * (bench-hotplug). */
static int scan(int dir_fd, const char *sub, unsigned depth, char ***children) {
        _Alignas(struct dirent64) char buf[4096];
        ssize_t n;
        int r;

        while ((n = getdents64(dir_fd, buf, sizeof(buf))) > 0)
                for (ssize_t offset = 0; offset < n;) {
                        const struct dirent64 *de = (const struct dirent64 *) (buf + offset);
                        _cleanup_free_ char *child = NULL, *uevent = NULL;
                        _cleanup_close_ int child_fd = -EBADF;

                        offset += de->d_reclen;
                        if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        if (asprintf(&child, "%s%s%s", strempty(sub), sub ? "/" : "", de->d_name) < 0 ||
                            asprintf(&uevent, "%s/uevent", de->d_name) < 0)
                                return -ENOMEM;
                        if (faccessat(dir_fd, uevent, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
                                if (strv_consume(children, TAKE_PTR(child)) < 0)
                                        return -ENOMEM;
                                continue;
                        }
                        if (depth + 1 >= CHILD_SCAN_DEPTH)
                                continue;
                        child_fd = openat(dir_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (child_fd < 0) {
                                /* Gone meanwhile, with whatever was below it. */
                                if (errno == ENOENT)
                                        continue;
                                return negative_errno();
                        }
                        r = scan(child_fd, child, depth + 1, children);
                        if (r < 0)
                                return r;
                }
        return n < 0 ? negative_errno() : 0;
}

int sysfs_children_get(struct sysfs_children *c, int sysfs_fd, const char *path, char *const **ret) {
        _cleanup_strv_free_ char **children = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        struct children_entry *e;
        int r;

        HASH_FIND_STR(c->entries, path, e);
        if (e && now_usec() - e->scanned_usec < c->max_age_usec) {
                c->hits++;
                *ret = e->children;
                return 0;
        }
        if (e)
                entry_drop(c, e);
        dir_fd = openat(sysfs_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dir_fd < 0)
                return negative_errno();
        r = scan(dir_fd, NULL, 0, &children);
        if (r < 0)
                return r;
        c->scans++;
        if (HASH_COUNT(c->entries) >= CHILDREN_MAX)
                drop_all(c);
        e = calloc(1, sizeof(*e));
        if (!e || !(e->path = strdup(path))) {
                free(e);
                return -ENOMEM;
        }
        e->children = TAKE_PTR(children);
        e->scanned_usec = now_usec();
        HASH_ADD_KEYPTR(hh, c->entries, e->path, strlen(e->path), e);
        *ret = e->children;
        return 0;
}

static bool path_is_below(const char *path, const char *prefix) {
        const char *rest = startswith(path, prefix);
        return rest && (*rest == '/' || *rest == '\0');
}

/* Every host event comes here, so the table must stay small: a scan past
 * its age is never used again and goes too. */
void sysfs_children_forget(struct sysfs_children *c, const char *devpath) {
        struct children_entry *e, *tmp;
        const char *path = devpath[0] == '/' ? devpath + 1 : devpath;
        uint64_t now = now_usec();

        HASH_ITER(hh, c->entries, e, tmp)
                if (now - e->scanned_usec >= c->max_age_usec || path_is_below(path, e->path) ||
                    path_is_below(e->path, path))
                        entry_drop(c, e);
}

void sysfs_children_get_stats(const struct sysfs_children *c, uint64_t *ret_scans, uint64_t *ret_hits,
                              uint64_t *ret_entries) {
        *ret_scans = c->scans;
        *ret_hits = c->hits;
        *ret_entries = HASH_COUNT(c->entries);
}
