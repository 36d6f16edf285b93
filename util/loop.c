/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <utlist.h>

#include "loop.h"

struct deferred_call {
        void (*fn)(void *data);
        void (*free_data)(void *data);
        void *data;
        struct deferred_call *next;
};

struct loop {
        int epoll_fd;
        struct io_watch deferred_watch; /* eventfd: work handed over by other threads */
        pthread_mutex_t deferred_lock;
        struct deferred_call *deferred; /* guarded by deferred_lock */
        /* The batch loop_run_once() is dispatching: loop_unwatch() clears
         * what is still pending for a watch whose owner may be freed next
         * (a relay torn down while its listener's hang-up waits). */
        struct epoll_event *batch;
        int n_batch;
};

static void on_deferred(struct io_watch *w, uint32_t events) {
        struct loop *l = container_of(w, struct loop, deferred_watch);
        struct deferred_call *calls, *call, *tmp;
        uint64_t counter;

        (void) read(w->fd, &counter, sizeof(counter));
        pthread_mutex_lock(&l->deferred_lock);
        calls = TAKE_PTR(l->deferred);
        pthread_mutex_unlock(&l->deferred_lock);

        /* In the order they were handed over: synthetic events of one
         * container must reach it in the order it wrote them. */
        LL_FOREACH_SAFE(calls, call, tmp) {
                call->fn(call->data);
                free(call);
        }
}

int loop_new(struct loop **ret) {
        _cleanup_(loop_freep) struct loop *l = NULL;
        int r;

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->deferred_watch = (struct io_watch){ .fd = -EBADF, .fn = on_deferred };
        pthread_mutex_init(&l->deferred_lock, NULL);
        l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epoll_fd < 0)
                return negative_errno();
        l->deferred_watch.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (l->deferred_watch.fd < 0)
                return negative_errno();
        r = loop_watch(l, &l->deferred_watch, EPOLLIN);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

struct loop *loop_free(struct loop *l) {
        struct deferred_call *call, *tmp;

        if (!l)
                return NULL;
        LL_FOREACH_SAFE(l->deferred, call, tmp) {
                if (call->free_data)
                        call->free_data(call->data);
                free(call);
        }
        safe_close(l->deferred_watch.fd);
        safe_close(l->epoll_fd);
        pthread_mutex_destroy(&l->deferred_lock);
        free(l);
        return NULL;
}

static int watch_ctl(struct loop *l, int op, struct io_watch *w, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = w };

        return epoll_ctl(l->epoll_fd, op, w->fd, &ev) < 0 ? negative_errno() : 0;
}

int loop_watch(struct loop *l, struct io_watch *w, uint32_t events) {
        return watch_ctl(l, EPOLL_CTL_ADD, w, events);
}

int loop_modify(struct loop *l, struct io_watch *w, uint32_t events) {
        return watch_ctl(l, EPOLL_CTL_MOD, w, events);
}

void loop_unwatch(struct loop *l, struct io_watch *w) {
        if (w->fd >= 0)
                (void) epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
        for (int i = 0; i < l->n_batch; i++)
                if (l->batch[i].data.ptr == w)
                        l->batch[i].data.ptr = NULL;
}

int loop_defer(struct loop *l, void (*fn)(void *data), void (*free_data)(void *data), void *data) {
        struct deferred_call *call = calloc(1, sizeof(*call));
        uint64_t one = 1;

        if (!call)
                return -ENOMEM;
        *call = (struct deferred_call){ .fn = fn, .free_data = free_data, .data = data };
        pthread_mutex_lock(&l->deferred_lock);
        LL_APPEND(l->deferred, call);
        pthread_mutex_unlock(&l->deferred_lock);
        (void) write(l->deferred_watch.fd, &one, sizeof(one));
        return 0;
}

int loop_run_once(struct loop *l, int timeout_ms) {
        struct epoll_event events[16];
        int n = epoll_wait(l->epoll_fd, events, ELEMENTSOF(events), timeout_ms);

        if (n < 0)
                return negative_errno();
        l->batch = events;
        l->n_batch = n;
        for (int i = 0; i < n; i++) {
                struct io_watch *w = events[i].data.ptr;
                if (w) /* else unwatched by an earlier handler */
                        w->fn(w, events[i].events);
        }
        l->n_batch = 0;
        return n;
}
