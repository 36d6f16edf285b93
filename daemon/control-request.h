/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "container-name.h"
#include "device-spec.h"
#include "macro.h"

/* One control request, parsed and validated before anything is touched:
 * a request that fails here changes nothing. The wire format is one JSON
 * object per line (docs/control-protocol.md); this file does no I/O and
 * knows nothing of the daemon, so that unit tests can feed it anything. */

/* Longest request line the daemon reads, newline included. */
#define CONTROL_LINE_MAX (64U * 1024U)

enum control_command {
        CONTROL_CREATE,
        CONTROL_ATTACH,
        CONTROL_DESTROY,
        CONTROL_LIST,
        CONTROL_SHOW,
        CONTROL_EXPLAIN,
        CONTROL_ADD,
        CONTROL_REMOVE,
        CONTROL_RELOAD,
        CONTROL_MONITOR,
        CONTROL_STATUS,
        CONTROL_UPGRADE,
        CONTROL_VIEWS,
        _CONTROL_COMMAND_MAX,
};

enum control_relay {
        CONTROL_RELAY_AUTO,
        CONTROL_RELAY_NETLINK,
        CONTROL_RELAY_SOCKET,
        CONTROL_RELAY_NONE,
};

struct control_request {
        enum control_command command;
        /* Borrowed from the parsed JSON: valid while it is. */
        const char *name;   /* NULL when optional and absent (reload, monitor) */
        const char *policy; /* create */
        pid_t pid;          /* create (0: none), attach */
        enum control_relay relay;
        bool device_cgroup; /* create: devsieved keeps the device cgroup (default true) */
        bool detached;      /* create: the views are handed out by "views", not mounted in the host */
        const char *device; /* explain, add, remove: as the user wrote it */
        struct device_spec device_spec;
        /* add */
        const char *node_name; /* NULL: the policy's or the kernel's */
        bool has_mode, has_uid, has_gid;
        mode_t mode;
        uid_t uid; /* container ids */
        gid_t gid;
        /* remove: drop the device's override (back to the policy) instead
         * of hiding it */
        bool reset;
};

const char *control_command_to_string(enum control_command c);
int control_command_from_string(const char *s);
/* Whether the command changes anything: those need a root peer. */
bool control_command_mutates(enum control_command c);
const char *control_relay_to_string(enum control_relay r);

/* Parses one request line (without the newline) into *ret, which borrows
 * strings from the JSON left in *ret_json (the caller decrefs it; NULL when
 * the line is not JSON). On failure returns -EINVAL (or -ENOMEM) and an
 * allocated message for the error reply in *ret_error, naming the key at
 * fault. Unknown keys are errors: a request is never half understood. */
int control_request_parse(const char *line, size_t size, struct control_request *ret, json_t **ret_json,
                          char **ret_error);
