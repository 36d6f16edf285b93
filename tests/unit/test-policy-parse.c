/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy-test-util.h"

/* The grammar: what loads, and what the loaded rules say about themselves. */

static const struct policy_rule *rule_at(const struct policy *p, size_t i) {
        /* A trace lists every rule in order; any device will do. */
        static const struct policy_device nothing = {
                .devpath = "/devices/none",
                .sysname = "none",
        };
        struct policy_trace t = {};
        struct policy_result res = {};
        const struct policy_rule *r;

        assert_int_equal(policy_evaluate(p, &nothing, &res, &t), 0);
        assert_true(i < t.n_entries);
        r = t.entries[i].rule;
        policy_trace_done(&t);
        policy_result_done(&res);
        return r;
}

static void test_empty(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;

        p = load_ok("");
        assert_int_equal(policy_n_rules(p), 0);
        assert_null(policy_exposed_paths(p)[0]);
        policy_free(p);

        p = load_ok("\n\n   \n\t\n# only a comment\n   # indented comment\n");
        assert_int_equal(policy_n_rules(p), 0);
}

static void test_every_match_key(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;

        p = load_ok("allow SUBSYSTEM==\"block\", KERNEL!=\"sda\", DEVTYPE==\"disk\", DRIVER!=\"x\"\n"
                    "allow DEVPATH==\"/devices/*\", DEVNAME!=\"/dev/sda\", TYPE==\"block\", "
                    "MAJOR==\"7\", MINOR!=\"1\"\n"
                    "deny ATTR{size}==\"0\", ATTR{queue/rotational}!=\"1\", ENV{ID_BUS}==\"usb\"\n"
                    "deny SUBSYSTEMS==\"usb\", KERNELS!=\"1-1\", DRIVERS==\"usb\", ATTRS{idVendor}!=\"1d6b\"\n");
        assert_int_equal(policy_n_rules(p), 4);
        assert_int_equal(policy_rule_verb(rule_at(p, 0)), POLICY_ALLOW);
        assert_int_equal(policy_rule_verb(rule_at(p, 2)), POLICY_DENY);
        assert_int_equal(policy_rule_line(rule_at(p, 3)), 4);
        assert_string_equal(policy_rule_file(rule_at(p, 3)), "rules");
}

static void test_every_assignment_key(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;

        p = load_ok("allow KERNEL==\"loop0\", NAME=\"disks/loop0\", SYMLINK=\"a\", SYMLINK+=\"b c/d\", "
                    "MODE=\"0660\", OWNER=\"1000\", GROUP=\"6\", ACCESS=\"rwm\", WRITABLE_ATTR+=\"ro queue/x\"\n"
                    "allow KERNEL==\"loop1\", MODE=\"640\", ACCESS=\"r\", SYMLINK=\"\"\n");
        assert_int_equal(policy_n_rules(p), 2);
}

static void test_whitespace(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;

        p = load_ok("   allow\tKERNEL  ==  \"a\"  ,MODE=\"0600\",\t  OWNER =\"0\"   \n"
                    "allow KERNEL==\"b\",MODE=\"0600\"\r\n");
        assert_int_equal(policy_n_rules(p), 2);
        /* Only the outer blanks go: the text is as written. */
        assert_string_equal(policy_rule_text(rule_at(p, 0)),
                            "allow\tKERNEL  ==  \"a\"  ,MODE=\"0600\",\t  OWNER =\"0\"");
        assert_string_equal(policy_rule_text(rule_at(p, 1)), "allow KERNEL==\"b\",MODE=\"0600\"");
}

static void test_continuation(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;

        p = load_ok("# leading comment\n"
                    "allow SUBSYSTEM==\"block\", \\\n"
                    "      KERNEL==\"loop*\",\\\n"
                    "\tMODE=\"0660\"\n"
                    "deny KERNEL==\"loop7\"\n");
        assert_int_equal(policy_n_rules(p), 2);
        assert_string_equal(policy_rule_text(rule_at(p, 0)),
                            "allow SUBSYSTEM==\"block\", KERNEL==\"loop*\", MODE=\"0660\"");
        assert_int_equal(policy_rule_line(rule_at(p, 0)), 2);
        assert_int_equal(policy_rule_line(rule_at(p, 1)), 5);
}

static void test_comment_inside_continuation(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;

        p = load_ok("allow KERNEL==\"a\", \\\n"
                    "# MODE=\"0666\", \\\n"
                    "   MODE=\"0600\"\n");
        assert_int_equal(policy_n_rules(p), 1);
        assert_string_equal(policy_rule_text(rule_at(p, 0)), "allow KERNEL==\"a\", MODE=\"0600\"");
}

static void test_continuation_ends_at_blank_line_and_eof(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;

        /* A continued line followed by a blank line, and one at the end of
         * the file, each end their statement. */
        p = load_ok("allow KERNEL==\"a\" \\\n"
                    "\n"
                    "allow KERNEL==\"b\" \\");
        assert_int_equal(policy_n_rules(p), 2);
        assert_string_equal(policy_rule_text(rule_at(p, 1)), "allow KERNEL==\"b\"");
}

static void test_hash_inside_value(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;

        p = load_ok("allow ATTR{label}==\"a#b\"\n");
        assert_int_equal(policy_n_rules(p), 1);
}

static void test_escapes(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;
        struct fake_device d = {
                .pd = { .devpath = "/devices/x", .sysname = "x", FAKE_CALLBACKS },
                .attributes = { { "label", "say \"hi\" \\o/" } },
        };
        _cleanup_(policy_result_done) struct policy_result res = {};

        p = load_ok("allow ATTR{label}==\"say \\\"hi\\\" \\\\\\\\o/\"\n");
        evaluate_ok(p, &d, &res);
        assert_true(res.allowed);
}

static void test_expose(void **state) {
        _cleanup_(policy_freep) struct policy *p = NULL;
        char *const *paths;

        p = load_ok("expose \"/sys/kernel/mm/transparent_hugepage\"\n"
                    "expose \"/sys/devices/system/cpu\"\n"
                    "expose   \"/sys/kernel/mm/transparent_hugepage\"  \n"
                    "expose \"/sys/fs/cgroup\"\n"
                    "expose \"/sys/devicesx\"\n");
        paths = policy_exposed_paths(p);
        assert_string_equal(paths[0], "/sys/kernel/mm/transparent_hugepage");
        assert_string_equal(paths[1], "/sys/devices/system/cpu");
        assert_string_equal(paths[2], "/sys/fs/cgroup");
        assert_string_equal(paths[3], "/sys/devicesx");
        assert_null(paths[4]);
        assert_int_equal(policy_n_rules(p), 0);
}

static void test_builtins(void **state) {
        const char *const *names = policy_builtin_names();
        _cleanup_(policy_freep) struct policy *p = NULL;

        assert_non_null(names[0]);
        assert_string_equal(names[0], "oci-default");
        for (size_t i = 0; names[i]; i++) {
                const char *text = policy_builtin_text(names[i]);
                _cleanup_(policy_freep) struct policy *b = NULL;

                assert_non_null(text);
                b = load_ok(text);
                assert_true(policy_n_rules(b) > 0);
        }
        assert_null(policy_builtin_text("no-such-builtin"));

        p = load_ok("include \"oci-default\"\n");
        assert_int_equal(policy_n_rules(p), 2);
        assert_string_equal(policy_rule_file(rule_at(p, 0)), "<builtin:oci-default>");
        assert_int_equal(policy_rule_line(rule_at(p, 0)), 2);
        assert_int_equal(policy_rule_line(rule_at(p, 1)), 4);
}

static void test_diagnostic_format(void **state) {
        struct policy_diagnostic d = {
                .is_error = true,
                .file = (char *) "a.rules",
                .line = 3,
                .column = 14,
                .message = (char *) "expected something",
        };
        _cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL;

        assert_int_equal(policy_diagnostic_format(&d, &s1), 0);
        assert_string_equal(s1, "a.rules:3:14: error: expected something");
        d.is_error = false;
        d.column = 0;
        assert_int_equal(policy_diagnostic_format(&d, &s2), 0);
        assert_string_equal(s2, "a.rules:3: warning: expected something");
        d.line = 0;
        assert_int_equal(policy_diagnostic_format(&d, &s3), 0);
        assert_string_equal(s3, "a.rules: warning: expected something");
}

static void test_all_errors_reported(void **state) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        struct policy *p = NULL;
        _cleanup_free_ char *s0 = NULL, *s1 = NULL, *s2 = NULL, *s3 = NULL;

        /* One error per bad line, two in a line whose values are both bad,
         * and the good lines in between do not matter. */
        assert_int_equal(policy_load_string("x.rules",
                                            "allow KERNEL=\"a\"\n"
                                            "allow KERNEL==\"ok\"\n"
                                            "allow MODE=\"999\", ACCESS=\"q\"\n"
                                            "frobnicate\n",
                                            NULL, &p, &diags),
                         -EINVAL);
        assert_null(p);
        assert_int_equal(diags.n_errors, 4);
        assert_int_equal(diags.n_items, 4);
        assert_int_equal(policy_diagnostic_format(&diags.items[0], &s0), 0);
        assert_int_equal(policy_diagnostic_format(&diags.items[1], &s1), 0);
        assert_int_equal(policy_diagnostic_format(&diags.items[2], &s2), 0);
        assert_int_equal(policy_diagnostic_format(&diags.items[3], &s3), 0);
        assert_string_equal(s0, "x.rules:1:13: error: expected '==' or '!=' after KERNEL, got '='");
        assert_non_null(startswith(s1, "x.rules:3:12: error: invalid MODE \"999\""));
        assert_non_null(startswith(s2, "x.rules:3:26: error: invalid ACCESS \"q\""));
        assert_non_null(startswith(s3, "x.rules:4:1: error: expected 'allow', 'deny', 'include' or 'expose'"));
}

static void test_diags_may_be_null(void **state) {
        struct policy *p = NULL;

        assert_int_equal(policy_load_string("rules", "allow KERNEL=\"a\"\n", NULL, &p, NULL), -EINVAL);
        assert_null(p);
        assert_int_equal(policy_load_string("rules", "allow KERNEL==\"a\"\n", NULL, &p, NULL), 0);
        assert_non_null(p);
        policy_free(p);
}

static void test_ret_untouched_on_error(void **state) {
        struct policy *sentinel = (struct policy *) 0x1, *p = sentinel;

        assert_int_equal(policy_load_string("rules", "deny\n", NULL, &p, NULL), -EINVAL);
        assert_ptr_equal(p, sentinel);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_every_match_key),
                cmocka_unit_test(test_every_assignment_key),
                cmocka_unit_test(test_whitespace),
                cmocka_unit_test(test_continuation),
                cmocka_unit_test(test_comment_inside_continuation),
                cmocka_unit_test(test_continuation_ends_at_blank_line_and_eof),
                cmocka_unit_test(test_hash_inside_value),
                cmocka_unit_test(test_escapes),
                cmocka_unit_test(test_expose),
                cmocka_unit_test(test_builtins),
                cmocka_unit_test(test_diagnostic_format),
                cmocka_unit_test(test_all_errors_reported),
                cmocka_unit_test(test_diags_may_be_null),
                cmocka_unit_test(test_ret_untouched_on_error),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
