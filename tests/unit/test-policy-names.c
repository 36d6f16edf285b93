/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy-test-util.h"

/* OWNER= and GROUP= names, resolved against a container root's /etc or
 * the host. */

static struct fake_device loop0 = {
        .pd = {
                .devpath = "/devices/virtual/block/loop0",
                .subsystem = "block",
                .sysname = "loop0",
                .devname = "/dev/loop0",
                .type = 'b',
                .major = 7,
                FAKE_CALLBACKS,
        },
};

static int setup(void **state) {
        char *root = make_tempdir();
        _cleanup_free_ char *big = NULL;
        size_t size = 0;
        FILE *f;

        write_file(root, "etc/passwd",
                   "root:x:0:0:root:/root:/bin/sh\n"
                   "# not an entry\n"
                   "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                   "bob:x:1001:1001::/:/usr/sbin/nologin\n");

        /* A group with many members needs more than a small buffer. */
        f = open_memstream(&big, &size);
        assert_non_null(f);
        fprintf(f, "root:x:0:\ndisk:x:6:\nhuge:x:500:");
        for (int i = 0; i < 5000; i++)
                fprintf(f, "%smember%d", i ? "," : "", i);
        fprintf(f, "\nvideo:x:44:alice,bob\n");
        assert_int_equal(fclose(f), 0);
        write_file(root, "etc/group", big);

        *state = root;
        return 0;
}

static int teardown(void **state) {
        remove_tree(*state);
        return 0;
}

static int load(const char *root, bool strict, const char *text, struct policy **ret,
                struct policy_diagnostics *diags) {
        const struct policy_load_options options = {
                .root = root,
                .unknown_names_are_errors = strict,
        };

        return policy_load_string("rules", text, &options, ret, diags);
}

static void test_names_in_root(void **state) {
        const char *root = *state;
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(policy_result_done) struct policy_result res = {}, res2 = {};

        assert_int_equal(load(root, true, "allow KERNEL==\"loop0\", OWNER=\"alice\", GROUP=\"video\"\n", &p, &diags),
                         0);
        assert_int_equal(diags.n_items, 0);
        evaluate_ok(p, &loop0, &res);
        assert_int_equal(res.uid, 1000);
        assert_int_equal(res.gid, 44);
        policy_free(p);
        p = NULL;

        /* Past the long entry, and the same names again (from the cache). */
        assert_int_equal(load(root, true,
                              "allow KERNEL==\"loop0\", OWNER=\"bob\", GROUP=\"video\"\n"
                              "allow KERNEL==\"loop0\", OWNER=\"bob\", GROUP=\"huge\"\n",
                              &p, &diags),
                         0);
        evaluate_ok(p, &loop0, &res2);
        assert_int_equal(res2.uid, 1001);
        assert_int_equal(res2.gid, 500);
}

static void test_numbers_taken_as_is(void **state) {
        const char *root = *state;
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(policy_result_done) struct policy_result res = {};

        /* 4242 is in neither file: a number is a container id, not looked up. */
        assert_int_equal(load(root, true, "allow KERNEL==\"loop0\", OWNER=\"4242\", GROUP=\"0\"\n", &p, NULL), 0);
        evaluate_ok(p, &loop0, &res);
        assert_int_equal(res.uid, 4242);
        assert_int_equal(res.gid, 0);
}

static void test_unknown_name_is_error(void **state) {
        const char *root = *state;
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_free_ char *s0 = NULL, *s1 = NULL, *want0 = NULL, *want1 = NULL;
        struct policy *p = NULL;

        assert_int_equal(load(root, true, "allow KERNEL==\"loop0\", OWNER=\"carol\", GROUP=\"audio\"\n", &p, &diags),
                         -EINVAL);
        assert_null(p);
        assert_int_equal(diags.n_errors, 2);
        assert_int_equal(policy_diagnostic_format(&diags.items[0], &s0), 0);
        assert_int_equal(policy_diagnostic_format(&diags.items[1], &s1), 0);
        assert_true(asprintf(&want0, "rules:1:30: error: unknown user 'carol' in %s/etc/passwd", root) > 0);
        assert_true(asprintf(&want1, "rules:1:45: error: unknown group 'audio' in %s/etc/group", root) > 0);
        assert_string_equal(s0, want0);
        assert_string_equal(s1, want1);
}

static void test_unknown_name_is_warning(void **state) {
        const char *root = *state;
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(policy_result_done) struct policy_result res = {};
        _cleanup_free_ char *s = NULL;

        assert_int_equal(load(root, false,
                              "allow KERNEL==\"loop0\", OWNER=\"alice\", GROUP=\"6\"\n"
                              "allow KERNEL==\"loop0\", OWNER=\"carol\"\n",
                              &p, &diags),
                         0);
        assert_non_null(p);
        assert_int_equal(diags.n_errors, 0);
        assert_int_equal(diags.n_items, 1);
        assert_false(diags.items[0].is_error);
        assert_int_equal(policy_diagnostic_format(&diags.items[0], &s), 0);
        assert_non_null(startswith(s, "rules:2:30: warning: unknown user 'carol'"));
        assert_non_null(strstr(s, "using 0"));

        /* The later rule's fallback id overrides alice's. */
        evaluate_ok(p, &loop0, &res);
        assert_int_equal(res.uid, 0);
        assert_int_equal(res.gid, 6);
}

/* Equal policies share decisions in the daemon: the identity must tell
 * apart what decides differently, names resolved in another root too. */
static void test_identity(void **state) {
        const char *root = *state;
        _cleanup_tree_ char *other = make_tempdir();
        _cleanup_(policy_freep) struct policy *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
        const char *rules = "allow KERNEL==\"loop0\", OWNER=\"alice\"\n";
        const char *ia, *ib;
        size_t la, lb;
        unsigned ha, hb;

        write_file(other, "etc/passwd", "root:x:0:0::/:/bin/sh\nalice:x:2000:2000::/:/bin/sh\n");
        assert_int_equal(load(root, true, rules, &a, NULL), 0);
        assert_int_equal(load(root, true, rules, &b, NULL), 0);
        ia = policy_identity(a, &la, &ha);
        ib = policy_identity(b, &lb, &hb);
        assert_non_null(ia);
        assert_int_equal(la, lb);
        assert_int_equal(ha, hb);
        assert_memory_equal(ia, ib, la);

        /* alice is 2000 there: the same text decides differently. */
        assert_int_equal(load(other, true, rules, &c, NULL), 0);
        assert_string_not_equal(policy_identity(c, NULL, NULL), ia);
        /* Another line: decisions name it. */
        assert_int_equal(load(root, true, "\n" "allow KERNEL==\"loop0\", OWNER=\"alice\"\n", &d, NULL), 0);
        assert_string_not_equal(policy_identity(d, NULL, NULL), ia);
        assert_int_equal(load(root, true, "allow KERNEL==\"loop1\", OWNER=\"alice\"\n", &e, NULL), 0);
        assert_string_not_equal(policy_identity(e, NULL, NULL), ia);
}

static void test_root_without_etc(void **state) {
        _cleanup_tree_ char *empty = make_tempdir();
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        struct policy *p = NULL;

        assert_int_equal(load(empty, true, "allow OWNER=\"root\"\n", &p, &diags), -EINVAL);
        assert_int_equal(diags.n_errors, 1);
        assert_non_null(strstr(diags.items[0].message, "unknown user 'root'"));
}

static void test_fifo_does_not_block(void **state) {
        _cleanup_tree_ char *root = make_tempdir();
        _cleanup_free_ char *etc = NULL, *fifo = NULL;
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        struct policy *p = NULL;

        assert_true(asprintf(&etc, "%s/etc", root) > 0);
        assert_true(asprintf(&fifo, "%s/etc/group", root) > 0);
        assert_int_equal(mkdir(etc, 0755), 0);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(load(root, true, "allow GROUP=\"disk\"\n", &p, &diags), -EINVAL);
        assert_int_equal(diags.n_errors, 1);
        assert_non_null(strstr(diags.items[0].message, "cannot look up group 'disk'"));
}

static void test_absolute_symlink_stays_in_root(void **state) {
        _cleanup_tree_ char *root = make_tempdir();
        _cleanup_free_ char *link = NULL;
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(policy_result_done) struct policy_result res = {};
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};

        /* In the container, /etc/passwd -> /lib/passwd means ROOT/lib/passwd,
         * never the host's /lib/passwd. */
        write_file(root, "lib/passwd", "dave:x:77:77::/:/bin/sh\n");
        write_file(root, "etc/.keep", "");
        assert_true(asprintf(&link, "%s/etc/passwd", root) > 0);
        assert_int_equal(symlink("/lib/passwd", link), 0);

        assert_int_equal(load(root, true, "allow KERNEL==\"loop0\", OWNER=\"dave\"\n", &p, &diags), 0);
        evaluate_ok(p, &loop0, &res);
        assert_int_equal(res.uid, 77);
}

static void test_host_databases(void **state) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(policy_result_done) struct policy_result res = {};
        struct policy *q = NULL;

        /* root/root exists on every host. */
        assert_int_equal(load(NULL, true, "allow KERNEL==\"loop0\", OWNER=\"root\", GROUP=\"root\", MODE=\"0640\"\n",
                              &p, &diags),
                         0);
        evaluate_ok(p, &loop0, &res);
        assert_int_equal(res.uid, 0);
        assert_int_equal(res.gid, 0);
        assert_int_equal(res.mode, 0640);

        assert_int_equal(load(NULL, true, "allow OWNER=\"no-such-user-devsieve\"\n", &q, &diags), -EINVAL);
        assert_int_equal(diags.n_errors, 1);
        assert_string_equal(diags.items[0].message, "unknown user 'no-such-user-devsieve'");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
                cmocka_unit_test_setup_teardown(test_names_in_root, setup, teardown),
                cmocka_unit_test_setup_teardown(test_numbers_taken_as_is, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_name_is_error, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_name_is_warning, setup, teardown),
                cmocka_unit_test(test_root_without_etc),
                cmocka_unit_test(test_fifo_does_not_block),
                cmocka_unit_test(test_absolute_symlink_stays_in_root),
                cmocka_unit_test(test_host_databases),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
