/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netlink mode: events injected into the container's own network namespace
 * through NETLINK_KOBJECT_UEVENT, where its listeners (udevadm monitor,
 * libudev's "kernel" monitors) hear them as from a kernel of their own. */
#include <fcntl.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "log.h"
#include "relay-internal.h"

static int netns_fd_of(pid_t pid, int *ret) {
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        *ret = fd;
        return 0;
}

static int same_netns(int fd) {
        struct stat a, b;

        if (fstat(fd, &a) < 0 || stat("/proc/self/ns/net", &b) < 0)
                return negative_errno();
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int relay_netns_is_host(pid_t pid) {
        _cleanup_close_ int fd = -EBADF;
        int r = netns_fd_of(pid, &fd);

        return r < 0 ? r : same_netns(fd);
}

struct open_in_netns {
        int netns_fd;
        int fd;
        int error;
};

/* A socket keeps the network namespace it was made in: a thread of our own
 * enters the container's, makes it and ends, so that the main loop never
 * leaves the host's namespace and no process is forked. */
static void *open_in_netns_thread(void *userdata) {
        struct open_in_netns *o = userdata;

        if (setns(o->netns_fd, CLONE_NEWNET) < 0) {
                o->error = negative_errno();
                return NULL;
        }
        o->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
        if (o->fd < 0)
                o->error = negative_errno();
        return NULL;
}

static int open_socket_in(int netns_fd, int *ret) {
        struct open_in_netns o = { .netns_fd = netns_fd, .fd = -EBADF };
        pthread_t thread;
        int r;

        r = pthread_create(&thread, NULL, open_in_netns_thread, &o);
        if (r != 0)
                return -r;
        r = pthread_join(thread, NULL);
        if (r != 0)
                return -r;
        if (o.error < 0)
                return o.error;
        *ret = o.fd;
        return 0;
}

/* The kernel takes an injected event as a request of any type from
 * NLMSG_MIN_TYPE on, appends SEQNUM and broadcasts it to group 1 of the
 * socket's namespace. The credentials name the container's root: libudev
 * drops messages whose sender is not uid 0 in its own user namespace. No
 * NLM_F_ACK: only failures come back (on_netlink_readable). */
static int netlink_send_kernel(struct relay_sink *s, const struct relay_msg *m) {
        struct nlmsghdr header = {
                .nlmsg_len = (uint32_t) NLMSG_LENGTH(m->size),
                .nlmsg_type = NLMSG_MIN_TYPE,
                .nlmsg_flags = NLM_F_REQUEST,
        };
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        struct iovec iov[2] = {
                { .iov_base = &header, .iov_len = NLMSG_HDRLEN },
                { .iov_base = (void *) m->data, .iov_len = m->size },
        };
        union {
                struct cmsghdr header;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control = {};
        struct msghdr msg = {
                .msg_name = &kernel,
                .msg_namelen = sizeof(kernel),
                .msg_iov = iov,
                .msg_iovlen = ELEMENTSOF(iov),
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        struct ucred creds = { .pid = getpid(), .uid = s->relay->uid, .gid = s->relay->gid };

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_CREDENTIALS;
        c->cmsg_len = CMSG_LEN(sizeof(creds));
        memcpy(CMSG_DATA(c), &creds, sizeof(creds));

        return sendmsg(s->watch.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? negative_errno() : 0;
}

/* udevd's broadcast: the message as it is (no netlink header) to group 2
 * of the container's namespace, which the daemon may send to as root over
 * its user namespace. The kernel also hands the message to its own uevent
 * socket, which ignores what is no netlink request. libudev accepts it
 * from uid 0 of its own user namespace only: the credentials name the
 * container's root, as for injected events. */
static int netlink_send_udev(struct relay_sink *s, const struct relay_msg *m) {
        struct sockaddr_nl group = { .nl_family = AF_NETLINK, .nl_groups = 2 };
        struct iovec iov = { .iov_base = (void *) m->data, .iov_len = m->size };
        union {
                struct cmsghdr header;
                char buf[CMSG_SPACE(sizeof(struct ucred))];
        } control = {};
        struct msghdr msg = {
                .msg_name = &group,
                .msg_namelen = sizeof(group),
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        struct ucred creds = { .pid = getpid(), .uid = s->relay->uid, .gid = s->relay->gid };
        ssize_t n;

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_CREDENTIALS;
        c->cmsg_len = CMSG_LEN(sizeof(creds));
        memcpy(CMSG_DATA(c), &creds, sizeof(creds));

        n = sendmsg(s->watch.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        /* No listener on group 2 is no failure: nobody missed anything. */
        return n < 0 && errno != ECONNREFUSED ? negative_errno() : 0;
}

static int netlink_send(struct relay_sink *s, const struct relay_msg *m) {
        return m->udev ? netlink_send_udev(s, m) : netlink_send_kernel(s, m);
}

/* The kernel's answers to failed injections (EPERM, EINVAL): the event
 * did not reach the container. Only the kernel's (portid 0): the socket's
 * portid is visible in the container's /proc/net/netlink, and its root may
 * send to it. */
static void on_netlink_readable(struct io_watch *w, uint32_t events) {
        struct relay_sink *s = container_of(w, struct relay_sink, watch);
        char buf[4096];
        ssize_t n;

        for (;;) {
                struct sockaddr_nl from = {};
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
                struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1 };

                n = recvmsg(w->fd, &msg, MSG_DONTWAIT);
                if (n <= 0)
                        break;
                if (msg.msg_namelen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0) {
                        if (!s->relay->forgery_logged)
                                log_debug("%s: ignoring netlink messages not from the kernel (portid %u)",
                                          s->relay->name, (unsigned) from.nl_pid);
                        s->relay->forgery_logged = true;
                        continue;
                }
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                        const struct nlmsgerr *e = NLMSG_DATA(h);

                        if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) || e->error == 0)
                                continue;
                        /* Once: the same cause (rights, size) refuses them all. */
                        if (!s->relay->refusal_logged)
                                log_warning_errno(e->error, "%s: the kernel refused a relayed uevent: %m",
                                                  s->relay->name);
                        s->relay->refusal_logged = true;
                        relay_count_drops(s->relay, 1);
                }
        }
}

static int root_ids(const struct container *c, uid_t *ret_uid, gid_t *ret_gid) {
        uint32_t uid, gid;
        int r;

        r = idmap_to_host(&c->uid_map, 0, &uid);
        if (r >= 0)
                r = idmap_to_host(&c->gid_map, 0, &gid);
        if (r < 0)
                return r;
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

int relay_netlink_open(struct relay *r, const struct relay_target *t) {
        _cleanup_close_ int netns_fd = -EBADF, fd = -EBADF;
        int k;

        if (t->pid <= 0)
                return -ESRCH;
        k = netns_fd_of(t->pid, &netns_fd);
        if (k < 0)
                return k;
        /* The pid is ours only while the pidfd says the process lives. */
        if (t->pidfd >= 0 && syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) < 0)
                return -ESRCH;
        k = same_netns(netns_fd);
        if (k < 0)
                return k;
        if (k > 0)
                return -EPERM; /* every host listener would hear the container's events */
        k = root_ids(t->container, &r->uid, &r->gid);
        if (k < 0)
                return k;

        k = open_socket_in(netns_fd, &fd);
        if (k < 0)
                return k;
        k = relay_sink_new(r, fd, netlink_send, &r->netlink);
        if (k < 0)
                return k;
        TAKE_FD(fd);
        r->netlink->watch.fn = on_netlink_readable;
        r->udev_events = true;
        return relay_sink_watch(r->netlink, EPOLLIN);
}
