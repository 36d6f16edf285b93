/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-cgroup [ROUNDS]: what one device cgroup rule update costs devsieved
 * per container, for cgroup v1 (a devices.allow or devices.deny write) and
 * cgroup v2 (a BPF map update or delete), each as a median of ROUNDS
 * (default 2000), against the bare write(2) of the same rule line to
 * /dev/null in the same run. Needs root; makes (and removes) a child
 * cgroup in the v1 devices hierarchy and in the cgroup2 one, with one
 * sleeping process in both. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "daemon/device-cgroup.h"
#include "policy/policy.h"

#define V1_ROOT "/sys/fs/cgroup/devices"

static void die(const char *what) {
        perror(what);
        exit(EXIT_FAILURE);
}

static int write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t) strlen(text) ? 0 : -1;
}

/* The cgroup2 mount: /sys/fs/cgroup, or /sys/fs/cgroup/unified (hybrid). */
static const char *v2_root(void) {
        struct stat st;

        return stat("/sys/fs/cgroup/cgroup.procs", &st) == 0 && stat(V1_ROOT, &st) < 0 ? "/sys/fs/cgroup"
                                                                                       : "/sys/fs/cgroup/unified";
}

/* Median microseconds of one grant (allow) and one revoke (deny) of a
 * device nobody else uses, through devsieved's own code. */
static void time_updates(struct device_cgroup *g, unsigned rounds, double *allow_us, double *deny_us) {
        uint64_t *allow = calloc(rounds, sizeof(*allow)), *deny = calloc(rounds, sizeof(*deny));
        struct device dev = { .type = 'b', .devnum = makedev(7, 1048000) };
        struct visible_device v = { .device = &dev, .access = POLICY_ACCESS_READ | POLICY_ACCESS_WRITE };
        struct delta shown = { .kind = DELTA_VISIBLE, .device = &dev, .new = &v };
        struct delta hidden = { .kind = DELTA_HIDDEN, .device = &dev, .old = &v };

        if (!allow || !deny)
                die("calloc");
        for (unsigned i = 0; i < rounds; i++) {
                struct device_cgroup_stats s;
                uint64_t t = bench_now_ns();
                if (device_cgroup_grant(g, &shown, 1) < 0)
                        die("grant");
                allow[i] = bench_now_ns() - t;
                /* A grant the baseline already covers would time nothing. */
                device_cgroup_get_stats(g, &s);
                if (s.rules != 1) {
                        fprintf(stderr, "bench-cgroup: %s: the grant made no rule\n", s.mode);
                        exit(EXIT_FAILURE);
                }
                t = bench_now_ns();
                if (device_cgroup_revoke(g, &hidden, 1) < 0)
                        die("revoke");
                deny[i] = bench_now_ns() - t;
        }
        *allow_us = bench_percentile(allow, rounds, 50) / 1000.0;
        *deny_us = bench_percentile(deny, rounds, 50) / 1000.0;
        free(allow);
        free(deny);
}

/* The look at whether someone else rewrote the cgroup, before each batch
 * that grants (one granted device in place, as in a live container). */
static double time_check(struct device_cgroup *g, unsigned rounds) {
        uint64_t *v = calloc(rounds, sizeof(*v));
        struct device dev = { .type = 'b', .devnum = makedev(7, 1048001) };
        struct visible_device vis = { .device = &dev, .access = POLICY_ACCESS_READ };
        struct delta shown = { .kind = DELTA_VISIBLE, .device = &dev, .new = &vis };
        struct device_cgroup_stats s;
        double us;

        if (!v || device_cgroup_grant(g, &shown, 1) < 0)
                die("check set-up");
        for (unsigned i = 0; i < rounds; i++) {
                uint64_t t = bench_now_ns();
                device_cgroup_check(g);
                v[i] = bench_now_ns() - t;
        }
        device_cgroup_get_stats(g, &s);
        if (s.replaced) {
                fprintf(stderr, "bench-cgroup: %s: %s\n", s.mode, strempty(s.last_error));
                exit(EXIT_FAILURE);
        }
        us = bench_percentile(v, rounds, 50) / 1000.0;
        free(v);
        return us;
}

static double time_null_write(unsigned rounds) {
        uint64_t *v = calloc(rounds, sizeof(*v));
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        double us;

        if (!v || fd < 0)
                die("/dev/null");
        for (unsigned i = 0; i < rounds; i++) {
                uint64_t t = bench_now_ns();
                if (write(fd, "b 7:1048000 rw", 14) != 14)
                        die("write");
                v[i] = bench_now_ns() - t;
        }
        us = bench_percentile(v, rounds, 50) / 1000.0;
        close(fd);
        free(v);
        return us;
}

int main(int argc, char *argv[]) {
        unsigned rounds = argc > 1 ? (unsigned) atoi(argv[1]) : 2000;
        char v1[256], v2[256], procs[300], pid_text[32];
        struct device_cgroup *g1 = NULL, *g2 = NULL;
        double a1, d1, a2, d2, c1, c2, base;
        pid_t child;
        int status;

        if (rounds < 1)
                return 2;
        if (geteuid() != 0) {
                fprintf(stderr, "bench-cgroup needs root\n");
                return 77;
        }
        snprintf(v1, sizeof(v1), V1_ROOT "/devsieve-bench-%d", (int) getpid());
        snprintf(v2, sizeof(v2), "%s/devsieve-bench-%d", v2_root(), (int) getpid());
        if (mkdir(v1, 0755) < 0 || mkdir(v2, 0755) < 0) {
                perror("mkdir of the bench cgroups");
                rmdir(v1);
                return 77;
        }
        child = fork();
        if (child < 0)
                die("fork");
        if (child == 0) {
                pause();
                _exit(0);
        }
        snprintf(pid_text, sizeof(pid_text), "%d", (int) child);
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", v1);
        if (write_file(procs, pid_text) < 0)
                die(procs);
        /* As a runtime's: nothing allowed unless said so. */
        snprintf(procs, sizeof(procs), "%s/devices.deny", v1);
        if (write_file(procs, "a") < 0)
                die(procs);
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", v2);
        if (write_file(procs, pid_text) < 0)
                die(procs);

        if (device_cgroup_new(DEVICE_CGROUP_V1, "bench", child, &g1) < 0 ||
            device_cgroup_new(DEVICE_CGROUP_V2, "bench", child, &g2) < 0) {
                struct device_cgroup_stats s;
                device_cgroup_get_stats(g1 && !g2 ? g1 : g2 ? g2 : g1, &s);
                fprintf(stderr, "bench-cgroup: %s\n", s.last_error ?: "cannot take the cgroups over");
                kill(child, SIGKILL);
                return 1;
        }
        time_updates(g1, rounds, &a1, &d1);
        time_updates(g2, rounds, &a2, &d2);
        c1 = time_check(g1, rounds);
        c2 = time_check(g2, rounds);
        base = time_null_write(rounds);

        printf("one device cgroup rule update per container, %u rounds (medians)\n", rounds);
        bench_print_header();
        bench_print_row("v1: devices.allow write (grant)", a1, "write(2) to /dev/null", base);
        bench_print_row("v1: devices.deny write (revoke)", d1, "write(2) to /dev/null", base);
        bench_print_row("v2: BPF map update (grant)", a2, "write(2) to /dev/null", base);
        bench_print_row("v2: BPF map delete (revoke)", d2, "write(2) to /dev/null", base);
        bench_print_row("v1: check (devices.list read)", c1, "write(2) to /dev/null", base);
        bench_print_row("v2: check (BPF_PROG_QUERY)", c2, "write(2) to /dev/null", base);

        device_cgroup_free(g1);
        device_cgroup_free(g2);
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        if (rmdir(v1) < 0 || rmdir(v2) < 0)
                die("rmdir of the bench cgroups");
        return 0;
}
