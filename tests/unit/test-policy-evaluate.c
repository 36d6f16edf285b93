/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fake-simple-devices.h"
#include "fake-usb-stick.h"
#include "policy-test-util.h"

/* The semantics: default deny, the last match decides, assignments layer,
 * missing values compare as "", ancestor keys share one device. */

static struct fake_device loop1 = {
        .pd = {
                .devpath = "/devices/virtual/block/loop1",
                .subsystem = "block",
                .sysname = "loop1",
                .devtype = "disk",
                .devname = "/dev/loop1",
                .type = 'b',
                .major = 7,
                .minor = 1,
                FAKE_CALLBACKS,
        },
};

/* Whether text (one or more rules) allows d. */
static bool allows(const char *text, const struct fake_device *d) {
        _cleanup_(policy_freep) struct policy *p = load_ok(text);
        _cleanup_(policy_result_done) struct policy_result res = {};
        _cleanup_(policy_result_done) struct policy_result traced = {};
        _cleanup_(policy_trace_done) struct policy_trace t = {};

        evaluate_ok(p, d, &res);
        /* The traced evaluation must agree with the fast one. */
        assert_int_equal(policy_evaluate(p, &d->pd, &traced, &t), 0);
        assert_int_equal(res.allowed, traced.allowed);
        assert_ptr_equal(res.decided_by, traced.decided_by);
        assert_int_equal(t.n_entries, policy_n_rules(p));
        return res.allowed;
}

static void test_default_deny(void **state) {
        _cleanup_(policy_freep) struct policy *p = load_ok("# nothing\n");
        _cleanup_(policy_result_done) struct policy_result res = {};

        evaluate_ok(p, &loop0, &res);
        assert_false(res.allowed);
        assert_null(res.decided_by);
        assert_false(allows("allow KERNEL==\"loop1\"\n", &loop0));
        assert_false(allows("deny KERNEL==\"loop0\"\n", &loop0));
}

static void test_defaults(void **state) {
        _cleanup_(policy_freep) struct policy *p = load_ok("allow KERNEL==\"loop0\"\n");
        _cleanup_(policy_result_done) struct policy_result res = {};

        evaluate_ok(p, &loop0, &res);
        assert_true(res.allowed);
        assert_non_null(res.decided_by);
        assert_int_equal(policy_rule_line(res.decided_by), 1);
        assert_null(res.name);
        assert_null(res.symlinks);
        assert_null(res.writable_attributes);
        assert_int_equal(res.uid, 0);
        assert_int_equal(res.gid, 0);
        assert_int_equal(res.mode, 0600);
        assert_int_equal(res.access, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE);
}

static void test_last_match_decides(void **state) {
        static const char *text = "allow SUBSYSTEM==\"block\"\n"
                                  "deny KERNEL==\"loop*\"\n"
                                  "allow KERNEL==\"loop1\"\n";
        _cleanup_(policy_freep) struct policy *p = load_ok(text);
        _cleanup_(policy_result_done) struct policy_result r0 = {}, r1 = {}, r2 = {};

        evaluate_ok(p, &loop0, &r0);
        assert_false(r0.allowed);
        assert_int_equal(policy_rule_line(r0.decided_by), 2);
        assert_int_equal(policy_rule_verb(r0.decided_by), POLICY_DENY);
        assert_string_equal(policy_rule_text(r0.decided_by), "deny KERNEL==\"loop*\"");

        evaluate_ok(p, &loop1, &r1);
        assert_true(r1.allowed);
        assert_int_equal(policy_rule_line(r1.decided_by), 3);

        evaluate_ok(p, &sdb, &r2);
        assert_true(r2.allowed);
        assert_int_equal(policy_rule_line(r2.decided_by), 1);
}

static void test_assignment_layering(void **state) {
        static const char *text = "allow SUBSYSTEM==\"block\", MODE=\"0660\", GROUP=\"6\", SYMLINK+=\"a\", "
                                  "NAME=\"x/first\"\n"
                                  "deny KERNEL==\"loop*\"\n"
                                  "allow KERNEL==\"loop1\", MODE=\"0640\"\n"
                                  "allow KERNEL==\"loop0\", OWNER=\"1000\", SYMLINK+=\"b\", ACCESS=\"r\"\n"
                                  "allow KERNEL==\"nomatch\", OWNER=\"5\"\n"
                                  "allow DEVTYPE==\"disk\", WRITABLE_ATTR+=\"ro\"\n";
        _cleanup_(policy_freep) struct policy *p = load_ok(text);
        _cleanup_(policy_result_done) struct policy_result res = {}, res1 = {};

        evaluate_ok(p, &loop0, &res);
        assert_true(res.allowed);
        assert_int_equal(policy_rule_line(res.decided_by), 6);
        /* Rule 1 matched before the deny and still contributes. */
        assert_int_equal(res.mode, 0660);
        assert_int_equal(res.gid, 6);
        assert_int_equal(res.uid, 1000);
        assert_int_equal(res.access, POLICY_ACCESS_READ);
        assert_string_equal(res.name, "x/first");
        assert_int_equal(strv_length(res.symlinks), 2);
        assert_string_equal(res.symlinks[0], "a");
        assert_string_equal(res.symlinks[1], "b");
        assert_int_equal(strv_length(res.writable_attributes), 1);
        assert_string_equal(res.writable_attributes[0], "ro");

        evaluate_ok(p, &loop1, &res1);
        assert_true(res1.allowed);
        assert_int_equal(res1.mode, 0640); /* later overrides earlier */
        assert_int_equal(res1.uid, 0);
        assert_int_equal(res1.access, POLICY_ACCESS_READ | POLICY_ACCESS_WRITE);
}

static void test_denied_result_has_no_assignments(void **state) {
        _cleanup_(policy_freep) struct policy *p = load_ok("allow KERNEL==\"loop0\", SYMLINK+=\"a\", MODE=\"0666\", "
                                                           "NAME=\"n\", WRITABLE_ATTR+=\"ro\"\n"
                                                           "deny SUBSYSTEM==\"block\"\n");
        _cleanup_(policy_result_done) struct policy_result res = {};

        evaluate_ok(p, &loop0, &res);
        assert_false(res.allowed);
        assert_null(res.name);
        assert_null(res.symlinks);
        assert_null(res.writable_attributes);
}

static void test_symlink_replace_and_append(void **state) {
        _cleanup_(policy_freep) struct policy *p = load_ok("allow KERNEL==\"loop0\", SYMLINK+=\"a x\"\n"
                                                           "allow KERNEL==\"loop0\", SYMLINK+=\"x\", SYMLINK=\"b  c\"\n"
                                                           "allow SUBSYSTEM==\"block\", SYMLINK+=\"d c\"\n"
                                                           "allow KERNEL==\"loop1\", SYMLINK=\"\"\n");
        _cleanup_(policy_result_done) struct policy_result res = {}, res1 = {};

        evaluate_ok(p, &loop0, &res);
        assert_int_equal(strv_length(res.symlinks), 3);
        assert_string_equal(res.symlinks[0], "b");
        assert_string_equal(res.symlinks[1], "c");
        assert_string_equal(res.symlinks[2], "d");

        /* SYMLINK="" empties the list. */
        evaluate_ok(p, &loop1, &res1);
        assert_true(res1.allowed);
        assert_null(res1.symlinks);
}

static void test_name_override(void **state) {
        _cleanup_(policy_freep) struct policy *p = load_ok("allow SUBSYSTEM==\"block\", NAME=\"disks/%k\"\n"
                                                           "allow KERNEL==\"loop0\", NAME=\"loops/zero\"\n");
        _cleanup_(policy_result_done) struct policy_result res = {}, res1 = {};

        evaluate_ok(p, &loop0, &res);
        assert_string_equal(res.name, "loops/zero");
        evaluate_ok(p, &loop1, &res1);
        assert_string_equal(res1.name, "disks/%k"); /* no substitutions */
}

static void test_globs_and_alternatives(void **state) {
        assert_true(allows("allow KERNEL==\"loop[0-9]*\"\n", &loop0));
        assert_true(allows("allow KERNEL==\"sd?|loop?\"\n", &loop1));
        assert_true(allows("allow KERNEL==\"sd?|loop?\"\n", &sdb));
        assert_false(allows("allow KERNEL==\"sd?|loop\"\n", &loop1));
        assert_true(allows("allow KERNEL==\"nvme*|*1|zz\"\n", &loop1));
        assert_false(allows("allow KERNEL==\"loop\"\n", &loop0));     /* whole value */
        assert_false(allows("allow KERNEL==\"LOOP0\"\n", &loop0));    /* case matters */
        assert_true(allows("allow DEVPATH==\"/devices/*/loop0\"\n", &loop0)); /* '*' crosses '/' */
        assert_true(allows("allow KERNEL!=\"sd*|nvme*\"\n", &loop0));
        assert_false(allows("allow KERNEL!=\"sd*|loop*\"\n", &loop0));
        assert_true(allows("allow KERNEL==\"l[!x]op0\"\n", &loop0));
}

static void test_quoted_glob_characters(void **state) {
        struct fake_device star = {
                .pd = { .devpath = "/devices/a*", .sysname = "a*", FAKE_CALLBACKS },
        };
        struct fake_device ab = {
                .pd = { .devpath = "/devices/ab", .sysname = "ab", FAKE_CALLBACKS },
        };

        /* "\\\\*" in C is \\* in the file, \* after unescaping: a literal '*'. */
        assert_true(allows("allow KERNEL==\"a\\\\*\"\n", &star));
        assert_false(allows("allow KERNEL==\"a\\\\*\"\n", &ab));
        assert_true(allows("allow KERNEL==\"a*\"\n", &ab));
}

static void test_empty_alternative(void **state) {
        /* "" as one alternative matches a device without a driver. */
        assert_true(allows("allow DRIVER==\"usb|\"\n", &loop0));
        assert_true(allows("allow DRIVER==\"usb|\"\n", &stick));
        assert_false(allows("allow DRIVER==\"usb|\"\n", &host));
}

static void test_missing_values(void **state) {
        assert_true(allows("allow DRIVER==\"\"\n", &loop0));
        assert_true(allows("allow DRIVER!=\"x\"\n", &loop0));
        assert_false(allows("allow DRIVER!=\"\"\n", &loop0));
        assert_false(allows("allow DRIVER==\"*?\"\n", &loop0));
        assert_true(allows("allow DRIVER==\"*\"\n", &loop0)); /* "*" matches "" */
        assert_true(allows("allow DEVTYPE==\"\"\n", &null_dev));
        assert_true(allows("allow SUBSYSTEM==\"\", DEVNAME==\"\", TYPE==\"\", MAJOR==\"\", MINOR==\"\"\n", &bare));
        assert_true(allows("allow ATTR{nope}==\"\", ENV{NOPE}==\"\"\n", &loop0));
        assert_true(allows("allow ATTR{nope}==\"\", ENV{NOPE}==\"\", ATTRS{x}==\"\"\n", &bare));
        assert_false(allows("allow ATTR{nope}!=\"\"\n", &loop0));
        /* A property that exists with an empty value is the same as none. */
        assert_true(allows("allow ENV{ID_FS_TYPE}==\"\"\n", &loop0));
        assert_true(allows("allow ENV{ID_FS_TYPE}!=\"ext4\"\n", &loop0));
}

/* Values the loader accepts for key (TYPE and MAJOR/MINOR are checked). */
static bool value_fits(const char *key, const char *value) {
        if (streq(key, "TYPE"))
                return streq(value, "") || streq(value, "block") || streq(value, "char");
        if (streq(key, "MAJOR") || streq(key, "MINOR"))
                return strspn(value, "0123456789*") == strlen(value);
        return true;
}

static void test_negation_is_exact(void **state) {
        static const char *const keys[] = {
                "SUBSYSTEM", "KERNEL", "DEVTYPE", "DRIVER", "DEVPATH", "DEVNAME", "TYPE", "MAJOR", "MINOR",
                "ATTR{size}", "ENV{ID_BUS}", "SUBSYSTEMS", "KERNELS", "DRIVERS", "ATTRS{idVendor}",
        };
        static const char *const values[] = {
                "", "*", "block", "char", "loop0", "usb", "7", "8", "16", "0", "0781", "1d6b", "disk", "/dev/sdb",
        };
        const struct fake_device *devices[] = { &loop0, &null_dev, &bare, &sdb, &stick, &host };

        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                for (size_t v = 0; v < ELEMENTSOF(values); v++)
                        for (size_t d = 0; d < ELEMENTSOF(devices); d++) {
                                bool ancestor = streq(keys[k], "SUBSYSTEMS") || streq(keys[k], "KERNELS") ||
                                                streq(keys[k], "DRIVERS") || startswith(keys[k], "ATTRS{");
                                _cleanup_free_ char *eq = NULL, *ne = NULL;

                                if (!value_fits(keys[k], values[v]))
                                        continue;
                                /* An ancestor key holds when it holds on some
                                 * device of the chain, for == and != alike: only
                                 * on a chain of one are they exact opposites. */
                                if (ancestor && devices[d]->pd.parent)
                                        continue;
                                assert_true(asprintf(&eq, "allow %s==\"%s\"\n", keys[k], values[v]) > 0);
                                assert_true(asprintf(&ne, "allow %s!=\"%s\"\n", keys[k], values[v]) > 0);
                                assert_true(allows(eq, devices[d]) != allows(ne, devices[d]));
                        }
}

static void test_type_major_minor(void **state) {
        assert_true(allows("allow TYPE==\"char\", MAJOR==\"1\", MINOR==\"3\"\n", &null_dev));
        assert_false(allows("allow TYPE==\"block\"\n", &null_dev));
        assert_true(allows("allow TYPE==\"block\", MAJOR==\"7\", MINOR==\"0\"\n", &loop0));
        assert_true(allows("allow MAJOR==\"18[0-9]\", MINOR==\"1\"\n", &stick));
        assert_true(allows("allow TYPE==\"char|block\"\n", &loop0));
        assert_false(allows("allow TYPE==\"char|block\"\n", &bare));
        assert_true(allows("allow DEVNAME==\"/dev/loop*\"\n", &loop0));
        assert_false(allows("allow DEVNAME==\"loop0\"\n", &loop0));
}

static void test_attr_env(void **state) {
        assert_true(allows("allow ATTR{size}==\"0\", ATTR{queue/rotational}==\"1\"\n", &loop0));
        assert_true(allows("allow ENV{ID_BUS}==\"usb\", ENV{ID_SERIAL}==\"SanDisk_*\"\n", &sdb));
        assert_false(allows("allow ENV{ID_BUS}==\"usb\"\n", &loop0));
        /* ATTR is about the device only, never its parents. */
        assert_false(allows("allow ATTR{idVendor}==\"0781\"\n", &sdb));
}

static void test_ancestors_same_device(void **state) {
        /* Both hold on 1-1. */
        assert_true(allows("allow SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"0781\"\n", &sdb));
        /* Each holds somewhere, but not on one device: usb1 is the only
         * "usb1", and it has another vendor. */
        assert_false(allows("allow KERNELS==\"usb1\", ATTRS{idVendor}==\"0781\"\n", &sdb));
        assert_true(allows("allow KERNELS==\"usb1\", ATTRS{idVendor}==\"1d6b\"\n", &sdb));
        /* usb-storage is bound to host6, the vendor sits on 1-1. */
        assert_false(allows("allow DRIVERS==\"usb-storage\", ATTRS{idVendor}==\"0781\"\n", &sdb));
        assert_true(allows("allow DRIVERS==\"usb-storage\", KERNELS==\"host*\"\n", &sdb));
        /* The device itself is part of the chain. */
        assert_true(allows("allow KERNELS==\"sdb\", SUBSYSTEMS==\"block\", ATTRS{removable}==\"1\"\n", &sdb));
        /* Non-ancestor keys look at the device only. */
        assert_false(allows("allow SUBSYSTEM==\"usb\"\n", &sdb));
        assert_true(allows("allow SUBSYSTEM==\"block\", SUBSYSTEMS==\"usb\"\n", &sdb));
        assert_false(allows("allow SUBSYSTEM==\"block\", SUBSYSTEMS==\"pci\"\n", &sdb));
        /* != on an ancestor key: some device of the chain differs. */
        assert_true(allows("allow SUBSYSTEMS!=\"block\"\n", &sdb));
        assert_true(allows("allow SUBSYSTEMS==\"usb\", DRIVERS!=\"usb\"\n", &sdb) == false);
        assert_true(allows("allow SUBSYSTEMS==\"scsi\", DRIVERS!=\"usb\"\n", &sdb));
        /* The root hub alone. */
        assert_true(allows("allow SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"1d6b\"\n", &hub));
        assert_false(allows("allow SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"0781\"\n", &hub));
}

static void test_trace(void **state) {
        _cleanup_(policy_freep) struct policy *p = load_ok("allow SUBSYSTEM==\"block\", KERNEL==\"loop*\"\n"
                                                           "deny MAJOR==\"9\"\n"
                                                           "allow DRIVER==\"usb\"\n"
                                                           "allow SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"dead\"\n"
                                                           "allow ENV{ID_BUS} == \"usb\"\n");
        _cleanup_(policy_result_done) struct policy_result res = {};
        _cleanup_(policy_trace_done) struct policy_trace t = {};

        assert_int_equal(policy_evaluate(p, &sdb.pd, &res, &t), 0);
        assert_true(res.allowed);
        assert_int_equal(policy_rule_line(res.decided_by), 5);
        assert_int_equal(t.n_entries, 5);
        for (size_t i = 0; i < t.n_entries; i++)
                assert_int_equal(policy_rule_line(t.entries[i].rule), i + 1);

        assert_false(t.entries[0].matched);
        assert_string_equal(t.entries[0].failed_key, "KERNEL==\"loop*\"");
        assert_string_equal(t.entries[0].device_value, "sdb");

        assert_false(t.entries[1].matched);
        assert_string_equal(t.entries[1].failed_key, "MAJOR==\"9\"");
        assert_string_equal(t.entries[1].device_value, "8");

        assert_false(t.entries[2].matched);
        assert_string_equal(t.entries[2].failed_key, "DRIVER==\"usb\"");
        assert_null(t.entries[2].device_value);

        /* For ancestor keys: the first one the device itself fails. */
        assert_false(t.entries[3].matched);
        assert_string_equal(t.entries[3].failed_key, "SUBSYSTEMS==\"usb\"");
        assert_string_equal(t.entries[3].device_value, "block");

        assert_true(t.entries[4].matched);
        assert_null(t.entries[4].failed_key);
        assert_null(t.entries[4].device_value);
}

static void test_trace_default_deny(void **state) {
        _cleanup_(policy_freep) struct policy *p = load_ok("allow KERNEL==\"a\"\nallow KERNEL==\"b\"\n");
        _cleanup_(policy_result_done) struct policy_result res = {};
        _cleanup_(policy_trace_done) struct policy_trace t = {};

        assert_int_equal(policy_evaluate(p, &loop0.pd, &res, &t), 0);
        assert_false(res.allowed);
        assert_null(res.decided_by);
        assert_int_equal(t.n_entries, 2);
        assert_false(t.entries[0].matched);
        assert_false(t.entries[1].matched);
        assert_string_equal(t.entries[1].failed_key, "KERNEL==\"b\"");
}

static void test_oci_default(void **state) {
        static const char *text = "include \"oci-default\"\n";
        struct fake_device tty = {
                .pd = { .devpath = "/devices/virtual/tty/tty", .subsystem = "tty", .sysname = "tty",
                        .devname = "/dev/tty", .type = 'c', .major = 5, .minor = 0, FAKE_CALLBACKS },
        };
        struct fake_device tty1 = {
                .pd = { .devpath = "/devices/virtual/tty/tty1", .subsystem = "tty", .sysname = "tty1",
                        .devname = "/dev/tty1", .type = 'c', .major = 4, .minor = 1, FAKE_CALLBACKS },
        };
        /* A "null" in some other subsystem must not pass for /dev/null. */
        struct fake_device fake_null = {
                .pd = { .devpath = "/devices/virtual/misc/null", .subsystem = "misc", .sysname = "null",
                        .devname = "/dev/null", .type = 'c', .major = 10, .minor = 99, FAKE_CALLBACKS },
        };
        struct fake_device block_null = {
                .pd = { .devpath = "/devices/virtual/mem/null", .subsystem = "mem", .sysname = "null",
                        .devname = "/dev/null", .type = 'b', .major = 1, .minor = 3, FAKE_CALLBACKS },
        };
        static const char *const mem[] = { "null", "zero", "full", "random", "urandom" };
        static const unsigned minors[] = { 3, 5, 7, 8, 9 };
        _cleanup_(policy_freep) struct policy *p = load_ok(text);

        for (size_t i = 0; i < ELEMENTSOF(mem); i++) {
                _cleanup_free_ char *devname = NULL;
                _cleanup_(policy_result_done) struct policy_result res = {};
                struct fake_device d = {
                        .pd = { .devpath = "/devices/virtual/mem/x", .subsystem = "mem", .sysname = mem[i],
                                .type = 'c', .major = 1, .minor = minors[i], FAKE_CALLBACKS },
                };

                assert_true(asprintf(&devname, "/dev/%s", mem[i]) > 0);
                d.pd.devname = devname;
                evaluate_ok(p, &d, &res);
                assert_true(res.allowed);
                assert_int_equal(res.mode, 0666);
                assert_string_equal(policy_rule_file(res.decided_by), "<builtin:oci-default>");
        }
        assert_true(allows(text, &tty));
        assert_false(allows(text, &tty1));
        assert_false(allows(text, &fake_null));
        assert_false(allows(text, &block_null));
        assert_false(allows(text, &loop0));
}

static void test_many_rules(void **state) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(policy_freep) struct policy *p = NULL;
        _cleanup_(policy_result_done) struct policy_result res = {};
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_non_null(f);
        for (unsigned i = 0; i < 2000; i++)
                fprintf(f, "allow KERNEL==\"dev%u|other%u\", ATTR{x}==\"%u*\", MODE=\"%04o\"\n", i, i, i, i % 0777);
        fprintf(f, "allow KERNEL==\"loop0\", MODE=\"0604\"\n");
        assert_int_equal(fclose(f), 0);

        p = load_ok(text);
        assert_int_equal(policy_n_rules(p), 2001);
        for (unsigned i = 0; i < 1000; i++) {
                evaluate_ok(p, &loop0, &res);
                assert_true(res.allowed);
                assert_int_equal(res.mode, 0604);
                policy_result_done(&res);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_deny),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_last_match_decides),
                cmocka_unit_test(test_assignment_layering),
                cmocka_unit_test(test_denied_result_has_no_assignments),
                cmocka_unit_test(test_symlink_replace_and_append),
                cmocka_unit_test(test_name_override),
                cmocka_unit_test(test_globs_and_alternatives),
                cmocka_unit_test(test_quoted_glob_characters),
                cmocka_unit_test(test_empty_alternative),
                cmocka_unit_test(test_missing_values),
                cmocka_unit_test(test_negation_is_exact),
                cmocka_unit_test(test_type_major_minor),
                cmocka_unit_test(test_attr_env),
                cmocka_unit_test(test_ancestors_same_device),
                cmocka_unit_test(test_trace),
                cmocka_unit_test(test_trace_default_deny),
                cmocka_unit_test(test_oci_default),
                cmocka_unit_test(test_many_rules),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
