/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "device-spec.h"

static void test_node(void **state) {
        struct device_spec s;

        assert_int_equal(device_spec_parse("/dev/loop0", &s), 0);
        assert_int_equal(s.kind, DEVICE_SPEC_NODE);
        assert_string_equal(s.path, "/dev/loop0");

        /* Symlinks and nodes outside /dev are left for stat() to judge. */
        assert_int_equal(device_spec_parse("/dev/disk/by-id/foo", &s), 0);
        assert_int_equal(s.kind, DEVICE_SPEC_NODE);
        assert_int_equal(device_spec_parse("/tmp/mynode", &s), 0);
        assert_int_equal(s.kind, DEVICE_SPEC_NODE);
        assert_int_equal(device_spec_parse("/system/x", &s), 0);
        assert_int_equal(s.kind, DEVICE_SPEC_NODE);
}

static void test_syspath(void **state) {
        const char *ok[] = {
                "/sys/devices/virtual/block/loop0",
                "/sys/class/block/loop0",
                "/sys/dev/block/7:0",
                "/sys//devices/virtual/mem/null",
        };
        struct device_spec s;

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                assert_int_equal(device_spec_parse(ok[i], &s), 0);
                assert_int_equal(s.kind, DEVICE_SPEC_SYSPATH);
                assert_ptr_equal(s.path, ok[i]);
        }
}

static void test_devnum(void **state) {
        struct device_spec s;

        assert_int_equal(device_spec_parse("b 7:0", &s), 0);
        assert_int_equal(s.kind, DEVICE_SPEC_DEVNUM);
        assert_int_equal(s.type, 'b');
        assert_int_equal(s.major, 7);
        assert_int_equal(s.minor, 0);

        assert_int_equal(device_spec_parse("c 1:3", &s), 0);
        assert_int_equal(s.type, 'c');
        assert_int_equal(s.major, 1);
        assert_int_equal(s.minor, 3);

        assert_int_equal(device_spec_parse("b7:12", &s), 0);
        assert_int_equal(s.type, 'b');
        assert_int_equal(s.major, 7);
        assert_int_equal(s.minor, 12);

        assert_int_equal(device_spec_parse("c 4095:1048575", &s), 0);
        assert_int_equal(s.major, DEVICE_SPEC_MAJOR_MAX);
        assert_int_equal(s.minor, DEVICE_SPEC_MINOR_MAX);
}

static void test_invalid(void **state) {
        const char *bad[] = {
                "",
                "loop0",
                "dev/loop0",
                "/",
                "//",
                "/sys",
                "/sys/",
                "/sys//",
                "b",
                "b ",
                "b 7",
                "b 7:",
                "b :0",
                "b 7:0 ",
                " b 7:0",
                "b  7:0",
                "b\t7:0",
                "b:7:0",
                "b 7.0",
                "b 7:0x1",
                "b 0x7:0",
                "b -7:0",
                "b +7:0",
                "b 7:-0",
                "B 7:0",
                "u 7:0",
                "block 7:0",
                "7:0",
        };
        struct device_spec s = { .kind = DEVICE_SPEC_NODE, .path = "untouched" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("%s\n", bad[i]);
                assert_int_equal(device_spec_parse(bad[i], &s), -EINVAL);
        }
        assert_string_equal(s.path, "untouched");
        assert_int_equal(device_spec_parse(NULL, &s), -EINVAL);
}

static void test_range(void **state) {
        struct device_spec s;

        assert_int_equal(device_spec_parse("b 4096:0", &s), -ERANGE);
        assert_int_equal(device_spec_parse("c 1:1048576", &s), -ERANGE);
        assert_int_equal(device_spec_parse("c 99999999999999999999999:0", &s), -ERANGE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_node),
                cmocka_unit_test(test_syspath),
                cmocka_unit_test(test_devnum),
                cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_range),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
