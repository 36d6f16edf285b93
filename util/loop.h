/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "macro.h"

/* devsieved's main loop: one epoll over the fds its parts own, and calls
 * handed over from other threads. The daemon, the relay and the control
 * socket take a struct loop * instead of calling back into the daemon, so
 * each can be driven alone (unit tests, benchmarks).
 *
 * Everything but loop_defer() runs on the loop's thread. */

struct loop;

/* An fd the loop watches; embedded in whatever owns the fd, which the
 * handler finds with container_of(). */
struct io_watch {
        int fd;
        void (*fn)(struct io_watch *w, uint32_t events);
};

int loop_new(struct loop **ret);
/* Drops calls still deferred, freeing their data with their free_data. */
struct loop *loop_free(struct loop *l);
DEFINE_POINTER_CLEANUP(struct loop, loop_free);

int loop_watch(struct loop *l, struct io_watch *w, uint32_t events);
int loop_modify(struct loop *l, struct io_watch *w, uint32_t events);
/* Also cancels what is still pending for w in the batch being dispatched:
 * its owner may be freed next. */
void loop_unwatch(struct loop *l, struct io_watch *w);

/* From any thread: run fn(data) on the loop soon, in the order handed
 * over. fn owns data; if the loop ends first, free_data(data) (may be
 * NULL) is called instead. */
int loop_defer(struct loop *l, void (*fn)(void *data), void (*free_data)(void *data), void *data);

/* One epoll_wait (timeout_ms, -1 for none) and the handlers of what it
 * returned; the number of events, or a negative errno. */
int loop_run_once(struct loop *l, int timeout_ms);
