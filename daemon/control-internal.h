/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by control.c, control-commands.c and control-monitor.c only. */

#include <stdbool.h>
#include <sys/types.h>

#include "control.h"

/* A client whose unread replies (or monitor lines) exceed this is
 * disconnected. */
#define CONTROL_OUTPUT_MAX (4U * 1024U * 1024U)
#define CONTROL_CLIENTS_MAX 256U

struct control_client {
        struct control *control;
        struct io_watch watch;
        uid_t uid;
        pid_t pid;
        uint32_t events; /* what epoll waits for now */

        char *in; /* CONTROL_LINE_MAX bytes */
        size_t in_size;
        char *out;
        size_t out_size, out_offset, out_allocated;

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
        /* The containers a host event reached, while the model delivers
         * its deltas (control-monitor.c); NULL when nobody monitors. */
        json_t *pending;
};
