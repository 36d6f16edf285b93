/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v1: devices.allow and devices.deny lines in the container's
 * devices cgroup. */
#include <fcntl.h>
#include <stdio.h>

#include "cgroup-internal.h"
#include "fileio.h"
#include "policy/policy.h"

static void access_string(unsigned access, char buf[static 4]) {
        char *p = buf;

        if (access & POLICY_ACCESS_READ)
                *p++ = 'r';
        if (access & POLICY_ACCESS_WRITE)
                *p++ = 'w';
        if (access & POLICY_ACCESS_MKNOD)
                *p++ = 'm';
        *p = '\0';
}

static int parse_number(const char *s, uint32_t *ret) {
        char *end;
        unsigned long v;

        if (streq(s, "*")) {
                *ret = CGROUP_ANY;
                return 0;
        }
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end || end == s || v >= CGROUP_ANY)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

/* One devices.list line: "c 1:3 rwm", "b *:* m", "a *:* rwm". */
int cgroup_rule_parse(const char *line, struct cgroup_rule *ret) {
        char type, major[16], minor[16], access[8];

        if (sscanf(line, "%c %15[0-9*]:%15[0-9*] %7s", &type, major, minor, access) != 4 || !strchr("abc", type))
                return -EINVAL;
        *ret = (struct cgroup_rule){ .type = type };
        if (parse_number(major, &ret->major) < 0 || parse_number(minor, &ret->minor) < 0)
                return -EINVAL;
        for (const char *p = access; *p; p++)
                switch (*p) {
                case 'r':
                        ret->access |= POLICY_ACCESS_READ;
                        break;
                case 'w':
                        ret->access |= POLICY_ACCESS_WRITE;
                        break;
                case 'm':
                        ret->access |= POLICY_ACCESS_MKNOD;
                        break;
                default:
                        return -EINVAL;
                }
        return 0;
}

/* The rules in force: devices.list. */
static int read_rules(int dir_fd, struct cgroup_rule **ret, size_t *ret_n, char **ret_error) {
        _cleanup_free_ struct cgroup_rule *rules = NULL;
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL;
        size_t n = 0;
        int r;

        r = read_small_file_at(dir_fd, "devices.list", 1024 * 1024, &text);
        if (r < 0)
                return asprintf(ret_error, "cannot read devices.list: %s", strerror(-r)) < 0 ? -ENOMEM : r;
        for (const char *p = text; *p; p++)
                n += *p == '\n';
        rules = calloc(n + 1, sizeof(*rules));
        if (!rules)
                return -ENOMEM;
        n = 0;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                r = cgroup_rule_parse(line, &rules[n]);
                if (r < 0)
                        return asprintf(ret_error, "devices.list: cannot parse '%.64s'", line) < 0 ? -ENOMEM : r;
                n++;
        }
        *ret = TAKE_PTR(rules);
        *ret_n = n;
        return 0;
}

int cgroup_v1_open(struct device_cgroup *g, const char *root, char **ret_error) {
        _cleanup_free_ char *dir = NULL;

        if (asprintf(&dir, "%s%s", root, g->path) < 0)
                return -ENOMEM;
        g->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (g->dir_fd < 0)
                return negative_errno();
        /* Writable, or every later grant would fail one by one. */
        if (faccessat(g->dir_fd, "devices.allow", W_OK, AT_EACCESS) < 0 ||
            faccessat(g->dir_fd, "devices.deny", W_OK, AT_EACCESS) < 0)
                return asprintf(ret_error, "devices.allow/deny not writable: %m") < 0 ? -ENOMEM : negative_errno();
        /* What the runtime allowed before devsieve came: those rules stay. */
        return read_rules(g->dir_fd, &g->baseline, &g->n_baseline, ret_error);
}

static int write_rule(int dir_fd, const char *file, const struct device_devnum_key *k, unsigned access) {
        _cleanup_close_ int fd = -EBADF;
        char line[64], bits[4];
        int n;

        access_string(access, bits);
        n = snprintf(line, sizeof(line), "%c %u:%u %s", (char) k->type, k->major, k->minor, bits);
        fd = openat(dir_fd, file, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        /* The kernel takes one rule per write. */
        return write(fd, line, (size_t) n) == n ? 0 : negative_errno();
}

int cgroup_v1_set(struct device_cgroup *g, const struct device_devnum_key *k, unsigned old, unsigned new) {
        int r = 0;

        if (new & ~old)
                r = write_rule(g->dir_fd, "devices.allow", k, new & ~old);
        if (r >= 0 && (old & ~new))
                r = write_rule(g->dir_fd, "devices.deny", k, old & ~new);
        return r;
}

/* A runtime or systemd that rewrites the cgroup's rules (systemd does on
 * daemon-reload for the units it manages) drops devsieve's with them. */
void cgroup_v1_check(struct device_cgroup *g) {
        _cleanup_free_ struct cgroup_rule *rules = NULL;
        _cleanup_free_ char *error = NULL;
        struct cgroup_grant *e, *tmp;
        size_t n = 0, n_exact;

        if (g->replaced || read_rules(g->dir_fd, &rules, &n, &error) < 0)
                return;
        n_exact = cgroup_rules_sort(rules, n);
        HASH_ITER(hh, g->grants, e, tmp)
                if ((cgroup_sorted_rules_access(rules, n_exact, n, &e->key) & e->access) != e->access) {
                        free(g->last_error);
                        if (asprintf(&g->last_error,
                                     "devices.list lost devsieve's rule for %c %u:%u: the runtime or systemd "
                                     "rewrote the cgroup's rules; attach again",
                                     (char) e->key.type, e->key.major, e->key.minor) < 0)
                                g->last_error = NULL;
                        g->failures++;
                        g->replaced = true;
                        return;
                }
}

int cgroup_v1_restore(struct device_cgroup *g) {
        struct cgroup_grant *e, *tmp;
        int r;

        HASH_ITER(hh, g->grants, e, tmp) {
                r = write_rule(g->dir_fd, "devices.allow", &e->key, e->access);
                if (r < 0)
                        return r;
        }
        return 0;
}
