/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "daemon/daemon.h"

/* The two main-loop hooks the relay needs (daemon_watch, daemon_unwatch)
 * over a bare epoll, so that unit tests and benchmarks drive real relays
 * without a devsieved. */
int mini_loop_init(struct daemon *d);
void mini_loop_done(struct daemon *d);
/* One epoll_wait (timeout_ms) and its handlers; the number handled. */
int mini_loop_run_once(struct daemon *d, int timeout_ms);
