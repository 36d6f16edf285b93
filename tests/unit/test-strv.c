/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "strv.h"

static void test_extend_and_contains(void **state) {
        _cleanup_strv_free_ char **l = NULL;

        assert_int_equal(strv_length(l), 0);
        assert_int_equal(strv_extend(&l, "a"), 0);
        assert_int_equal(strv_extend(&l, "b"), 0);
        assert_int_equal(strv_length(l), 2);
        assert_true(strv_contains(l, "b"));
        assert_false(strv_contains(l, "c"));
}

static void test_env(void **state) {
        _cleanup_strv_free_ char **l = NULL;

        assert_int_equal(strv_env_set(&l, "DEVNAME", "loop0"), 0);
        assert_int_equal(strv_env_set(&l, "MAJOR", "7"), 0);
        assert_string_equal(strv_env_get(l, "DEVNAME"), "loop0");
        assert_int_equal(strv_env_set(&l, "DEVNAME", "xvdb"), 0);
        assert_string_equal(strv_env_get(l, "DEVNAME"), "xvdb");
        assert_int_equal(strv_length(l), 2);
        assert_null(strv_env_get(l, "DEV"));
        strv_env_unset(l, "DEVNAME");
        assert_null(strv_env_get(l, "DEVNAME"));
        assert_string_equal(l[0], "MAJOR=7");
        assert_null(l[1]);
}

static void test_copy_equal(void **state) {
        _cleanup_strv_free_ char **a = NULL, **b = NULL;

        assert_int_equal(strv_extend(&a, "x"), 0);
        assert_int_equal(strv_extend(&a, "y"), 0);
        assert_int_equal(strv_copy(a, &b), 0);
        assert_true(strv_equal(a, b));
        assert_int_equal(strv_extend(&b, "z"), 0);
        assert_false(strv_equal(a, b));
        assert_true(strv_equal(NULL, NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_extend_and_contains),
                cmocka_unit_test(test_env),
                cmocka_unit_test(test_copy_equal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
