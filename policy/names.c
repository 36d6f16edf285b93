/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* A library must not exit() when memory runs out. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "policy-internal.h"

/* OWNER= and GROUP= names, resolved once at load time against the
 * container's /etc (or the host's databases). */

struct policy_name_cache {
        char *name;
        int result; /* as policy_names_lookup() returns it */
        uint32_t id;
        UT_hash_handle hh;
};

/* Entries of large groups can be long; past this we give up on the line. */
#define ENTRY_BUFFER_MAX (1024 * 1024)

/* Opens ROOT/etc/FILE the way a process chrooted to ROOT would see it: an
 * absolute symlink in the container must not lead to a host file. A FIFO
 * planted there must not block the daemon either. */
static int open_in_root(const char *root, const char *file, FILE **ret) {
        _cleanup_close_ int root_fd = -EBADF, fd = -EBADF;
        struct stat st;
        FILE *f;

        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return negative_errno();

#ifdef SYS_openat2
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                .resolve = RESOLVE_IN_ROOT,
        };
        fd = (int) syscall(SYS_openat2, root_fd, file, &how, sizeof(how));
        /* Old kernels and seccomp filters that do not know openat2(). */
        if (fd < 0 && (errno == ENOSYS || errno == EPERM))
#endif
                fd = openat(root_fd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        f = fdopen(fd, "re");
        if (!f)
                return negative_errno();
        TAKE_FD(fd);
        *ret = f;
        return 0;
}

static int grow(char **buffer, size_t *size) {
        char *b;

        if (*size >= ENTRY_BUFFER_MAX)
                return -ERANGE;
        b = realloc(*buffer, *size * 2);
        if (!b)
                return -ENOMEM;
        *buffer = b;
        *size *= 2;
        return 0;
}

/* fgetpwent_r() and fgetgrent_r() rewind to the start of an entry that did
 * not fit, so growing the buffer and retrying reads it again. */
static int lookup_in_file(const char *root, bool group, const char *name, uint32_t *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *buffer = NULL;
        size_t size = 4096;
        int r;

        r = open_in_root(root, group ? "etc/group" : "etc/passwd", &f);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        buffer = malloc(size);
        if (!buffer)
                return -ENOMEM;

        for (;;) {
                const char *entry_name;
                uint32_t id;

                if (group) {
                        struct group gr, *result;
                        r = fgetgrent_r(f, &gr, buffer, size, &result);
                        entry_name = r == 0 ? gr.gr_name : NULL;
                        id = r == 0 ? gr.gr_gid : 0;
                } else {
                        struct passwd pw, *result;
                        r = fgetpwent_r(f, &pw, buffer, size, &result);
                        entry_name = r == 0 ? pw.pw_name : NULL;
                        id = r == 0 ? pw.pw_uid : 0;
                }
                if (r == ENOENT)
                        return 0;
                if (r == ERANGE) {
                        r = grow(&buffer, &size);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (r != 0)
                        return -r;
                if (streq(entry_name, name)) {
                        *ret = id;
                        return 1;
                }
        }
}

static int lookup_on_host(bool group, const char *name, uint32_t *ret) {
        _cleanup_free_ char *buffer = NULL;
        size_t size = 4096;

        buffer = malloc(size);
        if (!buffer)
                return -ENOMEM;

        for (;;) {
                bool found;
                uint32_t id;
                int r;

                if (group) {
                        struct group gr, *result = NULL;
                        r = getgrnam_r(name, &gr, buffer, size, &result);
                        found = result;
                        id = result ? gr.gr_gid : 0;
                } else {
                        struct passwd pw, *result = NULL;
                        r = getpwnam_r(name, &pw, buffer, size, &result);
                        found = result;
                        id = result ? pw.pw_uid : 0;
                }
                if (found) {
                        *ret = id;
                        return 1;
                }
                if (r == ERANGE) {
                        r = grow(&buffer, &size);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* getpwnam_r(3): these all mean "not found". */
                if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
                        return 0;
                return -r;
        }
}

int policy_names_lookup(struct policy_name_cache **cache, const char *root, bool group, const char *name,
                        uint32_t *ret) {
        _cleanup_free_ struct policy_name_cache *e = NULL;
        struct policy_name_cache *hit;
        uint32_t id = 0;
        int r;

        HASH_FIND_STR(*cache, name, hit);
        if (hit) {
                if (hit->result > 0)
                        *ret = hit->id;
                return hit->result;
        }

        r = root ? lookup_in_file(root, group, name, &id) : lookup_on_host(group, name, &id);
        if (r == -ENOMEM)
                return r;

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->name = strdup(name);
        if (!e->name)
                return -ENOMEM;
        e->result = r;
        e->id = id;
        HASH_ADD_KEYPTR(hh, *cache, e->name, strlen(e->name), e);
        if (!e->hh.tbl) {
                free(e->name);
                return -ENOMEM;
        }
        TAKE_PTR(e);

        if (r > 0)
                *ret = id;
        return r;
}

void policy_names_cache_free(struct policy_name_cache **cache) {
        struct policy_name_cache *e, *tmp;

        HASH_ITER(hh, *cache, e, tmp) {
                HASH_DEL(*cache, e);
                free(e->name);
                free(e);
        }
}
