/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the relay tells a container for each kind of delta, and the exact
 * bytes: the kernel's framing, DEVNAME in the container's view, no SEQNUM
 * unless numbered, nothing of udev's database or the host node's owner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "daemon/uevent-wire.h"
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

/* The frame with its NULs shown as '|'. */
static char *frame(const struct uevent_view *v) {
        char *buf, *shown;
        size_t size;

        assert_int_equal(uevent_view_frame(v, &buf, &size), 0);
        assert_int_equal(buf[size - 1], '\0');
        shown = calloc(1, size + 1);
        assert_non_null(shown);
        for (size_t i = 0; i < size; i++)
                shown[i] = buf[i] ?: '|';
        free(buf);
        return shown;
}

struct fixture {
        struct device device;
        struct visible_device old, new;
        struct uevent *event;
};

static void fixture_init(struct fixture *f, const char *action) {
        *f = (struct fixture){};
        /* What the model keeps: no per-event keys. udevd's database keys
         * are there when the host runs a udevd. */
        f->device.properties = PROPS("DEVPATH=/devices/virtual/block/loop7", "SUBSYSTEM=block", "MAJOR=7",
                                     "MINOR=7", "DEVNAME=/dev/loop7", "DEVTYPE=disk", "DEVLINKS=/dev/disk/by-id/x",
                                     "ID_FS_TYPE=ext4", "TAGS=:systemd:", "DEVMODE=0660");
        f->old.device = f->new.device = &f->device;
        f->old.node = "loop7";
        f->new.node = "disks/mine";
        if (action) {
                char **p = PROPS("SUBSYSTEM=block", "MAJOR=7", "MINOR=7", "DEVNAME=loop7", "DEVTYPE=disk",
                                 "DEVPATH=/devices/virtual/block/loop7", "SEQNUM=4711", "DISKSEQ=12");
                assert_int_equal(strv_env_set(&p, "ACTION", action), 0);
                assert_int_equal(uevent_new(p, &f->event), 0);
        }
}

static void fixture_done(struct fixture *f) {
        strv_free(f->device.properties);
        uevent_free(f->event);
}

static void check_delta(const struct delta *d, size_t n_expected, const char *const *expected) {
        struct uevent_view views[UEVENT_VIEWS_PER_DELTA_MAX];
        size_t n = uevent_view_for_delta(d, views);

        assert_int_equal(n, n_expected);
        for (size_t i = 0; i < n; i++) {
                char *f = frame(&views[i]);
                assert_string_equal(f, expected[i]);
                free(f);
        }
}

static void test_host_event_rewritten(void **state) {
        struct fixture f;

        fixture_init(&f, "add");
        struct delta d = { .kind = DELTA_VISIBLE, .device = &f.device, .new = &f.new, .event = f.event };
        check_delta(&d, 1,
                    (const char *const[]){ "add@/devices/virtual/block/loop7|ACTION=add|SUBSYSTEM=block|MAJOR=7|"
                                           "MINOR=7|DEVTYPE=disk|DEVPATH=/devices/virtual/block/loop7|DISKSEQ=12|"
                                           "DEVNAME=disks/mine|" });
        fixture_done(&f);
}

static void test_change_and_remove_events(void **state) {
        struct fixture f;

        fixture_init(&f, "change");
        struct delta d = { .kind = DELTA_CHANGED, .device = &f.device, .old = &f.old, .new = &f.new,
                           .event = f.event };
        check_delta(&d, 1,
                    (const char *const[]){ "change@/devices/virtual/block/loop7|ACTION=change|SUBSYSTEM=block|"
                                           "MAJOR=7|MINOR=7|DEVTYPE=disk|DEVPATH=/devices/virtual/block/loop7|"
                                           "DISKSEQ=12|DEVNAME=disks/mine|" });
        fixture_done(&f);

        /* A removal names the node the container had. */
        fixture_init(&f, "remove");
        d = (struct delta){ .kind = DELTA_HIDDEN, .device = &f.device, .old = &f.old, .event = f.event };
        check_delta(&d, 1,
                    (const char *const[]){ "remove@/devices/virtual/block/loop7|ACTION=remove|SUBSYSTEM=block|"
                                           "MAJOR=7|MINOR=7|DEVTYPE=disk|DEVPATH=/devices/virtual/block/loop7|"
                                           "DISKSEQ=12|DEVNAME=loop7|" });
        fixture_done(&f);
}

static void test_synthetic_add_and_remove(void **state) {
        static const char *const add =
                "add@/devices/virtual/block/loop7|ACTION=add|DEVPATH=/devices/virtual/block/loop7|SUBSYSTEM=block|"
                "MAJOR=7|MINOR=7|DEVTYPE=disk|DEVNAME=disks/mine|";
        static const char *const remove =
                "remove@/devices/virtual/block/loop7|ACTION=remove|DEVPATH=/devices/virtual/block/loop7|"
                "SUBSYSTEM=block|MAJOR=7|MINOR=7|DEVTYPE=disk|DEVNAME=loop7|";
        struct fixture f;

        /* A reload or override: no event, the device as the model knows it. */
        fixture_init(&f, NULL);
        struct delta d = { .kind = DELTA_VISIBLE, .device = &f.device, .new = &f.new };
        check_delta(&d, 1, (const char *const[]){ add });
        d = (struct delta){ .kind = DELTA_HIDDEN, .device = &f.device, .old = &f.old };
        check_delta(&d, 1, (const char *const[]){ remove });
        fixture_done(&f);

        /* A change that makes the device match is its arrival; one that
         * makes it stop matching, its departure. */
        fixture_init(&f, "change");
        d = (struct delta){ .kind = DELTA_VISIBLE, .device = &f.device, .new = &f.new, .event = f.event };
        check_delta(&d, 1, (const char *const[]){ add });
        d = (struct delta){ .kind = DELTA_HIDDEN, .device = &f.device, .old = &f.old, .event = f.event };
        check_delta(&d, 1, (const char *const[]){ remove });
        fixture_done(&f);
}

static void test_changed_without_event(void **state) {
        struct fixture f;

        fixture_init(&f, NULL);
        /* Only the node's name matters to a listener: the same name, no event. */
        f.old.node = "disks/mine";
        f.old.mode = 0600;
        f.new.mode = 0660;
        struct delta d = { .kind = DELTA_CHANGED, .device = &f.device, .old = &f.old, .new = &f.new };
        check_delta(&d, 0, NULL);

        f.old.node = "loop7";
        check_delta(&d, 2,
                    (const char *const[]){
                            "remove@/devices/virtual/block/loop7|ACTION=remove|DEVPATH=/devices/virtual/block/loop7|"
                            "SUBSYSTEM=block|MAJOR=7|MINOR=7|DEVTYPE=disk|DEVNAME=loop7|",
                            "add@/devices/virtual/block/loop7|ACTION=add|DEVPATH=/devices/virtual/block/loop7|"
                            "SUBSYSTEM=block|MAJOR=7|MINOR=7|DEVTYPE=disk|DEVNAME=disks/mine|",
                    });
        fixture_done(&f);
}

static void test_no_node_no_devname(void **state) {
        struct fixture f;

        /* The device lost its name to another: it has no node in the view. */
        fixture_init(&f, "add");
        f.new.node = NULL;
        struct delta d = { .kind = DELTA_VISIBLE, .device = &f.device, .new = &f.new, .event = f.event };
        check_delta(&d, 1,
                    (const char *const[]){ "add@/devices/virtual/block/loop7|ACTION=add|SUBSYSTEM=block|MAJOR=7|"
                                           "MINOR=7|DEVTYPE=disk|DEVPATH=/devices/virtual/block/loop7|DISKSEQ=12|" });
        fixture_done(&f);
}

static void test_seqnum_and_injected(void **state) {
        char **p = PROPS("ACTION=change", "DEVPATH=/devices/virtual/block/loop7", "SUBSYSTEM=block",
                         "DEVNAME=disks/mine", "SYNTH_UUID=abc", "SYNTH_ARG_FOO=bar", "SEQNUM=99");
        struct uevent_view v = { .action = "change", .properties = p, .seqnum = 5 };
        struct uevent *parsed;
        char *f, *buf;
        size_t size;

        /* An injected event is in the view already: DEVNAME stays. */
        f = frame(&v);
        assert_string_equal(f, "change@/devices/virtual/block/loop7|ACTION=change|DEVPATH=/devices/virtual/block/loop7|"
                               "SUBSYSTEM=block|DEVNAME=disks/mine|SYNTH_UUID=abc|SYNTH_ARG_FOO=bar|SEQNUM=5|");
        free(f);

        /* What the kernel's parser (and ours) reads back. */
        assert_int_equal(uevent_view_frame(&v, &buf, &size), 0);
        assert_int_equal(uevent_parse_wire(buf, size, &parsed), 0);
        assert_int_equal(parsed->action, UEVENT_CHANGE);
        assert_string_equal(parsed->devpath, "/devices/virtual/block/loop7");
        assert_int_equal(parsed->seqnum, 5);
        uevent_free(parsed);
        free(buf);
        strv_free(p);
}

static void test_invalid(void **state) {
        char **p = PROPS("ACTION=add", "SUBSYSTEM=block");
        struct uevent_view v = { .action = "add", .properties = p };
        char *buf;
        size_t size;

        assert_int_equal(uevent_view_frame(&v, &buf, &size), -EINVAL);
        strv_free(p);
}

static void test_host_only_keys(void **state) {
        assert_true(uevent_key_is_host_only("DEVLINKS=/dev/disk/by-id/x"));
        assert_true(uevent_key_is_host_only("ID_SERIAL=abc"));
        assert_true(uevent_key_is_host_only("TAGS=:seat:"));
        assert_true(uevent_key_is_host_only("CURRENT_TAGS=:seat:"));
        assert_true(uevent_key_is_host_only("USEC_INITIALIZED=1"));
        assert_true(uevent_key_is_host_only(".PART_SUFFIX="));
        assert_true(uevent_key_is_host_only("DEVUID=0"));
        assert_false(uevent_key_is_host_only("DEVNAME=loop0"));
        assert_false(uevent_key_is_host_only("MAJOR=7"));
        assert_false(uevent_key_is_host_only("DISKSEQ=1"));
        assert_false(uevent_key_is_host_only("IDVENDOR=1"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_host_event_rewritten), cmocka_unit_test(test_change_and_remove_events),
                cmocka_unit_test(test_synthetic_add_and_remove), cmocka_unit_test(test_changed_without_event),
                cmocka_unit_test(test_no_node_no_devname), cmocka_unit_test(test_seqnum_and_injected),
                cmocka_unit_test(test_invalid), cmocka_unit_test(test_host_only_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
