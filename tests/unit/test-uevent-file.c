/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a container may write into its uevent files, and what it reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fs/uevent-file.h"
#include "strv.h"

#define UUID "7b3f1d1e-2a4c-4f4e-9a57-0d3c5f1c2b11"

static int parse(const char *text, struct synth_request *r) {
        return synth_request_parse(text, strlen(text), r);
}

static void test_parse_actions(void **state) {
        static const char *const ok[] = { "add", "change\n", "remove", "online", "offline", "move", "bind", "unbind" };
        struct synth_request r;

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                assert_int_equal(parse(ok[i], &r), 0);
                assert_null(r.uuid);
                assert_null(r.args);
                synth_request_done(&r);
        }
}

static void test_parse_uuid_and_args(void **state) {
        struct synth_request r;

        assert_int_equal(parse("change " UUID " A=1 B_2=x\n", &r), 0);
        assert_int_equal(r.action, UEVENT_CHANGE);
        assert_string_equal(r.uuid, UUID);
        assert_int_equal(strv_length(r.args), 2);
        assert_string_equal(r.args[1], "B_2=x");
        synth_request_done(&r);
}

static void test_parse_rejects(void **state) {
        static const char *const bad[] = {
                "", "\n", "bogus", "Add", "add  " UUID, " add", "add ", "add\tx", "change notauuid",
                "change " UUID "x", "change " UUID " =1", "change " UUID " A=", "change " UUID " A", "change " UUID " A-B=1",
                "change\n\n",
        };
        struct synth_request r;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(parse(bad[i], &r), -EINVAL);
        /* A NUL inside what was written is not text. */
        assert_int_equal(synth_request_parse("add\0x", 5, &r), -EINVAL);
}

static void test_parse_limits(void **state) {
        _cleanup_free_ char *many = NULL, *too_many = NULL;
        struct synth_request r;
        size_t n = 0;
        FILE *f = open_memstream(&many, &n);

        fputs("add " UUID, f);
        for (int i = 0; i < 32; i++)
                fprintf(f, " K%d=v", i);
        fclose(f);
        assert_int_equal(parse(many, &r), 0);
        synth_request_done(&r);
        assert_int_not_equal(asprintf(&too_many, "%s K=v", many), -1);
        assert_int_equal(parse(too_many, &r), -EINVAL);
}

static void test_rewrite_devname(void **state) {
        _cleanup_free_ char *out = NULL, *none = NULL;

        assert_int_equal(uevent_file_rewrite("MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk\n", "xvdb", &out), 0);
        assert_string_equal(out, "MAJOR=7\nMINOR=0\nDEVNAME=xvdb\nDEVTYPE=disk\n");
        /* A device the container has no node for says nothing of one. */
        assert_int_equal(uevent_file_rewrite("MAJOR=7\nDEVNAME=loop0\n", NULL, &none), 0);
        assert_string_equal(none, "MAJOR=7\n");
}

static void test_event_properties(void **state) {
        _cleanup_strv_free_ char **props = NULL;
        struct synth_request r;

        assert_int_equal(parse("add " UUID " FOO=bar", &r), 0);
        assert_int_equal(synth_event_properties(&r, "/devices/virtual/block/loop0", "block",
                                                "MAJOR=7\nDEVNAME=xvdb\nSEQNUM=5\nACTION=remove\nDEVPATH=/x\n", &props),
                         0);
        synth_request_done(&r);
        assert_string_equal(props[0], "ACTION=add");
        assert_string_equal(strv_env_get(props, "DEVPATH"), "/devices/virtual/block/loop0");
        assert_string_equal(strv_env_get(props, "SUBSYSTEM"), "block");
        assert_string_equal(strv_env_get(props, "DEVNAME"), "xvdb");
        assert_string_equal(strv_env_get(props, "SYNTH_UUID"), UUID);
        assert_string_equal(strv_env_get(props, "SYNTH_ARG_FOO"), "bar");
        /* What the file says of per-event keys cannot forge the event's. */
        assert_null(strv_env_get(props, "SEQNUM"));
        assert_int_equal(strv_length(props), 7);
}

static void test_event_properties_no_uuid(void **state) {
        _cleanup_strv_free_ char **props = NULL;
        struct synth_request r;

        assert_int_equal(parse("change", &r), 0);
        assert_int_equal(synth_event_properties(&r, "/devices/x", NULL, "", &props), 0);
        synth_request_done(&r);
        assert_string_equal(strv_env_get(props, "SYNTH_UUID"), "0");
        assert_null(strv_env_get(props, "SUBSYSTEM"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_actions),      cmocka_unit_test(test_parse_uuid_and_args),
                cmocka_unit_test(test_parse_rejects),      cmocka_unit_test(test_parse_limits),
                cmocka_unit_test(test_rewrite_devname),    cmocka_unit_test(test_event_properties),
                cmocka_unit_test(test_event_properties_no_uuid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
