/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fs/handles.h"
#include "macro.h"

static unsigned freed;

static void count_free(void *object) {
        freed++;
        free(object);
}

static const struct fs_handle_kind file = { "file", count_free };
static const struct fs_handle_kind dir = { "directory", count_free };

static int setup(void **state) {
        freed = 0;
        return 0;
}

static void test_encoding(void **state) {
        struct fs_handles t;
        int object;
        uint64_t a, b;

        assert_int_equal(fs_handles_init(&t, 7), 0);
        a = fs_handles_add(&t, &file, &object);
        b = fs_handles_add(&t, &file, &object);
        /* The same object, two handles; neither is its address. */
        assert_int_not_equal(a, 0);
        assert_int_not_equal(a, b);
        assert_int_not_equal(a, (uintptr_t) &object);
        assert_int_equal(a >> FS_HANDLE_INDEX_BITS, 7);
        assert_int_equal(b >> FS_HANDLE_INDEX_BITS, 7);
        assert_true(fs_handles_ours(&t, a));
        assert_ptr_equal(fs_handles_get(&t, a, &file), &object);
        /* Another kind never finds it. */
        assert_null(fs_handles_get(&t, a, &dir));
        assert_null(fs_handles_take(&t, a, &dir));
        assert_ptr_equal(fs_handles_take(&t, a, &file), &object);
        assert_ptr_equal(fs_handles_take(&t, b, &file), &object);
        assert_int_equal(fs_handles_count(&t), 0);
        fs_handles_done(&t);
        assert_int_equal(freed, 0);
}

static void test_generation_range(void **state) {
        struct fs_handles t;

        assert_int_equal(fs_handles_init(&t, 0), -ERANGE);
        assert_int_equal(fs_handles_init(&t, FS_HANDLE_GENERATION_MAX + 1), -ERANGE);
        assert_int_equal(fs_handles_init(&t, FS_HANDLE_GENERATION_MAX), 0);
        assert_int_equal(fs_handles_add(&t, &file, NULL) >> FS_HANDLE_INDEX_BITS, FS_HANDLE_GENERATION_MAX);
        fs_handles_done(&t);
}

/* A released handle's number is never given again: the kernel may still
 * send it (a request in flight), and it must not find another object. */
static void test_never_reused(void **state) {
        struct fs_handles t;
        int x, y;
        uint64_t a, b;

        assert_int_equal(fs_handles_init(&t, 1), 0);
        a = fs_handles_add(&t, &file, &x);
        assert_ptr_equal(fs_handles_take(&t, a, &file), &x);
        b = fs_handles_add(&t, &file, &y);
        assert_int_not_equal(a, b);
        assert_null(fs_handles_get(&t, a, &file));
        assert_null(fs_handles_take(&t, a, &file));
        assert_ptr_equal(fs_handles_take(&t, b, &file), &y);
        fs_handles_done(&t);
}

/* Two processes serving one connection in turn (a restart with the holder):
 * the second's own handles take the very numbers the first gave, yet a
 * handle of the first is never taken for one of the second's. */
static void test_restart(void **state) {
        struct fs_handles dead, live;
        uint64_t old, ours;
        char *o, *replacement, *other;

        assert_int_equal(fs_handles_init(&dead, 1), 0);
        assert_int_equal(fs_handles_init(&live, 2), 0);
        old = fs_handles_add(&dead, &file, NULL);
        ours = fs_handles_add(&live, &file, (o = strdup("ours")));
        /* Same index in both tables: only the generation tells them apart. */
        assert_int_equal(old & ((UINT64_C(1) << FS_HANDLE_INDEX_BITS) - 1),
                         ours & ((UINT64_C(1) << FS_HANDLE_INDEX_BITS) - 1));
        assert_int_not_equal(old, ours);

        assert_false(fs_handles_ours(&live, old));
        assert_null(fs_handles_get(&live, old, &file));
        /* Opened again at its first use; a second thread's copy loses. */
        replacement = strdup("replacement");
        other = strdup("other");
        assert_ptr_equal(fs_handles_adopt(&live, old, &file, replacement), replacement);
        assert_ptr_equal(fs_handles_adopt(&live, old, &file, other), replacement);
        free(other);
        assert_null(fs_handles_adopt(&live, old, &dir, NULL));
        assert_ptr_equal(fs_handles_get(&live, old, &file), replacement);
        assert_ptr_equal(fs_handles_get(&live, ours, &file), o);
        /* Our own handles are never adopted, nor 0. */
        assert_null(fs_handles_adopt(&live, ours, &file, replacement));
        assert_null(fs_handles_adopt(&live, ours + 1, &file, replacement));
        assert_null(fs_handles_adopt(&live, 0, &file, replacement));
        assert_ptr_equal(fs_handles_get(&live, ours, &file), o);

        /* A handle of ours the table does not hold is nobody's. */
        assert_true(fs_handles_ours(&live, ours + 1));
        assert_null(fs_handles_get(&live, ours + 1, &file));

        /* Released: the replacement goes with the old handle. */
        assert_ptr_equal(fs_handles_take(&live, old, &file), replacement);
        free(replacement);
        assert_int_equal(fs_handles_count(&live), 1);
        fs_handles_done(&live);
        /* What the kernel never released is freed with the table. */
        assert_int_equal(freed, 1);
        fs_handles_done(&dead);
}

/* Three processes: the third knows neither the first's nor the second's. */
static void test_two_restarts(void **state) {
        struct fs_handles g1, g2, g3;
        uint64_t h1, h2;
        char *one;

        assert_int_equal(fs_handles_init(&g1, 1), 0);
        assert_int_equal(fs_handles_init(&g2, 2), 0);
        assert_int_equal(fs_handles_init(&g3, 3), 0);
        h1 = fs_handles_add(&g1, &dir, NULL);
        h2 = fs_handles_add(&g2, &dir, NULL);
        one = strdup("1");
        assert_ptr_equal(fs_handles_adopt(&g2, h1, &dir, one), one);
        assert_ptr_equal(fs_handles_get(&g2, h1, &dir), one);
        assert_false(fs_handles_ours(&g3, h1));
        assert_false(fs_handles_ours(&g3, h2));
        assert_null(fs_handles_get(&g3, h1, &dir));
        assert_null(fs_handles_get(&g3, h2, &dir));
        assert_non_null(fs_handles_adopt(&g3, h1, &dir, strdup("1")));
        assert_non_null(fs_handles_adopt(&g3, h2, &dir, strdup("2")));
        assert_int_equal(fs_handles_count(&g3), 2);
        fs_handles_done(&g3);
        assert_int_equal(freed, 2);
        /* The dead ones' own handles stood for nothing here (NULL). */
        assert_null(fs_handles_take(&g1, h1, &dir));
        assert_null(fs_handles_take(&g2, h2, &dir));
        fs_handles_done(&g1);
        fs_handles_done(&g2);
        assert_int_equal(freed, 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_encoding, setup),
                cmocka_unit_test_setup(test_generation_range, setup),
                cmocka_unit_test_setup(test_never_reused, setup),
                cmocka_unit_test_setup(test_restart, setup),
                cmocka_unit_test_setup(test_two_restarts, setup),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
