/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket's transport: accepting clients, their buffers, line
 * framing, who may do what. What each request does is control-commands.c;
 * monitor streams are control-monitor.c. */
#include <inttypes.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <utlist.h>

#include "clock.h"
#include "control-internal.h"
#include "control-request.h"
#include "log.h"

static void drop_reply_fds(struct control_client *cl) {
        for (size_t i = 0; i < cl->n_reply_fds; i++)
                safe_close(cl->reply_fds[i]);
        cl->n_reply_fds = 0;
}

static void client_free(struct control_client *cl) {
        struct control *c = cl->control;

        drop_reply_fds(cl);
        loop_unwatch(c->d->loop, &cl->watch);
        safe_close(cl->watch.fd);
        DL_DELETE(c->clients, cl);
        c->n_clients--;
        if (cl->monitor)
                c->n_monitors--;
        free(cl->monitor_name);
        free(cl->in);
        free(cl->out);
        free(cl);
}

/* The client goes away in its own handler, never from elsewhere: an event
 * for it may already wait in the main loop's current epoll batch. Shutting
 * the socket down makes sure that handler runs (EPOLLHUP). */
static void client_break(struct control_client *cl) {
        cl->broken = true;
        (void) shutdown(cl->watch.fd, SHUT_RDWR);
}

static void client_update_events(struct control_client *cl) {
        uint32_t events = 0;

        /* A client that is being closed, or monitors (which send nothing
         * more), is still read for EOF; one with replies queued is not read
         * until they are out: a client that does not read cannot make us
         * queue without bound. */
        if (cl->out_size == cl->out_offset)
                events |= EPOLLIN;
        else
                events |= EPOLLOUT;
        if (events == cl->events)
                return;
        if (loop_modify(cl->control->d->loop, &cl->watch, events) >= 0)
                cl->events = events;
        else
                client_break(cl);
}

/* Writes what it can without blocking. */
static void client_flush(struct control_client *cl) {
        while (cl->out_offset < cl->out_size) {
                ssize_t n = send(cl->watch.fd, cl->out + cl->out_offset, cl->out_size - cl->out_offset,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN && errno != EWOULDBLOCK)
                                client_break(cl);
                        break;
                }
                cl->out_offset += (size_t) n;
                cl->active_usec = now_usec();
        }
        if (cl->out_offset == cl->out_size)
                cl->out_offset = cl->out_size = 0;
        if (!cl->broken)
                client_update_events(cl);
}

/* Queues n bytes and a newline, and writes what it can. */
static void queue_line(struct control_client *cl, const char *line, size_t n) {
        if (cl->out_size - cl->out_offset + n + 1 > CONTROL_OUTPUT_MAX) {
                log_warning("Control client (pid %d): more than %u bytes of replies unread; disconnecting.",
                            (int) cl->pid, CONTROL_OUTPUT_MAX);
                client_break(cl);
                return;
        }
        if (cl->out_offset > 0) {
                memmove(cl->out, cl->out + cl->out_offset, cl->out_size - cl->out_offset);
                cl->out_size -= cl->out_offset;
                cl->out_offset = 0;
        }
        if (cl->out_size + n + 1 > cl->out_allocated) {
                size_t size = (cl->out_size + n + 1) * 2;
                char *p;

                if (size > CONTROL_OUTPUT_MAX)
                        size = CONTROL_OUTPUT_MAX;
                p = realloc(cl->out, size);
                if (!p) {
                        client_break(cl);
                        return;
                }
                cl->out = p;
                cl->out_allocated = size;
        }
        memcpy(cl->out + cl->out_size, line, n);
        cl->out[cl->out_size + n] = '\n';
        cl->out_size += n + 1;
        client_flush(cl);
}

void control_client_send(struct control *c, struct control_client *cl, json_t *o) {
        _cleanup_free_ char *line = NULL;

        if (cl->broken)
                return;
        line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!line) {
                client_break(cl);
                return;
        }
        queue_line(cl, line, strlen(line));
}

int control_client_add_reply_fd(struct control_client *cl, int fd) {
        if (cl->n_reply_fds >= CONTROL_REPLY_FDS_MAX) {
                safe_close(fd);
                return -E2BIG;
        }
        cl->reply_fds[cl->n_reply_fds++] = fd;
        return 0;
}

/* The reply of a request that hands out descriptors: they ride on its
 * first byte, sent now. Nothing else is queued before it (a client waits
 * for each reply), so the socket's buffer has room; if not, the client
 * is dropped rather than the descriptors sent with the wrong line. */
static void send_with_fds(struct control_client *cl, json_t *o) {
        _cleanup_free_ char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        char control[CMSG_SPACE(sizeof(int) * CONTROL_REPLY_FDS_MAX)] = {};
        struct iovec iov;
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control };
        struct cmsghdr *cmsg;
        size_t n;
        ssize_t sent;

        if (cl->broken) {
                drop_reply_fds(cl);
                return;
        }
        if (!line || cl->out_size != cl->out_offset) {
                drop_reply_fds(cl);
                client_break(cl);
                return;
        }
        n = strlen(line);
        iov = (struct iovec){ .iov_base = line, .iov_len = 1 };
        m.msg_controllen = CMSG_SPACE(sizeof(int) * cl->n_reply_fds);
        cmsg = CMSG_FIRSTHDR(&m);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * cl->n_reply_fds);
        memcpy(CMSG_DATA(cmsg), cl->reply_fds, sizeof(int) * cl->n_reply_fds);
        do
                sent = sendmsg(cl->watch.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (sent < 0 && errno == EINTR);
        drop_reply_fds(cl);
        if (sent != 1) {
                client_break(cl);
                return;
        }
        /* The rest of the line as any other reply. */
        queue_line(cl, line + 1, n - 1);
}

static void reply_error(struct control_client *cl, int error, const char *message) {
        _cleanup_(json_decrefp) json_t *reply = control_error_reply(error, NULL, "%s", message);

        if (reply)
                control_client_send(cl->control, cl, reply);
        else
                client_break(cl);
}

static void handle_line(struct control_client *cl, const char *line, size_t size) {
        _cleanup_(json_decrefp) json_t *json = NULL, *reply = NULL;
        _cleanup_free_ char *error = NULL;
        struct control_request req;
        int r;

        r = control_request_parse(line, size, &req, &json, &error);
        if (r < 0) {
                log_debug("Control client (pid %d): refused request: %s", (int) cl->pid, strempty(error));
                reply_error(cl, -r, error ?: "out of memory");
                return;
        }
        if (control_command_mutates(req.command) && cl->uid != 0) {
                _cleanup_free_ char *msg = NULL;

                log_notice("Control client (pid %d, uid %u): refused '%s': not root.", (int) cl->pid,
                           (unsigned) cl->uid, control_command_to_string(req.command));
                if (asprintf(&msg, "permission denied: '%s' changes the daemon's state and needs root (uid 0); "
                                   "uid %u may only list, show, explain, monitor and ask for status",
                             control_command_to_string(req.command), (unsigned) cl->uid) < 0)
                        msg = NULL;
                reply_error(cl, EPERM, msg ?: "permission denied");
                return;
        }
        reply = control_run(cl->control->d, cl, &req);
        if (!reply) {
                drop_reply_fds(cl);
                reply_error(cl, ENOMEM, "out of memory");
                return;
        }
        if (cl->n_reply_fds > 0)
                send_with_fds(cl, reply);
        else
                control_client_send(cl->control, cl, reply);
}

/* Every complete line in the input buffer; a partial one stays. */
static void handle_lines(struct control_client *cl) {
        size_t start = 0;

        while (start < cl->in_size && !cl->broken && !cl->closing) {
                char *nl = memchr(cl->in + start, '\n', cl->in_size - start);
                size_t n;

                if (!nl)
                        break;
                n = (size_t) (nl - (cl->in + start));
                /* Blank lines (a trailing "\r\n" aside) are keep-alives. */
                if (n > 0 && cl->in[start + n - 1] == '\r')
                        n--;
                if (n > 0 && !cl->monitor)
                        handle_line(cl, cl->in + start, n);
                start = (size_t) (nl - cl->in) + 1;
        }
        memmove(cl->in, cl->in + start, cl->in_size - start);
        cl->in_size -= start;
}

static void on_client(struct io_watch *w, uint32_t events) {
        struct control_client *cl = container_of(w, struct control_client, watch);

        if (events & EPOLLOUT)
                client_flush(cl);

        if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !cl->broken && !cl->closing) {
                ssize_t n = recv(cl->watch.fd, cl->in + cl->in_size, CONTROL_LINE_MAX - cl->in_size, MSG_DONTWAIT);

                if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                        cl->broken = true;
                else if (n == 0) {
                        /* EOF: a last line without a newline still counts
                         * (`printf '{...}' | socat`), then close once the
                         * replies are out. */
                        if (cl->in_size > 0 && !cl->monitor)
                                handle_line(cl, cl->in, cl->in_size);
                        cl->in_size = 0;
                        cl->closing = true;
                } else if (n > 0) {
                        cl->active_usec = now_usec();
                        cl->in_size += (size_t) n;
                        handle_lines(cl);
                        if (cl->in_size == CONTROL_LINE_MAX) {
                                char msg[96];

                                snprintf(msg, sizeof(msg), "request line longer than %u bytes; closing the connection",
                                         CONTROL_LINE_MAX - 1);
                                log_notice("Control client (pid %d): %s.", (int) cl->pid, msg);
                                reply_error(cl, E2BIG, msg);
                                cl->in_size = 0;
                                cl->closing = true;
                        }
                }
        }

        if (cl->broken || (cl->closing && cl->out_size == cl->out_offset) ||
            ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN)))
                client_free(cl);
}

/* Whether a new connection of uid stays within the limits. Root's always
 * does: a group member's idle connections must not lock it out. */
static bool client_allowed(const struct control *c, uid_t uid) {
        unsigned n_others = 0, n_uid = 0;
        const struct control_client *cl;

        if (uid == 0)
                return true;
        DL_FOREACH(c->clients, cl) {
                n_others += cl->uid != 0;
                n_uid += cl->uid == uid;
        }
        return n_others < CONTROL_CLIENTS_MAX && n_uid < CONTROL_CLIENTS_PER_UID;
}

/* One line per CONTROL_REFUSAL_LOG_USEC at most: connecting is all it
 * takes to cause one. */
static void client_refuse(struct control *c, int fd, const struct ucred *cred) {
        static const char busy[] = "{\"ok\":false,\"error\":\"too many clients of this user\",\"errno\":16}\n";
        uint64_t now = now_usec();

        (void) send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        c->n_refused++;
        c->n_refused_unlogged++;
        if (c->refusal_logged_usec != 0 && now - c->refusal_logged_usec < CONTROL_REFUSAL_LOG_USEC)
                return;
        log_warning("Control socket: refused %" PRIu64 " connection(s) over the limits (%u per user, %u of users "
                    "other than root); the last from pid %d, uid %u.",
                    c->n_refused_unlogged, CONTROL_CLIENTS_PER_UID, CONTROL_CLIENTS_MAX, (int) cred->pid,
                    (unsigned) cred->uid);
        c->n_refused_unlogged = 0;
        c->refusal_logged_usec = now;
}

static int client_new(struct control *c, int fd) {
        _cleanup_close_ int owned = fd;
        struct control_client *cl;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return negative_errno();
        if (!client_allowed(c, cred.uid)) {
                client_refuse(c, fd, &cred);
                return -EBUSY;
        }

        cl = calloc(1, sizeof(*cl));
        if (!cl)
                return -ENOMEM;
        cl->in = malloc(CONTROL_LINE_MAX);
        if (!cl->in) {
                free(cl);
                return -ENOMEM;
        }
        cl->control = c;
        cl->uid = cred.uid;
        cl->pid = cred.pid;
        cl->watch = (struct io_watch){ .fd = TAKE_FD(owned), .fn = on_client };
        cl->events = EPOLLIN;
        cl->active_usec = now_usec();
        DL_APPEND(c->clients, cl);
        c->n_clients++;
        r = loop_watch(c->d->loop, &cl->watch, EPOLLIN);
        if (r < 0) {
                client_free(cl);
                return r;
        }
        return 0;
}

static void on_listen(struct io_watch *w, uint32_t events) {
        struct control *c = container_of(w, struct control, listen);

        /* A few per wakeup: one connecting storm must not starve the
         * FUSE exits and device events waiting behind it. */
        for (int i = 0; i < 16; i++) {
                int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), r;

                if (fd < 0) {
                        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                                log_warning_errno(errno, "Control socket: accept failed: %m");
                        return;
                }
                r = client_new(c, fd);
                if (r < 0 && r != -EBUSY)
                        log_warning_errno(r, "Control socket: failed to take a client: %m");
        }
}

/* Idle clients hold a connection slot for nothing. One with replies
 * queued is not idle while it reads them (client_flush); a monitor waits
 * for events by design. */
static void on_idle_timer(struct io_watch *w, uint32_t events) {
        struct control *c = container_of(w, struct control, idle_timer);
        struct control_client *cl;
        uint64_t expirations, now = now_usec();

        (void) read(w->fd, &expirations, sizeof(expirations));
        DL_FOREACH(c->clients, cl)
                if (!cl->monitor && !cl->broken && cl->out_size == cl->out_offset &&
                    now - cl->active_usec >= c->idle_usec) {
                        log_debug("Control client (pid %d, uid %u): idle for %" PRIu64 " s; disconnecting.",
                                  (int) cl->pid, (unsigned) cl->uid, c->idle_usec / 1000000U);
                        client_break(cl);
                }
}

static int idle_timer_start(struct control *c) {
        uint64_t period = c->idle_usec / 2 ?: 1;
        struct itimerspec spec = {
                .it_interval = { .tv_sec = (time_t) (period / 1000000U), .tv_nsec = (long) (period % 1000000U) * 1000 },
        };
        int fd;

        spec.it_value = spec.it_interval;
        fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        c->idle_timer = (struct io_watch){ .fd = fd, .fn = on_idle_timer };
        if (timerfd_settime(fd, 0, &spec, NULL) < 0)
                return negative_errno();
        return loop_watch(c->d->loop, &c->idle_timer, EPOLLIN);
}

/* Someone answering there already means another devsieved serves this
 * runtime directory: do not steal its socket. */
static int check_not_in_use(const struct sockaddr_un *sa) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return negative_errno();
        if (connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) >= 0)
                return -EADDRINUSE;
        return 0;
}

int control_check_unused(const char *runtime_dir) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/devsieved.sock", runtime_dir) >=
            sizeof(sa.sun_path))
                return log_error_errno(ENAMETOOLONG, "Control socket path %s/devsieved.sock is too long.",
                                       runtime_dir);
        if (check_not_in_use(&sa) == -EADDRINUSE)
                return log_error_errno(EADDRINUSE, "Another devsieved already serves %s.", sa.sun_path);
        return 0;
}

static int listen_socket(struct control *c, const struct control_options *o) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        mode_t old_umask;
        int r;

        if (strlen(c->path) >= sizeof(sa.sun_path))
                return log_error_errno(ENAMETOOLONG, "Control socket path %s is too long.", c->path);
        strcpy(sa.sun_path, c->path);
        r = check_not_in_use(&sa);
        if (r < 0)
                return log_error_errno(r, "Another devsieved already serves %s.", c->path);
        if (unlink(c->path) < 0 && errno != ENOENT)
                return log_error_errno(errno, "Failed to remove the stale %s: %m", c->path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        /* The umask makes the socket 0600 from the start: no window in
         * which another user could connect. */
        old_umask = umask(0177);
        r = bind(fd, (const struct sockaddr *) &sa, sizeof(sa)) < 0 ? negative_errno() : 0;
        umask(old_umask);
        if (r < 0)
                return log_error_errno(r, "Failed to bind %s: %m", c->path);
        if (o->socket_gid != (gid_t) -1 && (chown(c->path, 0, o->socket_gid) < 0 || chmod(c->path, 0660) < 0))
                return log_error_errno(errno, "Failed to give %s to group %u: %m", c->path, (unsigned) o->socket_gid);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "Failed to listen on %s: %m", c->path);

        c->listen = (struct io_watch){ .fd = TAKE_FD(fd), .fn = on_listen };
        return 0;
}

int control_new(struct daemon *d, const struct control_options *o, struct control **ret) {
        _cleanup_(control_freep) struct control *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->d = d;
        c->listen.fd = c->idle_timer.fd = -EBADF;
        c->idle_usec = (uint64_t) (o->idle_timeout_sec ?: CONTROL_IDLE_TIMEOUT_SEC) * 1000000U;
        if (asprintf(&c->path, "%s/devsieved.sock", d->runtime_dir) < 0) {
                c->path = NULL;
                return -ENOMEM;
        }
        r = listen_socket(c, o);
        if (r < 0)
                return r;
        r = loop_watch(d->loop, &c->listen, EPOLLIN);
        if (r < 0)
                return r;
        r = idle_timer_start(c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

struct control *control_free(struct control *c) {
        struct control_client *cl, *tmp;

        if (!c)
                return NULL;
        /* The listener first: a client that saw its connection close
         * (devsieve upgrade) knows that whatever answers next is a new
         * process. */
        if (c->listen.fd >= 0) {
                loop_unwatch(c->d->loop, &c->listen);
                safe_close(c->listen.fd);
                /* Only our own socket: the check in listen_socket() makes
                 * sure the path was not someone else's. */
                (void) unlink(c->path);
        }
        DL_FOREACH_SAFE(c->clients, cl, tmp)
                client_free(cl);
        if (c->idle_timer.fd >= 0) {
                loop_unwatch(c->d->loop, &c->idle_timer);
                safe_close(c->idle_timer.fd);
        }
        json_decref(c->pending);
        free(c->path);
        free(c);
        return NULL;
}

unsigned control_n_clients(const struct control *c) {
        return c->n_clients;
}

uint64_t control_n_refused(const struct control *c) {
        return c->n_refused;
}

unsigned control_n_monitors(const struct control *c) {
        return c->n_monitors;
}

void control_client_set_monitor(struct control_client *cl, const char *container_name) {
        if (!cl->monitor)
                cl->control->n_monitors++;
        cl->monitor = true;
        free(cl->monitor_name);
        cl->monitor_name = container_name ? strdup(container_name) : NULL;
        if (container_name && !cl->monitor_name)
                client_break(cl);
}
