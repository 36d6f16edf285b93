/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "mountpoint.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s) {
        char *w = s;

        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
                    r[3] <= '7') {
                        *w++ = (char) ((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
                        r += 3;
                } else
                        *w++ = *r;
        }
        *w = 0;
}

static void mount_entry_done(struct mount_entry *e) {
        free(e->root);
        free(e->mountpoint);
        free(e->fstype);
        free(e->source);
}

void mount_table_done(struct mount_table *t) {
        for (size_t i = 0; i < t->n; i++)
                mount_entry_done(&t->entries[i]);
        free(t->entries);
        *t = (struct mount_table){};
}

/* "36 35 98:0 /root /mnt opts ... - fstype source superopts" */
static int parse_line(char *line, struct mount_entry *ret) {
        char root[PATH_MAX], mountpoint[PATH_MAX], fstype[256], source[PATH_MAX];
        char *dash = strstr(line, " - ");
        struct mount_entry e = {};

        if (!dash || sscanf(line, "%d %d %31s %4095s %4095s", &e.id, &e.parent_id, e.devnum, root, mountpoint) != 5 ||
            sscanf(dash + 3, "%255s %4095s", fstype, source) != 2)
                return -EBADMSG;
        unescape(root);
        unescape(mountpoint);
        unescape(source);
        e.root = strdup(root);
        e.mountpoint = strdup(mountpoint);
        e.fstype = strdup(fstype);
        e.source = strdup(source);
        if (!e.root || !e.mountpoint || !e.fstype || !e.source) {
                mount_entry_done(&e);
                return -ENOMEM;
        }
        *ret = e;
        return 0;
}

int mount_table_read(pid_t pid, struct mount_table *ret) {
        _cleanup_(mount_table_done) struct mount_table t = {};
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        char path[64];
        size_t allocated = 0, len = 0;

        if (pid > 0)
                snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int) pid);
        else
                snprintf(path, sizeof(path), "/proc/self/mountinfo");
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (getline(&line, &len, f) > 0) {
                struct mount_entry e;
                int r;

                line[strcspn(line, "\n")] = 0;
                r = parse_line(line, &e);
                if (r == -EBADMSG)
                        continue;
                if (r < 0)
                        return r;
                if (t.n == allocated) {
                        struct mount_entry *n = reallocarray(t.entries, allocated * 2 + 16, sizeof(*n));
                        if (!n) {
                                mount_entry_done(&e);
                                return -ENOMEM;
                        }
                        t.entries = n;
                        allocated = allocated * 2 + 16;
                }
                t.entries[t.n++] = e;
        }
        *ret = t;
        t = (struct mount_table){};
        return 0;
}

/* 1: a mount is at path (dead or alive), 0: none, or a negative errno.
 * Exact and cheap, without reading mountinfo (thousands of lines on a busy
 * host): a dead mount's root answers ENOTCONN, a live one is a mount root,
 * and with none left path is the directory below. */
static int mounted_at(const char *path) {
        struct statx stx;

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &stx) < 0)
                return errno == ENOTCONN ? 1 : -errno;
        if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return -EOPNOTSUPP;
        return !!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

int umount_all_at(const char *path) {
        int n = 0;

        /* Bounded: a mount that will not go must not hang the caller. */
        for (int i = 0; i < 64; i++) {
                int r = mounted_at(path);
                if (r <= 0)
                        return r < 0 ? r : n;
                if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                        return -errno;
                n++;
        }
        return -EBUSY;
}

bool path_is_dead(const char *path) {
        struct statx stx;

        /* The attributes of a dead mount's root may still be cached. */
        return statx(AT_FDCWD, path, AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &stx) < 0 && errno == ENOTCONN;
}

const struct mount_entry *mount_table_top(const struct mount_table *t, const char *path) {
        for (size_t i = t->n; i > 0; i--)
                if (streq(t->entries[i - 1].mountpoint, path))
                        return &t->entries[i - 1];
        return NULL;
}

static bool is_below(const char *p, const char *dir) {
        const char *rest = startswith(p, dir);

        return rest && rest[0] == '/' && rest[1];
}

int mount_table_umount_below(const struct mount_table *t, const char *path) {
        int n = 0, r = 0;

        /* Listed in the order they were mounted: backwards, what is
         * mounted on a mount goes before it. */
        for (size_t i = t->n; i > 0; i--) {
                const char *p = t->entries[i - 1].mountpoint;

                if (!is_below(p, path))
                        continue;
                if (umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW) >= 0)
                        n++;
                else if (r == 0 && errno != EINVAL && errno != ENOENT)
                        r = -errno;
        }
        return r < 0 ? r : n;
}
