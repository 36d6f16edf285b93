/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "names.h"
#include "strv.h"

const char *const names_reserved[] = {
        "fd", "stdin", "stdout", "stderr", "ptmx", "pts", "shm", "mqueue", "char", "block", NULL,
};

struct claim {
        struct visible_device *v;
        const char *name;
        int is_symlink;
        size_t order; /* position in the device's own wishes */
};

struct granted {
        char *name;
        const char *holder; /* devpath, or NULL for the skeleton */
        bool is_directory;  /* only a path prefix of granted names */
        UT_hash_handle hh;
};

struct grant_table {
        struct granted *names;
};

static void grant_table_done(struct grant_table *t) {
        struct granted *g, *tmp;

        HASH_ITER(hh, t->names, g, tmp) {
                HASH_DEL(t->names, g);
                free(g->name);
                free(g);
        }
}

static struct granted *grant_find(struct grant_table *t, const char *name, size_t len) {
        struct granted *g;

        HASH_FIND(hh, t->names, name, len, g);
        return g;
}

static int grant_insert(struct grant_table *t, const char *name, size_t len, const char *holder, bool is_directory) {
        struct granted *g = calloc(1, sizeof(*g));

        if (!g)
                return -ENOMEM;
        g->name = strndup(name, len);
        if (!g->name) {
                free(g);
                return -ENOMEM;
        }
        g->holder = holder;
        g->is_directory = is_directory;
        HASH_ADD_KEYPTR(hh, t->names, g->name, len, g);
        return 0;
}

static int describe_exact(const struct granted *g, const char *what, const char *name, char **ret) {
        int n;

        if (g->is_directory)
                n = asprintf(ret, "%s '%s' is a directory of other device names", what, name);
        else if (!g->holder)
                n = asprintf(ret, "%s '%s' is reserved for the container's /dev skeleton", what, name);
        else
                n = asprintf(ret, "%s '%s' is taken by %s", what, name, g->holder);
        return n < 0 ? -ENOMEM : 0;
}

static int describe_prefix(const struct granted *g, const char *what, const char *name, char **ret) {
        int n;

        if (!g->holder)
                n = asprintf(ret, "%s '%s' is inside '%s', which is reserved for the container's /dev skeleton",
                             what, name, g->name);
        else
                n = asprintf(ret, "%s '%s' needs directory '%s', which is the node of %s", what, name, g->name,
                             g->holder);
        return n < 0 ? -ENOMEM : 0;
}

/* 0 and *ret_reason NULL when name is free; a reason when it is not. */
static int check_free(struct grant_table *t, const char *what, const char *name, char **ret_reason) {
        struct granted *g;

        *ret_reason = NULL;
        for (const char *slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
                g = grant_find(t, name, (size_t) (slash - name));
                if (g && !g->is_directory)
                        return describe_prefix(g, what, name, ret_reason);
        }
        g = grant_find(t, name, strlen(name));
        if (g)
                return describe_exact(g, what, name, ret_reason);
        return 0;
}

static int grant(struct grant_table *t, const char *name, const char *holder) {
        int r;

        for (const char *slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
                size_t len = (size_t) (slash - name);
                if (grant_find(t, name, len))
                        continue;
                r = grant_insert(t, name, len, holder, true);
                if (r < 0)
                        return r;
        }
        return grant_insert(t, name, strlen(name), holder, false);
}

static int claim_compare(const void *a, const void *b) {
        const struct claim *x = a, *y = b;
        int c;

        if (x->is_symlink != y->is_symlink)
                return x->is_symlink - y->is_symlink;
        c = strcmp(x->v->device->devpath, y->v->device->devpath);
        if (c != 0)
                return c;
        return x->order < y->order ? -1 : x->order > y->order;
}

static int collect_claims(struct container *c, struct claim **ret, size_t *ret_n) {
        struct visible_device *v, *tmp;
        struct claim *claims = NULL;
        size_t n = 0, allocated = 0;

        HASH_ITER(hh, c->visible, v, tmp) {
                size_t wanted = (v->wanted_node ? 1 : 0) + strv_length(v->wanted_symlinks);

                if (n + wanted > allocated) {
                        size_t more = (n + wanted) * 2 + 16;
                        struct claim *grown = realloc(claims, more * sizeof(*claims));
                        if (!grown) {
                                free(claims);
                                return -ENOMEM;
                        }
                        claims = grown;
                        allocated = more;
                }
                if (v->wanted_node)
                        claims[n++] = (struct claim){ .v = v, .name = v->wanted_node };
                for (size_t i = 0; v->wanted_symlinks && v->wanted_symlinks[i]; i++)
                        claims[n++] = (struct claim){ .v = v, .name = v->wanted_symlinks[i], .is_symlink = 1,
                                                      .order = i + 1 };
        }
        if (n > 1)
                qsort(claims, n, sizeof(*claims), claim_compare);
        *ret = claims;
        *ret_n = n;
        return 0;
}

/* The new grants of one device, built up while claims are decided. */
struct grants {
        struct visible_device *v;
        char *node;
        char **symlinks;
        char **conflicts;
        UT_hash_handle hh;
};

static void grants_free_all(struct grants **all) {
        struct grants *g, *tmp;

        HASH_ITER(hh, *all, g, tmp) {
                HASH_DEL(*all, g);
                free(g->node);
                strv_free(g->symlinks);
                strv_free(g->conflicts);
                free(g);
        }
}

static struct grants *grants_for(struct grants **all, struct visible_device *v) {
        struct grants *g;

        HASH_FIND_PTR(*all, &v, g);
        if (g)
                return g;
        g = calloc(1, sizeof(*g));
        if (!g)
                return NULL;
        g->v = v;
        HASH_ADD_PTR(*all, v, g);
        return g;
}

static int decide(struct grant_table *table, const struct claim *cl, struct grants *g) {
        const char *what = cl->is_symlink ? "SYMLINK" : "NAME";
        _cleanup_free_ char *reason = NULL;
        int r;

        if (cl->is_symlink && !g->node) {
                if (asprintf(&reason, "SYMLINK '%s' has no node to point to", cl->name) < 0)
                        return -ENOMEM;
                return strv_consume(&g->conflicts, TAKE_PTR(reason));
        }
        r = check_free(table, what, cl->name, &reason);
        if (r < 0)
                return r;
        if (reason)
                return strv_consume(&g->conflicts, TAKE_PTR(reason));

        r = grant(table, cl->name, cl->v->device->devpath);
        if (r < 0)
                return r;
        if (cl->is_symlink)
                return strv_extend(&g->symlinks, cl->name);
        g->node = strdup(cl->name);
        return g->node ? 0 : -ENOMEM;
}

static bool grants_differ(const struct visible_device *v, const struct grants *g) {
        return !streq_ptr(v->node, g->node) || !strv_equal(v->symlinks, g->symlinks) ||
               !strv_equal(v->conflicts, g->conflicts);
}

int names_assign(struct container *c, struct visible_list *before) {
        _cleanup_(grant_table_done) struct grant_table table = {};
        _cleanup_(grants_free_all) struct grants *all = NULL;
        _cleanup_free_ struct claim *claims = NULL;
        struct visible_device *v, *tmp;
        size_t n_claims;
        int r;

        for (const char *const *name = names_reserved; *name; name++) {
                r = grant(&table, *name, NULL);
                if (r < 0)
                        return r;
        }

        r = collect_claims(c, &claims, &n_claims);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_claims; i++) {
                struct grants *g = grants_for(&all, claims[i].v);
                if (!g)
                        return -ENOMEM;
                r = decide(&table, &claims[i], g);
                if (r < 0)
                        return r;
        }

        HASH_ITER(hh, c->visible, v, tmp) {
                struct grants empty = {}, *g;
                struct visible_device *copy;

                HASH_FIND_PTR(all, &v, g);
                if (!g)
                        g = &empty;
                if (!grants_differ(v, g))
                        continue;

                r = visible_device_copy(v, &copy);
                if (r < 0)
                        return r;
                r = visible_list_push(before, copy);
                if (r < 0)
                        return r;

                free(v->node);
                v->node = TAKE_PTR(g->node);
                strv_free(v->symlinks);
                v->symlinks = TAKE_PTR(g->symlinks);
                strv_free(v->conflicts);
                v->conflicts = TAKE_PTR(g->conflicts);
        }
        return 0;
}
