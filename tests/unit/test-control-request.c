/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "daemon/control-request.h"

struct parsed {
        struct control_request req;
        json_t *json;
        char *error;
        int r;
};

static void parse(const char *line, struct parsed *p) {
        json_decref(p->json);
        free(p->error);
        p->r = control_request_parse(line, strlen(line), &p->req, &p->json, &p->error);
}

static void done(struct parsed *p) {
        json_decref(p->json);
        free(p->error);
}

/* Parses line, expects -EINVAL and an error that contains needle. */
static void refused(const char *line, const char *needle) {
        struct parsed p = {};

        parse(line, &p);
        if (p.r != -EINVAL || !p.error || !strstr(p.error, needle))
                fail_msg("'%s': r=%d error='%s', expected one containing '%s'", line, p.r, strempty(p.error), needle);
        done(&p);
}

static void test_create(void **state) {
        struct parsed p = {};

        parse("{\"command\":\"create\",\"name\":\"web-1\",\"policy\":\"/etc/p.rules\",\"pid\":42,"
              "\"relay\":\"socket\"}",
              &p);
        assert_int_equal(p.r, 0);
        assert_null(p.error);
        assert_int_equal(p.req.command, CONTROL_CREATE);
        assert_string_equal(p.req.name, "web-1");
        assert_string_equal(p.req.policy, "/etc/p.rules");
        assert_int_equal(p.req.pid, 42);
        assert_int_equal(p.req.relay, CONTROL_RELAY_SOCKET);
        assert_true(p.req.device_cgroup);
        assert_true(control_command_mutates(p.req.command));

        /* `devsieve create --no-device-cgroup` */
        parse("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"p\",\"device_cgroup\":false}", &p);
        assert_int_equal(p.r, 0);
        assert_false(p.req.device_cgroup);
        assert_false(p.req.detached);

        /* `devsieve create --detached`, oci-hook's */
        parse("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"p\",\"detached\":true}", &p);
        assert_int_equal(p.r, 0);
        assert_true(p.req.detached);

        /* pid and relay are optional; null counts as absent. */
        parse("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"oci-default\",\"pid\":null}", &p);
        assert_int_equal(p.r, 0);
        assert_int_equal(p.req.pid, 0);
        assert_int_equal(p.req.relay, CONTROL_RELAY_AUTO);
        assert_true(p.req.device_cgroup);
        done(&p);
}

static void test_create_invalid(void **state) {
        refused("{\"command\":\"create\",\"policy\":\"p\"}", "missing \"name\"");
        refused("{\"command\":\"create\",\"name\":\"a\"}", "missing \"policy\"");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":7}", "\"policy\" must be a string");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"\"}", "\"policy\" is empty");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"rel/p.rules\"}", "absolute path");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"p\",\"pid\":\"1\"}", "\"pid\" must be an integer");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"p\",\"pid\":0}", "between 1 and");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"p\",\"pid\":4294967296}", "between 1 and");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"p\",\"pid\":1.0}", "\"pid\" must be an integer");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"p\",\"relay\":\"udp\"}", "\"relay\" must be");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"p\",\"device_cgroup\":\"no\"}",
                "\"device_cgroup\" must be true or false");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"p\",\"device\":\"/dev/null\"}",
                "unknown key \"device\"");
        refused("{\"command\":\"create\",\"name\":\"a\",\"policy\":\"p\",\"detached\":1}",
                "\"detached\" must be true or false");
}

/* views hands out mount trees of a container's devices: root only. */
static void test_views(void **state) {
        struct parsed p = {};

        parse("{\"command\":\"views\",\"name\":\"web-1\"}", &p);
        assert_int_equal(p.r, 0);
        assert_int_equal(p.req.command, CONTROL_VIEWS);
        assert_string_equal(p.req.name, "web-1");
        assert_true(control_command_mutates(p.req.command));
        assert_string_equal(control_command_to_string(CONTROL_VIEWS), "views");
        done(&p);
        refused("{\"command\":\"views\"}", "missing \"name\"");
        refused("{\"command\":\"views\",\"name\":\"a\",\"pid\":1}", "unknown key \"pid\"");
}

static void test_names(void **state) {
        assert_true(container_name_is_valid("a"));
        assert_true(container_name_is_valid("web_1.prod-2"));
        assert_true(container_name_is_valid("0123456789012345678901234567890123456789012345678901234567890123"));
        assert_false(container_name_is_valid(""));
        assert_false(container_name_is_valid("."));
        assert_false(container_name_is_valid(".."));
        assert_false(container_name_is_valid(".hidden"));
        assert_false(container_name_is_valid("-x"));
        assert_false(container_name_is_valid("a/b"));
        assert_false(container_name_is_valid("a b"));
        assert_false(container_name_is_valid("ä"));
        assert_false(container_name_is_valid("01234567890123456789012345678901234567890123456789012345678901234"));
        refused("{\"command\":\"destroy\",\"name\":\"../x\"}", "invalid container name");
        refused("{\"command\":\"destroy\",\"name\":\"a\\u0000b\"}", "malformed JSON");
}

static void test_malformed(void **state) {
        refused("", "malformed JSON");
        refused("{", "malformed JSON");
        refused("{\"command\":\"list\"} {}", "malformed JSON");
        refused("{\"command\":\"list\",\"command\":\"status\"}", "malformed JSON");
        refused("[]", "must be a JSON object");
        refused("\"list\"", "must be a JSON object");
        refused("{}", "missing \"command\"");
        refused("{\"command\":1}", "\"command\" must be a string");
        refused("{\"command\":\"LIST\"}", "unknown command \"LIST\"");
        refused("{\"command\":\"list\",\"name\":\"a\"}", "unknown key \"name\"");
        refused("\xff\xfe", "malformed JSON");
}

static void test_devices(void **state) {
        struct parsed p = {};

        parse("{\"command\":\"explain\",\"name\":\"c\",\"device\":\"b 7:3\"}", &p);
        assert_int_equal(p.r, 0);
        assert_int_equal(p.req.device_spec.kind, DEVICE_SPEC_DEVNUM);
        assert_int_equal(p.req.device_spec.minor, 3);
        assert_false(control_command_mutates(p.req.command));

        parse("{\"command\":\"add\",\"name\":\"c\",\"device\":\"/dev/loop3\",\"node\":\"disk/a\",\"mode\":\"0640\","
              "\"uid\":0,\"gid\":6}",
              &p);
        assert_int_equal(p.r, 0);
        assert_int_equal(p.req.device_spec.kind, DEVICE_SPEC_NODE);
        assert_string_equal(p.req.node_name, "disk/a");
        assert_true(p.req.has_mode);
        assert_int_equal(p.req.mode, 0640);
        assert_true(p.req.has_uid);
        assert_true(p.req.has_gid);
        assert_int_equal(p.req.gid, 6);

        parse("{\"command\":\"add\",\"name\":\"c\",\"device\":\"/sys/class/block/loop3\"}", &p);
        assert_int_equal(p.r, 0);
        assert_false(p.req.has_mode);
        assert_false(p.req.has_uid);
        assert_null(p.req.node_name);

        parse("{\"command\":\"remove\",\"name\":\"c\",\"device\":\"c 1:3\",\"reset\":true}", &p);
        assert_int_equal(p.r, 0);
        assert_true(p.req.reset);
        done(&p);

        refused("{\"command\":\"explain\",\"name\":\"c\"}", "missing \"device\"");
        refused("{\"command\":\"explain\",\"name\":\"c\",\"device\":\"loop0\"}", "invalid device");
        refused("{\"command\":\"explain\",\"name\":\"c\",\"device\":\"b 4096:0\"}", "out of range");
        refused("{\"command\":\"add\",\"name\":\"c\",\"device\":\"/dev/x\",\"mode\":\"660a\"}", "octal");
        refused("{\"command\":\"add\",\"name\":\"c\",\"device\":\"/dev/x\",\"mode\":\"1777\"}", "beyond 0777");
        refused("{\"command\":\"add\",\"name\":\"c\",\"device\":\"/dev/x\",\"mode\":660}", "must be a string");
        refused("{\"command\":\"add\",\"name\":\"c\",\"device\":\"/dev/x\",\"node\":\"/abs\"}", "relative path");
        refused("{\"command\":\"add\",\"name\":\"c\",\"device\":\"/dev/x\",\"node\":\"a/../b\"}", "'..'");
        refused("{\"command\":\"add\",\"name\":\"c\",\"device\":\"/dev/x\",\"node\":\"a//b\"}", "empty");
        refused("{\"command\":\"add\",\"name\":\"c\",\"device\":\"/dev/x\",\"uid\":-1}", "between 0 and");
        refused("{\"command\":\"add\",\"name\":\"c\",\"device\":\"/dev/x\",\"gid\":4294967295}", "between 0 and");
        refused("{\"command\":\"remove\",\"name\":\"c\",\"device\":\"/dev/x\",\"reset\":1}", "true or false");
        refused("{\"command\":\"remove\",\"name\":\"c\",\"device\":\"/dev/x\",\"mode\":\"0600\"}", "unknown key");
}

static void test_optional_names(void **state) {
        struct parsed p = {};

        parse("{\"command\":\"reload\"}", &p);
        assert_int_equal(p.r, 0);
        assert_null(p.req.name);
        parse("{\"command\":\"monitor\",\"name\":\"c\"}", &p);
        assert_int_equal(p.r, 0);
        assert_string_equal(p.req.name, "c");
        parse("{\"command\":\"attach\",\"name\":\"c\"}", &p);
        assert_int_equal(p.r, -EINVAL);
        assert_non_null(strstr(p.error, "missing \"pid\""));
        done(&p);
}

static void test_commands(void **state) {
        for (int c = 0; c < _CONTROL_COMMAND_MAX; c++)
                assert_int_equal(control_command_from_string(control_command_to_string(c)), c);
        assert_int_equal(control_command_from_string("nope"), -EINVAL);
        assert_false(control_command_mutates(CONTROL_LIST));
        assert_false(control_command_mutates(CONTROL_SHOW));
        assert_false(control_command_mutates(CONTROL_MONITOR));
        assert_false(control_command_mutates(CONTROL_STATUS));
        assert_true(control_command_mutates(CONTROL_ADD));
        assert_true(control_command_mutates(CONTROL_REMOVE));
        assert_true(control_command_mutates(CONTROL_RELOAD));
        assert_true(control_command_mutates(CONTROL_DESTROY));
        assert_true(control_command_mutates(CONTROL_ATTACH));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_create),  cmocka_unit_test(test_create_invalid),
                cmocka_unit_test(test_views),
                cmocka_unit_test(test_names),   cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_devices), cmocka_unit_test(test_optional_names),
                cmocka_unit_test(test_commands),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
