/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uevent-listen: prints the uevents it receives, one line each:
 *
 *   ACTION DEVPATH uid=SENDER KEY=VALUE ...
 *
 *   uevent-listen [--socket PATH] [--udev] [--ready FILE] [--timeout SEC] [--no-read]
 *
 * Without --socket it listens like a kernel uevent client (netlink group 1
 * of its network namespace); uid is the sender's uid as this namespace sees
 * it, the one libudev checks. With --socket it connects to a devsieved
 * relay socket (uid=- there). --udev listens to udev's processed events
 * instead (netlink group 2, libudev's format) and prints their
 * properties the same way. --ready FILE is created once listening;
 * --no-read connects and never reads (a container that does not keep up).
 * Exits 0 after --timeout seconds (default 30). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
        perror(what);
        exit(2);
}

static int open_netlink(unsigned group) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = group };
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT), one = 1, size = 16 << 20;

        if (fd < 0)
                die("socket");
        if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
                die("SO_PASSCRED");
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                die("bind");
        return fd;
}

static int open_socket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        if (fd < 0)
                die("socket");
        if (strlen(path) >= sizeof(sa.sun_path))
                die("socket path too long");
        strcpy(sa.sun_path, path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                die(path);
        return fd;
}

static void print_event(const char *buf, size_t n, const char *uid) {
        const char *p = buf, *end = buf + n, *action = "?", *devpath = "?";

        /* The header repeats ACTION and DEVPATH; the properties say them. */
        for (p += strnlen(p, n) + 1; p < end; p += strnlen(p, (size_t) (end - p)) + 1) {
                if (strncmp(p, "ACTION=", 7) == 0)
                        action = p + 7;
                else if (strncmp(p, "DEVPATH=", 8) == 0)
                        devpath = p + 8;
        }
        printf("%s %s uid=%s", action, devpath, uid);
        p = buf;
        for (p += strnlen(p, n) + 1; p < end; p += strnlen(p, (size_t) (end - p)) + 1)
                if (*p && strncmp(p, "ACTION=", 7) && strncmp(p, "DEVPATH=", 8))
                        printf(" %.*s", (int) strnlen(p, (size_t) (end - p)), p);
        printf("\n");
        fflush(stdout);
}

/* libudev's header: "libudev\0", magic, header size, properties offset
 * and length, then hashes. */
static void print_udev_event(const char *buf, size_t n, const char *uid) {
        unsigned off, len;
        char *copy;

        if (n < 40 || memcmp(buf, "libudev", 8) != 0)
                return;
        memcpy(&off, buf + 16, sizeof(off));
        memcpy(&len, buf + 20, sizeof(len));
        if (off < 40 || off > n || len > n - off || len == 0)
                return;
        /* Framed like a kernel event, for print_event: a header first. */
        copy = malloc(len + 2);
        if (!copy)
                die("malloc");
        copy[0] = '@';
        copy[1] = '\0';
        memcpy(copy + 2, buf + off, len);
        print_event(copy, len + 2, uid);
        free(copy);
}

static void receive(int fd, bool netlink, bool udev) {
        char buf[16384], control[CMSG_SPACE(sizeof(struct ucred))], uid[16] = "-";
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                              .msg_controllen = sizeof(control) };
        ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return;
                if (errno == ENOBUFS) {
                        printf("ENOBUFS\n");
                        return;
                }
                die("recvmsg");
        }
        if (n == 0)
                exit(0); /* the relay went away */
        if (netlink)
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                                struct ucred cred;
                                memcpy(&cred, CMSG_DATA(c), sizeof(cred));
                                snprintf(uid, sizeof(uid), "%u", cred.uid);
                        }
        if (udev) {
                print_udev_event(buf, (size_t) n, uid);
                return;
        }
        /* libudev's processed events ("libudev\0...") are not kernel events. */
        if (strnlen(buf, (size_t) n) == (size_t) n || !memchr(buf, '@', strnlen(buf, (size_t) n)))
                return;
        print_event(buf, (size_t) n, uid);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },  { "ready", required_argument, NULL, 'r' },
                { "udev", no_argument, NULL, 'u' },
                { "timeout", required_argument, NULL, 't' }, { "no-read", no_argument, NULL, 'n' },
                {},
        };
        const char *socket_path = NULL, *ready = NULL;
        struct timespec start, now;
        bool no_read = false, udev = false;
        double timeout = 30;
        int opt, fd;

        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (opt) {
                case 's': socket_path = optarg; break;
                case 'r': ready = optarg; break;
                case 't': timeout = strtod(optarg, NULL); break;
                case 'n': no_read = true; break;
                case 'u': udev = true; break;
                default: return 2;
                }
        fd = socket_path ? open_socket(socket_path) : open_netlink(udev ? 2 : 1);
        if (ready) {
                int r = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (r < 0)
                        die(ready);
                close(r);
        }
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                double left;

                clock_gettime(CLOCK_MONOTONIC, &now);
                left = timeout - (double) (now.tv_sec - start.tv_sec) - (double) (now.tv_nsec - start.tv_nsec) / 1e9;
                if (left <= 0)
                        return 0;
                if (no_read) {
                        usleep(left > 0.1 ? 100000 : (useconds_t) (left * 1e6));
                        continue;
                }
                if (poll(&p, 1, (int) (left * 1000) + 1) > 0)
                        receive(fd, !socket_path, udev);
        }
}
