/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The queue of kernel cache invalidations: a directory filled with several
 * names is invalidated once, after the last name, however the names of
 * other directories interleave; one changed long before keeps its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "fs/notify.h"

#define ROOT 1
#define SUB 2

static void expect(const struct fs_notify_queue *q, size_t i, int kind, fuse_ino_t ino, const char *name) {
        assert_true(i < q->n);
        assert_int_equal(q->items[i].kind, kind);
        if (name) {
                assert_int_equal(q->items[i].parent, ino);
                assert_string_equal(q->items[i].name, name);
        } else
                assert_int_equal(q->items[i].ino, ino);
}

static void test_one_per_run(void **state) {
        struct fs_notify_queue q = {};

        assert_int_equal(fs_notify_add_entry(&q, ROOT, "null"), 0);
        assert_int_equal(fs_notify_add_dir_changed(&q, ROOT), 0);
        assert_int_equal(fs_notify_add_entry(&q, ROOT, "zero"), 0);
        assert_int_equal(fs_notify_add_dir_changed(&q, ROOT), 0);
        assert_int_equal(fs_notify_add_entry(&q, SUB, "tun"), 0);
        assert_int_equal(fs_notify_add_dir_changed(&q, SUB), 0);
        assert_int_equal(fs_notify_add_entry(&q, ROOT, "full"), 0);
        assert_int_equal(fs_notify_add_dir_changed(&q, ROOT), 0);
        assert_int_equal(fs_notify_add_dir_changed(&q, ROOT), 0);
        assert_int_equal(q.n, 6);
        expect(&q, 0, FS_NOTIFY_INVAL_ENTRY, ROOT, "null");
        expect(&q, 1, FS_NOTIFY_INVAL_ENTRY, ROOT, "zero");
        expect(&q, 2, FS_NOTIFY_INVAL_ENTRY, SUB, "tun");
        expect(&q, 3, FS_NOTIFY_INVAL_INODE, SUB, NULL);
        expect(&q, 4, FS_NOTIFY_INVAL_ENTRY, ROOT, "full");
        expect(&q, 5, FS_NOTIFY_INVAL_INODE, ROOT, NULL);
        fs_notify_queue_done(&q);
}

static void test_far_back_stays(void **state) {
        struct fs_notify_queue q = {};
        char name[16];

        assert_int_equal(fs_notify_add_dir_changed(&q, ROOT), 0);
        for (int i = 0; i < 10; i++) {
                snprintf(name, sizeof(name), "d%d", i);
                assert_int_equal(fs_notify_add_entry(&q, SUB, name), 0);
        }
        assert_int_equal(fs_notify_add_dir_changed(&q, ROOT), 0);
        assert_int_equal(q.n, 12);
        expect(&q, 0, FS_NOTIFY_INVAL_INODE, ROOT, NULL);
        expect(&q, 11, FS_NOTIFY_INVAL_INODE, ROOT, NULL);
        fs_notify_queue_done(&q);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_per_run),
                cmocka_unit_test(test_far_back_stays),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
