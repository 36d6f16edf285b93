/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <poll.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client.h"
#include "fileio.h"
#include "log.h"

/* Replies are bounded by the daemon; this only guards against garbage. */
#define CLIENT_LINE_MAX (64U * 1024U * 1024U)

int client_open(const char *runtime_dir, struct client *ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;

        if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/devsieved.sock", runtime_dir) >=
            sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        *ret = (struct client){ .fd = TAKE_FD(fd) };
        return 0;
}

int client_connect(const char *runtime_dir, struct client *ret) {
        int r = client_open(runtime_dir, ret);

        if (r == -ENAMETOOLONG)
                return log_error_errno(r, "Runtime directory %s: path too long for a socket.", runtime_dir);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return log_error_errno(r, "Cannot reach devsieved at %s/devsieved.sock: %m (is it running? see "
                                          "devsieved(8))",
                                       runtime_dir);
        if (r == -EACCES || r == -EPERM)
                return log_error_errno(r,
                                       "Cannot reach devsieved at %s/devsieved.sock: %m (the control socket is root's; "
                                       "run as root, or start devsieved with --socket-group)",
                                       runtime_dir);
        if (r < 0)
                return log_error_errno(r, "Cannot reach devsieved at %s/devsieved.sock: %m", runtime_dir);
        return 0;
}

void client_done(struct client *c) {
        c->fd = safe_close(c->fd);
        for (size_t i = 0; i < c->n_fds; i++)
                safe_close(c->fds[i]);
        c->n_fds = 0;
        free(c->buf);
        c->buf = NULL;
        c->size = c->allocated = 0;
}

int client_send(struct client *c, json_t *request) {
        _cleanup_free_ char *line = json_dumps(request, JSON_COMPACT);
        int r;

        if (!line)
                return log_error_errno(ENOMEM, "Out of memory.");
        if (!strchr(line, '\n')) {
                size_t n = strlen(line);
                char *p = realloc(line, n + 2);
                if (!p)
                        return log_error_errno(ENOMEM, "Out of memory.");
                line = p;
                memcpy(line + n, "\n", 2);
        }
        r = write_all(c->fd, line, strlen(line));
        if (r < 0)
                return log_error_errno(r, "Failed to send the request to devsieved: %m");
        return 0;
}

/* One line out of the buffer, without its newline, or NULL. */
static char *take_line(struct client *c) {
        char *nl = c->size > 0 ? memchr(c->buf, '\n', c->size) : NULL, *line;
        size_t n;

        if (!nl)
                return NULL;
        n = (size_t) (nl - c->buf);
        line = strndup(c->buf, n);
        if (!line)
                return NULL;
        memmove(c->buf, nl + 1, c->size - n - 1);
        c->size -= n + 1;
        return line;
}

static ssize_t receive(struct client *c);

static int fill(struct client *c, unsigned timeout_sec) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        ssize_t n;
        int r;

        r = poll(&p, 1, timeout_sec ? (int) timeout_sec * 1000 : -1);
        if (r < 0)
                return -errno;
        if (r == 0)
                return -ETIMEDOUT;
        if (c->allocated - c->size < 4096) {
                size_t size = c->allocated ? c->allocated * 2 : 16384;
                char *buf;

                if (size > CLIENT_LINE_MAX)
                        return -EFBIG;
                buf = realloc(c->buf, size);
                if (!buf)
                        return -ENOMEM;
                c->buf = buf;
                c->allocated = size;
        }
        n = receive(c);
        if (n < 0)
                return errno == EINTR ? 1 : -errno;
        c->size += (size_t) n;
        return n > 0;
}

/* Keeps what descriptors came along; beyond CLIENT_FDS_MAX they are closed. */
static void keep_fds(struct client *c, struct msghdr *m) {
        for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(m); cmsg; cmsg = CMSG_NXTHDR(m, cmsg)) {
                size_t n;

                if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
                        continue;
                n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
                        if (c->n_fds < CLIENT_FDS_MAX)
                                c->fds[c->n_fds++] = fd;
                        else
                                safe_close(fd);
                }
        }
}

static ssize_t receive(struct client *c) {
        char control[CMSG_SPACE(sizeof(int) * CLIENT_FDS_MAX)];
        struct iovec iov = { .iov_base = c->buf + c->size, .iov_len = c->allocated - c->size };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                            .msg_controllen = sizeof(control) };
        ssize_t n = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC);

        if (n >= 0)
                keep_fds(c, &m);
        return n;
}

size_t client_take_fds(struct client *c, int *fds, size_t max) {
        size_t n = MIN(c->n_fds, max);

        memcpy(fds, c->fds, n * sizeof(int));
        memmove(c->fds, c->fds + n, (c->n_fds - n) * sizeof(int));
        c->n_fds -= n;
        return n;
}

int client_receive(struct client *c, unsigned timeout_sec, json_t **ret) {
        _cleanup_free_ char *line = NULL;
        json_error_t error;
        json_t *o;
        int r;

        while (!(line = take_line(c))) {
                r = fill(c, timeout_sec);
                if (r == -ETIMEDOUT)
                        return log_error_errno(r, "devsieved did not answer within %u s.", timeout_sec);
                if (r < 0)
                        return log_error_errno(r, "Failed to read from devsieved: %m");
                if (r == 0)
                        return 0;
        }
        o = json_loads(line, 0, &error);
        if (!o || !json_is_object(o)) {
                json_decref(o);
                return log_error_errno(EBADMSG, "devsieved sent something that is not a JSON object: %.80s", line);
        }
        *ret = o;
        return 1;
}
