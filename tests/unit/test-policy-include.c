/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy-test-util.h"

/* include "FILE": resolution, splicing, built-ins, cycles, depth, and
 * reading files (limits, NUL bytes, things that are not files). */

/* Runs in a fresh scratch directory, which is the working directory so
 * that names in diagnostics stay short. */
struct scratch {
        char *dir;
        int old_cwd;
};

static int setup(void **state) {
        struct scratch *s = calloc(1, sizeof(*s));

        assert_non_null(s);
        s->dir = make_tempdir();
        s->old_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(s->old_cwd >= 0);
        assert_int_equal(chdir(s->dir), 0);
        *state = s;
        return 0;
}

static int teardown(void **state) {
        struct scratch *s = *state;

        assert_int_equal(fchdir(s->old_cwd), 0);
        close(s->old_cwd);
        remove_tree(s->dir);
        free(s);
        return 0;
}

static struct policy *load_file_ok(const char *path) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        struct policy *p = NULL;
        int r;

        r = policy_load_file(path, NULL, &p, &diags);
        if (r < 0 || diags.n_items > 0)
                print_diagnostics(&diags);
        assert_int_equal(r, 0);
        assert_int_equal(diags.n_items, 0);
        return p;
}

/* Loads path, which must fail with exactly one error: "where: error: ..."
 * containing fragment. */
static void expect_file_error(const char *path, int expected_r, const char *where, const char *fragment) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_free_ char *s = NULL, *prefix = NULL;
        struct policy *p = NULL;
        int r;

        r = policy_load_file(path, NULL, &p, &diags);
        if (diags.n_errors != 1)
                print_diagnostics(&diags);
        assert_int_equal(r, expected_r);
        assert_null(p);
        assert_int_equal(diags.n_errors, 1);
        assert_int_equal(policy_diagnostic_format(&diags.items[0], &s), 0);
        assert_true(asprintf(&prefix, "%s: error: ", where) > 0);
        if (!startswith(s, prefix) || !strstr(s, fragment))
                print_message("got: %s\nwant: %s...%s\n", s, prefix, fragment);
        assert_non_null(startswith(s, prefix));
        assert_non_null(strstr(s, fragment));
}

/* "file:line" of every rule, in evaluation order, joined with spaces. */
static char *rule_locations(const struct policy *p) {
        static const struct policy_device nothing = {
                .devpath = "/devices/none",
                .sysname = "none",
        };
        _cleanup_(policy_trace_done) struct policy_trace t = {};
        _cleanup_(policy_result_done) struct policy_result res = {};
        char *s = NULL;
        size_t size = 0;
        FILE *f;

        assert_int_equal(policy_evaluate(p, &nothing, &res, &t), 0);
        f = open_memstream(&s, &size);
        assert_non_null(f);
        for (size_t i = 0; i < t.n_entries; i++)
                fprintf(f, "%s%s:%u", i ? " " : "", policy_rule_file(t.entries[i].rule),
                        policy_rule_line(t.entries[i].rule));
        assert_int_equal(fclose(f), 0);
        return s;
}

static void test_relative_includes_splice_in_order(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_free_ char *locations = NULL;

        write_file(".", "conf/main.rules",
                   "allow KERNEL==\"m1\"\n"
                   "include \"sub/a.rules\"\n"
                   "allow KERNEL==\"m3\"\n"
                   "include \"oci-default\"\n");
        /* Relative to sub/, where a.rules lives. */
        write_file(".", "conf/sub/a.rules",
                   "# a\n"
                   "allow KERNEL==\"a2\"\n"
                   "include \"b.rules\"\n"
                   "deny KERNEL==\"a4\"\n");
        write_file(".", "conf/sub/b.rules", "allow KERNEL==\"b1\"\n");

        p = load_file_ok("conf/main.rules");
        locations = rule_locations(p);
        assert_string_equal(locations, "conf/main.rules:1 sub/a.rules:2 b.rules:1 sub/a.rules:4 conf/main.rules:3 "
                                       "<builtin:oci-default>:2 <builtin:oci-default>:4");
}

static void test_absolute_include(void **state) {
        struct scratch *s = *state;
        _cleanup_free_ char *text = NULL, *locations = NULL;
        _cleanup_(policy_freep) struct policy *p = NULL;

        write_file(".", "elsewhere/x.rules", "allow KERNEL==\"x\"\n");
        assert_true(asprintf(&text, "include \"%s/elsewhere/x.rules\"\nallow KERNEL==\"y\"\n", s->dir) > 0);
        write_file(".", "top/main.rules", text);

        p = load_file_ok("top/main.rules");
        locations = rule_locations(p);
        assert_non_null(strstr(locations, "/elsewhere/x.rules:1 top/main.rules:2"));
}

static void test_load_string_resolves_against_name(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_free_ char *locations = NULL;

        write_file(".", "d/inc.rules", "allow KERNEL==\"i\"\n");
        p = load_ok_named("d/virtual.rules", "include \"inc.rules\"\n");
        locations = rule_locations(p);
        assert_string_equal(locations, "inc.rules:1");
}

static void test_builtin_takes_precedence(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL, *q = NULL;
        _cleanup_free_ char *lp = NULL, *lq = NULL;

        write_file(".", "oci-default", "allow KERNEL==\"impostor\"\n");
        write_file(".", "main.rules", "include \"oci-default\"\n");
        write_file(".", "other.rules", "include \"./oci-default\"\n");

        p = load_file_ok("main.rules");
        lp = rule_locations(p);
        assert_string_equal(lp, "<builtin:oci-default>:2 <builtin:oci-default>:4");

        q = load_file_ok("other.rules");
        lq = rule_locations(q);
        assert_string_equal(lq, "./oci-default:1");
}

static void test_same_file_twice_is_no_cycle(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_free_ char *locations = NULL;

        write_file(".", "common.rules", "allow KERNEL==\"c\"\nexpose \"/sys/kernel/mm\"\n");
        write_file(".", "left.rules", "include \"common.rules\"\n");
        write_file(".", "main.rules",
                   "include \"left.rules\"\ninclude \"common.rules\"\n"
                   "include \"oci-default\"\ninclude \"oci-default\"\n"
                   "expose \"/sys/fs/cgroup\"\n");

        p = load_file_ok("main.rules");
        locations = rule_locations(p);
        assert_string_equal(locations, "common.rules:1 common.rules:1 <builtin:oci-default>:2 <builtin:oci-default>:4 "
                                       "<builtin:oci-default>:2 <builtin:oci-default>:4");
        assert_string_equal(policy_exposed_paths(p)[0], "/sys/kernel/mm");
        assert_string_equal(policy_exposed_paths(p)[1], "/sys/fs/cgroup");
        assert_null(policy_exposed_paths(p)[2]);
}

static void test_self_include(void **state) {
        write_file(".", "a.rules", "allow KERNEL==\"a\"\n  include   \"a.rules\"\n");
        expect_file_error("a.rules", -EINVAL, "a.rules:2:13", "include cycle: a.rules -> a.rules");
}

static void test_two_file_cycle(void **state) {
        write_file(".", "a.rules", "include \"b.rules\"\n");
        write_file(".", "b.rules", "allow KERNEL==\"b\"\n\ninclude \"a.rules\"\n");
        expect_file_error("a.rules", -EINVAL, "b.rules:3:9", "include cycle: a.rules -> b.rules -> a.rules");
}

static void test_three_file_cycle(void **state) {
        write_file(".", "a.rules", "include \"b.rules\"\n");
        write_file(".", "b.rules", "include \"c.rules\"\n");
        write_file(".", "c.rules", "allow KERNEL==\"c\"\ninclude \"a.rules\"\n");
        expect_file_error("a.rules", -EINVAL, "c.rules:2:9", "include cycle: a.rules -> b.rules -> c.rules -> a.rules");
}

static void test_cycle_below_top(void **state) {
        /* The cycle is a -> b -> a; main only leads into it. The second name
         * for a.rules ("./a.rules") is the same file. */
        write_file(".", "main.rules", "include \"a.rules\"\n");
        write_file(".", "a.rules", "include \"sub/b.rules\"\n");
        write_file(".", "sub/b.rules", "include \"../a.rules\"\n");
        expect_file_error("main.rules", -EINVAL, "sub/b.rules:1:9",
                          "include cycle: a.rules -> sub/b.rules -> ../a.rules");
}

static void test_cycle_through_symlink(void **state) {
        write_file(".", "a.rules", "include \"link.rules\"\n");
        assert_int_equal(symlink("a.rules", "link.rules"), 0);
        expect_file_error("a.rules", -EINVAL, "a.rules:1:9", "include cycle: a.rules -> link.rules");
}

static void make_chain(unsigned n) {
        for (unsigned i = 0; i < n; i++) {
                char name[32], text[64];

                snprintf(name, sizeof(name), "f%u.rules", i);
                if (i + 1 < n)
                        snprintf(text, sizeof(text), "allow KERNEL==\"%u\"\ninclude \"f%u.rules\"\n", i, i + 1);
                else
                        snprintf(text, sizeof(text), "allow KERNEL==\"%u\"\n", i);
                write_file(".", name, text);
        }
}

static void test_depth_limit_ok(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;

        /* f0 includes f1 ... f16: 16 levels below the top. */
        make_chain(17);
        p = load_file_ok("f0.rules");
        assert_int_equal(policy_n_rules(p), 17);
}

static void test_depth_limit_exceeded(void **state) {
        make_chain(18);
        expect_file_error("f0.rules", -EINVAL, "f16.rules:2:9", "includes nested more than 16 deep");
}

static void test_missing_include(void **state) {
        write_file(".", "main.rules", "allow KERNEL==\"a\"\ninclude \"nope.rules\"\nallow KERNEL=\"late\"\n");

        /* The missing file and the later syntax error both count. */
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_free_ char *s0 = NULL, *s1 = NULL;
        struct policy *p = NULL;

        assert_int_equal(policy_load_file("main.rules", NULL, &p, &diags), -EINVAL);
        assert_null(p);
        assert_int_equal(diags.n_errors, 2);
        assert_int_equal(policy_diagnostic_format(&diags.items[0], &s0), 0);
        assert_int_equal(policy_diagnostic_format(&diags.items[1], &s1), 0);
        assert_string_equal(s0, "main.rules:2:9: error: cannot include 'nope.rules': No such file or directory");
        assert_non_null(startswith(s1, "main.rules:3:13: error: expected '==' or '!='"));
}

static void test_include_directory(void **state) {
        assert_int_equal(mkdir("adir", 0755), 0);
        write_file(".", "main.rules", "include \"adir\"\n");
        expect_file_error("main.rules", -EINVAL, "main.rules:1:9", "cannot include 'adir': not a regular file");
}

static void test_include_fifo_does_not_block(void **state) {
        assert_int_equal(mkfifo("fifo", 0600), 0);
        write_file(".", "main.rules", "include \"fifo\"\n");
        expect_file_error("main.rules", -EINVAL, "main.rules:1:9", "not a regular file");
}

static void test_error_in_included_file(void **state) {
        write_file(".", "main.rules", "allow KERNEL==\"ok\"\ninclude \"sub/bad.rules\"\n");
        write_file(".", "sub/bad.rules", "# fine\nallow KERNEL==\"a\", \\\n   MODE=\"77\"\n");
        expect_file_error("main.rules", -EINVAL, "sub/bad.rules:3:9", "invalid MODE \"77\"");
}

static void test_load_file_missing(void **state) {
        expect_file_error("missing.rules", -ENOENT, "missing.rules", "cannot read: No such file or directory");
}

static void test_load_file_directory(void **state) {
        assert_int_equal(mkdir("d.rules", 0755), 0);
        expect_file_error("d.rules", -EISDIR, "d.rules", "cannot read: Is a directory");
}

static void test_nul_byte(void **state) {
        static const char text[] = "allow KERNEL==\"a\"\nallo\0w KERNEL==\"b\"\n";
        _cleanup_fclose_ FILE *f = fopen("nul.rules", "we");

        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
        assert_int_equal(fflush(f), 0);
        expect_file_error("nul.rules", -EINVAL, "nul.rules:2:5", "NUL byte");

        write_file(".", "main.rules", "allow KERNEL==\"ok\"\ninclude \"nul.rules\"\n");
        expect_file_error("main.rules", -EINVAL, "nul.rules:2:5", "NUL byte");
}

static void test_file_too_large(void **state) {
        _cleanup_free_ char *text = malloc(2 * 1024 * 1024 + 1);

        assert_non_null(text);
        memset(text, '#', 2 * 1024 * 1024);
        text[2 * 1024 * 1024] = '\0';
        write_file(".", "big.rules", text);
        expect_file_error("big.rules", -EINVAL, "big.rules", "file is larger than 1 MiB");

        write_file(".", "main.rules", "include \"big.rules\"\n");
        expect_file_error("main.rules", -EINVAL, "big.rules", "file is larger than 1 MiB");

        /* Exactly 1 MiB is fine. */
        text[1024 * 1024] = '\0';
        write_file(".", "edge.rules", text);
        policy_free(load_file_ok("edge.rules"));
}

static void test_top_level_pipe(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_free_ char *path = NULL;
        int fds[2];

        /* Like "devsieve check /dev/stdin": no size known in advance, and
         * more than one read's worth. */
        assert_int_equal(pipe(fds), 0);
        for (int i = 0; i < 500; i++) {
                char line[64];
                int n = snprintf(line, sizeof(line), "allow KERNEL==\"dev%d\", MODE=\"0600\"\n", i);
                assert_int_equal(write(fds[1], line, (size_t) n), n);
        }
        close(fds[1]);
        assert_true(asprintf(&path, "/proc/self/fd/%d", fds[0]) > 0);
        p = load_file_ok(path);
        close(fds[0]);
        assert_int_equal(policy_n_rules(p), 500);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_relative_includes_splice_in_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_absolute_include, setup, teardown),
                cmocka_unit_test_setup_teardown(test_load_string_resolves_against_name, setup, teardown),
                cmocka_unit_test_setup_teardown(test_builtin_takes_precedence, setup, teardown),
                cmocka_unit_test_setup_teardown(test_same_file_twice_is_no_cycle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_self_include, setup, teardown),
                cmocka_unit_test_setup_teardown(test_two_file_cycle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_three_file_cycle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cycle_below_top, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cycle_through_symlink, setup, teardown),
                cmocka_unit_test_setup_teardown(test_depth_limit_ok, setup, teardown),
                cmocka_unit_test_setup_teardown(test_depth_limit_exceeded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_include, setup, teardown),
                cmocka_unit_test_setup_teardown(test_include_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_include_fifo_does_not_block, setup, teardown),
                cmocka_unit_test_setup_teardown(test_error_in_included_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_load_file_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_load_file_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
                cmocka_unit_test_setup_teardown(test_file_too_large, setup, teardown),
                cmocka_unit_test_setup_teardown(test_top_level_pipe, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
