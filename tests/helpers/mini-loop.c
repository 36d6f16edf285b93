/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/epoll.h>

#include "mini-loop.h"

int daemon_watch(struct daemon *d, struct io_watch *w, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = w };

        return epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? negative_errno() : 0;
}

void daemon_unwatch(struct daemon *d, struct io_watch *w) {
        if (w->fd >= 0)
                (void) epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
        for (int i = 0; i < d->n_batch; i++)
                if (d->batch[i].data.ptr == w)
                        d->batch[i].data.ptr = NULL;
}

int mini_loop_init(struct daemon *d) {
        *d = (struct daemon){};
        d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        return d->epoll_fd < 0 ? negative_errno() : 0;
}

void mini_loop_done(struct daemon *d) {
        d->epoll_fd = safe_close(d->epoll_fd);
}

int mini_loop_run_once(struct daemon *d, int timeout_ms) {
        struct epoll_event events[16];
        int n = epoll_wait(d->epoll_fd, events, ELEMENTSOF(events), timeout_ms);

        if (n < 0)
                return negative_errno();
        d->batch = events;
        d->n_batch = n;
        for (int i = 0; i < n; i++) {
                struct io_watch *w = events[i].data.ptr;
                if (w)
                        w->fn(d, w, events[i].events);
        }
        d->n_batch = 0;
        return n;
}
