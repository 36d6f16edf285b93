/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What devsieved grants and denies in a v1 device cgroup for a batch of
 * deltas, against a directory of plain files standing in for the cgroup:
 * the runtime's rules are never written, only devsieve's own part of a
 * device's access comes and goes, and a cgroup that is gone is dropped
 * quietly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "daemon/cgroup-internal.h"
#include "fileio.h"
#include "policy/policy.h"

#define RW (POLICY_ACCESS_READ | POLICY_ACCESS_WRITE)

static void test_rule_parse(void **state) {
        struct cgroup_rule r;

        assert_int_equal(cgroup_rule_parse("c 1:3 rwm", &r), 0);
        assert_int_equal(r.type, 'c');
        assert_int_equal(r.major, 1);
        assert_int_equal(r.minor, 3);
        assert_int_equal(r.access, RW | POLICY_ACCESS_MKNOD);
        assert_int_equal(cgroup_rule_parse("b *:* m", &r), 0);
        assert_int_equal(r.major, CGROUP_ANY);
        assert_int_equal(r.minor, CGROUP_ANY);
        assert_int_equal(r.access, POLICY_ACCESS_MKNOD);
        assert_int_equal(cgroup_rule_parse("c 136:* rw", &r), 0);
        assert_int_equal(r.major, 136);
        assert_int_equal(r.minor, CGROUP_ANY);

        assert_int_equal(cgroup_rule_parse("x 1:3 rwm", &r), -EINVAL);
        assert_int_equal(cgroup_rule_parse("c 1:3 rwx", &r), -EINVAL);
        assert_int_equal(cgroup_rule_parse("c 1 rwm", &r), -EINVAL);
        assert_int_equal(cgroup_rule_parse("c 4294967295:1 r", &r), -EINVAL);
        assert_int_equal(cgroup_rule_parse("", &r), -EINVAL);
}

static void test_rules_access(void **state) {
        const struct cgroup_rule rules[] = {
                { 'b', CGROUP_ANY, CGROUP_ANY, POLICY_ACCESS_MKNOD },
                { 'c', 136, CGROUP_ANY, RW },
                { 'c', 1, 3, RW | POLICY_ACCESS_MKNOD },
        };
        const struct cgroup_rule all = { 'a', CGROUP_ANY, CGROUP_ANY, RW | POLICY_ACCESS_MKNOD };
        struct device_devnum_key loop = { 'b', 7, 0 }, pts = { 'c', 136, 4 }, null = { 'c', 1, 3 },
                                 zero = { 'c', 1, 5 };

        assert_int_equal(cgroup_rules_access(rules, ELEMENTSOF(rules), &loop), POLICY_ACCESS_MKNOD);
        assert_int_equal(cgroup_rules_access(rules, ELEMENTSOF(rules), &pts), RW);
        assert_int_equal(cgroup_rules_access(rules, ELEMENTSOF(rules), &null), RW | POLICY_ACCESS_MKNOD);
        assert_int_equal(cgroup_rules_access(rules, ELEMENTSOF(rules), &zero), 0);
        assert_int_equal(cgroup_rules_access(&all, 1, &zero), RW | POLICY_ACCESS_MKNOD);
}

/* The sorted lookup a check of a long devices.list uses answers what the
 * plain one does, for every kind of rule, repeated lines included. */
static void test_sorted_rules_access(void **state) {
        static const char types[] = { 'a', 'b', 'c' };
        struct cgroup_rule rules[300], sorted[300];
        unsigned seed = 1;
        size_t n_exact;

        for (size_t i = 0; i < ELEMENTSOF(rules); i++) {
                seed = seed * 1103515245u + 12345u;
                rules[i] = (struct cgroup_rule){
                        .type = types[(seed >> 8) % 3 == 0 && (seed >> 4) % 16 == 0 ? 0 : 1 + (seed >> 9) % 2],
                        .major = (seed >> 12) % 32 == 0 ? CGROUP_ANY : (seed >> 12) % 4,
                        .minor = (seed >> 17) % 16 == 0 ? CGROUP_ANY : (seed >> 17) % 50,
                        .access = 1u + (seed >> 24) % 7,
                };
        }
        memcpy(sorted, rules, sizeof(rules));
        n_exact = cgroup_rules_sort(sorted, ELEMENTSOF(sorted));
        assert_true(n_exact > 100 && n_exact < ELEMENTSOF(sorted));
        for (uint32_t t = 1; t < ELEMENTSOF(types); t++)
                for (uint32_t major = 0; major < 5; major++)
                        for (uint32_t minor = 0; minor < 52; minor++) {
                                struct device_devnum_key k = { (uint32_t) types[t], major, minor };

                                assert_int_equal(cgroup_sorted_rules_access(sorted, n_exact, ELEMENTSOF(sorted), &k),
                                                 cgroup_rules_access(rules, ELEMENTSOF(rules), &k));
                        }
        assert_int_equal(cgroup_rules_sort(sorted, 0), 0);
}

/* --- Grants against a stand-in directory ------------------------------- */

struct fixture {
        char root[64]; /* stands in for the hierarchy's mount point */
        char dir[80];  /* ROOT/cg: the container's cgroup */
        struct device_cgroup *g;
        struct device loop, null;
        struct visible_device loop_v, null_v;
};

static const char *const files[] = { "devices.allow", "devices.deny", "devices.list" };

static void write_text(const char *dir, const char *file, const char *text) {
        char path[128];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* What devsieved wrote to FILE since the last look ("" for nothing). */
static char *take_written(struct fixture *f, const char *file) {
        char path[128], *text = NULL;

        snprintf(path, sizeof(path), "%s/%s", f->dir, file);
        assert_true(read_small_file_at(AT_FDCWD, path, 4096, &text) >= 0);
        assert_int_equal(truncate(path, 0), 0);
        return text;
}

static void assert_written(struct fixture *f, const char *file, const char *want) {
        _cleanup_free_ char *text = take_written(f, file);
        assert_string_equal(text, want);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        _cleanup_free_ char *error = NULL;

        assert_non_null(f);
        snprintf(f->root, sizeof(f->root), "/tmp/devsieve-cgroup-unit.XXXXXX");
        assert_non_null(mkdtemp(f->root));
        snprintf(f->dir, sizeof(f->dir), "%s/cg", f->root);
        assert_int_equal(mkdir(f->dir, 0755), 0);
        write_text(f->dir, "devices.allow", "");
        write_text(f->dir, "devices.deny", "");
        /* runc's rules: mknod of anything, /dev/null. */
        write_text(f->dir, "devices.list", "c *:* m\nb *:* m\nc 1:3 rwm\n");

        f->g = calloc(1, sizeof(*f->g));
        assert_non_null(f->g);
        f->g->mode = DEVICE_CGROUP_V1;
        f->g->dir_fd = f->g->map_fd = f->g->prog_fd = -EBADF;
        f->g->path = strdup("/cg");
        assert_int_equal(cgroup_v1_open(f->g, f->root, &error), 0);
        assert_int_equal(f->g->n_baseline, 3);

        f->loop = (struct device){ .type = 'b', .devnum = makedev(7, 5) };
        f->null = (struct device){ .type = 'c', .devnum = makedev(1, 3) };
        f->loop_v = (struct visible_device){ .device = &f->loop, .access = RW };
        f->null_v = (struct visible_device){ .device = &f->null, .access = RW };
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char path[128];

        device_cgroup_free(f->g);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
                (void) unlink(path);
        }
        (void) rmdir(f->dir);
        (void) rmdir(f->root);
        free(f);
        return 0;
}

static size_t rules(const struct device_cgroup *g) {
        struct device_cgroup_stats s;

        device_cgroup_get_stats(g, &s);
        return s.rules;
}

static void test_grant_and_revoke(void **state) {
        struct fixture *f = *state;
        struct visible_device loop_r = f->loop_v;
        struct delta shown[] = {
                { .kind = DELTA_VISIBLE, .device = &f->loop, .new = &f->loop_v },
                { .kind = DELTA_VISIBLE, .device = &f->null, .new = &f->null_v },
        };
        struct delta narrowed = { .kind = DELTA_CHANGED, .device = &f->loop, .old = &f->loop_v, .new = &loop_r };
        struct delta hidden[] = {
                { .kind = DELTA_HIDDEN, .device = &f->loop, .old = &loop_r },
                { .kind = DELTA_HIDDEN, .device = &f->null, .old = &f->null_v },
        };

        /* /dev/null is the runtime's: nothing to add, nothing to take. */
        assert_int_equal(device_cgroup_grant(f->g, shown, ELEMENTSOF(shown)), 0);
        assert_written(f, "devices.allow", "b 7:5 rw");
        assert_int_equal(device_cgroup_revoke(f->g, shown, ELEMENTSOF(shown)), 0);
        assert_written(f, "devices.deny", "");
        assert_int_equal(rules(f->g), 1);

        /* ACCESS rw to r: nothing to add, w to take. */
        loop_r.access = POLICY_ACCESS_READ;
        assert_int_equal(device_cgroup_grant(f->g, &narrowed, 1), 0);
        assert_written(f, "devices.allow", "");
        assert_int_equal(device_cgroup_revoke(f->g, &narrowed, 1), 0);
        assert_written(f, "devices.deny", "b 7:5 w");

        /* Hidden: devsieve's r goes, the runtime's m (b *:* m) is not its to take. */
        assert_int_equal(device_cgroup_grant(f->g, hidden, ELEMENTSOF(hidden)), 0);
        assert_written(f, "devices.allow", "");
        assert_int_equal(device_cgroup_revoke(f->g, hidden, ELEMENTSOF(hidden)), 0);
        assert_written(f, "devices.deny", "b 7:5 r");
        assert_int_equal(rules(f->g), 0);
}

static void test_mknod_only_is_the_runtimes(void **state) {
        struct fixture *f = *state;
        struct delta shown = { .kind = DELTA_VISIBLE, .device = &f->loop, .new = &f->loop_v };

        f->loop_v.access = POLICY_ACCESS_MKNOD;
        assert_int_equal(device_cgroup_grant(f->g, &shown, 1), 0);
        assert_written(f, "devices.allow", "");
        assert_int_equal(rules(f->g), 0);
}

static void test_destroy_takes_back(void **state) {
        struct fixture *f = *state;
        struct delta shown = { .kind = DELTA_VISIBLE, .device = &f->loop, .new = &f->loop_v };

        assert_int_equal(device_cgroup_grant(f->g, &shown, 1), 0);
        assert_written(f, "devices.allow", "b 7:5 rw");
        f->g = device_cgroup_free(f->g);
        assert_written(f, "devices.deny", "b 7:5 rw");
}

static void test_gone_is_quiet(void **state) {
        struct fixture *f = *state;
        struct delta shown = { .kind = DELTA_VISIBLE, .device = &f->loop, .new = &f->loop_v };
        struct device_cgroup_stats s;
        char path[128];

        snprintf(path, sizeof(path), "%s/devices.allow", f->dir);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(device_cgroup_grant(f->g, &shown, 1), 0);
        device_cgroup_get_stats(f->g, &s);
        assert_int_equal(s.rules, 0);
        assert_int_equal(s.failures, 0);
        assert_null(s.last_error);
}

static void test_failure_is_reported(void **state) {
        struct fixture *f = *state;
        struct delta shown = { .kind = DELTA_VISIBLE, .device = &f->loop, .new = &f->loop_v };
        struct device_cgroup_stats s;
        char path[128];

        /* A directory where the file should be: the write fails (EISDIR). */
        snprintf(path, sizeof(path), "%s/devices.allow", f->dir);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(device_cgroup_grant(f->g, &shown, 1), -EISDIR);
        device_cgroup_get_stats(f->g, &s);
        assert_int_equal(s.rules, 0);
        assert_int_equal(s.failures, 1);
        assert_non_null(s.last_error);
        assert_non_null(strstr(s.last_error, "b 7:5"));
        assert_int_equal(rmdir(path), 0);
        write_text(f->dir, "devices.allow", "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rule_parse),
                cmocka_unit_test(test_rules_access),
                cmocka_unit_test(test_sorted_rules_access),
                cmocka_unit_test_setup_teardown(test_grant_and_revoke, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mknod_only_is_the_runtimes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_destroy_takes_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gone_is_quiet, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_is_reported, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
