/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The /dev view's path and tree operations and its in-memory files: what
 * can be checked without a FUSE mount. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/sysmacros.h>

#include "fs/devfs-file.h"
#include "fs/devfs-tree.h"

static void test_path_valid(void **state) {
        assert_true(devfs_path_valid("null"));
        assert_true(devfs_path_valid("bus/usb/001/002"));
        assert_true(devfs_path_valid("..x/.y"));
        assert_false(devfs_path_valid(NULL));
        assert_false(devfs_path_valid(""));
        assert_false(devfs_path_valid("/null"));
        assert_false(devfs_path_valid("null/"));
        assert_false(devfs_path_valid("a//b"));
        assert_false(devfs_path_valid("a/./b"));
        assert_false(devfs_path_valid("../etc/passwd"));
        assert_false(devfs_path_valid("a/.."));
}

static void check_target(const char *link, const char *target, const char *expected) {
        char *s = NULL;

        assert_int_equal(devfs_relative_target(link, target, &s), 0);
        assert_string_equal(s, expected);
        free(s);
}

static void test_relative_target(void **state) {
        check_target("char/1:3", "null", "../null");
        check_target("fullalias", "misc/deep/full", "misc/deep/full");
        check_target("disk/by-id/x", "bus/usb/001/002", "../../bus/usb/001/002");
}

static bool queued(const struct fs_notify_queue *q, int kind, fuse_ino_t parent, const char *name) {
        for (size_t i = 0; i < q->n; i++)
                if ((int) q->items[i].kind == kind && q->items[i].parent == parent && streq(q->items[i].name, name))
                        return true;
        return false;
}

static void test_place_and_prune(void **state) {
        struct fs_notify_queue q = {};
        struct fs_node *n, *bus, *usb, *skel;
        struct fs_tree t;

        assert_int_equal(fs_tree_init(&t, 0755, 100000, 100000, NULL), 0);
        assert_int_equal(fs_node_new(&t, t.root, "shm", S_IFDIR | 01777, 100000, 100000, 0, NULL, &skel), 0);
        skel->kind = DEVFS_KIND_SKELETON;

        assert_int_equal(devfs_tree_place(&t, "bus/usb/001/002", DEVFS_KIND_DEVICE, S_IFCHR | 0664, 0, 0,
                                          makedev(189, 1), NULL, 100000, 100000, &q, &n),
                         0);
        assert_ptr_equal(devfs_tree_find(&t, "bus/usb/001/002"), n);
        bus = devfs_tree_find(&t, "bus");
        usb = devfs_tree_find(&t, "bus/usb");
        assert_non_null(bus);
        assert_int_equal(bus->kind, DEVFS_KIND_AUTODIR);
        assert_int_equal(bus->st.st_uid, 100000);
        assert_int_equal(bus->st.st_mode, S_IFDIR | 0755);
        assert_int_equal(n->st.st_rdev, makedev(189, 1));
        /* The kernel may have cached the absence of "bus": it must hear. */
        assert_true(queued(&q, FS_NOTIFY_INVAL_ENTRY, FUSE_ROOT_ID, "bus"));
        assert_true(queued(&q, FS_NOTIFY_INVAL_ENTRY, usb->ino, "001"));

        /* A second device in the same directory; a taken name. */
        assert_int_equal(devfs_tree_place(&t, "bus/usb/001/003", DEVFS_KIND_DEVICE, S_IFCHR | 0664, 0, 0, 0, NULL,
                                          100000, 100000, &q, NULL),
                         0);
        assert_int_equal(devfs_tree_place(&t, "bus/usb/001/002", DEVFS_KIND_DEVICE, S_IFCHR | 0664, 0, 0, 0, NULL,
                                          100000, 100000, &q, NULL),
                         -EEXIST);
        /* A non-directory where a directory is wanted; nothing left behind. */
        assert_int_equal(devfs_tree_place(&t, "bus/usb/001/002/x", DEVFS_KIND_DEVICE, S_IFCHR | 0664, 0, 0, 0, NULL,
                                          100000, 100000, &q, NULL),
                         -EEXIST);
        /* A name that is taken, in directories made just for it. */
        assert_int_equal(devfs_tree_place(&t, "input/by-path/x", DEVFS_KIND_DEVLINK, S_IFLNK | 0777, 0, 0, 0, "../y",
                                          100000, 100000, &q, NULL),
                         0);
        assert_int_equal(devfs_tree_place(&t, "input/by-path/x", DEVFS_KIND_DEVLINK, S_IFLNK | 0777, 0, 0, 0, "../y",
                                          100000, 100000, &q, NULL),
                         -EEXIST);
        assert_int_equal(devfs_tree_place(&t, "bad/../x", DEVFS_KIND_DEVICE, S_IFCHR, 0, 0, 0, NULL, 0, 0, &q, NULL),
                         -EINVAL);
        assert_null(devfs_tree_find(&t, "bad"));

        /* Removing the first keeps the directory for the second... */
        fs_notify_queue_done(&q);
        devfs_tree_remove(&t, n, &q);
        assert_null(devfs_tree_find(&t, "bus/usb/001/002"));
        assert_non_null(devfs_tree_find(&t, "bus/usb/001"));
        assert_true(queued(&q, FS_NOTIFY_DELETE, devfs_tree_find(&t, "bus/usb/001")->ino, "002"));
        /* ...the last takes every directory made for devices with it. */
        devfs_tree_remove(&t, devfs_tree_find(&t, "bus/usb/001/003"), &q);
        assert_null(devfs_tree_find(&t, "bus"));
        assert_true(queued(&q, FS_NOTIFY_DELETE, FUSE_ROOT_ID, "bus"));

        /* A directory the container made (or the skeleton) stays. */
        assert_int_equal(devfs_tree_place(&t, "shm/x", DEVFS_KIND_DEVICE, S_IFCHR | 0600, 0, 0, 0, NULL, 0, 0, &q, &n),
                         0);
        devfs_tree_remove(&t, n, &q);
        assert_ptr_equal(devfs_tree_find(&t, "shm"), skel);
        assert_null(devfs_tree_find(&t, "shm/x"));

        fs_notify_queue_done(&q);
        fs_tree_done(&t);
}

static void test_file(void **state) {
        uint64_t usage = 0;
        struct devfs_file *f, *g;
        char buf[16];

        assert_int_equal(devfs_file_new(&usage, 100, &f), 0);
        assert_int_equal(devfs_file_new(&usage, 100, &g), 0);
        assert_int_equal(devfs_file_write(f, "abc", 3, 5), 3);
        assert_int_equal(f->size, 8);
        assert_int_equal(devfs_file_read(f, buf, sizeof(buf), 0), 8);
        assert_memory_equal(buf, "\0\0\0\0\0abc", 8);
        assert_int_equal(devfs_file_read(f, buf, sizeof(buf), 8), 0);
        assert_int_equal(devfs_file_read(f, buf, 2, 6), 2);
        assert_memory_equal(buf, "bc", 2);
        assert_true(usage >= 8);

        /* Shrinking and growing again reads zeros, not the old bytes. */
        assert_int_equal(devfs_file_truncate(f, 6), 0);
        assert_int_equal(devfs_file_truncate(f, 8), 0);
        assert_int_equal(devfs_file_read(f, buf, sizeof(buf), 0), 8);
        assert_memory_equal(buf, "\0\0\0\0\0a\0\0", 8);

        /* The limit is the view's, over all files. */
        assert_int_equal(devfs_file_write(f, "x", 1, 100), -EFBIG);
        assert_int_equal(devfs_file_truncate(f, 60), 0);
        assert_int_equal(devfs_file_truncate(g, 60), -ENOSPC);
        assert_int_equal(devfs_file_truncate(g, 40), 0);
        assert_true(usage <= 100);
        assert_int_equal(devfs_file_truncate(f, 0), 0);
        assert_int_equal(devfs_file_truncate(g, 90), 0);

        devfs_file_free(f);
        devfs_file_free(g);
        assert_int_equal(usage, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_valid),
                cmocka_unit_test(test_relative_target),
                cmocka_unit_test(test_place_and_prune),
                cmocka_unit_test(test_file),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
