/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy-test-util.h"

/* Malformed policies: each must fail with one error at the exact
 * file:line:column, naming what was expected. Every case runs as a test of
 * its own. */

struct error_case {
        const char *name;
        const char *text;
        const char *where;
        const char *fragment;
};

static const struct error_case cases[] = {
        /* Operators */
        { "match-key-with-assign", "allow KERNEL=\"a\"\n", "rules:1:13",
          "expected '==' or '!=' after KERNEL, got '='" },
        { "match-key-with-add", "allow KERNEL+=\"a\"\n", "rules:1:13", "expected '==' or '!=' after KERNEL, got '+='" },
        { "match-key-triple-equals", "allow KERNEL===\"a\"\n", "rules:1:13", "got '==='" },
        { "match-key-without-operator", "allow KERNEL \"a\"\n", "rules:1:14",
          "expected '==' or '!=' after KERNEL, got '\"'" },
        { "mode-with-equals", "allow KERNEL==\"a\", MODE==\"0666\"\n", "rules:1:24",
          "expected '=' after MODE, got '=='" },
        { "symlink-with-equals", "allow SYMLINK==\"x\"\n", "rules:1:14",
          "expected '=' or '+=' after SYMLINK, got '=='" },
        { "writable-attr-with-assign", "allow WRITABLE_ATTR=\"x\"\n", "rules:1:20",
          "expected '+=' after WRITABLE_ATTR, got '='" },
        { "attr-operator", "allow ATTR{size}=\"0\"\n", "rules:1:17", "after ATTR{size}, got '='" },
        /* Keys and statements */
        { "unknown-key", "allow FOO==\"a\"\n", "rules:1:7", "unknown key 'FOO'" },
        { "lowercase-key", "allow kernel==\"a\"\n", "rules:1:7", "unknown key 'kernel'" },
        { "unknown-statement", "frobnicate KERNEL==\"a\"\n", "rules:1:1",
          "expected 'allow', 'deny', 'include' or 'expose', got 'frobnicate'" },
        { "statement-not-a-word", "==\n", "rules:1:1", "got '=='" },
        { "allow-without-keys", "allow\n", "rules:1:6", "expected a key after 'allow'" },
        { "deny-without-keys", "deny   \n", "rules:1:5", "expected a key after 'deny'" },
        { "deny-assigns", "deny KERNEL==\"a\", MODE=\"0666\"\n", "rules:1:19", "deny rules cannot assign" },
        { "deny-assigns-symlink", "deny SYMLINK+=\"x\"\n", "rules:1:6", "deny rules cannot assign" },
        { "name-twice", "allow NAME=\"a\", NAME=\"b\"\n", "rules:1:17", "NAME given twice in one rule" },
        { "mode-twice", "allow MODE=\"0600\", MODE=\"0600\"\n", "rules:1:20", "MODE given twice" },
        { "access-twice", "allow ACCESS=\"w\", ACCESS=\"r\"\n", "rules:1:19", "ACCESS given twice" },
        /* Commas */
        { "trailing-comma", "allow KERNEL==\"a\",\n", "rules:1:18", "trailing ','" },
        { "trailing-comma-blanks", "allow KERNEL==\"a\" ,  \n", "rules:1:19", "trailing ','" },
        { "double-comma", "allow KERNEL==\"a\",, MODE=\"0600\"\n", "rules:1:19", "expected a key, got ','" },
        { "missing-comma", "allow KERNEL==\"a\" MODE=\"0600\"\n", "rules:1:19",
          "expected ',' or end of line, got 'MODE'" },
        { "comment-after-rule", "allow KERNEL==\"a\" # no\n", "rules:1:19", "expected ',' or end of line, got '#'" },
        { "stray-backslash", "allow KERNEL==\"a\" \\ \n", "rules:1:19", "got '\\'" },
        { "control-character", "allow KERNEL==\"a\",\x01\n", "rules:1:19", "expected a key, got byte 0x01" },
        /* Values */
        { "unquoted-value", "allow KERNEL==a\n", "rules:1:15", "expected '\"' to start the value of KERNEL, got 'a'" },
        { "value-missing", "allow KERNEL ==\n", "rules:1:16", "got end of line" },
        { "unterminated-value", "allow KERNEL==\"a\n", "rules:1:15", "missing closing '\"'" },
        { "bad-escape", "allow KERNEL==\"a\\n\"\n", "rules:1:17", "invalid escape '\\n'" },
        { "bad-escape-in-name", "allow NAME=\"x\\y\"\n", "rules:1:14", "only '\\\"' and '\\\\' are allowed" },
        { "value-across-continuation", "allow KERNEL==\"a\\\nb\"\n", "rules:1:15",
          "newline inside the value of KERNEL" },
        { "type-value", "allow TYPE==\"chr\"\n", "rules:1:13", "must be \"char\" or \"block\"" },
        { "major-value", "allow MAJOR==\"0x7\"\n", "rules:1:14", "decimal numbers" },
        /* {NAME} */
        { "attr-without-name", "allow ATTR==\"1\"\n", "rules:1:11", "expected '{' after ATTR, got '=='" },
        { "attr-unclosed", "allow ATTR{size==\"1\"\n", "rules:1:11", "missing '}' after 'ATTR{'" },
        { "attr-with-space", "allow ENV{X}==\"1\", ATTR{a b}==\"2\"\n", "rules:1:24", "missing '}'" },
        { "kernel-with-name", "allow KERNEL{x}==\"1\"\n", "rules:1:13", "KERNEL takes no {NAME}" },
        { "attr-dotdot", "allow ATTR{../x}==\"1\"\n", "rules:1:12", "must not contain '..' components" },
        { "attrs-absolute", "allow ATTRS{/x}==\"1\"\n", "rules:1:13", "must be relative" },
        { "attr-empty-component", "allow ATTR{a//b}==\"1\"\n", "rules:1:12", "empty components" },
        { "attr-empty", "allow ATTR{}==\"1\"\n", "rules:1:12", "must not be empty" },
        { "env-key", "allow ENV{ID-BUS}==\"1\"\n", "rules:1:11", "letters, digits and '_'" },
        /* Node paths */
        { "name-absolute", "allow NAME=\"/dev/x\"\n", "rules:1:12", "invalid NAME \"/dev/x\": must be relative" },
        { "name-dotdot", "allow NAME=\"a/../b\"\n", "rules:1:12", "'..' components" },
        { "name-dot", "allow NAME=\"a/./b\"\n", "rules:1:12", "'.' components" },
        { "name-space", "allow NAME=\"a b\"\n", "rules:1:12", "printable ASCII characters other than space" },
        { "name-trailing-slash", "allow NAME=\"a/\"\n", "rules:1:12", "must not end in '/'" },
        { "name-empty", "allow NAME=\"\"\n", "rules:1:12", "must not be empty" },
        { "symlink-dotdot", "allow SYMLINK+=\"ok ../bad\"\n", "rules:1:16", "invalid SYMLINK name \"../bad\"" },
        { "symlink-add-nothing", "allow SYMLINK+=\"  \"\n", "rules:1:16", "needs at least one name" },
        { "writable-attr-dotdot", "allow WRITABLE_ATTR+=\"../x\"\n", "rules:1:22", "invalid WRITABLE_ATTR name" },
        /* MODE, ACCESS, OWNER, GROUP */
        { "mode-setuid", "allow MODE=\"4755\"\n", "rules:1:12", "only permission bits" },
        { "mode-sticky", "allow MODE=\"1777\"\n", "rules:1:12", "only permission bits" },
        { "mode-not-octal", "allow MODE=\"0999\"\n", "rules:1:12", "3 or 4 octal digits" },
        { "mode-short", "allow MODE=\"07\"\n", "rules:1:12", "3 or 4 octal digits" },
        { "access-unknown-letter", "allow ACCESS=\"rwx\"\n", "rules:1:14", "one or more of 'r', 'w' and 'm'" },
        { "access-repeat", "allow ACCESS=\"rr\"\n", "rules:1:14", "given twice" },
        { "access-empty", "allow ACCESS=\"\"\n", "rules:1:14", "one or more of" },
        { "owner-too-big", "allow OWNER=\"99999999999\"\n", "rules:1:13", "id out of range" },
        { "group-minus-one", "allow GROUP=\"4294967295\"\n", "rules:1:13", "id out of range" },
        { "owner-empty", "allow OWNER=\"\"\n", "rules:1:13", "expected a user name or number" },
        /* expose */
        { "expose-class", "expose \"/sys/class/net\"\n", "rules:1:8", "must not be at or below /sys/class" },
        { "expose-bus", "expose \"/sys/bus\"\n", "rules:1:8", "/sys/bus" },
        { "expose-dev", "expose \"/sys/dev/char\"\n", "rules:1:8", "/sys/dev" },
        { "expose-block", "expose \"/sys/block/sda\"\n", "rules:1:8", "/sys/block" },
        { "expose-devices", "expose \"/sys/devices\"\n", "rules:1:8", "must not be at or below /sys/devices" },
        { "expose-devices-virtual", "expose \"/sys/devices/virtual\"\n", "rules:1:8",
          "must not be at or below /sys/devices, except /sys/devices/system" },
        { "expose-devices-device", "expose \"/sys/devices/virtual/block/loop0\"\n", "rules:1:8", "/sys/devices" },
        { "expose-devices-pci", "expose \"/sys/devices/pci0000:00\"\n", "rules:1:8", "/sys/devices" },
        { "expose-relative", "expose \"sys/kernel\"\n", "rules:1:8", "must be absolute" },
        { "expose-outside", "expose \"/proc/sys\"\n", "rules:1:8", "must be below /sys" },
        { "expose-sys", "expose \"/sys\"\n", "rules:1:8", "strictly below /sys" },
        { "expose-dotdot", "expose \"/sys/kernel/../class\"\n", "rules:1:8", "normalized" },
        { "expose-trailing-slash", "expose \"/sys/kernel/\"\n", "rules:1:8", "must not end in '/'" },
        { "expose-double-slash", "expose \"/sys//kernel\"\n", "rules:1:8", "'//'" },
        { "expose-two-values", "expose \"/sys/kernel\" \"x\"\n", "rules:1:22",
          "expected end of line after the expose path, got '\"'" },
        { "expose-unquoted", "expose /sys/kernel\n", "rules:1:8", "expected '\"' to start the expose path" },
        /* include */
        { "include-empty", "include \"\"\n", "rules:1:9", "empty include path" },
        { "include-trailing", "include \"oci-default\" x\n", "rules:1:23",
          "expected end of line after the include path, got 'x'" },
        /* Positions past the first line */
        { "after-comments", "# c\n\n  # c\nallow KERNEL=\"a\"\n", "rules:4:13", "expected '==' or '!='" },
        { "in-continuation", "\nallow KERNEL==\"a\", \\\n      MODE==\"0600\"\n", "rules:3:11",
          "expected '=' after MODE, got '=='" },
        { "after-comment-in-continuation", "allow KERNEL==\"a\", \\\n# x\n\tFOO=\"1\"\n", "rules:3:2",
          "unknown key 'FOO'" },
        { "crlf", "allow KERNEL==\"a\"\r\nallow KERNEL=\"b\"\r\n", "rules:2:13", "expected '==' or '!='" },
};

static void test_case(void **state) {
        const struct error_case *c = *state;

        expect_one_error(c->text, c->where, c->fragment);
}

static void test_line_too_long(void **state) {
        _cleanup_free_ char *text = NULL;
        size_t n = 70 * 1024;

        text = malloc(n + 64);
        assert_non_null(text);
        strcpy(text, "allow KERNEL==\"a\"\nallow KERNEL==\"");
        memset(text + strlen(text), 'x', n);
        strcpy(text + strlen("allow KERNEL==\"a\"\nallow KERNEL==\"") + n, "\"\n");
        expect_one_error(text, "rules:2:1", "longer than 64 KiB");
}

static void test_continued_line_too_long(void **state) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        /* Each piece is short; joined they are not. */
        assert_non_null(f);
        fprintf(f, "allow KERNEL==\"a\"\n# x\nallow KERNEL==\"a\", \\\n");
        for (int i = 0; i < 5000; i++)
                fprintf(f, "    ATTR{x}==\"%d\", \\\n", i);
        fprintf(f, "    MODE=\"0600\"\n");
        assert_int_equal(fclose(f), 0);
        expect_one_error(text, "rules:3:1", "longer than 64 KiB");
}

static void test_file_too_large(void **state) {
        _cleanup_free_ char *text = NULL;
        size_t n = 1024 * 1024 + 1;

        text = malloc(n + 1);
        assert_non_null(text);
        memset(text, '\n', n);
        text[n] = '\0';
        expect_one_error(text, "rules", "larger than 1 MiB");
}

static void test_errors_everywhere(void **state) {
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        struct policy *p = NULL;
        static const char *const expected[] = {
                "f:1:13: error: expected '==' or '!=' after KERNEL, got '='",
                "f:3:7: error: unknown key 'X'",
                "f:4:6: error: deny rules cannot assign: OWNER is only allowed in allow rules",
                "f:5:12: error: invalid MODE \"8\": expected 3 or 4 octal digits",
                "f:5:35: error: invalid NAME \"/x\": must be relative (no leading '/')",
                ("f:6:8: error: invalid expose path \"/sys/class\": must not be at or below /sys/class, /sys/bus, "
                 "/sys/block or /sys/dev (devsieve filters those)"),
        };

        assert_int_equal(policy_load_string("f",
                                            "allow KERNEL=\"a\", X==\"1\"\n"
                                            "allow KERNEL==\"good\"\n"
                                            "allow X==\"1\"\n"
                                            "deny OWNER=\"0\"\n"
                                            "allow MODE=\"8\", KERNEL==\"a\", NAME=\"/x\"\n"
                                            "expose \"/sys/class\"\n",
                                            NULL, &p, &diags),
                         -EINVAL);
        assert_int_equal(diags.n_items, ELEMENTSOF(expected));
        assert_int_equal(diags.n_errors, ELEMENTSOF(expected));
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                _cleanup_free_ char *s = NULL;

                assert_int_equal(policy_diagnostic_format(&diags.items[i], &s), 0);
                assert_string_equal(s, expected[i]);
                assert_true(diags.items[i].is_error);
                assert_string_equal(diags.items[i].file, "f");
        }
}

int main(void) {
        const struct CMUnitTest fixed[] = {
                cmocka_unit_test(test_line_too_long),
                cmocka_unit_test(test_continued_line_too_long),
                cmocka_unit_test(test_file_too_large),
                cmocka_unit_test(test_errors_everywhere),
        };
        struct CMUnitTest tests[ELEMENTSOF(cases) + ELEMENTSOF(fixed)];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                tests[i] = (struct CMUnitTest) {
                        .name = cases[i].name,
                        .test_func = test_case,
                        .initial_state = (void *) &cases[i],
                };
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                tests[ELEMENTSOF(cases) + i] = fixed[i];
        return _cmocka_run_group_tests("test-policy-errors", tests, ELEMENTSOF(tests), NULL, NULL);
}
