/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "container.h"
#include "loop.h"
#include "model.h"

/* Relays uevents into one container, as if it had its own kernel (and, in
 * netlink mode, its own udevd: each event is followed by udev's processed
 * one on netlink group 2, in libudev's format, see udev-wire.h): only
 * about devices it sees, rewritten to its view (DEVNAME follows the
 * policy's NAME), in order, through a bounded queue so a container that does
 * not read cannot slow the daemon or anyone else. */

struct relay;

enum relay_mode {
        RELAY_AUTO,    /* netlink for a container with its own netns, else socket */
        RELAY_NETLINK,
        RELAY_SOCKET,
        RELAY_NONE,
};

/* Whom a relay serves; read by relay_new() only. */
struct relay_target {
        const char *name;                   /* the container's, for logs */
        const char *dir;                    /* socket mode listens at DIR/uevent.sock */
        pid_t pid;                          /* netlink mode: the container's process, 0 if none */
        int pidfd;                          /* pid's pidfd or -EBADF: the pid is still ours */
        const struct container *container;  /* its id maps give its root's host ids */
};

struct relay_stats {
        const char *mode;     /* "netlink" or "socket" */
        uint64_t relayed;     /* messages handed to the container (socket mode: per listener); an
                               * event with a udev event after it counts twice */
        uint64_t dropped;     /* events lost to a full queue (the newest is dropped) or refused */
        uint64_t queued;      /* waiting now */
        unsigned listeners;   /* socket mode: connected clients */
};

/* mode RELAY_AUTO picks netlink when pid has a network namespace of its
 * own, socket otherwise. netlink into the host's own namespace is refused
 * (-EPERM): every host listener would hear the container's events. Socket
 * mode listens at DIR/uevent.sock (t->dir). The relay's sockets are
 * watched by loop. */
int relay_new(struct loop *loop, const struct relay_target *t, enum relay_mode mode, struct relay **ret);
struct relay *relay_free(struct relay *r);
DEFINE_POINTER_CLEANUP(struct relay, relay_free);

/* Main loop only: the events these deltas mean for the container
 * (uevent-wire.h says which), sent without blocking; see docs/relay.md. */
void relay_apply(struct relay *r, const struct delta *deltas, size_t n_deltas);
/* Main loop only: an event the container made itself (a write to a
 * synthetic uevent file), already in its view; takes properties. */
int relay_inject(struct relay *r, char **properties);
/* The same for a device the container sees as visible: its udev event
 * (netlink mode) carries the device's links, tags and initialization. */
int relay_inject_visible(struct relay *r, char **properties, const struct visible_device *visible);

void relay_get_stats(const struct relay *r, struct relay_stats *ret);
