/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "holder.h"
#include "log.h"

/* Messages are SOCK_SEQPACKET datagrams, one line of text each, with at
 * most one descriptor:
 *
 *   daemon -> holder   keep NAME CONNECTION SLOT GENERATION   + fd
 *                      slot NAME SLOT
 *                      give
 *                      quit
 *   holder -> daemon   held NAME CONNECTION SLOT GENERATION   + fd   (one per kept fd, after give)
 *                      end PID                                       (after the last)
 *                      bye                                           (then it exits)
 *
 * GENERATION is the kept connection's generation of file handles
 * (fs/handles.h): the holder raises it at every give, before any daemon
 * that is given the connection can hand out a handle, so a daemon killed
 * at any moment never leaves the next one its own generation.
 */

#define HOLDER_MAX_FDS 8
#define MSG_MAX 256

struct held {
        char name[16];
        char connection[32];
        uint64_t next_slot;
        uint64_t generation;
        int fd;
};

struct holder {
        int fd; /* our connection */
        pid_t pid;
        bool adopted;
        struct held held[HOLDER_MAX_FDS]; /* what a previous devsieved left */
        size_t n_held;
};

/* --- Messages ----------------------------------------------------------- */

static int send_msg(int sock, const char *text, int fd) {
        char control[CMSG_SPACE(sizeof(int))] = {};
        struct iovec iov = { .iov_base = (void *) text, .iov_len = strlen(text) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (fd >= 0) {
                struct cmsghdr *c;

                mh.msg_control = control;
                mh.msg_controllen = sizeof(control);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? negative_errno() : 0;
}

/* A line into buf (NUL-terminated) and the descriptor that came with it
 * (-EBADF when none). 0 at the end of the connection. */
static int recv_msg(int sock, char buf[MSG_MAX], int *ret_fd) {
        char control[CMSG_SPACE(sizeof(int))] = {};
        struct iovec iov = { .iov_base = buf, .iov_len = MSG_MAX - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control) };
        struct cmsghdr *c;
        ssize_t n;

        *ret_fd = -EBADF;
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return negative_errno();
        for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        buf[n] = '\0';
        /* A truncated message is not one we sent. */
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
                *ret_fd = safe_close(*ret_fd);
                return -EBADMSG;
        }
        return n == 0 ? 0 : 1;
}

/* "NAME CONNECTION SLOT GENERATION" */
static int parse_held(const char *s, struct held *ret) {
        struct held h = { .fd = -EBADF };

        if (sscanf(s, "%15s %31s %" SCNu64 " %" SCNu64, h.name, h.connection, &h.next_slot, &h.generation) != 4)
                return -EBADMSG;
        *ret = h;
        return 0;
}

/* --- The holder process ------------------------------------------------- */

struct holder_state {
        struct held held[HOLDER_MAX_FDS];
        size_t n;
};

static struct held *state_find(struct holder_state *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->held[i].name, name))
                        return &s->held[i];
        return NULL;
}

static void state_keep(struct holder_state *s, const struct held *h) {
        struct held *old = state_find(s, h->name);

        if (!old) {
                if (s->n == HOLDER_MAX_FDS) {
                        safe_close(h->fd);
                        return;
                }
                old = &s->held[s->n++];
        } else
                safe_close(old->fd);
        *old = *h;
}

static void state_close_all(struct holder_state *s) {
        for (size_t i = 0; i < s->n; i++)
                safe_close(s->held[i].fd);
        s->n = 0;
}

static void give(struct holder_state *s, int client) {
        char line[MSG_MAX];

        for (size_t i = 0; i < s->n; i++) {
                /* Raised even if the send fails: a daemon may have got it. */
                s->held[i].generation++;
                snprintf(line, sizeof(line), "held %s %s %" PRIu64 " %" PRIu64, s->held[i].name,
                         s->held[i].connection, s->held[i].next_slot, s->held[i].generation);
                if (send_msg(client, line, s->held[i].fd) < 0)
                        return;
        }
        snprintf(line, sizeof(line), "end %d", (int) getpid());
        (void) send_msg(client, line, -EBADF);
}

/* One message of the connected daemon; false when the holder must end. */
static bool handle(struct holder_state *s, int client, const char *line, int fd) {
        struct held h;
        const char *arg;

        if ((arg = startswith(line, "keep ")) && fd >= 0 && parse_held(arg, &h) >= 0) {
                h.fd = fd;
                state_keep(s, &h);
                return true;
        }
        safe_close(fd);
        if ((arg = startswith(line, "slot "))) {
                struct held *old;
                char name[16];
                uint64_t slot;

                if (sscanf(arg, "%15s %" SCNu64, name, &slot) == 2 && (old = state_find(s, name)))
                        old->next_slot = slot;
        } else if (streq(line, "give"))
                give(s, client);
        else if (streq(line, "quit")) {
                state_close_all(s);
                (void) send_msg(client, "bye", -EBADF);
                return false;
        }
        return true;
}

/* Only root, or the user the holder runs as, may take descriptors. */
static bool peer_allowed(int client) {
        struct ucred cred;
        socklen_t len = sizeof(cred);

        return getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &len) >= 0 &&
               (cred.uid == 0 || cred.uid == geteuid());
}

/* One daemon at a time: a new one replaces the connection of the last. */
_Noreturn static void holder_main(int listen_fd) {
        struct holder_state s = {};
        int client = -EBADF;

        for (;;) {
                struct pollfd p[2] = { { .fd = listen_fd, .events = POLLIN }, { .fd = client, .events = POLLIN } };
                char line[MSG_MAX];
                int n, fd;

                /* Orphaned: wait for a daemon, not forever. */
                n = poll(p, client >= 0 ? 2 : 1, client >= 0 ? -1 : HOLDER_ORPHAN_TIMEOUT_SEC * 1000);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (p[0].revents & POLLIN) {
                        int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

                        if (c >= 0 && peer_allowed(c)) {
                                safe_close(client);
                                client = c;
                                continue;
                        }
                        safe_close(c);
                }
                if (client < 0 || !(p[1].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                n = recv_msg(client, line, &fd);
                if (n <= 0) {
                        client = safe_close(client);
                        /* The daemon died before it handed anything over. */
                        if (s.n == 0)
                                break;
                        continue;
                }
                if (!handle(&s, client, line, fd))
                        break;
        }
        state_close_all(&s);
        _exit(0);
}

/* In the child of fork(): nothing of the daemon's but the listener. */
_Noreturn static void become_holder(int listen_fd) {
        sigset_t all;
        int null;

        (void) prctl(PR_SET_NAME, "devsieve-holder");
        (void) setsid();
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_IGN);
        /* A terminal's ^C or hangup is for the daemon, which tells the
         * holder to go at its stop. */
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        /* Nobody waits for the holder's output: a pipe it kept open would
         * hold up whoever reads the daemon's. */
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                (void) dup2(null, STDIN_FILENO);
                (void) dup2(null, STDOUT_FILENO);
                (void) dup2(null, STDERR_FILENO);
        }
        if (dup2(listen_fd, 3) < 0)
                _exit(1);
        (void) close_range(4, ~0U, 0);
        holder_main(3);
}

/* --- The daemon's side -------------------------------------------------- */

/* A socket for the holder's address in runtime_dir, not yet bound or
 * connected; *sa and *len are that address. */
static int holder_socket(const char *runtime_dir, struct sockaddr_un *sa, socklen_t *len, int *ret_fd) {
        int fd;

        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        if ((size_t) snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/" HOLDER_SOCKET, runtime_dir) >=
            sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        *len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(sa->sun_path) + 1);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

static int spawn(const char *runtime_dir) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa;
        socklen_t len;
        mode_t old;
        pid_t pid;
        int r;

        r = holder_socket(runtime_dir, &sa, &len, &fd);
        if (r < 0)
                return r;
        /* A socket nobody listens on (a holder that ended). */
        (void) unlink(sa.sun_path);
        old = umask(0077);
        r = bind(fd, (struct sockaddr *) &sa, len) < 0 ? negative_errno() : 0;
        umask(old);
        if (r < 0)
                return r;
        if (listen(fd, 4) < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0)
                become_holder(fd);
        log_info("Started the holder of the views' connections (pid %d).", (int) pid);
        return 0;
}

static int connect_to(const char *runtime_dir, int *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa;
        socklen_t len;
        int r;

        r = holder_socket(runtime_dir, &sa, &len, &fd);
        if (r < 0)
                return r;
        if (connect(fd, (struct sockaddr *) &sa, len) < 0)
                return negative_errno();
        *ret = TAKE_FD(fd);
        return 0;
}

/* What the holder kept from a previous devsieved. */
static int receive_held(struct holder *h) {
        char line[MSG_MAX];
        int r, fd;

        r = send_msg(h->fd, "give", -EBADF);
        if (r < 0)
                return r;
        for (;;) {
                const char *arg;
                struct held held;

                r = recv_msg(h->fd, line, &fd);
                if (r <= 0)
                        return r < 0 ? r : -ECONNRESET;
                /* The holder's pid: SO_PEERCRED names whoever listened,
                 * the daemon that forked it. */
                if ((arg = startswith(line, "end "))) {
                        int pid;

                        if (sscanf(arg, "%d", &pid) != 1 || pid <= 0)
                                return -EBADMSG;
                        h->pid = pid;
                        return 0;
                }
                arg = startswith(line, "held ");
                if (!arg || fd < 0 || parse_held(arg, &held) < 0 || h->n_held == HOLDER_MAX_FDS) {
                        safe_close(fd);
                        continue;
                }
                held.fd = fd;
                h->held[h->n_held++] = held;
        }
}

static int holder_open_full(const char *runtime_dir, bool start, struct holder **ret) {
        _cleanup_(holder_freep) struct holder *h = calloc(1, sizeof(*h));
        int r;

        if (!h)
                return -ENOMEM;
        h->fd = -EBADF;
        r = connect_to(runtime_dir, &h->fd);
        if (start && (r == -ENOENT || r == -ECONNREFUSED)) {
                r = spawn(runtime_dir);
                if (r < 0)
                        return r;
                r = connect_to(runtime_dir, &h->fd);
        }
        if (r < 0)
                return r;
        r = receive_held(h);
        if (r < 0)
                return r;
        h->adopted = h->n_held > 0;
        *ret = TAKE_PTR(h);
        return 0;
}

int holder_open(const char *runtime_dir, struct holder **ret) {
        return holder_open_full(runtime_dir, true, ret);
}

int holder_connect(const char *runtime_dir, struct holder **ret) {
        return holder_open_full(runtime_dir, false, ret);
}

struct holder *holder_free(struct holder *h) {
        if (!h)
                return NULL;
        for (size_t i = 0; i < h->n_held; i++)
                safe_close(h->held[i].fd);
        safe_close(h->fd);
        free(h);
        return NULL;
}

int holder_take(struct holder *h, const char *name, int *ret_fd, char ret_connection[32], uint64_t *ret_next_slot,
                uint64_t *ret_generation) {
        for (size_t i = 0; i < h->n_held; i++) {
                struct held *held = &h->held[i];

                if (held->fd < 0 || !streq(held->name, name))
                        continue;
                *ret_fd = TAKE_FD(held->fd);
                memcpy(ret_connection, held->connection, sizeof(held->connection));
                *ret_next_slot = held->next_slot;
                if (ret_generation)
                        *ret_generation = held->generation;
                return 0;
        }
        return -ENOENT;
}

int holder_keep(struct holder *h, const char *name, int fd, const char *connection, uint64_t next_slot,
                uint64_t generation) {
        char line[MSG_MAX];

        snprintf(line, sizeof(line), "keep %s %s %" PRIu64 " %" PRIu64, name, connection, next_slot, generation);
        return send_msg(h->fd, line, fd);
}

int holder_set_slot(struct holder *h, const char *name, uint64_t next_slot) {
        char line[MSG_MAX];

        snprintf(line, sizeof(line), "slot %s %" PRIu64, name, next_slot);
        return send_msg(h->fd, line, -EBADF);
}

int holder_quit(struct holder *h) {
        char line[MSG_MAX];
        int r, fd;

        r = send_msg(h->fd, "quit", -EBADF);
        if (r < 0)
                return r;
        /* "bye", then the end of the connection once it exited. */
        while ((r = recv_msg(h->fd, line, &fd)) > 0)
                safe_close(fd);
        return r;
}

pid_t holder_pid(const struct holder *h) {
        return h->pid;
}

bool holder_adopted(const struct holder *h) {
        return h->adopted;
}
