/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/procfs-filter.h"
#include "macro.h"

/* The kernel's own text (block/genhd.c), as this machine writes it. */
static const char partitions[] = "major minor  #blocks  name\n"
                                 "\n"
                                 " 254        0  268435456 vda\n"
                                 "   7        3       2048 loop3\n"
                                 "   7        4       2048 loop4\n"
                                 " 252        1     512000 zram1\n";

static const char diskstats[] = " 254       0 vda 12 0 1200 5 3 0 24 1 0 12 6 0 0 0 0 0 0\n"
                                "   7       3 loop3 1 0 2 0 0 0 0 0 0 4 0 0 0 0 0 0 0\n"
                                "   7       4 loop4 7 0 14 0 0 0 0 0 0 4 0 0 0 0 0 0 0\n"
                                " 252       1 zram1 3 0 24 0 5 0 40 0 0 8 0 0 0 0 0 0 0\n";

/* loop3 is visible as is, zram1 as xvdb; vda and loop4 are hidden. */
static const char *names(unsigned major, unsigned minor, void *userdata) {
        if (major == 7 && minor == 3)
                return "loop3";
        if (major == 252 && minor == 1)
                return "xvdb";
        return NULL;
}

static const char *bad_names(unsigned major, unsigned minor, void *userdata) {
        return major == 7 && minor == 3 ? "two words" : NULL;
}

static void test_partitions(void **state) {
        _cleanup_free_ char *out = NULL;
        size_t size;

        assert_int_equal(procfs_filter_partitions(partitions, strlen(partitions), names, NULL, &out, &size), 0);
        assert_string_equal(out, "major minor  #blocks  name\n"
                                 "\n"
                                 "   7        3       2048 loop3\n"
                                 " 252        1     512000 xvdb\n");
        assert_int_equal(size, strlen(out));
}

static void test_diskstats(void **state) {
        _cleanup_free_ char *out = NULL;
        size_t size;

        assert_int_equal(procfs_filter_diskstats(diskstats, strlen(diskstats), names, NULL, &out, &size), 0);
        assert_string_equal(out, "   7       3 loop3 1 0 2 0 0 0 0 0 0 4 0 0 0 0 0 0 0\n"
                                 " 252       1 xvdb 3 0 24 0 5 0 40 0 0 8 0 0 0 0 0 0 0\n");
        assert_int_equal(size, strlen(out));
}

static void test_name_that_breaks_the_format_is_dropped(void **state) {
        _cleanup_free_ char *out = NULL;
        size_t size;

        assert_int_equal(procfs_filter_partitions(partitions, strlen(partitions), bad_names, NULL, &out, &size), 0);
        assert_string_equal(out, "major minor  #blocks  name\n\n");
}

/* A last line without its newline, a length that cuts a line short and
 * text that is not a device line: nothing read past size, nothing leaked. */
static void test_odd_input(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        const char odd[] = "   7        4       2048 loop4\n   7        3       2048 loop3";
        size_t size;

        assert_int_equal(procfs_filter_partitions(odd, strlen(odd), names, NULL, &a, &size), 0);
        assert_string_equal(a, "   7        3       2048 loop3");
        /* Cut inside "loop4": the rest of the buffer is not looked at. */
        assert_int_equal(procfs_filter_partitions(odd, 27, names, NULL, &b, &size), 0);
        assert_string_equal(b, "");
        assert_int_equal(procfs_filter_diskstats("x y z\n-7 3 loop3 1\n", 19, names, NULL, &c, &size), 0);
        assert_string_equal(c, "x y z\n-7 3 loop3 1\n");
}

static const char input_devices[] = "I: Bus=0019 Vendor=0000 Product=0001 Version=0000\n"
                                     "N: Name=\"Power Button\"\n"
                                     "P: Phys=PNP0C0C/button/input0\n"
                                     "S: Sysfs=/devices/LNXSYSTM:00/LNXPWRBN:00/input/input0\n"
                                     "U: Uniq=\n"
                                     "H: Handlers=kbd event0 \n"
                                     "B: PROP=0\n"
                                     "B: EV=3\n"
                                     "B: KEY=10000000000000 0\n"
                                     "\n"
                                     "I: Bus=0011 Vendor=0001 Product=0001 Version=ab41\n"
                                     "N: Name=\"AT Translated Set 2 keyboard\"\n"
                                     "P: Phys=isa0060/serio0/input0\n"
                                     "S: Sysfs=/devices/platform/i8042/serio0/input/input1\n"
                                     "U: Uniq=\n"
                                     "H: Handlers=sysrq kbd event1 js1 leds \n"
                                     "B: PROP=0\n"
                                     "B: EV=120013\n"
                                     "\n";

static bool input_visible(const char *sysfs, void *userdata) {
        const char **seen = userdata;

        *seen = sysfs;
        return strcmp(sysfs, "/devices/platform/i8042/serio0/input/input1") == 0;
}

/* event1 is the container's as "event7"; a node handler it does not see
 * (js1) goes; handlers without a node of their own stay. */
static const char *input_handler(const char *sysfs, const char *handler, void *userdata) {
        if (strcmp(handler, "event1") == 0)
                return "event7";
        if (strcmp(handler, "js1") == 0)
                return NULL;
        return handler;
}

static void test_input_devices(void **state) {
        _cleanup_free_ char *out = NULL;
        const char *seen = NULL;
        size_t size;

        assert_int_equal(procfs_filter_input_devices(input_devices, strlen(input_devices), input_visible,
                                                     input_handler, &seen, &out, &size),
                         0);
        assert_string_equal(out, "I: Bus=0011 Vendor=0001 Product=0001 Version=ab41\n"
                                 "N: Name=\"AT Translated Set 2 keyboard\"\n"
                                 "P: Phys=isa0060/serio0/input0\n"
                                 "S: Sysfs=/devices/platform/i8042/serio0/input/input1\n"
                                 "U: Uniq=\n"
                                 "H: Handlers=sysrq kbd event7 leds \n"
                                 "B: PROP=0\n"
                                 "B: EV=120013\n"
                                 "\n");
        assert_int_equal(size, strlen(out));
}

static bool none_visible(const char *sysfs, void *userdata) {
        return false;
}

static void test_input_devices_none(void **state) {
        _cleanup_free_ char *out = NULL;
        const char no_sysfs[] = "I: Bus=0019\nN: Name=\"x\"\n\n";
        const char *seen = NULL;
        size_t size;

        assert_int_equal(procfs_filter_input_devices(input_devices, strlen(input_devices), none_visible, input_handler,
                                                     NULL, &out, &size),
                         0);
        assert_string_equal(out, "");
        free(out);
        out = NULL;
        /* A block that names no sysfs path cannot be attributed: it goes. */
        assert_int_equal(procfs_filter_input_devices(no_sysfs, strlen(no_sysfs), input_visible, input_handler, &seen,
                                                     &out, &size),
                         0);
        assert_string_equal(out, "");
        assert_null(seen);
}

static const char pci_devices[] = "0000\t80860d57\t0\t               0\t               0\t\n"
                                   "0008\t1af41045\t0\t      4000000004\t               0\tvirtio-pci\n"
                                   "0010\t1af41042\t0\t      4000080004\t               0\tvirtio-pci\n"
                                   "0110\t1af41042\t0\t      4000080004\t               0\t\n";

/* 00:01.0 (devfn 0x08) and 01:02.0 (devfn 0x10) are the container's. */
static bool pci_visible(unsigned bus, unsigned devfn, void *userdata) {
        return (bus == 0 && devfn == 0x08) || (bus == 1 && devfn == 0x10);
}

static void test_pci_devices(void **state) {
        _cleanup_free_ char *out = NULL, *twice = NULL, *text = NULL;
        size_t size;

        assert_int_equal(procfs_filter_pci_devices(pci_devices, strlen(pci_devices), pci_visible, NULL, &out, &size),
                         0);
        assert_string_equal(out, "0008\t1af41045\t0\t      4000000004\t               0\tvirtio-pci\n"
                                 "0110\t1af41042\t0\t      4000080004\t               0\t\n");
        /* The same slot twice (another domain's device): neither can be
         * told apart, both go; so does a line that names no slot. */
        assert_true(asprintf(&text, "%s0008\tffffffff\t0\t\nnot a device\n", pci_devices) > 0);
        assert_int_equal(procfs_filter_pci_devices(text, strlen(text), pci_visible, NULL, &twice, &size), 0);
        assert_string_equal(twice, "0110\t1af41042\t0\t      4000080004\t               0\t\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_partitions),
                cmocka_unit_test(test_diskstats),
                cmocka_unit_test(test_name_that_breaks_the_format_is_dropped),
                cmocka_unit_test(test_odd_input),
                cmocka_unit_test(test_input_devices),
                cmocka_unit_test(test_input_devices_none),
                cmocka_unit_test(test_pci_devices),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
