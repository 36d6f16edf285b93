/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "macro.h"

/* devsieve's side of the control socket (docs/control-protocol.md): one
 * JSON request per line, one JSON reply per line. */

struct client {
        int fd;
        char *buf; /* bytes received beyond the last line returned */
        size_t size, allocated;
};

/* How long a reply may take before the daemon counts as unreachable. */
#define CLIENT_TIMEOUT_SEC 60

/* Connects to RUNTIME_DIR/devsieved.sock; logs nothing. Returns a
 * negative errno: -ENOENT or -ECONNREFUSED when no daemon listens. */
int client_open(const char *runtime_dir, struct client *ret);
/* Connects to RUNTIME_DIR/devsieved.sock. Errors are logged, naming the
 * socket and what to do; returns a negative errno. */
int client_connect(const char *runtime_dir, struct client *ret);
void client_done(struct client *c);

/* Sends one request. */
int client_send(struct client *c, json_t *request);
/* Receives one reply or monitor line; timeout_sec 0 waits forever.
 * Returns 1 and a new reference, 0 at EOF, or a negative errno (-ETIMEDOUT,
 * -EBADMSG for a line that is not a JSON object), logged. */
int client_receive(struct client *c, unsigned timeout_sec, json_t **ret);
