/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-hotplug --pid PID [--rounds N] [--first-index N]: how long a
 * hot-plugged loop device takes to reach a container, against how long it
 * takes to reach the host's own uevent listener, as p50 and p99 over N
 * rounds (default 50).
 *
 * Each round creates loop device I with LOOP_CTL_ADD and removes it again.
 * Three clocks start right before the ioctl (the kernel sends the uevent
 * from inside it, and the ioctl itself takes 0.3 to 300 ms here):
 *
 *   host listener   a netlink uevent socket in the host's network namespace
 *                   receives "add@.../loopI" (the baseline)
 *   container /dev  /dev/loopI exists in the container's mount namespace
 *                   (polled every ~50 us, so that much is resolution)
 *   container event a netlink uevent socket in the container's network
 *                   namespace receives the relayed "add@.../loopI"
 *
 * and the delay each adds after the host listener's time is printed too:
 * that part is devsieve's. With --cgroup DIR (the container's v1 devices
 * cgroup, which denies what devsieved did not allow) the probe joins DIR
 * and a fourth clock stops when /dev/loopI first opens (O_RDONLY): hot-plug
 * to *openable*, which devsieved's ordering makes the node's own time. PID is the container's init process; the
 * container must see block loop devices and be attached (netlink relay).
 * bench/bench-hotplug.sh sets all of that up. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/loop.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define TIMEOUT_NS (5 * 1000000000ull)
#define POLL_INTERVAL_NS 50000

static void die(const char *what) {
        perror(what);
        exit(EXIT_FAILURE);
}

static void die_msg(const char *msg) {
        fprintf(stderr, "bench-hotplug: %s\n", msg);
        exit(EXIT_FAILURE);
}

static int open_uevent_socket(void) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT), size = 16 << 20;

        if (fd < 0)
                die("netlink socket");
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                die("netlink bind");
        return fd;
}

/* A listener waits for "add@/devices/virtual/block/loopI" and stamps the
 * time it arrived; the other events of a round (bdi, remove) pass by. */
struct listener {
        int fd;
        atomic_int index; /* the loop device to wait for, -1 for none */
        _Atomic uint64_t seen_ns;
};

static bool is_add_of(const char *msg, size_t len, int index) {
        char want[64];
        int n = snprintf(want, sizeof(want), "add@/devices/virtual/block/loop%d", index);

        return (size_t) n + 1 <= len && memcmp(msg, want, (size_t) n + 1) == 0;
}

static void *listen_thread(void *arg) {
        struct listener *l = arg;
        char buf[8192];

        for (;;) {
                ssize_t n = recv(l->fd, buf, sizeof(buf) - 1, 0);
                uint64_t now = bench_now_ns();

                if (n < 0) {
                        if (errno == EINTR || errno == ENOBUFS)
                                continue;
                        die("netlink recv");
                }
                buf[n] = '\0';
                if (is_add_of(buf, (size_t) n, atomic_load(&l->index)))
                        atomic_store(&l->seen_ns, now);
        }
        return NULL;
}

static void listener_start(struct listener *l) {
        pthread_t thread;

        l->fd = open_uevent_socket();
        atomic_store(&l->index, -1);
        atomic_store(&l->seen_ns, 0);
        if (pthread_create(&thread, NULL, listen_thread, l) != 0)
                die_msg("cannot start a listener thread");
        pthread_detach(thread);
}

static void sleep_ns(uint64_t ns) {
        struct timespec ts = { .tv_sec = (time_t) (ns / 1000000000u), .tv_nsec = (long) (ns % 1000000000u) };

        nanosleep(&ts, NULL);
}

/* Until the listener has stamped an arrival or TIMEOUT_NS has passed. */
static uint64_t listener_wait(struct listener *l, uint64_t since) {
        uint64_t t;

        while ((t = atomic_load(&l->seen_ns)) == 0 && bench_now_ns() - since < TIMEOUT_NS)
                sleep_ns(1000000);
        return t;
}

/* --- The probe: a process inside the container's namespaces ------------- */

/* Requests the bench sends the probe over a pipe, and what it answers. */
enum probe_op { PROBE_WATCH_ADD, PROBE_WAIT_GONE };
struct probe_request {
        enum probe_op op;
        int index;
};
struct probe_result {
        uint64_t node_ns;  /* when /dev/loopI appeared, 0 if it did not */
        uint64_t event_ns; /* when its add event arrived, 0 if it did not */
        uint64_t open_ns;  /* when it first opened (with --cgroup), 0 if it did not */
};

static int open_namespace(pid_t pid, const char *ns) {
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int) pid, ns);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                die(path);
        return fd;
}

/* Both are opened first: once in the container's mount namespace, /proc
 * may not be the host's. */
static void enter_container(pid_t pid) {
        int net = open_namespace(pid, "net"), mnt = open_namespace(pid, "mnt");

        if (setns(net, CLONE_NEWNET) < 0 || setns(mnt, CLONE_NEWNS) < 0)
                die("setns into the container");
        close(net);
        close(mnt);
}

static bool node_opens(int index) {
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/dev/loop%d", index);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

static bool node_exists(int index) {
        char path[64];
        struct stat st;

        snprintf(path, sizeof(path), "/dev/loop%d", index);
        return stat(path, &st) == 0 && S_ISBLK(st.st_mode);
}

/* Polls for the node while the listener thread waits for the event: both
 * run from before the ioctl, so neither misses its moment. */
static struct probe_result probe_watch_add(struct listener *l, int index, int ready_fd, bool want_open) {
        struct probe_result r = {};
        uint64_t start;
        char ok = 1;

        atomic_store(&l->seen_ns, 0);
        atomic_store(&l->index, index);
        if (node_exists(index))
                die_msg("the loop device is visible before it was added");
        if (write(ready_fd, &ok, 1) != 1)
                die("probe ready");
        start = bench_now_ns();
        while (bench_now_ns() - start < TIMEOUT_NS) {
                if (r.node_ns == 0 && node_exists(index))
                        r.node_ns = bench_now_ns();
                if (want_open && r.node_ns != 0 && r.open_ns == 0 && node_opens(index))
                        r.open_ns = bench_now_ns();
                r.event_ns = atomic_load(&l->seen_ns);
                if (r.node_ns != 0 && r.event_ns != 0 && (!want_open || r.open_ns != 0))
                        break;
                sleep_ns(POLL_INTERVAL_NS);
        }
        atomic_store(&l->index, -1);
        return r;
}

static struct probe_result probe_wait_gone(int index) {
        struct probe_result r = {};
        uint64_t start = bench_now_ns();

        while (node_exists(index) && bench_now_ns() - start < TIMEOUT_NS)
                sleep_ns(POLL_INTERVAL_NS);
        r.node_ns = node_exists(index) ? 0 : bench_now_ns();
        return r;
}

/* The container's devices cgroup decides what the probe may open. */
static void join_cgroup(const char *dir) {
        char path[4096], pid[32];
        int fd, n;

        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        n = snprintf(pid, sizeof(pid), "%d", (int) getpid());
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pid, (size_t) n) != n)
                die(path);
        close(fd);
}

static void probe_main(pid_t container, const char *cgroup, int request_fd, int reply_fd) {
        struct listener l;
        struct probe_request req;

        if (cgroup)
                join_cgroup(cgroup);
        enter_container(container);
        listener_start(&l);
        while (read(request_fd, &req, sizeof(req)) == (ssize_t) sizeof(req)) {
                struct probe_result r;

                if (req.op == PROBE_WATCH_ADD)
                        r = probe_watch_add(&l, req.index, reply_fd, cgroup);
                else
                        r = probe_wait_gone(req.index);
                if (write(reply_fd, &r, sizeof(r)) != (ssize_t) sizeof(r))
                        die("probe reply");
        }
        _exit(EXIT_SUCCESS);
}

struct probe {
        pid_t pid;
        int request_fd, reply_fd;
};

static struct probe probe_start(pid_t container, const char *cgroup) {
        int to_probe[2], from_probe[2];
        struct probe p;

        if (pipe2(to_probe, O_CLOEXEC) < 0 || pipe2(from_probe, O_CLOEXEC) < 0)
                die("pipe");
        p.pid = fork();
        if (p.pid < 0)
                die("fork");
        if (p.pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(to_probe[1]);
                close(from_probe[0]);
                probe_main(container, cgroup, to_probe[0], from_probe[1]);
        }
        close(to_probe[0]);
        close(from_probe[1]);
        p.request_fd = to_probe[1];
        p.reply_fd = from_probe[0];
        return p;
}

static void probe_send(struct probe *p, enum probe_op op, int index) {
        struct probe_request req = { .op = op, .index = index };

        if (write(p->request_fd, &req, sizeof(req)) != (ssize_t) sizeof(req))
                die("probe request");
}

static void probe_read(struct probe *p, void *buf, size_t size) {
        if (read(p->reply_fd, buf, size) != (ssize_t) size)
                die_msg("the probe in the container died");
}

/* --- The rounds --------------------------------------------------------- */

struct samples {
        uint64_t *host, *node, *event, *node_after_host, *event_after_host, *open, *open_after_node;
        size_t n;
};

static uint64_t since(uint64_t t, uint64_t start) {
        return t > start ? t - start : 0;
}

static bool loop_exists(int index) {
        char path[64];

        snprintf(path, sizeof(path), "/sys/devices/virtual/block/loop%d", index);
        return access(path, F_OK) == 0;
}

static void run_round(int control_fd, struct listener *host, struct probe *p, int *index, bool want_open,
                      struct samples *s) {
        struct probe_result r;
        uint64_t start, host_ns;
        char ready;

        /* The probe learns the index before the ioctl. Another user may take
         * a free index meanwhile (EEXIST): that round's probe times out and
         * the next index is tried. */
        for (;; (*index)++) {
                if (loop_exists(*index))
                        continue;
                atomic_store(&host->seen_ns, 0);
                atomic_store(&host->index, *index);
                probe_send(p, PROBE_WATCH_ADD, *index);
                probe_read(p, &ready, 1);
                start = bench_now_ns();
                if (ioctl(control_fd, LOOP_CTL_ADD, *index) >= 0)
                        break;
                if (errno != EEXIST)
                        die("LOOP_CTL_ADD");
                probe_read(p, &r, sizeof(r));
        }
        host_ns = listener_wait(host, start);
        probe_read(p, &r, sizeof(r));
        if (host_ns == 0 || r.node_ns == 0 || r.event_ns == 0 || (want_open && r.open_ns == 0)) {
                fprintf(stderr,
                        "bench-hotplug: loop%d: host event %s, container node %s, container event %s, open %s\n",
                        *index, host_ns ? "seen" : "missing", r.node_ns ? "seen" : "missing",
                        r.event_ns ? "seen" : "missing", !want_open ? "not tried" : r.open_ns ? "done" : "denied");
                (void) ioctl(control_fd, LOOP_CTL_REMOVE, *index);
                exit(EXIT_FAILURE);
        }
        s->host[s->n] = since(host_ns, start);
        s->node[s->n] = since(r.node_ns, start);
        s->event[s->n] = since(r.event_ns, start);
        s->node_after_host[s->n] = since(r.node_ns, host_ns);
        s->event_after_host[s->n] = since(r.event_ns, host_ns);
        s->open[s->n] = since(r.open_ns, start);
        s->open_after_node[s->n] = since(r.open_ns, r.node_ns);
        s->n++;

        for (int i = 0; ioctl(control_fd, LOOP_CTL_REMOVE, *index) < 0; i++) {
                /* The kernel may still hold the device for a moment. */
                if (errno != EBUSY || i == 50)
                        die("LOOP_CTL_REMOVE");
                sleep_ns(100000000);
        }
        probe_send(p, PROBE_WAIT_GONE, *index);
        probe_read(p, &r, sizeof(r));
        if (r.node_ns == 0) {
                fprintf(stderr, "bench-hotplug: loop%d is still in the container 5 s after its removal\n", *index);
                exit(EXIT_FAILURE);
        }
        (*index)++;
}

static void print_percentiles(const char *what, uint64_t *v, const char *baseline, uint64_t *b, size_t n) {
        double v50 = bench_percentile(v, n, 50) / 1000.0, v99 = bench_percentile(v, n, 99) / 1000.0;

        if (!b) {
                printf("%-40s %10.1f %10.1f  %-24s %10s %10s %8s\n", what, v50, v99, "-", "-", "-", "-");
                return;
        }
        double b50 = bench_percentile(b, n, 50) / 1000.0, b99 = bench_percentile(b, n, 99) / 1000.0;
        printf("%-40s %10.1f %10.1f  %-24s %10.1f %10.1f %7.2fx\n", what, v50, v99, baseline, b50, b99,
               b50 > 0 ? v50 / b50 : 0.0);
}

static uint64_t *alloc_samples(size_t n) {
        uint64_t *v = calloc(n, sizeof(*v));

        if (!v)
                die("calloc");
        return v;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "pid", required_argument, NULL, 'p' },
                { "rounds", required_argument, NULL, 'r' },
                { "first-index", required_argument, NULL, 'i' },
                { "cgroup", required_argument, NULL, 'c' },
                {},
        };
        struct samples s = {};
        struct listener host;
        struct probe p;
        int rounds = 50, index = 3000, control_fd, c;
        pid_t container = 0;
        const char *cgroup = NULL;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'p':
                        container = atoi(optarg);
                        break;
                case 'r':
                        rounds = atoi(optarg);
                        break;
                case 'i':
                        index = atoi(optarg);
                        break;
                case 'c':
                        cgroup = optarg;
                        break;
                default:
                        return 2;
                }
        if (container <= 0 || rounds < 1 || index < 0)
                die_msg("usage: bench-hotplug --pid PID [--rounds N] [--first-index N] [--cgroup DIR]");

        /* The default 50 us of timer slack would double the poll interval. */
        prctl(PR_SET_TIMERSLACK, 1000);
        control_fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (control_fd < 0)
                die("/dev/loop-control");
        listener_start(&host);
        p = probe_start(container, cgroup);

        s.host = alloc_samples(rounds);
        s.node = alloc_samples(rounds);
        s.event = alloc_samples(rounds);
        s.node_after_host = alloc_samples(rounds);
        s.event_after_host = alloc_samples(rounds);
        s.open = alloc_samples(rounds);
        s.open_after_node = alloc_samples(rounds);
        for (int i = 0; i < rounds; i++)
                run_round(control_fd, &host, &p, &index, cgroup, &s);

        printf("hot-plug of a loop device, %zu rounds; times from LOOP_CTL_ADD in us\n", s.n);
        printf("%-40s %10s %10s  %-24s %10s %10s %8s\n", "measurement", "p50", "p99", "baseline", "p50", "p99",
               "ratio");
        /* Percentiles sort in place: the baseline is copied for each row. */
        uint64_t *baseline = alloc_samples(rounds);
        memcpy(baseline, s.host, s.n * sizeof(*baseline));
        print_percentiles("container /dev: node visible", s.node, "host netlink listener", baseline, s.n);
        memcpy(baseline, s.host, s.n * sizeof(*baseline));
        print_percentiles("container listener: add event", s.event, "host netlink listener", baseline, s.n);
        print_percentiles("  node visible after host event", s.node_after_host, NULL, NULL, s.n);
        print_percentiles("  container event after host event", s.event_after_host, NULL, NULL, s.n);
        if (cgroup) {
                memcpy(baseline, s.host, s.n * sizeof(*baseline));
                print_percentiles("container /dev: node openable", s.open, "host netlink listener", baseline, s.n);
                print_percentiles("  openable after node visible", s.open_after_node, NULL, NULL, s.n);
        }

        close(p.request_fd);
        waitpid(p.pid, NULL, 0);
        free(baseline);
        free(s.host);
        free(s.node);
        free(s.event);
        free(s.node_after_host);
        free(s.event_after_host);
        free(s.open);
        free(s.open_after_node);
        return EXIT_SUCCESS;
}
