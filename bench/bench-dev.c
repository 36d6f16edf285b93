/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-dev VIEW: stat of a device node and a listing of /dev in a
 * container's /dev view (VIEW, mounted by devsieved) against the host's
 * devtmpfs, measured alternately in the same run.
 *
 *   cold stat: right after dropping the kernel's dentry and inode caches
 *              (the view's next stat is a LOOKUP round trip to devsieved)
 *   warm stat: the same name again (the view answers from the kernel's
 *              cache: attributes and entries are cached for a day)
 *   lookups in a row: stat of names that do not exist, each new (a LOOKUP
 *              round trip each, asked as soon as the last one is answered,
 *              as a path walk or a stat of many names asks)
 *   readdir:   opendir + every entry + closedir (the view is asked each
 *              time), also per entry since the two hold different counts
 *   ls -l:     cold: readdir and an lstat of every entry right after
 *              dropping the caches, page cache included (where the kernel
 *              keeps the view's listing): the view answers the listing
 *              with every entry's attributes (READDIRPLUS), also per entry
 *
 * Needs root (drop_caches). bench/bench-dev.sh starts devsieved for it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define COLD_ROUNDS 200
#define WARM_ROUNDS 200000
#define READDIR_ROUNDS 5000
#define MISSING_ROUNDS 20000
#define LS_ROUNDS 20

/* what: "2" dentries and inodes, what a cold stat is about; "3" the page
 * cache too, where the kernel keeps a FUSE directory's listing. */
static void drop_caches(const char *what) {
        int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write(fd, what, 1) != 1) {
                perror("/proc/sys/vm/drop_caches");
                exit(EXIT_FAILURE);
        }
        close(fd);
}

/* Relative to an open directory: the host's /dev is two components from
 * /, the view several, and only the last one is being measured. */
static uint64_t time_stat(int dir_fd, const char *path) {
        struct stat st;
        uint64_t t = bench_now_ns();

        if (fstatat(dir_fd, path, &st, 0) < 0) {
                perror(path);
                exit(EXIT_FAILURE);
        }
        return bench_now_ns() - t;
}

/* A name no one has asked for: the view must be asked (the kernel then
 * caches its absence), devtmpfs looks in its own dentry cache. */
static uint64_t time_missing(int dir_fd, size_t i) {
        char name[64];
        struct stat st;
        uint64_t t;

        snprintf(name, sizeof(name), "bench-missing-%ld-%zu", (long) getpid(), i);
        t = bench_now_ns();
        if (fstatat(dir_fd, name, &st, 0) == 0 || errno != ENOENT) {
                perror(name);
                exit(EXIT_FAILURE);
        }
        return bench_now_ns() - t;
}

static uint64_t time_readdir(const char *path, size_t *ret_entries) {
        uint64_t t = bench_now_ns();
        DIR *d = opendir(path);
        size_t n = 0;

        if (!d) {
                perror(path);
                exit(EXIT_FAILURE);
        }
        while (readdir(d))
                n++;
        closedir(d);
        *ret_entries = n;
        return bench_now_ns() - t;
}

/* What `ls -l` does: the listing, then lstat of every name in it. */
static uint64_t time_ls_l(const char *path, size_t *ret_entries) {
        uint64_t t = bench_now_ns();
        DIR *d = opendir(path);
        struct dirent *e;
        size_t n = 0;

        if (!d) {
                perror(path);
                exit(EXIT_FAILURE);
        }
        while ((e = readdir(d))) {
                struct stat st;

                if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        perror(e->d_name);
                        exit(EXIT_FAILURE);
                }
                n++;
        }
        closedir(d);
        *ret_entries = n;
        return bench_now_ns() - t;
}

static double median_us(uint64_t *samples, size_t n) {
        return bench_percentile(samples, n, 50) / 1000.0;
}

int main(int argc, char **argv) {
        static uint64_t view_t[WARM_ROUNDS], host_t[WARM_ROUNDS];
        size_t view_entries = 0, host_entries = 0;
        int view_fd, host_fd;
        double v, h;

        if (argc != 2 || geteuid() != 0) {
                fprintf(stderr, "usage (as root): bench-dev VIEW   (a mounted /dev view with null)\n");
                return EXIT_FAILURE;
        }
        view_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        host_fd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (view_fd < 0 || host_fd < 0) {
                perror("open");
                return EXIT_FAILURE;
        }

        for (size_t i = 0; i < COLD_ROUNDS; i++) {
                drop_caches("2");
                view_t[i] = time_stat(view_fd, "null");
                drop_caches("2");
                host_t[i] = time_stat(host_fd, "null");
        }
        bench_print_header();
        bench_print_row("view: cold stat null", median_us(view_t, COLD_ROUNDS), "devtmpfs: cold stat /dev/null",
                        median_us(host_t, COLD_ROUNDS));

        /* Alternating in blocks, so that drifting load hits both alike. */
        (void) time_stat(view_fd, "null");
        for (size_t i = 0; i < WARM_ROUNDS; i += 1000) {
                for (size_t j = i; j < i + 1000; j++)
                        view_t[j] = time_stat(view_fd, "null");
                for (size_t j = i; j < i + 1000; j++)
                        host_t[j] = time_stat(host_fd, "null");
        }
        v = median_us(view_t, WARM_ROUNDS);
        h = median_us(host_t, WARM_ROUNDS);
        bench_print_row("view: warm stat null", v, "devtmpfs: warm stat /dev/null", h);

        for (size_t i = 0; i < MISSING_ROUNDS; i += 1000) {
                for (size_t j = i; j < i + 1000; j++)
                        view_t[j] = time_missing(view_fd, j);
                for (size_t j = i; j < i + 1000; j++)
                        host_t[j] = time_missing(host_fd, j);
        }
        bench_print_row("view: lookups in a row (missing names)", median_us(view_t, MISSING_ROUNDS),
                        "devtmpfs: the same names", median_us(host_t, MISSING_ROUNDS));

        for (size_t i = 0; i < READDIR_ROUNDS; i++) {
                view_t[i] = time_readdir(argv[1], &view_entries);
                host_t[i] = time_readdir("/dev", &host_entries);
        }
        v = median_us(view_t, READDIR_ROUNDS);
        h = median_us(host_t, READDIR_ROUNDS);
        bench_print_row("view: readdir", v, "devtmpfs: readdir /dev", h);
        bench_print_row("view: readdir, per entry", v / (double) view_entries, "devtmpfs: readdir, per entry",
                        h / (double) host_entries);

        for (size_t i = 0; i < LS_ROUNDS; i++) {
                drop_caches("3");
                view_t[i] = time_ls_l(argv[1], &view_entries);
                drop_caches("3");
                host_t[i] = time_ls_l("/dev", &host_entries);
        }
        v = median_us(view_t, LS_ROUNDS);
        h = median_us(host_t, LS_ROUNDS);
        bench_print_row("view: ls -l, cold", v, "devtmpfs: ls -l /dev, cold", h);
        bench_print_row("view: ls -l, cold, per entry", v / (double) view_entries, "devtmpfs: ls -l, cold, per entry",
                        h / (double) host_entries);
        printf("(entries: view %zu, devtmpfs %zu)\n", view_entries, host_entries);
        return EXIT_SUCCESS;
}
