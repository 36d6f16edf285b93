/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libudev's message format: the hashes libudev's in-kernel filters compare
 * (MurmurHash2 "block" is the value a real `udevadm monitor
 * --subsystem-match=block` accepts in test-udev), the header's fields and
 * byte order, and the parser refusing what libudev refuses. */
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/udev-wire.h"
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

static uint32_t be32_at(const char *buf, size_t off) {
        uint32_t v;

        memcpy(&v, buf + off, sizeof(v));
        return be32toh(v);
}

static uint32_t u32_at(const char *buf, size_t off) {
        uint32_t v;

        memcpy(&v, buf + off, sizeof(v));
        return v;
}

static void test_hash(void **state) {
        assert_int_equal(udev_wire_hash32("block"), 0xf0031db7);
        assert_int_equal(udev_wire_hash32("disk"), 0x7bcbc5ee);
        assert_int_equal(udev_wire_hash32("net"), 0xa74d3cc8);
        assert_int_equal(udev_wire_hash32("usb_device"), 0x27f8f50c);
        assert_int_equal(udev_wire_hash32(""), 0);
        /* Four bits at most, from four 6-bit slices of the hash. */
        assert_int_not_equal(udev_wire_tag_bloom("systemd"), 0);
        assert_true(__builtin_popcountll(udev_wire_tag_bloom("systemd")) <= 4);
}

static void test_build(void **state) {
        char **p = PROPS("ACTION=add", "DEVPATH=/devices/virtual/block/loop7", "SUBSYSTEM=block", "DEVTYPE=disk",
                         "DEVNAME=/dev/xvdq", "SEQNUM=9");
        char **tags = PROPS("systemd", "seat");
        const char *expected = "ACTION=add\0DEVPATH=/devices/virtual/block/loop7\0SUBSYSTEM=block\0DEVTYPE=disk\0"
                               "DEVNAME=/dev/xvdq\0SEQNUM=9";
        size_t expected_len = 104;
        uint64_t bloom = udev_wire_tag_bloom("systemd") | udev_wire_tag_bloom("seat");
        char *buf;
        size_t size;

        assert_int_equal(udev_wire_build(p, tags, &buf, &size), 0);
        assert_int_equal(expected_len, strlen("ACTION=add") + strlen("DEVPATH=/devices/virtual/block/loop7") +
                                               strlen("SUBSYSTEM=block") + strlen("DEVTYPE=disk") +
                                               strlen("DEVNAME=/dev/xvdq") + strlen("SEQNUM=9") + 6);
        assert_int_equal(size, 40 + expected_len);
        assert_memory_equal(buf, "libudev\0", 8);
        assert_int_equal(be32_at(buf, 8), 0xfeedcafe);
        assert_int_equal(u32_at(buf, 12), 40);
        assert_int_equal(u32_at(buf, 16), 40);
        assert_int_equal(u32_at(buf, 20), expected_len);
        assert_int_equal(be32_at(buf, 24), 0xf0031db7);
        assert_int_equal(be32_at(buf, 28), 0x7bcbc5ee);
        assert_int_equal(be32_at(buf, 32), (uint32_t) (bloom >> 32));
        assert_int_equal(be32_at(buf, 36), (uint32_t) bloom);
        assert_memory_equal(buf + 40, expected, expected_len);

        struct udev_wire_message m;
        assert_int_equal(udev_wire_parse(buf, size, &m), 0);
        assert_true(strv_equal(m.properties, p));
        assert_int_equal(m.subsystem_hash, 0xf0031db7);
        assert_int_equal(m.devtype_hash, 0x7bcbc5ee);
        assert_true(m.tag_bloom == bloom);
        udev_wire_message_done(&m);
        free(buf);
        strv_free(p);
        strv_free(tags);
}

static void test_build_refuses(void **state) {
        char **no_subsystem = PROPS("ACTION=add", "DEVPATH=/devices/x");
        char **no_equals = PROPS("SUBSYSTEM=block", "JUNK");
        char *buf = NULL;
        size_t size;

        assert_int_equal(udev_wire_build(no_subsystem, NULL, &buf, &size), -EINVAL);
        assert_int_equal(udev_wire_build(no_equals, NULL, &buf, &size), -EINVAL);
        assert_null(buf);
        strv_free(no_subsystem);
        strv_free(no_equals);
}

static void test_parse_refuses(void **state) {
        char **p = PROPS("SUBSYSTEM=block", "DEVPATH=/devices/x");
        struct udev_wire_message m;
        char *buf, *bad;
        size_t size;
        uint32_t v;

        assert_int_equal(udev_wire_build(p, NULL, &buf, &size), 0);
        bad = malloc(size);
        assert_non_null(bad);

        /* Short, kernel-framed, wrong magic. */
        assert_int_equal(udev_wire_parse(buf, 39, &m), -EBADMSG);
        assert_int_equal(udev_wire_parse("add@/devices/x\0ACTION=add", 26, &m), -EBADMSG);
        memcpy(bad, buf, size);
        bad[8] ^= 1;
        assert_int_equal(udev_wire_parse(bad, size, &m), -EBADMSG);
        /* Properties beyond the message, or before the header's end. */
        memcpy(bad, buf, size);
        v = (uint32_t) size;
        memcpy(bad + 20, &v, sizeof(v));
        assert_int_equal(udev_wire_parse(bad, size, &m), -EBADMSG);
        memcpy(bad, buf, size);
        v = 8;
        memcpy(bad + 16, &v, sizeof(v));
        assert_int_equal(udev_wire_parse(bad, size, &m), -EBADMSG);
        /* An unterminated or '='-less property. */
        assert_int_equal(udev_wire_parse(buf, size - 1, &m), -EBADMSG);
        memcpy(bad, buf, size);
        bad[40 + strlen("SUBSYSTEM")] = 'X';
        assert_int_equal(udev_wire_parse(bad, size, &m), -EBADMSG);

        free(bad);
        free(buf);
        strv_free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hash),
                cmocka_unit_test(test_build),
                cmocka_unit_test(test_build_refuses),
                cmocka_unit_test(test_parse_refuses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
