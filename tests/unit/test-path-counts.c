/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whether anything lies below a directory, as a /sys view asks it of its
 * mounts and shown devices: only strictly below, only whole path
 * components, and no longer once the last path below went. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "path-counts.h"

static void test_below(void **state) {
        struct path_counts c = {};

        assert_false(path_counts_any_below(&c, "devices"));
        path_counts_add(&c, "devices/virtual/block/loop0");
        assert_true(path_counts_any_below(&c, "devices"));
        assert_true(path_counts_any_below(&c, "devices/virtual"));
        assert_true(path_counts_any_below(&c, "devices/virtual/block"));
        /* Not the path itself, nor a directory that only starts alike. */
        assert_false(path_counts_any_below(&c, "devices/virtual/block/loop0"));
        assert_false(path_counts_any_below(&c, "devices/virtual/bl"));
        assert_false(path_counts_any_below(&c, "devices/virtual/block/loop"));
        assert_false(path_counts_any_below(&c, "class"));
        path_counts_clear(&c);
        assert_false(path_counts_any_below(&c, "devices"));
}

static void test_remove(void **state) {
        struct path_counts c = {};

        path_counts_add(&c, "devices/virtual/block/loop0");
        path_counts_add(&c, "devices/virtual/block/loop0/loop0p1");
        path_counts_add(&c, "devices/virtual/mem/null");
        assert_true(path_counts_any_below(&c, "devices/virtual/block/loop0"));
        path_counts_remove(&c, "devices/virtual/block/loop0/loop0p1");
        assert_false(path_counts_any_below(&c, "devices/virtual/block/loop0"));
        assert_true(path_counts_any_below(&c, "devices/virtual/block"));
        path_counts_remove(&c, "devices/virtual/block/loop0");
        assert_false(path_counts_any_below(&c, "devices/virtual/block"));
        assert_true(path_counts_any_below(&c, "devices/virtual"));
        path_counts_remove(&c, "devices/virtual/mem/null");
        assert_false(path_counts_any_below(&c, "devices"));
        /* The same path twice counts twice. */
        path_counts_add(&c, "a/b");
        path_counts_add(&c, "a/b");
        path_counts_remove(&c, "a/b");
        assert_true(path_counts_any_below(&c, "a"));
        path_counts_remove(&c, "a/b");
        assert_false(path_counts_any_below(&c, "a"));
        path_counts_clear(&c);
}

static void test_lost(void **state) {
        struct path_counts c = { .lost = true };

        /* Counts that missed an update answer "maybe" until cleared. */
        assert_true(path_counts_any_below(&c, "anything"));
        path_counts_clear(&c);
        assert_false(path_counts_any_below(&c, "anything"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_below),
                cmocka_unit_test(test_remove),
                cmocka_unit_test(test_lost),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
