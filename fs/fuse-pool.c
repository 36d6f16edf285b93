/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <uthash.h>

#include "fuse-pool.h"
#include "log.h"

/* libfuse reads a whole request into the buffer it is given, up to the
 * session's bufsize, which before FUSE_INIT is libfuse's maximum: 256 pages
 * plus a 4 KiB header (FUSE_MAX_MAX_PAGES, FUSE_BUFFER_HEADER_SIZE in its
 * private fuse_i.h). One such buffer per worker fits every session. */
#define WORKER_BUFFER_SIZE(page) (256 * (size_t) (page) + 0x1000)

#define WORKERS_MAX 64

/* Quick requests one worker answers in a row before it lets the others
 * share the session again. */
#define QUICK_RUN_MAX 64

/* Workers find sessions by id, never by a pointer kept from epoll_wait():
 * a session removed meanwhile is simply not found. */
struct pool_session {
        uint64_t id;
        struct fuse_session *se;
        int fd;
        unsigned in_flight; /* workers inside this session */
        bool exited;
        UT_hash_handle hh;
};

struct fuse_pool {
        int epoll_fd;
        int exited_fd; /* eventfd */
        int stop_fd;   /* eventfd, level-triggered: wakes every worker */
        pthread_mutex_t lock;
        pthread_cond_t idle; /* a session's in_flight reached 0 */
        struct pool_session *sessions;
        uint64_t next_id;
        pthread_t workers[WORKERS_MAX];
        unsigned n_workers;
};

#define STOP_ID UINT64_MAX

static struct pool_session *find_locked(struct fuse_pool *p, uint64_t id) {
        struct pool_session *s;

        HASH_FIND(hh, p->sessions, &id, sizeof(id), s);
        return s;
}

static void rearm(struct fuse_pool *p, struct pool_session *s) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = s->id };

        /* ENOENT: removed meanwhile, nothing to re-arm. */
        (void) epoll_ctl(p->epoll_fd, EPOLL_CTL_MOD, s->fd, &ev);
}

static void session_exited(struct fuse_pool *p, struct pool_session *s) {
        uint64_t one = 1;

        pthread_mutex_lock(&p->lock);
        s->exited = true;
        pthread_mutex_unlock(&p->lock);
        (void) write(p->exited_fd, &one, sizeof(one));
}

/* Answered from the views' copies in memory, under a view's lock held
 * for as long as a copy takes: never waiting for the host, a driver or
 * another request. */
static bool request_is_quick(const struct fuse_buf *buf) {
        const struct fuse_in_header *h = buf->mem;

        if ((buf->flags & FUSE_BUF_IS_FD) || buf->size < sizeof(*h))
                return false;
        switch (h->opcode) {
        case FUSE_LOOKUP:
        case FUSE_FORGET:
        case FUSE_BATCH_FORGET:
        case FUSE_GETATTR:
        case FUSE_READLINK:
        case FUSE_OPENDIR:
        case FUSE_READDIR:
        case FUSE_READDIRPLUS:
        case FUSE_RELEASEDIR:
        case FUSE_RELEASE:
        case FUSE_STATFS:
        case FUSE_INTERRUPT:
                return true;
        default:
                return false;
        }
}

/* The session's fd is disarmed (EPOLLONESHOT) while a worker is here.
 * A request that may block (a READ of the host's attribute, a WRITE) is
 * taken after re-arming, so that another worker can take the next one
 * meanwhile. A quick one is answered with the fd still disarmed, and the
 * worker then reads the next request itself: a process waiting for each
 * answer before it asks again (a stat, a path walk) finds the worker that
 * answered it still on its CPU, where waking another one (epoll wakes the
 * longest waiting) would cost a second switch and often another CPU. */
static void serve(struct fuse_pool *p, struct pool_session *s, struct fuse_buf *buf) {
        for (unsigned i = 0; i < QUICK_RUN_MAX; i++) {
                int r = fuse_session_receive_buf(s->se, buf);

                if (r == 0 || (r < 0 && fuse_session_exited(s->se))) {
                        session_exited(p, s); /* not re-armed: nothing more will come */
                        return;
                }
                if (r < 0) {
                        /* EAGAIN: nothing queued (another worker took it,
                         * or the kernel dropped an interrupted one). */
                        if (r != -EAGAIN && r != -EINTR)
                                log_warning_errno(r, "Failed to read a FUSE request: %m");
                        break;
                }
                if (!request_is_quick(buf)) {
                        rearm(p, s);
                        fuse_session_process_buf(s->se, buf);
                        return;
                }
                fuse_session_process_buf(s->se, buf);
        }
        rearm(p, s);
}

static void *worker(void *userdata) {
        struct fuse_pool *p = userdata;
        long page = sysconf(_SC_PAGESIZE);
        struct fuse_buf buf = { .size = WORKER_BUFFER_SIZE(page) };

        buf.mem = malloc(buf.size);
        if (!buf.mem) {
                log_error("Out of memory for a FUSE worker buffer.");
                return NULL;
        }

        for (;;) {
                struct epoll_event ev;
                struct pool_session *s;
                int n = epoll_wait(p->epoll_fd, &ev, 1, -1);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        log_error_errno(errno, "FUSE worker: epoll_wait failed: %m");
                        break;
                }
                if (ev.data.u64 == STOP_ID)
                        break;

                pthread_mutex_lock(&p->lock);
                s = find_locked(p, ev.data.u64);
                if (s)
                        s->in_flight++;
                pthread_mutex_unlock(&p->lock);
                if (!s)
                        continue;

                serve(p, s, &buf);

                pthread_mutex_lock(&p->lock);
                if (--s->in_flight == 0)
                        pthread_cond_broadcast(&p->idle);
                pthread_mutex_unlock(&p->lock);
        }
        free(buf.mem);
        return NULL;
}

int fuse_pool_new(unsigned n_workers, struct fuse_pool **ret) {
        _cleanup_(fuse_pool_freep) struct fuse_pool *p = NULL;
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = STOP_ID };
        int r;

        if (n_workers == 0) {
                long cpus = sysconf(_SC_NPROCESSORS_ONLN);
                /* Handlers are short, but a sysfs read-through can block in
                 * a driver: keep spare workers even on small machines. */
                n_workers = cpus > 2 ? (unsigned) cpus * 2 : 4;
        }
        if (n_workers > WORKERS_MAX)
                n_workers = WORKERS_MAX;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->epoll_fd = p->exited_fd = p->stop_fd = -EBADF;
        p->next_id = 1;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->idle, NULL);

        p->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        p->exited_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->epoll_fd < 0 || p->exited_fd < 0 || p->stop_fd < 0)
                return negative_errno();
        if (epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, p->stop_fd, &ev) < 0)
                return negative_errno();

        for (; p->n_workers < n_workers; p->n_workers++) {
                r = -pthread_create(&p->workers[p->n_workers], NULL, worker, p);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

struct fuse_pool *fuse_pool_free(struct fuse_pool *p) {
        uint64_t one = 1;

        if (!p)
                return NULL;
        /* stop_fd stays readable (level-triggered): every worker sees it. */
        if (p->n_workers > 0)
                (void) write(p->stop_fd, &one, sizeof(one));
        for (unsigned i = 0; i < p->n_workers; i++)
                pthread_join(p->workers[i], NULL);
        HASH_CLEAR(hh, p->sessions);
        safe_close(p->epoll_fd);
        safe_close(p->exited_fd);
        safe_close(p->stop_fd);
        pthread_cond_destroy(&p->idle);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
}

int fuse_pool_add(struct fuse_pool *p, struct fuse_session *se, uint64_t *ret_id) {
        struct pool_session *s;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
        int fd = fuse_session_fd(se), flags;

        /* Non-blocking: a request another worker took, or one the kernel
         * withdrew, must not leave a worker blocked in read(). */
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return negative_errno();

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->se = se;
        s->fd = fd;

        pthread_mutex_lock(&p->lock);
        s->id = p->next_id++;
        HASH_ADD(hh, p->sessions, id, sizeof(s->id), s);
        pthread_mutex_unlock(&p->lock);

        ev.data.u64 = s->id;
        if (epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = negative_errno();
                fuse_pool_remove(p, s->id);
                return r;
        }
        *ret_id = s->id;
        return 0;
}

void fuse_pool_remove(struct fuse_pool *p, uint64_t id) {
        struct pool_session *s;

        pthread_mutex_lock(&p->lock);
        s = find_locked(p, id);
        if (!s) {
                pthread_mutex_unlock(&p->lock);
                return;
        }
        HASH_DEL(p->sessions, s);
        (void) epoll_ctl(p->epoll_fd, EPOLL_CTL_DEL, s->fd, NULL);
        while (s->in_flight > 0)
                pthread_cond_wait(&p->idle, &p->lock);
        pthread_mutex_unlock(&p->lock);
        free(s);
}

int fuse_pool_exited_fd(const struct fuse_pool *p) {
        return p->exited_fd;
}

int fuse_pool_drain_exited(struct fuse_pool *p, void (*fn)(uint64_t id, void *userdata), void *userdata) {
        _cleanup_free_ uint64_t *ids = NULL;
        struct pool_session *s, *tmp;
        size_t n = 0;
        uint64_t counter;

        /* Reset first: an exit reported after this read stays pending. */
        (void) read(p->exited_fd, &counter, sizeof(counter));

        pthread_mutex_lock(&p->lock);
        ids = calloc(HASH_COUNT(p->sessions) + 1, sizeof(*ids));
        if (ids)
                HASH_ITER(hh, p->sessions, s, tmp)
                        if (s->exited) {
                                s->exited = false;
                                ids[n++] = s->id;
                        }
        pthread_mutex_unlock(&p->lock);
        if (!ids)
                return -ENOMEM;

        /* Outside the lock: fn typically removes the session. */
        for (size_t i = 0; i < n; i++)
                fn(ids[i], userdata);
        return (int) n;
}

unsigned fuse_pool_workers(const struct fuse_pool *p) {
        return p->n_workers;
}
