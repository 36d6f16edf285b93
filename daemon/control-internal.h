/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by control.c, control-commands.c and control-monitor.c only. */

#include <stdbool.h>
#include <sys/types.h>

#include "control.h"

/* A client whose unread replies (or monitor lines) exceed this is
 * disconnected. */
#define CONTROL_OUTPUT_MAX (4U * 1024U * 1024U)
/* Connections of users other than root: in all, and of any one uid. Root
 * is never refused: nobody else can lock it out. */
#define CONTROL_CLIENTS_MAX 256U
#define CONTROL_CLIENTS_PER_UID 16U
/* Refusals are logged at most this often, with their count. */
#define CONTROL_REFUSAL_LOG_USEC (10U * 1000U * 1000U)

struct control_client {
        struct control *control;
        struct io_watch watch;
        uid_t uid;
        pid_t pid;
        uint32_t events; /* what epoll waits for now */
        uint64_t active_usec; /* when it last sent or read something (CLOCK_MONOTONIC) */

        char *in; /* CONTROL_LINE_MAX bytes */
        size_t in_size;
        char *out;
        size_t out_size, out_offset, out_allocated;

        /* Descriptors the request being run hands to the client: they go
         * with the first byte of its reply (SCM_RIGHTS), then are closed. */
        int reply_fds[CONTROL_REPLY_FDS_MAX];
        size_t n_reply_fds;

        bool monitor;       /* after "monitor": receives events, sends nothing more */
        char *monitor_name; /* NULL: every container */
        bool closing;       /* EOF or a fatal request error: close once the replies are out */
        bool broken;        /* close now */

        struct control_client *prev, *next;
};

struct control {
        struct daemon *d;
        struct io_watch listen;
        char *path;
        struct control_client *clients;
        unsigned n_clients, n_monitors;
        /* Clients that neither send nor read for idle_usec are disconnected
         * (monitors excepted); the timer checks every idle_usec / 2. */
        uint64_t idle_usec;
        struct io_watch idle_timer;
        /* Connections refused for the limits above, and since the last log
         * line about them. */
        uint64_t n_refused, n_refused_unlogged, refusal_logged_usec;
        /* The containers a host event reached, while the model delivers
         * its deltas (control-monitor.c); NULL when nobody monitors. */
        json_t *pending;
};
