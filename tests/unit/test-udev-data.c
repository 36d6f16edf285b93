/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a container's udev database and udev events say about a device:
 * sd-device's ids, the data file's lines (the container's links, the
 * host's udev properties, nothing of the host's names or node owner), and
 * an event's properties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "daemon/udev-data.h"
#include "strv.h"

static char **props(const char *first, ...) {
        char **l = NULL;
        va_list ap;

        va_start(ap, first);
        for (const char *p = first; p; p = va_arg(ap, const char *))
                assert_int_equal(strv_extend(&l, p), 0);
        va_end(ap);
        return l;
}

#define PROPS(...) props(__VA_ARGS__, NULL)

static struct device *device(char **properties, char **tags) {
        struct device_snapshot s = {properties, SUBSYSTEM_KIND_CLASS, tags};
        struct device *d;

        assert_int_equal(device_new(1, -1, &s, &d), 0);
        strv_free(properties);
        strv_free(tags);
        return d;
}

static void check_id(struct device *d, const char *expected) {
        char *id = NULL;

        if (!expected)
                assert_int_equal(udev_data_id(d, &id), -ENOENT);
        else {
                assert_int_equal(udev_data_id(d, &id), 0);
                assert_string_equal(id, expected);
        }
        free(id);
        device_free(d);
}

static void test_ids(void **state) {
        check_id(device(PROPS("DEVPATH=/devices/virtual/block/loop7", "SUBSYSTEM=block", "MAJOR=7", "MINOR=7"), NULL),
                 "b7:7");
        check_id(device(PROPS("DEVPATH=/devices/virtual/mem/null", "SUBSYSTEM=mem", "MAJOR=1", "MINOR=3"), NULL),
                 "c1:3");
        check_id(device(PROPS("DEVPATH=/devices/virtual/net/lo", "SUBSYSTEM=net", "IFINDEX=1", "INTERFACE=lo"), NULL),
                 "n1");
        check_id(device(PROPS("DEVPATH=/devices/virtual/block/loop7/queue", "SUBSYSTEM=queues"), NULL),
                 "+queues:queue");
        check_id(device(PROPS("DEVPATH=/devices/platform"), NULL), NULL);
}

static void test_old_id(void **state) {
        struct device *net = device(PROPS("DEVPATH=/devices/virtual/net/eth1", "SUBSYSTEM=net", "IFINDEX=4"), NULL);
        struct device *other = device(PROPS("DEVPATH=/devices/virtual/misc/b", "SUBSYSTEM=misc"), NULL);
        char *id = NULL;

        /* An ifindex or a devnum does not follow the name. */
        assert_int_equal(udev_data_old_id(net, "/devices/virtual/net/eth0", &id), -ENOENT);
        assert_int_equal(udev_data_old_id(other, "/devices/virtual/misc/a", &id), 0);
        assert_string_equal(id, "+misc:a");
        free(id);
        assert_int_equal(udev_data_old_id(other, "/devices/virtual/misc/b", &id), -ENOENT);
        assert_int_equal(udev_data_old_id(other, NULL, &id), -ENOENT);
        device_free(net);
        device_free(other);
}

static void test_format(void **state) {
        struct device *d = device(PROPS("DEVPATH=/devices/virtual/block/loop7", "SUBSYSTEM=block", "MAJOR=7", "MINOR=7",
                                        "DEVNAME=/dev/loop7", "DEVTYPE=disk", "DISKSEQ=3", "ID_FS_TYPE=ext4",
                                        "DEVLINKS=/dev/disk/by-uuid/host", "TAGS=:systemd:", "CURRENT_TAGS=:systemd:",
                                        "USEC_INITIALIZED=1234", "DEVMODE=0660", ".ID_FS_TYPE_NEW=ext4"),
                                  PROPS("systemd"));
        struct visible_device v = {.device = d, .node = "xvdq", .symlinks = PROPS("disk/by-label/a", "b")};
        char *text;
        size_t size;

        assert_int_equal(d->usec_initialized, 1234);
        assert_int_equal(udev_data_format(&v, &text, &size), 0);
        assert_int_equal(size, strlen(text));
        assert_string_equal(text, "S:disk/by-label/a\n"
                                  "S:b\n"
                                  "L:0\n"
                                  "I:1234\n"
                                  "E:DISKSEQ=3\n"
                                  "E:ID_FS_TYPE=ext4\n"
                                  "G:systemd\n"
                                  "Q:systemd\n"
                                  "V:1\n");
        free(text);
        strv_free(v.symlinks);
        device_free(d);
}

static void test_format_minimal(void **state) {
        struct device *d = device(PROPS("DEVPATH=/devices/virtual/block/loop7", "SUBSYSTEM=block", "MAJOR=7", "MINOR=7",
                                        "DEVNAME=/dev/loop7"),
                                  NULL);
        struct visible_device v = {.device = d, .node = "loop7"};
        char *text, expected[64];
        size_t size;

        /* Without a host udevd: now, on CLOCK_MONOTONIC. */
        assert_true(d->usec_initialized > 0);
        assert_int_equal(udev_data_format(&v, &text, &size), 0);
        snprintf(expected, sizeof(expected), "I:%llu\nV:1\n", (unsigned long long) d->usec_initialized);
        assert_string_equal(text, expected);
        free(text);
        device_free(d);
}

static void test_event_properties(void **state) {
        struct device *d = device(PROPS("DEVPATH=/devices/virtual/block/loop7", "SUBSYSTEM=block", "MAJOR=7", "MINOR=7",
                                        "DEVNAME=/dev/loop7", "USEC_INITIALIZED=99"),
                                  PROPS("systemd", "uaccess"));
        struct visible_device v = {.device = d, .node = "xvdq", .symlinks = PROPS("disk/a", "disk/b")};
        char **from = PROPS("ACTION=change", "DEVPATH=/devices/virtual/block/loop7", "SUBSYSTEM=block", "DEVNAME=loop7",
                            "SEQNUM=12", "SYNTH_UUID=0", "DEVLINKS=/dev/host", "DEVUID=0", "ID_FS_TYPE=ext4");
        char **expected =
                PROPS("ACTION=add", "DEVPATH=/devices/virtual/block/loop7", "SUBSYSTEM=block", "SYNTH_UUID=0",
                      "ID_FS_TYPE=ext4", "DEVNAME=/dev/xvdq", "DEVLINKS=/dev/disk/a /dev/disk/b",
                      "TAGS=:systemd:uaccess:", "CURRENT_TAGS=:systemd:uaccess:", "USEC_INITIALIZED=99", "SEQNUM=77");
        char **l = NULL;

        assert_int_equal(udev_data_event_properties(from, "add", &v, 77, &l), 0);
        assert_true(strv_equal(l, expected));
        strv_free(l);
        l = NULL;

        /* No node, no links, no tags: none of their keys, never empty ones
         * (sd-device 252 crashes on an empty TAGS). */
        v.node = NULL;
        strv_free(v.symlinks);
        v.symlinks = NULL;
        strv_free(d->tags);
        d->tags = NULL;
        assert_int_equal(udev_data_event_properties(from, "remove", &v, 78, &l), 0);
        assert_null(strv_env_get(l, "DEVNAME"));
        assert_null(strv_env_get(l, "DEVLINKS"));
        assert_null(strv_env_get(l, "TAGS"));
        assert_null(strv_env_get(l, "CURRENT_TAGS"));
        assert_string_equal(strv_env_get(l, "ACTION"), "remove");
        strv_free(l);

        strv_free(from);
        strv_free(expected);
        device_free(d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ids),
                cmocka_unit_test(test_old_id),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_format_minimal),
                cmocka_unit_test(test_event_properties),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
