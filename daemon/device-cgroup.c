/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a container's device cgroup must allow: its visible set, with the
 * policy's ACCESS, on top of what the runtime allowed itself. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "cgroup-internal.h"
#include "fileio.h"
#include "policy/policy.h"

static const char *const mode_names[_DEVICE_CGROUP_MODE_MAX] = {
        [DEVICE_CGROUP_AUTO] = "auto",
        [DEVICE_CGROUP_V1] = "v1",
        [DEVICE_CGROUP_V2] = "v2",
        [DEVICE_CGROUP_OFF] = "off",
};

const char *device_cgroup_mode_to_string(enum device_cgroup_mode m) {
        return m < _DEVICE_CGROUP_MODE_MAX ? mode_names[m] : NULL;
}

int device_cgroup_mode_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(mode_names); i++)
                if (streq(s, mode_names[i]))
                        return (int) i;
        return -EINVAL;
}

static bool rule_matches(const struct cgroup_rule *r, const struct device_devnum_key *k) {
        return (r->type == 'a' || r->type == (char) k->type) && (r->major == CGROUP_ANY || r->major == k->major) &&
               (r->minor == CGROUP_ANY || r->minor == k->minor);
}

unsigned cgroup_rules_access(const struct cgroup_rule *rules, size_t n, const struct device_devnum_key *k) {
        unsigned access = 0;

        for (size_t i = 0; i < n; i++)
                if (rule_matches(&rules[i], k))
                        access |= rules[i].access;
        return access;
}

static bool rule_is_exact(const struct cgroup_rule *r) {
        return r->type != 'a' && r->major != CGROUP_ANY && r->minor != CGROUP_ANY;
}

static int compare_key(char type_a, uint32_t major_a, uint32_t minor_a, const struct cgroup_rule *b) {
        if (type_a != b->type)
                return type_a < b->type ? -1 : 1;
        if (major_a != b->major)
                return major_a < b->major ? -1 : 1;
        return minor_a < b->minor ? -1 : minor_a > b->minor;
}

static int compare_rules(const void *a, const void *b) {
        const struct cgroup_rule *x = a, *y = b;

        if (rule_is_exact(x) != rule_is_exact(y))
                return rule_is_exact(x) ? -1 : 1;
        return compare_key(x->type, x->major, x->minor, y);
}

size_t cgroup_rules_sort(struct cgroup_rule *rules, size_t n) {
        size_t n_exact = 0;

        if (n > 0)
                qsort(rules, n, sizeof(*rules), compare_rules);
        while (n_exact < n && rule_is_exact(&rules[n_exact]))
                n_exact++;
        return n_exact;
}

unsigned cgroup_sorted_rules_access(const struct cgroup_rule *rules, size_t n_exact, size_t n,
                                    const struct device_devnum_key *k) {
        size_t lo = 0, hi = n_exact;
        unsigned access = cgroup_rules_access(rules + n_exact, n - n_exact, k);

        /* The kernel keeps one line per device: access bits of a repeated
         * rule are merged into it. Binary search still takes every equal
         * line, in case another source repeats one. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (compare_key((char) k->type, k->major, k->minor, &rules[mid]) > 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (; lo < n_exact && compare_key((char) k->type, k->major, k->minor, &rules[lo]) == 0; lo++)
                access |= rules[lo].access;
        return access;
}

/* --- Finding the cgroup ------------------------------------------------ */

/* Where a hierarchy is mounted: the cgroup v1 one with controller (NULL:
 * the cgroup2 one). The places systemd mounts them, checked by their
 * filesystem type: mountinfo would be read in several calls, and a mount
 * elsewhere (frequent on a container host) between two of them can make
 * the kernel skip a line. */
static int find_hierarchy(const char *controller, char **ret) {
        static const char *const v2[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        struct statfs sf;

        if (controller) {
                if (asprintf(ret, "/sys/fs/cgroup/%s", controller) < 0)
                        return -ENOMEM;
                if (statfs(*ret, &sf) >= 0 && sf.f_type == CGROUP_SUPER_MAGIC)
                        return 0;
                free(*ret);
                *ret = NULL;
                return -ENOENT;
        }
        for (size_t i = 0; i < ELEMENTSOF(v2); i++)
                if (statfs(v2[i], &sf) >= 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
                        *ret = strdup(v2[i]);
                        return *ret ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

/* pid's cgroup in the v1 hierarchy holding controller (NULL: cgroup2). */
static int find_process_cgroup(pid_t pid, const char *controller, char **ret) {
        _cleanup_free_ char *text = NULL, *file = NULL;
        char *line, *save = NULL;
        int r;

        if (asprintf(&file, "/proc/%d/cgroup", (int) pid) < 0)
                return -ENOMEM;
        r = read_small_file_at(AT_FDCWD, file, 64 * 1024, &text);
        if (r < 0)
                return r;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *controllers = strchr(line, ':'), *path;

                if (!controllers || !(path = strchr(controllers + 1, ':')))
                        continue;
                *path++ = '\0';
                *controllers++ = '\0';
                if (controller) {
                        bool found = false;
                        char *c, *csave = NULL;
                        for (c = strtok_r(controllers, ",", &csave); c && !found; c = strtok_r(NULL, ",", &csave))
                                found = streq(c, controller);
                        if (!found)
                                continue;
                } else if (!streq(line, "0") || *controllers)
                        continue;
                *ret = strdup(path);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

/* auto: the v1 devices controller decides wherever it is mounted (cgroup2
 * programs are then only part of the story); else cgroup2. */
static enum device_cgroup_mode resolve_mode(enum device_cgroup_mode mode) {
        _cleanup_free_ char *root = NULL;

        if (mode != DEVICE_CGROUP_AUTO)
                return mode;
        return find_hierarchy("devices", &root) >= 0 ? DEVICE_CGROUP_V1 : DEVICE_CGROUP_V2;
}

static struct device_cgroup *device_cgroup_alloc(const char *name) {
        struct device_cgroup *g = calloc(1, sizeof(*g));

        if (!g)
                return NULL;
        g->dir_fd = g->map_fd = g->prog_fd = -EBADF;
        g->name = strdup(name);
        if (!g->name) {
                free(g);
                return NULL;
        }
        return g;
}

_printf_(2, 3) static void set_error(struct device_cgroup *g, const char *format, ...) {
        va_list ap;

        free(g->last_error);
        va_start(ap, format);
        if (vasprintf(&g->last_error, format, ap) < 0)
                g->last_error = NULL;
        va_end(ap);
}

static int open_cgroup(struct device_cgroup *g, pid_t pid) {
        const char *controller = g->mode == DEVICE_CGROUP_V1 ? "devices" : NULL;
        const char *what = g->mode == DEVICE_CGROUP_V1 ? "cgroup v1 devices hierarchy" : "cgroup2 hierarchy";
        _cleanup_free_ char *root = NULL, *error = NULL;
        int r;

        r = find_hierarchy(controller, &root);
        if (r < 0) {
                set_error(g, "no %s is mounted", what);
                return r;
        }
        r = find_process_cgroup(pid, controller, &g->path);
        if (r < 0) {
                set_error(g, "process %d has no cgroup in the %s: %s", (int) pid, what, strerror(-r));
                return r;
        }
        /* The host's own cgroup is no container's to restrict. */
        if (streq(g->path, "/")) {
                g->mode = DEVICE_CGROUP_OFF;
                if (asprintf(&g->off_reason, "process %d is in the root cgroup of the %s", (int) pid, what) < 0)
                        return -ENOMEM;
                return 0;
        }
        r = g->mode == DEVICE_CGROUP_V1 ? cgroup_v1_open(g, root, &error) : cgroup_v2_open(g, root, &error);
        if (r < 0)
                set_error(g, "%s%s: %s", root, g->path, error ?: strerror(-r));
        return r;
}

int device_cgroup_new(enum device_cgroup_mode mode, const char *name, pid_t pid, struct device_cgroup **ret) {
        _cleanup_(device_cgroup_freep) struct device_cgroup *g = device_cgroup_alloc(name);
        int r;

        if (!g)
                return -ENOMEM;
        g->mode = resolve_mode(mode);
        if (g->mode == DEVICE_CGROUP_OFF) {
                g->off_reason = strdup("turned off (devsieved --device-cgroup=off)");
                if (!g->off_reason)
                        return -ENOMEM;
                *ret = TAKE_PTR(g);
                return 0;
        }
        r = open_cgroup(g, pid);
        if (r < 0) {
                g->failed = true;
                g->failures++;
        }
        *ret = TAKE_PTR(g);
        return r;
}

bool device_cgroup_is_current(const struct device_cgroup *g, enum device_cgroup_mode mode, pid_t pid) {
        _cleanup_free_ char *path = NULL;

        mode = resolve_mode(mode);
        if (mode != g->mode || g->failed || g->gone || !g->path)
                return false;
        return find_process_cgroup(pid, mode == DEVICE_CGROUP_V1 ? "devices" : NULL, &path) >= 0 &&
               streq(path, g->path);
}

/* --- Granting ------------------------------------------------------------ */

static bool active(const struct device_cgroup *g) {
        return g && g->mode != DEVICE_CGROUP_OFF && !g->failed && !g->gone;
}

/* The device's key, and whether it is one a cgroup can talk about. */
static bool device_key(const struct device *d, struct device_devnum_key *ret) {
        if (d->type != 'b' && d->type != 'c')
                return false;
        *ret = (struct device_devnum_key){ .type = (uint32_t) d->type, .major = major(d->devnum),
                                           .minor = minor(d->devnum) };
        return true;
}

static struct cgroup_grant *find_grant(const struct device_cgroup *g, const struct device_devnum_key *k) {
        struct cgroup_grant *e;

        HASH_FIND(hh, g->grants, k, sizeof(*k), e);
        return e;
}

static void drop_grants(struct device_cgroup *g) {
        struct cgroup_grant *e, *tmp;

        HASH_ITER(hh, g->grants, e, tmp) {
                HASH_DEL(g->grants, e);
                free(e);
        }
}

/* Sets devsieve's part of k's access to access (0: none). */
static int set_access(struct device_cgroup *g, const struct device_devnum_key *k, unsigned access) {
        struct cgroup_grant *e = find_grant(g, k);
        unsigned old = e ? e->access : 0;
        int r;

        if (old == access)
                return 0;
        if (!e && !(e = calloc(1, sizeof(*e))))
                return -ENOMEM;
        if (old == 0) {
                e->key = *k;
                HASH_ADD(hh, g->grants, key, sizeof(e->key), e);
        }
        r = g->mode == DEVICE_CGROUP_V1 ? cgroup_v1_set(g, k, old, access) : cgroup_v2_set(g, k, old, access);
        if (r == -ENOENT || r == -ENODEV) {
                /* The cgroup is gone with its container: nothing left to keep. */
                g->gone = true;
                drop_grants(g);
                return 0;
        }
        if (r < 0) {
                g->failures++;
                set_error(g, "%c %u:%u: %s", (char) k->type, k->major, k->minor, strerror(-r));
                /* A failed deny stays ours to retry; a failed allow was never
                 * granted. */
                access = old;
        } else
                g->updates++;
        e->access = access;
        if (e->access == 0) {
                HASH_DEL(g->grants, e);
                free(e);
        }
        return r;
}

/* What devsieve must add for v: the policy's ACCESS beyond the runtime's. */
static unsigned wanted_access(const struct device_cgroup *g, const struct visible_device *v,
                              const struct device_devnum_key *k) {
        unsigned access = v->access & (POLICY_ACCESS_READ | POLICY_ACCESS_WRITE | POLICY_ACCESS_MKNOD);

        return access & ~cgroup_rules_access(g->baseline, g->n_baseline, k);
}

/* Moves k towards v's access, only widening or only narrowing. */
static int step(struct device_cgroup *g, const struct visible_device *v, const struct device *d, bool widen) {
        struct device_devnum_key k;
        struct cgroup_grant *e;
        unsigned want, have;

        if (!device_key(d, &k))
                return 0;
        want = v ? wanted_access(g, v, &k) : 0;
        e = find_grant(g, &k);
        have = e ? e->access : 0;
        return set_access(g, &k, widen ? have | want : have & want);
}

static int keep_first(int r, int q) {
        return r < 0 ? r : q;
}

int device_cgroup_grant_visible(struct device_cgroup *g, const struct container *c) {
        const struct visible_device *v, *tmp;
        int r = 0;

        if (!active(g))
                return 0;
        HASH_ITER(hh, c->visible, v, tmp)
                r = keep_first(r, step(g, v, v->device, true));
        return r;
}

int device_cgroup_grant(struct device_cgroup *g, const struct delta *deltas, size_t n) {
        int r = 0;

        for (size_t i = 0; i < n && active(g); i++)
                if (deltas[i].new)
                        r = keep_first(r, step(g, deltas[i].new, deltas[i].device, true));
        return r;
}

int device_cgroup_revoke(struct device_cgroup *g, const struct delta *deltas, size_t n) {
        int r = 0;

        for (size_t i = 0; i < n && active(g); i++)
                if (deltas[i].kind != DELTA_VISIBLE)
                        r = keep_first(r, step(g, deltas[i].new, deltas[i].device, false));
        return r;
}

void device_cgroup_check(struct device_cgroup *g) {
        if (!active(g))
                return;
        if (g->mode == DEVICE_CGROUP_V1)
                cgroup_v1_check(g);
        else
                cgroup_v2_check(g);
}

int device_cgroup_restore(struct device_cgroup *g) {
        _cleanup_free_ char *error = NULL;
        int r;

        if (!active(g) || !g->replaced)
                return 0;
        r = g->mode == DEVICE_CGROUP_V1 ? cgroup_v1_restore(g) : cgroup_v2_restore(g, &error);
        if (r < 0) {
                g->failures++;
                set_error(g, "cannot restore devsieve's rules: %s", error ?: strerror(-r));
                return r;
        }
        g->replaced = false;
        free(g->last_error);
        g->last_error = NULL;
        return 0;
}

void device_cgroup_get_stats(const struct device_cgroup *g, struct device_cgroup_stats *ret) {
        *ret = (struct device_cgroup_stats){
                .mode = device_cgroup_mode_to_string(g->mode),
                .path = g->path,
                .rules = HASH_COUNT(g->grants),
                .updates = g->updates,
                .failures = g->failures,
                .last_error = g->last_error,
                .replaced = g->replaced,
                .off_reason = g->off_reason,
        };
}

static void release(struct device_cgroup *g) {
        drop_grants(g);
        if (g->mode == DEVICE_CGROUP_V2)
                cgroup_v2_close(g);
        safe_close(g->dir_fd);
        free(g->baseline);
        free(g->path);
        free(g->off_reason);
        free(g->last_error);
        free(g->name);
        free(g);
}

struct device_cgroup *device_cgroup_free(struct device_cgroup *g) {
        struct cgroup_grant *e, *tmp;

        if (!g)
                return NULL;
        /* Nothing devsieve granted outlives its view. */
        if (active(g))
                HASH_ITER(hh, g->grants, e, tmp) {
                        struct device_devnum_key k = e->key;
                        (void) set_access(g, &k, 0);
                        if (!active(g))
                                break;
                }
        release(g);
        return NULL;
}

struct device_cgroup *device_cgroup_forget(struct device_cgroup *g) {
        if (g)
                release(g);
        return NULL;
}
