/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>

#include "policy-test-util.h"

/* The example policies in contrib/policies must load cleanly (no errors,
 * no warnings) and mean what their comments say. */

#ifndef CONTRIB_POLICY_DIR
#error "CONTRIB_POLICY_DIR must be defined by the build"
#endif

static struct policy *load_contrib(const char *name) {
        const struct policy_load_options options = {
                .unknown_names_are_errors = true,
        };
        _cleanup_(policy_diagnostics_done) struct policy_diagnostics diags = {};
        _cleanup_free_ char *path = NULL;
        struct policy *p = NULL;
        int r;

        assert_true(asprintf(&path, "%s/%s", CONTRIB_POLICY_DIR, name) > 0);
        r = policy_load_file(path, &options, &p, &diags);
        if (r < 0 || diags.n_items > 0)
                print_diagnostics(&diags);
        assert_int_equal(r, 0);
        assert_int_equal(diags.n_items, 0);
        return p;
}

static void test_every_file_loads(void **state) {
        _cleanup_(closedirp) DIR *d = opendir(CONTRIB_POLICY_DIR);
        unsigned n = 0;

        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                print_message("loading %s\n", de->d_name);
                policy_free(load_contrib(de->d_name));
                n++;
        }
        assert_true(n >= 3);
}

static bool allowed(const struct policy *p, const struct fake_device *d, struct policy_result *res) {
        policy_result_done(res);
        evaluate_ok(p, d, res);
        return res->allowed;
}

static void test_loop_and_zram(void **state) {
        _cleanup_(policy_freep) struct policy *p = load_contrib("loop-and-zram.rules");
        _cleanup_(policy_result_done) struct policy_result res = {};
        struct fake_device loop3 = {
                .pd = { .devpath = "/devices/virtual/block/loop3", .subsystem = "block", .sysname = "loop3",
                        .devtype = "disk", .devname = "/dev/loop3", .type = 'b', .major = 7, .minor = 3,
                        FAKE_CALLBACKS },
        };
        struct fake_device loop0p1 = {
                .pd = { .devpath = "/devices/virtual/block/loop0/loop0p1", .subsystem = "block",
                        .sysname = "loop0p1", .devtype = "partition", .devname = "/dev/loop0p1", .type = 'b',
                        .major = 259, .minor = 0, FAKE_CALLBACKS },
        };
        struct fake_device zram0 = {
                .pd = { .devpath = "/devices/virtual/block/zram0", .subsystem = "block", .sysname = "zram0",
                        .devtype = "disk", .devname = "/dev/zram0", .type = 'b', .major = 252, .minor = 0,
                        FAKE_CALLBACKS },
        };
        struct fake_device sda = {
                .pd = { .devpath = "/devices/pci0000:00/block/sda", .subsystem = "block", .sysname = "sda",
                        .devtype = "disk", .devname = "/dev/sda", .type = 'b', .major = 8, .minor = 0,
                        FAKE_CALLBACKS },
        };

        assert_true(allowed(p, &loop3, &res));
        assert_int_equal(res.mode, 0660);
        assert_int_equal(res.gid, 6);
        assert_false(allowed(p, &loop0p1, &res));
        assert_true(allowed(p, &zram0, &res));
        assert_int_equal(strv_length(res.writable_attributes), 4);
        assert_false(allowed(p, &sda, &res));
        assert_string_equal(policy_exposed_paths(p)[0], "/sys/module/loop/parameters");
}

static void test_usb_stick(void **state) {
        _cleanup_(policy_freep) struct policy *p = load_contrib("usb-stick.rules");
        _cleanup_(policy_result_done) struct policy_result res = {};
        struct fake_device usb = {
                .pd = { .devpath = "/devices/pci0000:00/usb1/1-1", .subsystem = "usb", .sysname = "1-1",
                        .devtype = "usb_device", .driver = "usb", .devname = "/dev/bus/usb/001/002", .type = 'c',
                        .major = 189, .minor = 1, FAKE_CALLBACKS },
                .attributes = { { "idVendor", "0781" }, { "idProduct", "5581" }, { "serial", "4C530001230120117061" } },
        };
        struct fake_device other = usb;
        struct fake_device sdb = {
                .pd = { .devpath = "/devices/pci0000:00/usb1/1-1/host6/block/sdb", .subsystem = "block",
                        .sysname = "sdb", .devtype = "disk", .devname = "/dev/sdb", .type = 'b', .major = 8,
                        .minor = 16, .parent = &usb.pd, FAKE_CALLBACKS },
        };
        struct fake_device sdb1 = {
                .pd = { .devpath = "/devices/pci0000:00/usb1/1-1/host6/block/sdb/sdb1", .subsystem = "block",
                        .sysname = "sdb1", .devtype = "partition", .devname = "/dev/sdb1", .type = 'b',
                        .major = 8, .minor = 17, .parent = &sdb.pd, FAKE_CALLBACKS },
        };
        struct fake_device sdb2 = sdb1;
        struct fake_device sdc = sdb;

        other.attributes[2].value = "SOMEOTHERSERIAL";
        sdc.pd.parent = &other.pd;
        sdb2.properties[0] = (struct fake_kv) { "ID_FS_TYPE", "crypto_LUKS" };

        assert_true(allowed(p, &sdb, &res));
        assert_int_equal(res.access, POLICY_ACCESS_READ);
        assert_int_equal(res.uid, 1000);
        assert_string_equal(res.symlinks[0], "disk/by-devsieve/stick");
        assert_true(allowed(p, &sdb1, &res));
        assert_int_equal(res.access, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE);
        assert_null(res.symlinks);
        assert_false(allowed(p, &sdb2, &res));
        assert_false(allowed(p, &sdc, &res));
        assert_true(allowed(p, &usb, &res));
        assert_int_equal(res.mode, 0600);
        assert_false(allowed(p, &other, &res));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_file_loads),
                cmocka_unit_test(test_loop_and_zram),
                cmocka_unit_test(test_usb_stick),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
