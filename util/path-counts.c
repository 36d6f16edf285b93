/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "path-counts.h"

struct path_count {
        char *dir;
        size_t below;
        UT_hash_handle hh;
};

static struct path_count *find(const struct path_counts *c, const char *dir, size_t len) {
        struct path_count *e;

        HASH_FIND(hh, c->dirs, dir, len, e);
        return e;
}

void path_counts_add(struct path_counts *c, const char *path) {
        for (const char *slash = strchr(path, '/'); slash && !c->lost; slash = strchr(slash + 1, '/')) {
                size_t len = (size_t) (slash - path);
                struct path_count *e = find(c, path, len);

                if (!e) {
                        e = calloc(1, sizeof(*e));
                        if (!e || !(e->dir = strndup(path, len))) {
                                free(e);
                                c->lost = true;
                                return;
                        }
                        HASH_ADD_KEYPTR(hh, c->dirs, e->dir, len, e);
                }
                e->below++;
        }
}

void path_counts_remove(struct path_counts *c, const char *path) {
        for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
                struct path_count *e = find(c, path, (size_t) (slash - path));

                if (!e)
                        continue;
                if (--e->below == 0) {
                        HASH_DEL(c->dirs, e);
                        free(e->dir);
                        free(e);
                }
        }
}

bool path_counts_any_below(const struct path_counts *c, const char *dir) {
        return c->lost || find(c, dir, strlen(dir));
}

void path_counts_clear(struct path_counts *c) {
        struct path_count *e, *tmp;

        HASH_ITER(hh, c->dirs, e, tmp) {
                HASH_DEL(c->dirs, e);
                free(e->dir);
                free(e);
        }
        c->lost = false;
}
