/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One file-system operation on a path of a devsieve view against the same
 * operation on a baseline path (devtmpfs, native sysfs, lxcfs), measured
 * interleaved in one process so both see the same machine:
 *
 *   bench-fs [--rounds N] [--cold] OP WHAT PATH BASELINE-NAME BASELINE-PATH
 *
 * OP is stat, read (open, read all, close) or readdir (open, list,
 * close). --cold drops the kernel's dentry and inode caches before every
 * sample (FUSE and native alike), so the path is looked up afresh. Prints
 * one row of bench/bench.h's table; --header prints the header first.
 * bench/run.sh drives it. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

typedef int (*op_fn)(const char *path);

static int op_stat(const char *path) {
        struct stat st;
        return stat(path, &st);
}

static int op_read(const char *path) {
        char buf[4096];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -1;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                ;
        close(fd);
        return n < 0 ? -1 : 0;
}

static int op_readdir(const char *path) {
        DIR *d = opendir(path);

        if (!d)
                return -1;
        while (readdir(d))
                ;
        closedir(d);
        return 0;
}

static op_fn op_from_name(const char *name) {
        return strcmp(name, "stat") == 0 ? op_stat : strcmp(name, "read") == 0 ? op_read
             : strcmp(name, "readdir") == 0 ? op_readdir : NULL;
}

static void drop_caches(void) {
        int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

        if (fd >= 0) {
                (void) !write(fd, "2", 1);
                close(fd);
        }
}

static int sample(op_fn op, const char *path, bool cold, uint64_t *ret) {
        uint64_t start;

        if (cold)
                drop_caches();
        start = bench_now_ns();
        if (op(path) < 0) {
                perror(path);
                return -1;
        }
        *ret = bench_now_ns() - start;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "rounds", required_argument, NULL, 'r' },
                { "cold", no_argument, NULL, 'c' },
                { "header", no_argument, NULL, 'h' },
                {},
        };
        unsigned rounds = 2001;
        bool cold = false;
        uint64_t *a, *b;
        op_fn op;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'r': rounds = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'c': cold = true; break;
                case 'h': bench_print_header(); break;
                default: return 2;
                }
        if (argc - optind != 5 || rounds == 0) {
                fprintf(stderr, "usage: bench-fs [--rounds N] [--cold] [--header] stat|read|readdir WHAT PATH "
                                "BASELINE-NAME BASELINE-PATH\n");
                return 2;
        }
        op = op_from_name(argv[optind]);
        if (!op) {
                fprintf(stderr, "unknown operation '%s'\n", argv[optind]);
                return 2;
        }
        a = calloc(rounds, sizeof(*a));
        b = calloc(rounds, sizeof(*b));
        if (!a || !b)
                return 1;
        /* Warm both up: the first lookup is not what a warm sample measures. */
        if (op(argv[optind + 2]) < 0 || op(argv[optind + 4]) < 0) {
                perror("warm-up");
                return 1;
        }
        for (unsigned i = 0; i < rounds; i++)
                if (sample(op, argv[optind + 2], cold, &a[i]) < 0 || sample(op, argv[optind + 4], cold, &b[i]) < 0)
                        return 1;
        bench_print_row(argv[optind + 1], bench_percentile(a, rounds, 50) / 1000.0, argv[optind + 3],
                        bench_percentile(b, rounds, 50) / 1000.0);
        free(a);
        free(b);
        return 0;
}
