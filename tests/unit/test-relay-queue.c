/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The relay's queues and transports on real sockets, driven by a bare
 * epoll loop: refusal of the host's netns, socket mode's order, numbering,
 * bounded queue (newest dropped, counted), hang-ups and injected events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon/relay-internal.h"
#include "strv.h"
#include "loop.h"

struct fixture {
        struct loop *loop;
        char dir[64];
        struct container c;
        struct relay_target target;
        struct device device;
        struct visible_device v;
        struct relay *relay;
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        assert_int_equal(loop_new(&f->loop), 0);
        strcpy(f->dir, "/tmp/test-relay-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->c.name = "t";
        idmap_identity(&f->c.uid_map);
        idmap_identity(&f->c.gid_map);
        f->target = (struct relay_target){ .name = f->c.name, .container = &f->c, .dir = f->dir, .pidfd = -EBADF };
        assert_int_equal(strv_extend(&f->device.properties, "DEVPATH=/devices/virtual/block/loop7"), 0);
        assert_int_equal(strv_extend(&f->device.properties, "SUBSYSTEM=block"), 0);
        assert_int_equal(strv_extend(&f->device.properties, "DEVNAME=loop7"), 0);
        f->v = (struct visible_device){ .device = &f->device, .node = "disks/mine" };
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        relay_free(f->relay);
        loop_free(f->loop);
        strv_free(f->device.properties);
        assert_int_equal(rmdir(f->dir), 0); /* the socket is gone with the relay */
        free(f);
        return 0;
}

static void test_netlink_refuses_host_netns(void **state) {
        struct fixture *f = *state;

        f->target.pid = getpid();
        assert_int_equal(relay_new(f->loop, &f->target, RELAY_NETLINK, &f->relay), -EPERM);
        assert_null(f->relay);
        /* auto: the host's namespace gets a socket instead. */
        assert_int_equal(relay_new(f->loop, &f->target, RELAY_AUTO, &f->relay), 0);
        assert_string_equal(f->relay->mode == RELAY_SOCKET ? "socket" : "netlink", "socket");
        f->target.pid = 0;
        f->relay = relay_free(f->relay);
        assert_int_equal(relay_new(f->loop, &f->target, RELAY_AUTO, &f->relay), -ESRCH);
}

static int connect_client(struct fixture *f) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct relay_stats st;
        unsigned before;
        int fd;

        relay_get_stats(f->relay, &st);
        before = st.listeners;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/uevent.sock", f->dir);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        while (relay_get_stats(f->relay, &st), st.listeners == before)
                assert_true(loop_run_once(f->loop, 1000) > 0);
        return fd;
}

static void apply_visible(struct fixture *f, unsigned n) {
        struct delta d = { .kind = DELTA_VISIBLE, .device = &f->device, .new = &f->v };

        for (unsigned i = 0; i < n; i++)
                relay_apply(f->relay, &d, 1);
}

/* The SEQNUM of the next datagram, or 0 when none is waiting. */
static unsigned long receive_seqnum(int fd, char *devname, size_t devname_size) {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        unsigned long seqnum = 0;

        if (n < 0)
                return 0;
        assert_int_equal(buf[n - 1], '\0');
        for (const char *p = buf + strlen(buf) + 1; p < buf + n; p += strlen(p) + 1) {
                if (startswith(p, "SEQNUM="))
                        seqnum = strtoul(p + 7, NULL, 10);
                if (devname && startswith(p, "DEVNAME="))
                        snprintf(devname, devname_size, "%s", p + 8);
        }
        return seqnum;
}

static void test_socket_order_and_overflow(void **state) {
        struct fixture *f = *state;
        struct relay_stats st;
        unsigned long expected = 1, seqnum;
        char devname[64] = "";
        int fd;

        assert_int_equal(relay_new(f->loop, &f->target, RELAY_SOCKET, &f->relay), 0);
        fd = connect_client(f);

        /* More than the socket buffer and the queue hold, nobody reading. */
        apply_visible(f, 3 * RELAY_QUEUE_MAX);
        relay_get_stats(f->relay, &st);
        assert_string_equal(st.mode, "socket");
        assert_int_equal(st.listeners, 1);
        assert_int_equal(st.queued, RELAY_QUEUE_MAX);
        assert_true(st.dropped > 0);
        assert_int_equal(st.relayed + st.queued + st.dropped, 3 * RELAY_QUEUE_MAX);

        /* Reading drains the queue through EPOLLOUT: what arrives is the
         * unbroken prefix 1..N, the newest were dropped. */
        for (;;) {
                while ((seqnum = receive_seqnum(fd, devname, sizeof(devname))) > 0)
                        assert_int_equal(seqnum, expected++);
                relay_get_stats(f->relay, &st);
                if (st.queued == 0)
                        break;
                assert_true(loop_run_once(f->loop, 1000) > 0);
        }
        while ((seqnum = receive_seqnum(fd, devname, sizeof(devname))) > 0)
                assert_int_equal(seqnum, expected++);
        assert_int_equal(expected - 1, st.relayed);
        assert_int_equal(expected - 1 + st.dropped, 3 * RELAY_QUEUE_MAX);
        assert_string_equal(devname, "disks/mine");

        /* It goes on after the overflow, numbering every event. */
        apply_visible(f, 1);
        assert_int_equal(receive_seqnum(fd, NULL, 0), 3 * RELAY_QUEUE_MAX + 1);
        close(fd);
}

static void test_socket_listeners(void **state) {
        struct fixture *f = *state;
        struct relay_stats st;
        int a, b;

        assert_int_equal(relay_new(f->loop, &f->target, RELAY_SOCKET, &f->relay), 0);
        /* Before anyone listens: numbered, not queued. */
        apply_visible(f, 2);
        a = connect_client(f);
        b = connect_client(f);
        apply_visible(f, 1);
        assert_int_equal(receive_seqnum(a, NULL, 0), 3);
        assert_int_equal(receive_seqnum(b, NULL, 0), 3);

        /* A hang-up is noticed by the loop; the other listener stays. */
        close(a);
        while (relay_get_stats(f->relay, &st), st.listeners == 2)
                assert_true(loop_run_once(f->loop, 1000) > 0);
        assert_int_equal(st.listeners, 1);

        /* An injected event is in the view already: DEVNAME as given. */
        char **p = NULL;
        assert_int_equal(strv_extend(&p, "ACTION=change"), 0);
        assert_int_equal(strv_extend(&p, "DEVPATH=/devices/virtual/block/loop7"), 0);
        assert_int_equal(strv_extend(&p, "DEVNAME=own/name"), 0);
        assert_int_equal(strv_extend(&p, "SYNTH_UUID=0"), 0);
        assert_int_equal(relay_inject(f->relay, p), 0);
        char devname[64] = "";
        assert_int_equal(receive_seqnum(b, devname, sizeof(devname)), 4);
        assert_string_equal(devname, "own/name");

        p = NULL;
        assert_int_equal(strv_extend(&p, "ACTION=change"), 0);
        assert_int_equal(relay_inject(f->relay, p), -EINVAL);
        close(b);
}

struct killer {
        struct io_watch watch;
        struct loop *loop;
        struct relay **relay;
};

static void on_killer(struct io_watch *w, uint32_t events) {
        struct killer *k = container_of(w, struct killer, watch);

        loop_unwatch(k->loop, w);
        *k->relay = relay_free(*k->relay);
}

/* A container's process exits while its listener hangs up: both in one
 * epoll batch, the relay freed by the first handler. The listener's event
 * must not reach the freed relay (ASan would say so). */
static void test_teardown_with_pending_events(void **state) {
        struct fixture *f = *state;
        struct killer k = { .loop = f->loop, .relay = &f->relay };
        int pipefd[2], client;

        assert_int_equal(relay_new(f->loop, &f->target, RELAY_SOCKET, &f->relay), 0);
        client = connect_client(f);
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        k.watch = (struct io_watch){ .fd = pipefd[0], .fn = on_killer };
        assert_int_equal(loop_watch(f->loop, &k.watch, EPOLLIN), 0);
        /* Ready in this order: the pid's exit first, then the hang-up. */
        assert_int_equal(write(pipefd[1], "x", 1), 1);
        close(client);
        /* Both in one batch, or the test proves nothing. */
        assert_int_equal(loop_run_once(f->loop, 1000), 2);
        assert_null(f->relay);
        close(pipefd[0]);
        close(pipefd[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_netlink_refuses_host_netns, setup, teardown),
                cmocka_unit_test_setup_teardown(test_socket_order_and_overflow, setup, teardown),
                cmocka_unit_test_setup_teardown(test_socket_listeners, setup, teardown),
                cmocka_unit_test_setup_teardown(test_teardown_with_pending_events, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
