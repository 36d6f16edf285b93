/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "daemon.h"
#include "model.h"

/* The control socket, RUNTIME/devsieved.sock: JSON lines over SOCK_STREAM
 * (docs/control-protocol.md). Every client is served from the main loop
 * with non-blocking I/O and its own bounded buffers: a request line longer
 * than CONTROL_LINE_MAX or a client that does not read its replies is
 * disconnected; nothing a client sends can block the daemon or make it
 * change anything half-way.
 *
 * Who may do what is decided by SO_PEERCRED: uid 0 may do everything, any
 * other peer that can connect (the socket is 0600, or 0660 for the group
 * given with --socket-group) only what changes nothing (list, show,
 * explain, monitor, status). */

struct control;
struct control_client;

struct control_options {
        gid_t socket_gid;          /* (gid_t) -1: root only (0600) */
        unsigned idle_timeout_sec; /* 0: CONTROL_IDLE_TIMEOUT_SEC */
};

#define CONTROL_IDLE_TIMEOUT_SEC 60U

/* -EADDRINUSE (logged) when a devsieved answers at RUNTIME_DIR/devsieved.sock:
 * checked before anything of RUNTIME_DIR is touched, and again by
 * control_new(). */
int control_check_unused(const char *runtime_dir);
int control_new(struct daemon *d, const struct control_options *o, struct control **ret);
/* Disconnects every client and removes the socket. */
struct control *control_free(struct control *c);
DEFINE_POINTER_CLEANUP(struct control, control_free);

unsigned control_n_clients(const struct control *c);
/* Connections refused for the per-user and overall limits, since start. */
uint64_t control_n_refused(const struct control *c);
unsigned control_n_monitors(const struct control *c);

/* --- Replies (control-commands.c fills them in) ---------------------- */

/* Queues one JSON line for the client (takes a reference on nothing; the
 * caller keeps o). A client whose queue is over its bound is disconnected
 * later, on the main loop. */
void control_client_send(struct control *c, struct control_client *cl, json_t *o);
void control_client_set_monitor(struct control_client *cl, const char *container_name);
/* Most descriptors one reply carries. */
#define CONTROL_REPLY_FDS_MAX 4
/* Hands fd (consumed, closed on every path) to the client with the reply
 * of the request being run; -E2BIG beyond CONTROL_REPLY_FDS_MAX. */
int control_client_add_reply_fd(struct control_client *cl, int fd);

/* Runs one parsed request and returns the reply object (new reference);
 * NULL only on -ENOMEM. */
struct control_request;
json_t *control_run(struct daemon *d, struct control_client *cl, const struct control_request *req);

/* An {"ok": false} reply: error text, errno and diagnostics (may be NULL). */
json_t *control_error_reply(int error, const struct policy_diagnostics *diags, const char *format, ...)
        _printf_(3, 4);

/* --- monitor --------------------------------------------------------- */

/* From dispatch_deltas(): one container's batch of deltas. */
void control_monitor_deltas(struct control *c, struct container *container, const struct delta *deltas,
                            size_t n_deltas);
/* After the model applied one host event and delivered its deltas. */
void control_monitor_event(struct control *c, const struct uevent *ev);
