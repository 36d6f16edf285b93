/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ns-run: a small container for tests.
 *
 *   ns-run [--uid-base N] [--dev DIR] [--sys DIR] [--net] [--pidfile F] -- CMD [ARGS]
 *
 * Makes a mount namespace (propagation slave, so later host mounts below
 * the bound views still arrive), binds DIR at /dev and /sys there as host
 * root (the mounts end up locked for the container), then a user namespace
 * whose root is host uid/gid N (default 100000, 65536 ids), and with --net
 * a network namespace owned by that user namespace. CMD runs as the
 * container's root. The host's / stays visible: tests use host binaries.
 * Exits with CMD's status. --pidfile gets the container's pid once it is
 * fully set up (for nsenter -t PID -U -m -n, or devsieve attach). */
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child;

static void forward(int sig) {
        kill(child, SIGKILL);
}

static void die(const char *what) {
        perror(what);
        _exit(125);
}

static void write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
                die(path);
        close(fd);
}

static void bind(const char *from, const char *to) {
        if (mount(from, to, NULL, MS_BIND | MS_REC, NULL) < 0)
                die(to);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "uid-base", required_argument, NULL, 'u' }, { "dev", required_argument, NULL, 'd' },
                { "sys", required_argument, NULL, 's' },      { "net", no_argument, NULL, 'n' },
                { "pidfile", required_argument, NULL, 'p' },  {},
        };
        const char *dev = NULL, *sys = NULL, *pidfile = NULL;
        unsigned long base = 100000;
        bool net = false;
        int to_parent[2], to_child[2], opt, status;
        char c, map[64], path[64];
        pid_t pid;

        while ((opt = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (opt) {
                case 'u': base = strtoul(optarg, NULL, 10); break;
                case 'd': dev = optarg; break;
                case 's': sys = optarg; break;
                case 'n': net = true; break;
                case 'p': pidfile = optarg; break;
                default: return 125;
                }
        if (optind >= argc) {
                fprintf(stderr, "usage: ns-run [--uid-base N] [--dev DIR] [--sys DIR] [--net] [--pidfile F] -- CMD\n");
                return 125;
        }
        if (pipe2(to_parent, O_CLOEXEC) < 0 || pipe2(to_child, O_CLOEXEC) < 0)
                die("pipe");

        pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (unshare(CLONE_NEWNS) < 0)
                        die("unshare(CLONE_NEWNS)");
                if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                        die("make / rslave");
                if (dev)
                        bind(dev, "/dev");
                if (sys)
                        bind(sys, "/sys");
                if (unshare(CLONE_NEWUSER) < 0)
                        die("unshare(CLONE_NEWUSER)");
                /* The parent writes our maps: only it is root in their owner. */
                if (write(to_parent[1], "u", 1) != 1 || read(to_child[0], &c, 1) != 1)
                        die("sync");
                if (setgid(0) < 0 || setuid(0) < 0)
                        die("become the container's root");
                if (net && unshare(CLONE_NEWNET) < 0)
                        die("unshare(CLONE_NEWNET)");
                if (write(to_parent[1], "r", 1) != 1)
                        die("sync");
                execvp(argv[optind], argv + optind);
                die(argv[optind]);
        }

        if (read(to_parent[0], &c, 1) != 1)
                return 125;
        snprintf(map, sizeof(map), "0 %lu 65536\n", base);
        snprintf(path, sizeof(path), "/proc/%d/uid_map", (int) pid);
        write_file(path, map);
        snprintf(path, sizeof(path), "/proc/%d/setgroups", (int) pid);
        write_file(path, "deny");
        snprintf(path, sizeof(path), "/proc/%d/gid_map", (int) pid);
        write_file(path, map);
        if (write(to_child[1], "g", 1) != 1 || read(to_parent[0], &c, 1) != 1)
                return 125;
        if (pidfile) {
                FILE *f = fopen(pidfile, "we");
                if (!f)
                        die(pidfile);
                fprintf(f, "%d\n", (int) pid);
                fclose(f);
        }

        /* Pass termination on, so a test's cleanup reaches CMD. */
        child = pid;
        signal(SIGTERM, forward);
        signal(SIGINT, forward);
        while (waitpid(pid, &status, 0) < 0)
                ;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
