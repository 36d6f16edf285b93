/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "macro.h"

/* devsieve's side of the control socket (docs/control-protocol.md): one
 * JSON request per line, one JSON reply per line. */

/* Most descriptors kept from the daemon's replies (the "views" reply has
 * three); more in one message are closed by the kernel. */
#define CLIENT_FDS_MAX 4

struct client {
        int fd;
        char *buf; /* bytes received beyond the last line returned */
        size_t size, allocated;
        int fds[CLIENT_FDS_MAX]; /* received with the replies (SCM_RIGHTS), not yet taken */
        size_t n_fds;
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
/* The descriptors received so far, in order (the caller closes them);
 * returns how many. */
size_t client_take_fds(struct client *c, int *fds, size_t max);
