/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdint.h>

#include "control-request.h"

static const char *const command_names[_CONTROL_COMMAND_MAX] = {
        [CONTROL_CREATE] = "create", [CONTROL_ATTACH] = "attach",   [CONTROL_DESTROY] = "destroy",
        [CONTROL_LIST] = "list",     [CONTROL_SHOW] = "show",       [CONTROL_EXPLAIN] = "explain",
        [CONTROL_ADD] = "add",       [CONTROL_REMOVE] = "remove",   [CONTROL_RELOAD] = "reload",
        [CONTROL_MONITOR] = "monitor", [CONTROL_STATUS] = "status", [CONTROL_UPGRADE] = "upgrade",
        [CONTROL_VIEWS] = "views",
};

/* The keys each command takes besides "command"; NULL-terminated. */
static const char *const *command_keys(enum control_command c) {
        static const char *const create[] = { "name", "policy", "pid", "relay", "device_cgroup", "detached", NULL };
        static const char *const attach[] = { "name", "pid", NULL };
        static const char *const name_only[] = { "name", NULL };
        static const char *const none[] = { NULL };
        static const char *const device[] = { "name", "device", NULL };
        static const char *const remove[] = { "name", "device", "reset", NULL };
        static const char *const add[] = { "name", "device", "node", "mode", "uid", "gid", NULL };

        switch (c) {
        case CONTROL_CREATE:
                return create;
        case CONTROL_ATTACH:
                return attach;
        case CONTROL_DESTROY:
        case CONTROL_SHOW:
        case CONTROL_RELOAD:
        case CONTROL_MONITOR:
        case CONTROL_VIEWS:
                return name_only;
        case CONTROL_EXPLAIN:
                return device;
        case CONTROL_REMOVE:
                return remove;
        case CONTROL_ADD:
                return add;
        case CONTROL_LIST:
        case CONTROL_STATUS:
        case CONTROL_UPGRADE:
        default:
                return none;
        }
}

const char *control_command_to_string(enum control_command c) {
        return c < _CONTROL_COMMAND_MAX ? command_names[c] : NULL;
}

int control_command_from_string(const char *s) {
        for (size_t i = 0; i < _CONTROL_COMMAND_MAX; i++)
                if (streq(command_names[i], s))
                        return (int) i;
        return -EINVAL;
}

bool control_command_mutates(enum control_command c) {
        switch (c) {
        case CONTROL_LIST:
        case CONTROL_SHOW:
        case CONTROL_EXPLAIN:
        case CONTROL_MONITOR:
        case CONTROL_STATUS:
                return false;
        default:
                return true;
        }
}

const char *control_relay_to_string(enum control_relay r) {
        static const char *const names[] = { "auto", "netlink", "socket", "none" };
        return r <= CONTROL_RELAY_NONE ? names[r] : NULL;
}

_printf_(2, 3) static int fail(char **ret_error, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(ret_error, format, ap);
        va_end(ap);
        if (r < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

/* Every key must be one the command takes. */
static int check_keys(json_t *o, enum control_command c, char **ret_error) {
        const char *key;
        json_t *v;

        json_object_foreach(o, key, v) {
                bool known = streq(key, "command");

                for (const char *const *k = command_keys(c); !known && *k; k++)
                        known = streq(key, *k);
                if (!known)
                        return fail(ret_error, "%s: unknown key \"%s\"", command_names[c], key);
        }
        return 0;
}

/* A string member: required or optional (absent and null both count as
 * absent). */
static int get_string(json_t *o, const char *command, const char *key, bool required, const char **ret,
                      char **ret_error) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v)) {
                if (required)
                        return fail(ret_error, "%s: missing \"%s\"", command, key);
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return fail(ret_error, "%s: \"%s\" must be a string", command, key);
        /* Names and paths go to C strings: an embedded NUL would cut them. */
        if (strlen(json_string_value(v)) != json_string_length(v))
                return fail(ret_error, "%s: \"%s\" contains a NUL character", command, key);
        if (json_string_length(v) == 0)
                return fail(ret_error, "%s: \"%s\" is empty", command, key);
        *ret = json_string_value(v);
        return 0;
}

static int get_integer(json_t *o, const char *command, const char *key, json_int_t min, json_int_t max,
                       bool *ret_has, json_int_t *ret, char **ret_error) {
        json_t *v = json_object_get(o, key);

        *ret_has = false;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_integer(v))
                return fail(ret_error, "%s: \"%s\" must be an integer", command, key);
        if (json_integer_value(v) < min || json_integer_value(v) > max)
                return fail(ret_error, "%s: \"%s\" must be between %" JSON_INTEGER_FORMAT " and %" JSON_INTEGER_FORMAT,
                            command, key, min, max);
        *ret_has = true;
        *ret = json_integer_value(v);
        return 0;
}

static int get_bool(json_t *o, const char *command, const char *key, bool *ret, char **ret_error) {
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v)) {
                *ret = false;
                return 0;
        }
        if (!json_is_boolean(v))
                return fail(ret_error, "%s: \"%s\" must be true or false", command, key);
        *ret = json_is_true(v);
        return 0;
}

static int get_name(json_t *o, const char *command, bool required, const char **ret, char **ret_error) {
        int r = get_string(o, command, "name", required, ret, ret_error);

        if (r < 0)
                return r;
        if (*ret && !container_name_is_valid(*ret))
                return fail(ret_error,
                            "%s: invalid container name \"%.64s\": 1 to %u characters of A-Z a-z 0-9 _ . -, "
                            "not starting with '.' or '-'",
                            command, *ret, CONTAINER_NAME_MAX);
        return 0;
}

static int get_pid(json_t *o, const char *command, bool required, pid_t *ret, char **ret_error) {
        json_int_t v;
        bool has;
        int r;

        r = get_integer(o, command, "pid", 1, INT32_MAX, &has, &v, ret_error);
        if (r < 0)
                return r;
        if (!has && required)
                return fail(ret_error, "%s: missing \"pid\"", command);
        *ret = has ? (pid_t) v : 0;
        return 0;
}

static int get_relay(json_t *o, const char *command, enum control_relay *ret, char **ret_error) {
        const char *s;
        int r;

        r = get_string(o, command, "relay", false, &s, ret_error);
        if (r < 0)
                return r;
        if (!s || streq(s, "auto"))
                *ret = CONTROL_RELAY_AUTO;
        else if (streq(s, "netlink"))
                *ret = CONTROL_RELAY_NETLINK;
        else if (streq(s, "socket"))
                *ret = CONTROL_RELAY_SOCKET;
        else if (streq(s, "none"))
                *ret = CONTROL_RELAY_NONE;
        else
                return fail(ret_error,
                            "%s: \"relay\" must be \"netlink\", \"socket\", \"none\" or \"auto\", not \"%.32s\"",
                            command, s);
        return 0;
}

static int get_device(json_t *o, const char *command, struct control_request *req, char **ret_error) {
        int r = get_string(o, command, "device", true, &req->device, ret_error);

        if (r < 0)
                return r;
        r = device_spec_parse(req->device, &req->device_spec);
        if (r == -ERANGE)
                return fail(ret_error, "%s: device number out of range: \"%.64s\"", command, req->device);
        if (r < 0)
                return fail(ret_error,
                            "%s: invalid device \"%.64s\": expected /dev/NODE, /sys/PATH, 'b MAJOR:MINOR' or "
                            "'c MAJOR:MINOR'",
                            command, req->device);
        return 0;
}

/* "0660": permission bits in octal, as MODE= in a policy. */
static int get_mode(json_t *o, const char *command, struct control_request *req, char **ret_error) {
        const char *s;
        unsigned long v;
        char *end;
        int r;

        r = get_string(o, command, "mode", false, &s, ret_error);
        if (r < 0 || !s)
                return r;
        if (strspn(s, "01234567") != strlen(s) || strlen(s) > 4)
                return fail(ret_error, "%s: \"mode\" must be octal permission bits such as \"0660\", not \"%.32s\"",
                            command, s);
        v = strtoul(s, &end, 8);
        if (v > 0777)
                return fail(ret_error, "%s: \"mode\" %s has bits beyond 0777", command, s);
        req->has_mode = true;
        req->mode = (mode_t) v;
        return 0;
}

/* A node name relative to /dev, as NAME= in a policy. */
static int get_node_name(json_t *o, const char *command, struct control_request *req, char **ret_error) {
        const char *s, *p;
        int r;

        r = get_string(o, command, "node", false, &s, ret_error);
        if (r < 0 || !s)
                return r;
        if (s[0] == '/' || strlen(s) > 255)
                return fail(ret_error, "%s: \"node\" must be a relative path below /dev, not \"%.64s\"", command, s);
        for (p = s; *p; p += strcspn(p, "/"), p += *p == '/') {
                size_t n = strcspn(p, "/");
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return fail(ret_error, "%s: \"node\" \"%.64s\" has an empty, '.' or '..' component", command,
                                    s);
        }
        req->node_name = s;
        return 0;
}

static int get_ids(json_t *o, const char *command, struct control_request *req, char **ret_error) {
        json_int_t v;
        int r;

        /* (uid_t) -1 means "unchanged" to the kernel: never an owner. */
        r = get_integer(o, command, "uid", 0, UINT32_MAX - 1, &req->has_uid, &v, ret_error);
        if (r < 0)
                return r;
        req->uid = req->has_uid ? (uid_t) v : 0;
        r = get_integer(o, command, "gid", 0, UINT32_MAX - 1, &req->has_gid, &v, ret_error);
        if (r < 0)
                return r;
        req->gid = req->has_gid ? (gid_t) v : 0;
        return 0;
}

static int parse_arguments(json_t *o, struct control_request *req, char **ret_error) {
        const char *command = command_names[req->command];
        int r;

        r = check_keys(o, req->command, ret_error);
        if (r < 0)
                return r;

        switch (req->command) {
        case CONTROL_CREATE:
                r = get_name(o, command, true, &req->name, ret_error);
                if (r >= 0)
                        r = get_string(o, command, "policy", true, &req->policy, ret_error);
                /* A relative path would resolve against the daemon's
                 * working directory, not the client's. */
                if (r >= 0 && strchr(req->policy, '/') && req->policy[0] != '/')
                        r = fail(ret_error, "%s: \"policy\" must be an absolute path, a built-in name or a name in "
                                            "the policy directory, not \"%.64s\"", command, req->policy);
                if (r >= 0)
                        r = get_pid(o, command, false, &req->pid, ret_error);
                if (r >= 0)
                        r = get_relay(o, command, &req->relay, ret_error);
                /* Absent or null: devsieved keeps it, as for every container. */
                req->device_cgroup = true;
                if (r >= 0 && !json_is_null(json_object_get(o, "device_cgroup")) &&
                    json_object_get(o, "device_cgroup"))
                        r = get_bool(o, command, "device_cgroup", &req->device_cgroup, ret_error);
                if (r >= 0)
                        r = get_bool(o, command, "detached", &req->detached, ret_error);
                return r;
        case CONTROL_ATTACH:
                r = get_name(o, command, true, &req->name, ret_error);
                return r < 0 ? r : get_pid(o, command, true, &req->pid, ret_error);
        case CONTROL_DESTROY:
        case CONTROL_SHOW:
        case CONTROL_VIEWS:
                return get_name(o, command, true, &req->name, ret_error);
        case CONTROL_RELOAD:
        case CONTROL_MONITOR:
                return get_name(o, command, false, &req->name, ret_error);
        case CONTROL_EXPLAIN:
                r = get_name(o, command, true, &req->name, ret_error);
                return r < 0 ? r : get_device(o, command, req, ret_error);
        case CONTROL_REMOVE:
                r = get_name(o, command, true, &req->name, ret_error);
                if (r >= 0)
                        r = get_device(o, command, req, ret_error);
                if (r >= 0)
                        r = get_bool(o, command, "reset", &req->reset, ret_error);
                return r;
        case CONTROL_ADD:
                r = get_name(o, command, true, &req->name, ret_error);
                if (r >= 0)
                        r = get_device(o, command, req, ret_error);
                if (r >= 0)
                        r = get_node_name(o, command, req, ret_error);
                if (r >= 0)
                        r = get_mode(o, command, req, ret_error);
                if (r >= 0)
                        r = get_ids(o, command, req, ret_error);
                return r;
        case CONTROL_LIST:
        case CONTROL_STATUS:
        default:
                return 0;
        }
}

int control_request_parse(const char *line, size_t size, struct control_request *ret, json_t **ret_json,
                          char **ret_error) {
        json_t *o, *command;
        json_error_t error;
        int c;

        *ret = (struct control_request){};
        *ret_error = NULL;
        /* DISABLE_EOF_CHECK off: trailing garbage after the object is an
         * error; REJECT_DUPLICATES: {"name":"a","name":"b"} is ambiguous;
         * DECODE_ANY: "not an object" says more than a parse error. */
        o = json_loadb(line, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error);
        *ret_json = o;
        if (!o)
                return fail(ret_error, "malformed JSON at column %d: %s", error.column, error.text);
        if (!json_is_object(o))
                return fail(ret_error, "a request must be a JSON object");
        command = json_object_get(o, "command");
        if (!command)
                return fail(ret_error, "missing \"command\"");
        if (!json_is_string(command))
                return fail(ret_error, "\"command\" must be a string");
        c = control_command_from_string(json_string_value(command));
        if (c < 0)
                return fail(ret_error, "unknown command \"%.32s\"", json_string_value(command));
        ret->command = (enum control_command) c;
        return parse_arguments(o, ret, ret_error);
}
