/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The relay's core: events in the container's view, queued per sink, sent
 * without ever blocking the main loop. The transports are relay-netlink.c
 * and relay-socket.c; what an event says is uevent-wire.c. */
#include <inttypes.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <utlist.h>

#include "clock.h"
#include "log.h"
#include "relay-internal.h"
#include "strv.h"
#include "udev-data.h"
#include "udev-wire.h"
#include "uevent-wire.h"

/* A listener that does not keep up is reported at most this often. */
#define DROP_LOG_INTERVAL_USEC (10 * 1000000ull)

static void relay_msg_unref(struct relay_msg *m) {
        if (m && --m->refs == 0)
                free(m);
}

void relay_count_drops(struct relay *r, uint64_t n) {
        uint64_t now = now_usec();

        r->dropped += n;
        if (r->drop_logged_usec && now - r->drop_logged_usec < DROP_LOG_INTERVAL_USEC)
                return;
        log_warning("%s: a uevent listener does not keep up: %" PRIu64 " events dropped (%" PRIu64 " in all).",
                    r->name, r->dropped - r->dropped_logged, r->dropped);
        r->dropped_logged = r->dropped;
        r->drop_logged_usec = now;
}

int relay_sink_watch(struct relay_sink *s, uint32_t events) {
        struct loop *l = s->relay->loop;
        int r;

        if (events == s->watching)
                return 0;
        if (s->watching)
                loop_unwatch(l, &s->watch);
        s->watching = 0;
        r = loop_watch(l, &s->watch, events);
        if (r < 0)
                return r;
        s->watching = events;
        return 0;
}

int relay_sink_new(struct relay *r, int fd, relay_send_fn send, struct relay_sink **ret) {
        struct relay_sink *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->relay = r;
        s->watch.fd = fd;
        s->send = send;
        *ret = s;
        return 0;
}

struct relay_sink *relay_sink_free(struct relay_sink *s) {
        if (!s)
                return NULL;
        if (s->watching)
                loop_unwatch(s->relay->loop, &s->watch);
        safe_close(s->watch.fd);
        for (size_t i = 0; i < s->n; i++)
                relay_msg_unref(s->queue[(s->head + i) % RELAY_QUEUE_MAX]);
        free(s);
        return NULL;
}

static void sink_pop(struct relay_sink *s) {
        relay_msg_unref(s->queue[s->head]);
        s->head = (s->head + 1) % RELAY_QUEUE_MAX;
        s->n--;
}

void relay_sink_break(struct relay_sink *s) {
        s->broken = true;
        while (s->n > 0)
                sink_pop(s);
        (void) shutdown(s->watch.fd, SHUT_RDWR);
        (void) relay_sink_watch(s, EPOLLIN | EPOLLRDHUP);
}

int relay_sink_flush(struct relay_sink *s, bool watch_out) {
        int r;

        while (s->n > 0) {
                r = s->send(s, s->queue[s->head]);
                if (r == -EINTR)
                        continue;
                if (r == -EAGAIN || r == -ENOBUFS)
                        return watch_out ? relay_sink_watch(s, s->watching | EPOLLOUT) : 0;
                if (r < 0)
                        return r;
                sink_pop(s);
                s->relay->relayed++;
        }
        return relay_sink_watch(s, s->watching & ~(uint32_t) EPOLLOUT);
}

/* The newest event is the one dropped: what a listener got stays a prefix
 * of what happened, as when the kernel drops for a full socket buffer. */
static void sink_push(struct relay_sink *s, struct relay_msg *m) {
        if (s->n == RELAY_QUEUE_MAX) {
                relay_count_drops(s->relay, 1);
                return;
        }
        m->refs++;
        s->queue[(s->head + s->n) % RELAY_QUEUE_MAX] = m;
        s->n++;
}

static void deliver_netlink(struct relay *r, struct relay_msg *m) {
        struct relay_sink *s = r->netlink;
        int k;

        sink_push(s, m);
        /* The kernel takes injected events synchronously: nothing to wait
         * for, a failure is this event's loss only. */
        for (;;) {
                k = relay_sink_flush(s, false);
                if (k >= 0)
                        return;
                log_debug_errno(k, "%s: failed to inject a uevent: %m", r->name);
                sink_pop(s);
                relay_count_drops(r, 1);
        }
}

static void deliver_socket(struct relay *r, struct relay_msg *m) {
        struct relay_sink *s, *tmp;
        int k;

        DL_FOREACH_SAFE(r->clients, s, tmp) {
                if (s->broken || s->udev != m->udev)
                        continue;
                sink_push(s, m);
                if (s->watching & EPOLLOUT)
                        continue; /* flushed when the socket has room */
                k = relay_sink_flush(s, true);
                if (k < 0) {
                        log_debug_errno(k, "%s: uevent listener gone: %m", r->name);
                        relay_sink_break(s);
                }
        }
}

static bool has_listeners(const struct relay *r) {
        return r->mode == RELAY_NETLINK ? r->netlink != NULL : r->clients != NULL;
}

/* Socket mode builds udev events only for clients of udev.sock. */
static bool has_udev_listeners(const struct relay *r) {
        struct relay_sink *s;

        if (r->mode == RELAY_NETLINK)
                return r->netlink != NULL;
        DL_FOREACH(r->clients, s)
                if (s->udev && !s->broken)
                        return true;
        return false;
}

static void relay_deliver(struct relay *r, const char *buf, size_t size, bool udev) {
        struct relay_msg *m = malloc(sizeof(*m) + size);

        if (!m) {
                relay_count_drops(r, 1);
                return;
        }
        m->refs = 1;
        m->udev = udev;
        m->size = size;
        memcpy(m->data, buf, size);
        if (r->mode == RELAY_NETLINK)
                deliver_netlink(r, m);
        else
                deliver_socket(r, m);
        relay_msg_unref(m);
}

/* The host's number when the event has one, so that the container's
 * `udevadm monitor` shows the same for both of an event's messages. */
static uint64_t udev_seqnum(struct relay *r, const struct uevent_view *v) {
        const char *s = strv_env_get(v->properties, "SEQNUM");
        uint64_t n;

        if (v->seqnum > 0)
                n = v->seqnum;
        else if (!s || sscanf(s, "%" SCNu64, &n) != 1 || n == 0)
                n = r->udev_seqnum + 1;
        r->udev_seqnum = n;
        return n;
}

/* What udevd would broadcast after processing the event: sent after the
 * kernel's, as on a host, once the container's database has the device. */
static void relay_udev_view(struct relay *r, const struct uevent_view *v) {
        _cleanup_strv_free_ char **properties = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int k;

        k = udev_data_event_properties(v->properties, v->action, v->visible, udev_seqnum(r, v), &properties);
        if (k >= 0)
                k = udev_wire_build(properties, v->visible ? v->visible->device->tags : NULL, &buf, &size);
        if (k < 0) {
                log_debug_errno(k, "%s: cannot relay a udev event: %m", r->name);
                return;
        }
        relay_deliver(r, buf, size, true);
}

static void relay_view(struct relay *r, struct uevent_view *v) {
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int k;

        if (r->mode == RELAY_SOCKET)
                v->seqnum = ++r->seqnum;
        if (!has_listeners(r))
                return;
        k = uevent_view_frame(v, &buf, &size);
        if (k < 0) {
                log_debug_errno(k, "%s: cannot relay a uevent: %m", r->name);
                return;
        }
        relay_deliver(r, buf, size, false);
        if (r->udev_events && has_udev_listeners(r))
                relay_udev_view(r, v);
}

void relay_apply(struct relay *r, const struct delta *deltas, size_t n_deltas) {
        for (size_t i = 0; i < n_deltas; i++) {
                struct uevent_view views[UEVENT_VIEWS_PER_DELTA_MAX];
                size_t n = uevent_view_for_delta(&deltas[i], views);

                for (size_t j = 0; j < n; j++)
                        relay_view(r, &views[j]);
        }
}

int relay_inject(struct relay *r, char **properties) {
        return relay_inject_visible(r, properties, NULL);
}

int relay_inject_visible(struct relay *r, char **properties, const struct visible_device *visible) {
        _cleanup_strv_free_ char **props = properties;
        struct uevent_view v = { .properties = props, .visible = visible };

        v.action = strv_env_get(props, "ACTION");
        if (!v.action || !strv_env_get(props, "DEVPATH"))
                return -EINVAL;
        relay_view(r, &v);
        return 0;
}

void relay_get_stats(const struct relay *r, struct relay_stats *ret) {
        struct relay_sink *s;
        uint64_t queued = 0;

        if (r->netlink)
                queued = r->netlink->n;
        DL_FOREACH(r->clients, s)
                queued += s->n;
        *ret = (struct relay_stats){
                .mode = r->mode == RELAY_NETLINK ? "netlink" : "socket",
                .relayed = r->relayed,
                .dropped = r->dropped,
                .queued = queued,
                .listeners = r->n_clients,
        };
}

int relay_new(struct loop *loop, const struct relay_target *t, enum relay_mode mode, struct relay **ret) {
        _cleanup_(relay_freep) struct relay *r = NULL;
        int k;

        if (mode == RELAY_AUTO) {
                if (t->pid <= 0)
                        return -ESRCH;
                k = relay_netns_is_host(t->pid);
                if (k < 0)
                        return k;
                mode = k ? RELAY_SOCKET : RELAY_NETLINK;
        }
        if (mode != RELAY_NETLINK && mode != RELAY_SOCKET)
                return -EINVAL;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->loop = loop;
        r->mode = mode;
        r->listener.fd = r->udev_listener.fd = -EBADF;
        r->name = strdup(t->name);
        if (!r->name)
                return -ENOMEM;

        k = mode == RELAY_NETLINK ? relay_netlink_open(r, t) : relay_socket_open(r, t);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

struct relay *relay_free(struct relay *r) {
        if (!r)
                return NULL;
        log_debug("%s: relay (%s) stops: %" PRIu64 " events relayed, %" PRIu64 " dropped.", r->name,
                  r->mode == RELAY_NETLINK ? "netlink" : "socket", r->relayed, r->dropped);
        relay_sink_free(r->netlink);
        relay_socket_close(r);
        free(r->name);
        free(r);
        return NULL;
}
