/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* socket mode: for containers that share the host's network namespace (or
 * whose runtime prefers it), SOCK_SEQPACKET listeners that the runtime
 * binds into the container: DIR/uevent.sock, one datagram per event in the
 * kernel's framing, and DIR/udev.sock, one per udev event in libudev's
 * format (udev-wire.h); see docs/relay.md. */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <utlist.h>

#include "log.h"
#include "relay-internal.h"

static int client_send(struct relay_sink *s, const struct relay_msg *m) {
        return send(s->watch.fd, m->data, m->size, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? negative_errno() : 0;
}

void relay_socket_drop_client(struct relay *r, struct relay_sink *s) {
        DL_DELETE(r->clients, s);
        r->n_clients--;
        relay_sink_free(s);
}

/* Clients only listen: whatever they send is ignored, a hang-up ends them. */
static void on_client(struct io_watch *w, uint32_t events) {
        struct relay_sink *s = container_of(w, struct relay_sink, watch);
        struct relay *r = s->relay;
        char buf[256];
        ssize_t n;
        int k;

        if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
                relay_socket_drop_client(r, s);
                return;
        }
        if (events & EPOLLIN) {
                while ((n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
                        ;
                if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                        relay_socket_drop_client(r, s);
                        return;
                }
        }
        if (events & EPOLLOUT) {
                k = relay_sink_flush(s, true);
                if (k < 0)
                        relay_socket_drop_client(r, s);
        }
}

static void accept_clients(struct relay *r, struct io_watch *w, bool udev) {
        struct relay_sink *s;
        int fd, k;

        while ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                k = relay_sink_new(r, fd, client_send, &s);
                if (k < 0) {
                        safe_close(fd);
                        log_warning_errno(k, "%s: failed to take a uevent listener: %m", r->name);
                        continue;
                }
                s->watch.fn = on_client;
                s->udev = udev;
                k = relay_sink_watch(s, EPOLLIN | EPOLLRDHUP);
                if (k < 0) {
                        relay_sink_free(s);
                        log_warning_errno(k, "%s: failed to take a uevent listener: %m", r->name);
                        continue;
                }
                DL_APPEND(r->clients, s);
                r->n_clients++;
                log_debug("%s: %s listener connected (%u now).", r->name, udev ? "udev event" : "uevent",
                          r->n_clients);
        }
}

static void on_listener(struct io_watch *w, uint32_t events) {
        accept_clients(container_of(w, struct relay, listener), w, false);
}

static void on_udev_listener(struct io_watch *w, uint32_t events) {
        accept_clients(container_of(w, struct relay, udev_listener), w, true);
}

static int listen_at(struct relay *r, const char *dir, const char *name, struct io_watch *w,
                     void (*fn)(struct io_watch *w, uint32_t events), char **ret_path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int k;

        if (asprintf(ret_path, "%s/%s", dir, name) < 0) {
                *ret_path = NULL;
                return -ENOMEM;
        }
        if (strlen(*ret_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, *ret_path);

        w->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (w->fd < 0)
                return negative_errno();
        (void) unlink(*ret_path); /* a previous run's */
        if (bind(w->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        /* uevents are no secret (any user may listen to the kernel's): who
         * reaches the socket is decided by where the runtime binds it, and
         * the container's root is not the host's. */
        if (chmod(*ret_path, 0666) < 0 || listen(w->fd, SOMAXCONN) < 0)
                return negative_errno();
        w->fn = fn;
        k = loop_watch(r->loop, w, EPOLLIN);
        if (k < 0) {
                w->fd = safe_close(w->fd);
                return k;
        }
        return 0;
}

int relay_socket_open(struct relay *r, const struct relay_target *t) {
        int k;

        k = listen_at(r, t->dir, "uevent.sock", &r->listener, on_listener, &r->socket_path);
        if (k < 0)
                return k;
        r->udev_events = true;
        return listen_at(r, t->dir, "udev.sock", &r->udev_listener, on_udev_listener, &r->udev_socket_path);
}

static void close_listener(struct relay *r, struct io_watch *w, char **path) {
        if (w->fd >= 0) {
                loop_unwatch(r->loop, w);
                w->fd = safe_close(w->fd);
        }
        if (*path) {
                (void) unlink(*path);
                free(*path);
                *path = NULL;
        }
}

void relay_socket_close(struct relay *r) {
        struct relay_sink *s, *tmp;

        DL_FOREACH_SAFE(r->clients, s, tmp)
                relay_socket_drop_client(r, s);
        close_listener(r, &r->listener, &r->socket_path);
        close_listener(r, &r->udev_listener, &r->udev_socket_path);
}
