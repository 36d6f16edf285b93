/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by relay.c (queues, stats) and the two transports,
 * relay-netlink.c and relay-socket.c. */

#include "relay.h"

/* Per sink: enough for a burst (a hundred loop devices at once), small
 * enough that a container which never reads costs the daemon little. */
#define RELAY_QUEUE_MAX 1024

/* One framed event, shared by every sink it is queued on. */
struct relay_msg {
        unsigned refs;
        bool udev; /* libudev's format, for netlink group 2 (udev-wire.h); else the kernel's */
        size_t size;
        char data[];
};

struct relay_sink;
/* 0 sent, -EAGAIN (or -ENOBUFS) keep it queued and try later, any other
 * error: the sink is broken. */
typedef int (*relay_send_fn)(struct relay_sink *s, const struct relay_msg *m);

/* Where events go: the netlink socket, or one connected socket client.
 * The queue only holds what the socket would not take yet. */
struct relay_sink {
        struct relay *relay;
        struct io_watch watch; /* watch.fd is the socket */
        uint32_t watching;     /* the epoll events registered for it */
        relay_send_fn send;
        struct relay_msg *queue[RELAY_QUEUE_MAX];
        size_t head, n;
        bool broken; /* a client that failed: freed from its own watch, on its hang-up */
        bool udev;   /* socket mode: a client of udev.sock, which gets udev events only */
        struct relay_sink *prev, *next; /* socket mode's clients */
};

struct relay {
        struct loop *loop;
        char *name; /* the container's, for logs */
        enum relay_mode mode;
        uint64_t seqnum; /* socket mode numbers its own events */
        uint64_t udev_seqnum; /* the last udev event's SEQNUM */
        bool udev_events;     /* also relay udev events (netlink group 2, or udev.sock) */

        /* netlink */
        struct relay_sink *netlink;
        uid_t uid; /* host ids of the container's root, for SCM_CREDENTIALS */
        gid_t gid;

        /* socket: uevent.sock for kernel events, udev.sock for udev's */
        struct io_watch listener;
        char *socket_path;
        struct io_watch udev_listener;
        char *udev_socket_path;
        struct relay_sink *clients;
        unsigned n_clients;

        uint64_t relayed, dropped, dropped_logged;
        uint64_t drop_logged_usec;
        bool refusal_logged;
        bool forgery_logged;
};

/* Counts lost events; logs at most every 10 s per relay. */
void relay_count_drops(struct relay *r, uint64_t n);

int relay_sink_new(struct relay *r, int fd, relay_send_fn send, struct relay_sink **ret);
struct relay_sink *relay_sink_free(struct relay_sink *s);
/* Sends what the socket takes, in order; waits for EPOLLOUT when watch_out. */
int relay_sink_flush(struct relay_sink *s, bool watch_out);
/* A client that failed. It must not be freed outside its own watch's
 * handler (the main loop may hold an event for it from the same
 * epoll_wait): its queue goes now, the hang-up frees it. */
void relay_sink_break(struct relay_sink *s);
/* (Re)registers the sink's fd for events. */
int relay_sink_watch(struct relay_sink *s, uint32_t events);

/* 1 when pid shares the daemon's network namespace. */
int relay_netns_is_host(pid_t pid);
int relay_netlink_open(struct relay *r, const struct relay_target *t);

int relay_socket_open(struct relay *r, const struct relay_target *t);
void relay_socket_drop_client(struct relay *r, struct relay_sink *s);
void relay_socket_close(struct relay *r);
