/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* socket mode: for containers that share the host's network namespace (or
 * whose runtime prefers it), a SOCK_SEQPACKET listener at DIR/uevent.sock
 * that the runtime binds into the container. One datagram per event, in
 * the kernel's framing; see docs/relay.md. */
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

static void on_listener(struct io_watch *w, uint32_t events) {
        struct relay *r = container_of(w, struct relay, listener);
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
                k = relay_sink_watch(s, EPOLLIN | EPOLLRDHUP);
                if (k < 0) {
                        relay_sink_free(s);
                        log_warning_errno(k, "%s: failed to take a uevent listener: %m", r->name);
                        continue;
                }
                DL_APPEND(r->clients, s);
                r->n_clients++;
                log_debug("%s: uevent listener connected (%u now).", r->name, r->n_clients);
        }
}

int relay_socket_open(struct relay *r, const struct relay_target *t) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int k;

        if (asprintf(&r->socket_path, "%s/uevent.sock", t->dir) < 0) {
                r->socket_path = NULL;
                return -ENOMEM;
        }
        if (strlen(r->socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, r->socket_path);

        r->listener.fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (r->listener.fd < 0)
                return negative_errno();
        (void) unlink(r->socket_path); /* a previous run's */
        if (bind(r->listener.fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();
        /* uevents are no secret (any user may listen to the kernel's): who
         * reaches the socket is decided by where the runtime binds it, and
         * the container's root is not the host's. */
        if (chmod(r->socket_path, 0666) < 0 || listen(r->listener.fd, SOMAXCONN) < 0)
                return negative_errno();
        r->listener.fn = on_listener;
        k = loop_watch(r->loop, &r->listener, EPOLLIN);
        if (k < 0) {
                r->listener.fd = safe_close(r->listener.fd);
                return k;
        }
        return 0;
}

void relay_socket_close(struct relay *r) {
        struct relay_sink *s, *tmp;

        DL_FOREACH_SAFE(r->clients, s, tmp)
                relay_socket_drop_client(r, s);
        if (r->listener.fd >= 0) {
                loop_unwatch(r->loop, &r->listener);
                r->listener.fd = safe_close(r->listener.fd);
        }
        if (r->socket_path) {
                (void) unlink(r->socket_path);
                free(r->socket_path);
        }
}
