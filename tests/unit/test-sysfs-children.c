/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The /sys views' shared scans of device directories (fs/sysfs-children.h),
 * on a directory tree shaped like sysfs: which subdirectories count as
 * child devices, that a scan is reused, and which host events drop it. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fs/sysfs-children.h"
#include "macro.h"
#include "strv.h"

struct fixture {
        char root[64];
        int fd;
        struct sysfs_children *c;
};

static void make(struct fixture *f, const char *path, bool device) {
        char *p = NULL, *uevent = NULL;

        assert_true(asprintf(&p, "%s/%s", f->root, path) > 0);
        assert_int_equal(mkdir(p, 0755), 0);
        if (device) {
                assert_true(asprintf(&uevent, "%s/uevent", p) > 0);
                int fd = open(uevent, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                close(fd);
        }
        free(p);
        free(uevent);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        strcpy(f->root, "/tmp/test-sysfs-children.XXXXXX");
        assert_non_null(mkdtemp(f->root));
        make(f, "devices", false);
        make(f, "devices/disk", true);
        make(f, "devices/disk/queue", false);             /* attributes only */
        make(f, "devices/disk/queue/iosched", false);
        make(f, "devices/disk/disk1", true);             /* a child device */
        make(f, "devices/disk/disk1/inner", true);       /* the child's own: not entered */
        make(f, "devices/disk/net", false);              /* a glue directory */
        make(f, "devices/disk/net/eth0", true);          /* a child below it */
        make(f, "devices/lone", true);
        f->fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->fd >= 0);
        /* No expiry: a test paused by the machine's load must not see its
         * scans expire (test_max_age has its own). */
        assert_int_equal(sysfs_children_new(UINT64_MAX, &f->c), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char *cmd = NULL;

        sysfs_children_free(f->c);
        close(f->fd);
        assert_true(asprintf(&cmd, "rm -rf '%s'", f->root) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        free(f);
        return 0;
}

static int compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *joined(char *const *l) {
        _cleanup_strv_free_ char **copy = NULL;
        size_t len = 1;
        char *s;

        assert_int_equal(strv_copy(l, &copy), 0);
        if (copy)
                qsort(copy, strv_length(copy), sizeof(char *), compare);
        STRV_FOREACH(e, copy)
                len += strlen(*e) + 1;
        s = calloc(1, len);
        assert_non_null(s);
        STRV_FOREACH(e, copy) {
                if (*s)
                        strcat(s, " ");
                strcat(s, *e);
        }
        return s;
}

static void expect(struct fixture *f, const char *path, const char *children) {
        char *const *l = NULL;
        char *s;

        assert_int_equal(sysfs_children_get(f->c, f->fd, path, &l), 0);
        s = joined(l);
        assert_string_equal(s, children);
        free(s);
}

static uint64_t held(struct fixture *f) {
        uint64_t s, h, n;

        sysfs_children_get_stats(f->c, &s, &h, &n);
        return n;
}

static void counts(struct fixture *f, uint64_t scans, uint64_t hits) {
        uint64_t s, h, n;

        sysfs_children_get_stats(f->c, &s, &h, &n);
        assert_int_equal(s, scans);
        assert_int_equal(h, hits);
}

static void test_missing(void **state) {
        struct fixture *f = *state;
        char *const *l = NULL;

        assert_int_equal(sysfs_children_get(f->c, f->fd, "devices/nothere", &l), -ENOENT);
        counts(f, 0, 0);
}

static void test_reuse_and_forget(void **state) {
        struct fixture *f = *state;

        expect(f, "devices/disk", "disk1 net/eth0");
        counts(f, 1, 0);
        expect(f, "devices/lone", "");
        counts(f, 2, 0);
        /* A change on the host the cache is not told of is not seen: the
         * scan is reused. */
        make(f, "devices/disk/disk2", true);
        expect(f, "devices/disk", "disk1 net/eth0");
        counts(f, 2, 1);
        /* An event elsewhere keeps it. */
        sysfs_children_forget(f->c, "/devices/lone");
        sysfs_children_forget(f->c, "/devices/diskette");
        expect(f, "devices/disk", "disk1 net/eth0");
        counts(f, 2, 2);
        /* An event below it (the new child's add) drops it. */
        sysfs_children_forget(f->c, "/devices/disk/disk2");
        expect(f, "devices/disk", "disk1 disk2 net/eth0");
        counts(f, 3, 2);
        /* So does one of the device itself, or of an ancestor. */
        sysfs_children_forget(f->c, "/devices/disk");
        expect(f, "devices/disk", "disk1 disk2 net/eth0");
        counts(f, 4, 2);
        expect(f, "devices/disk/disk1", "inner");
        sysfs_children_forget(f->c, "/devices");
        expect(f, "devices/disk", "disk1 disk2 net/eth0");
        expect(f, "devices/disk/disk1", "inner");
        counts(f, 7, 2);
}

static void test_max_age(void **state) {
        struct fixture *f = *state;

        sysfs_children_free(f->c);
        assert_int_equal(sysfs_children_new(0, &f->c), 0);
        expect(f, "devices/disk", "disk1 net/eth0");
        make(f, "devices/disk/disk2", true);
        /* Not told of the new child, but the scan is too old to use. */
        expect(f, "devices/disk", "disk1 disk2 net/eth0");
        counts(f, 2, 0);
        /* Nor kept: the next host event, wherever, drops it. */
        expect(f, "devices/lone", "");
        assert_int_equal(held(f), 2);
        sysfs_children_forget(f->c, "/devices/elsewhere");
        assert_int_equal(held(f), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reuse_and_forget, setup, teardown),
                cmocka_unit_test_setup_teardown(test_max_age, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
