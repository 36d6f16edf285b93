/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The uevent relay's costs on real network namespaces (needs root):
 *
 * 1. throughput into one container: relay_apply() of a change event (the
 *    kernel's event and udev's on group 2, as the daemon relays them), the
 *    container's listener draining, against injecting the same prebuilt
 *    kernel frame with one sendmsg (the kernel's share alone); and
 *    relay_apply() without the udev event, for what that one costs;
 * 2. fan-out of one event to 100 containers, against 100 prebuilt sends;
 * 3. latency of a real host event (a write to a loop device's uevent file)
 *    through libudev, the model and the relay to a listener in the
 *    container, against the host's own netlink listener hearing the same
 *    event: p50 and p99.
 */
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bench.h"
#include "daemon/daemon.h"
#include "daemon/relay-internal.h"
#include "daemon/udev-source.h"
#include "daemon/uevent-wire.h"
#include "strv.h"
#include "loop.h"

#define THROUGHPUT_BATCHES 15
#define THROUGHPUT_BATCH 20000
#define FANOUT 100
#define FANOUT_ROUNDS 201
#define LATENCY_ROUNDS 1001

#define CHECK(x)                                                                      \
        do {                                                                          \
                if (!(x)) {                                                           \
                        fprintf(stderr, "%s:%d: %s failed: %m\n", __FILE__, __LINE__, #x); \
                        abort();                                                      \
                }                                                                     \
        } while (0)

static struct loop *loop;
static char dir[] = "/tmp/bench-relay-XXXXXX";
static pid_t children[FANOUT + 2]; /* throughput, fan-out, latency */
static unsigned n_children;
static int loop_number = -1;

/* A container: a process in a user namespace (root = host 100000) with a
 * network namespace of its own, pausing until killed. */
static pid_t spawn_container(void) {
        int to_parent[2], to_child[2];
        char c, path[64], map[] = "0 100000 65536\n";
        pid_t pid;

        CHECK(n_children < ELEMENTSOF(children));
        CHECK(pipe(to_parent) == 0 && pipe(to_child) == 0);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (unshare(CLONE_NEWUSER) < 0 || write(to_parent[1], "u", 1) != 1 || read(to_child[0], &c, 1) != 1 ||
                    setgid(0) < 0 || setuid(0) < 0 || unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                /* A change of credentials cleared it. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() == 1 || write(to_parent[1], "n", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        CHECK(read(to_parent[0], &c, 1) == 1);
        static const char *const files[] = { "uid_map", "setgroups", "gid_map" };
        for (size_t i = 0; i < 3; i++) {
                snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, files[i]);
                int fd = open(path, O_WRONLY | O_CLOEXEC);
                const char *text = i == 1 ? "deny" : map;
                CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t) strlen(text));
                close(fd);
        }
        CHECK(write(to_child[1], "g", 1) == 1 && read(to_parent[0], &c, 1) == 1);
        close(to_parent[0]), close(to_parent[1]), close(to_child[0]), close(to_child[1]);
        children[n_children++] = pid;
        return pid;
}

struct listener_args {
        pid_t pid; /* 0: the host's namespace */
        int fd;
};

static void *open_listener_thread(void *p) {
        struct listener_args *a = p;
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
        int size = 64 << 20;

        if (a->pid > 0) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) a->pid);
                int ns = open(path, O_RDONLY | O_CLOEXEC);
                CHECK(ns >= 0 && setns(ns, CLONE_NEWNET) == 0);
                close(ns);
        }
        a->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        CHECK(a->fd >= 0);
        CHECK(setsockopt(a->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0);
        CHECK(bind(a->fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        return NULL;
}

/* A uevent listener (group 1) in pid's network namespace. */
static int open_listener(pid_t pid) {
        struct listener_args a = { .pid = pid, .fd = -1 };
        pthread_t t;

        CHECK(pthread_create(&t, NULL, open_listener_thread, &a) == 0 && pthread_join(t, NULL) == 0);
        return a.fd;
}

struct bench_container {
        struct container c;
        struct daemon_container dc;
        struct relay *relay;
};

static void container_init(struct bench_container *b, const char *name, pid_t pid) {
        *b = (struct bench_container){};
        b->c.name = (char *) name;
        CHECK(idmap_parse("0 100000 65536\n", &b->c.uid_map) == 0);
        CHECK(idmap_parse("0 100000 65536\n", &b->c.gid_map) == 0);
        b->dc = (struct daemon_container){ .container = &b->c, .dir = dir, .pid = pid, .pid_watch.fd = -EBADF };
        CHECK(relay_new(loop, &(struct relay_target){ .name = b->c.name, .dir = dir, .pid = pid, .pidfd = -EBADF, .container = &b->c },
                        RELAY_NETLINK, &b->relay) == 0);
        b->dc.relay = b->relay;
}

/* A change on a loop device, as the kernel sends it. */
struct fake_event {
        struct device device;
        struct visible_device old, new;
        struct uevent *event;
        struct delta delta;
        char *frame;
        size_t frame_size;
};

static void fake_event_init(struct fake_event *f) {
        static const char *const keys[] = {
                "ACTION=change", "DEVPATH=/devices/virtual/block/loop4000", "SUBSYSTEM=block", "MAJOR=7",
                "MINOR=4000",    "DEVNAME=loop4000", "DEVTYPE=disk", "DISKSEQ=77", "SEQNUM=123456",
        };
        char **p = NULL;

        *f = (struct fake_event){};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                CHECK(strv_extend(&p, keys[i]) >= 0);
        CHECK(uevent_new(p, &f->event) == 0);
        f->device.properties = f->event->properties;
        f->old = f->new = (struct visible_device){ .device = &f->device, .node = "disks/scratch" };
        f->delta = (struct delta){ .kind = DELTA_CHANGED, .device = &f->device, .old = &f->old, .new = &f->new,
                                   .event = f->event };
        struct uevent_view views[UEVENT_VIEWS_PER_DELTA_MAX];
        CHECK(uevent_view_for_delta(&f->delta, views) == 1);
        CHECK(uevent_view_frame(&views[0], &f->frame, &f->frame_size) == 0);
}

/* Baseline: the kernel's part alone, the prebuilt frame sent on the same
 * socket the relay uses. */
static void raw_inject(struct relay *r, const struct fake_event *f) {
        struct relay_msg *m = malloc(sizeof(*m) + f->frame_size);

        m->refs = 1;
        m->udev = false;
        m->size = f->frame_size;
        memcpy(m->data, f->frame, f->frame_size);
        CHECK(r->netlink->send(r->netlink, m) == 0);
        free(m);
}

struct drain {
        int fd;
        atomic_bool stop;
        atomic_ulong received, overruns;
};

static void *drain_thread(void *p) {
        struct drain *d = p;
        char buf[8192];

        while (!atomic_load(&d->stop)) {
                struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
                if (poll(&pfd, 1, 50) <= 0)
                        continue;
                ssize_t n = recv(d->fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n > 0)
                        atomic_fetch_add(&d->received, 1);
                else if (n < 0 && errno == ENOBUFS)
                        atomic_fetch_add(&d->overruns, 1);
        }
        return NULL;
}

static void bench_throughput(void) {
        struct bench_container b;
        struct fake_event f;
        struct drain drain = {};
        uint64_t relay_t[THROUGHPUT_BATCHES], kernel_t[THROUGHPUT_BATCHES], raw_t[THROUGHPUT_BATCHES];
        pthread_t t;
        struct relay_stats st;

        container_init(&b, "throughput", spawn_container());
        fake_event_init(&f);
        drain.fd = open_listener(b.dc.pid);
        CHECK(pthread_create(&t, NULL, drain_thread, &drain) == 0);

        for (unsigned i = 0; i < THROUGHPUT_BATCHES; i++) {
                /* Interleaved, so drift on a noisy machine hits both sides. */
                uint64_t start = bench_now_ns();
                for (unsigned k = 0; k < THROUGHPUT_BATCH; k++)
                        relay_apply(b.relay, &f.delta, 1);
                relay_t[i] = bench_now_ns() - start;
                b.relay->udev_events = false;
                start = bench_now_ns();
                for (unsigned k = 0; k < THROUGHPUT_BATCH; k++)
                        relay_apply(b.relay, &f.delta, 1);
                kernel_t[i] = bench_now_ns() - start;
                b.relay->udev_events = true;
                start = bench_now_ns();
                for (unsigned k = 0; k < THROUGHPUT_BATCH; k++)
                        raw_inject(b.relay, &f);
                raw_t[i] = bench_now_ns() - start;
        }
        usleep(200000);
        atomic_store(&drain.stop, true);
        pthread_join(t, NULL);
        relay_get_stats(b.relay, &st);

        double relay_us = bench_percentile(relay_t, THROUGHPUT_BATCHES, 50) / 1000.0 / THROUGHPUT_BATCH;
        double raw_us = bench_percentile(raw_t, THROUGHPUT_BATCHES, 50) / 1000.0 / THROUGHPUT_BATCH;
        double kernel_us = bench_percentile(kernel_t, THROUGHPUT_BATCHES, 50) / 1000.0 / THROUGHPUT_BATCH;
        bench_print_row("relay: one event (kernel + udev) into 1 container", relay_us, "sendmsg of a prebuilt frame",
                        raw_us);
        bench_print_row("relay: the kernel event alone", kernel_us, "sendmsg of a prebuilt frame", raw_us);
        printf("  throughput: relay %.0f events/s (each a kernel and a udev message), kernel events alone %.0f/s,\n"
               "  raw injection %.0f events/s; relayed %lu, dropped %lu, queued %lu;\n"
               "  the listener received %lu of %u (%lu overruns of its 64 MiB buffer)\n",
               1e6 / relay_us, 1e6 / kernel_us, 1e6 / raw_us, (unsigned long) st.relayed, (unsigned long) st.dropped,
               (unsigned long) st.queued, (unsigned long) atomic_load(&drain.received),
               3 * THROUGHPUT_BATCHES * THROUGHPUT_BATCH, (unsigned long) atomic_load(&drain.overruns));
        close(drain.fd);
        relay_free(b.relay);
        uevent_free(f.event);
        free(f.frame);
}

static void bench_fanout(void) {
        static struct bench_container bs[FANOUT];
        uint64_t relay_t[FANOUT_ROUNDS], raw_t[FANOUT_ROUNDS];
        struct fake_event f;
        char title[64];

        fake_event_init(&f);
        for (unsigned i = 0; i < FANOUT; i++)
                container_init(&bs[i], "fanout", spawn_container());
        for (unsigned r = 0; r < FANOUT_ROUNDS; r++) {
                uint64_t start = bench_now_ns();
                for (unsigned i = 0; i < FANOUT; i++)
                        relay_apply(bs[i].relay, &f.delta, 1);
                relay_t[r] = bench_now_ns() - start;
                start = bench_now_ns();
                for (unsigned i = 0; i < FANOUT; i++)
                        raw_inject(bs[i].relay, &f);
                raw_t[r] = bench_now_ns() - start;
        }
        snprintf(title, sizeof(title), "relay: one event to %u containers", FANOUT);
        bench_print_row(title, bench_percentile(relay_t, FANOUT_ROUNDS, 50) / 1000.0, "100 prebuilt sendmsg",
                        bench_percentile(raw_t, FANOUT_ROUNDS, 50) / 1000.0);
        for (unsigned i = 0; i < FANOUT; i++)
                relay_free(bs[i].relay);
        uevent_free(f.event);
        free(f.frame);
}

static void to_relay(struct container *c, const struct delta *deltas, size_t n, void *userdata) {
        struct daemon_container *dc = c->userdata;

        if (dc && dc->relay)
                relay_apply(dc->relay, deltas, n);
}

static void remove_loop(void) {
        int fd;

        if (loop_number < 0)
                return;
        fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (fd >= 0)
                (void) ioctl(fd, LOOP_CTL_REMOVE, loop_number);
        close(fd);
        loop_number = -1;
}

/* Waits for a kernel event on fd whose text contains what; its arrival time. */
static uint64_t receive_matching(int fd, const char *what) {
        char buf[8192];

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                CHECK(poll(&p, 1, 5000) == 1);
                ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
                CHECK(n > 0);
                buf[n] = '\0';
                if (strstr(buf, what))
                        return bench_now_ns();
        }
}

static void bench_latency(void) {
        static uint64_t host_t[LATENCY_ROUNDS], container_t[LATENCY_ROUNDS];
        struct bench_container b;
        struct udev_source *source = NULL;
        struct model *m = NULL;
        struct policy *p = NULL;
        struct container *c = NULL;
        char rules[256], header[64], path[96];
        int control, host_fd, container_fd, uevent_fd;

        CHECK(model_new(open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC), &m) == 0);
        CHECK(model_subscribe(m, to_relay, NULL) == 0);
        CHECK(udev_source_new(true, &source) == 0 && udev_source_enumerate(source, m, NULL) == 0);

        control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        CHECK(control >= 0);
        for (int n = 3917; loop_number < 0 && n < 4017; n++)
                if (ioctl(control, LOOP_CTL_ADD, n) >= 0)
                        loop_number = n;
        close(control);
        CHECK(loop_number >= 0);

        snprintf(rules, sizeof(rules), "allow SUBSYSTEM==\"block\", KERNEL==\"loop%d\", NAME=\"bench/disk\"\n",
                 loop_number);
        CHECK(policy_load_string("bench.rules", rules, &(struct policy_load_options){}, &p, NULL) == 0);
        CHECK(container_new("latency", p, "bench.rules", &c) == 0 && model_add_container(m, c) == 0);
        container_init(&b, "latency", spawn_container());
        c->uid_map = b.c.uid_map;
        c->gid_map = b.c.gid_map;
        c->userdata = &b.dc;
        CHECK(model_refresh_container(m, c) == 0);

        host_fd = open_listener(0);
        container_fd = open_listener(b.dc.pid);
        snprintf(header, sizeof(header), "change@/devices/virtual/block/loop%d", loop_number);
        snprintf(path, sizeof(path), "/sys/devices/virtual/block/loop%d/uevent", loop_number);
        uevent_fd = open(path, O_WRONLY | O_CLOEXEC);
        CHECK(uevent_fd >= 0);

        for (unsigned r = 0; r < LATENCY_ROUNDS; r++) {
                uint64_t start = bench_now_ns();
                CHECK(write(uevent_fd, "change", 6) == 6);
                host_t[r] = receive_matching(host_fd, header) - start;
                /* What devsieved's loop does when its monitor is readable. */
                struct pollfd pfd = { .fd = udev_source_fd(source), .events = POLLIN };
                CHECK(poll(&pfd, 1, 5000) == 1);
                CHECK(udev_source_dispatch(source, m) >= 0);
                container_t[r] = receive_matching(container_fd, header) - start;
        }
        for (unsigned percentile = 50; percentile <= 99; percentile += 49) {
                char title[64];
                snprintf(title, sizeof(title), "latency p%u: host event to container", percentile);
                bench_print_row(title, bench_percentile(container_t, LATENCY_ROUNDS, percentile) / 1000.0,
                                "host listener hears it",
                                bench_percentile(host_t, LATENCY_ROUNDS, percentile) / 1000.0);
        }

        close(uevent_fd);
        close(host_fd);
        close(container_fd);
        relay_free(b.relay);
        c->userdata = NULL;
        remove_loop();
        udev_source_free(source);
        model_free(m);
}

static void kill_children(void) {
        for (unsigned i = 0; i < n_children; i++) {
                kill(children[i], SIGKILL);
                waitpid(children[i], NULL, 0);
        }
        n_children = 0;
        rmdir(dir);
}

int main(void) {
        if (geteuid() != 0) {
                fprintf(stderr, "bench-relay needs root (network and user namespaces, loop devices).\n");
                return 77;
        }
        CHECK(mkdtemp(dir) && loop_new(&loop) == 0);
        atexit(kill_children);
        atexit(remove_loop);

        bench_print_header();
        bench_throughput();
        bench_fanout();
        bench_latency();
        loop = loop_free(loop);
        return 0;
}
