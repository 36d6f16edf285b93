/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's udev database (daemon/udev-db.c) on a tmpfs, as the
 * daemon's runtime directory usually is:
 *
 * 1. writing one device's entry (a change: data file written to a
 *    temporary name and renamed, its tag files checked), against the least
 *    a file-based database must do: open, write and close the same bytes;
 * 2. the same for a device without tags (no host udevd), in a database
 *    that has none;
 * 3. a device hidden and shown again (unlink, then write), against the
 *    same with plain unlink and open/write/close.
 *
 *     bench-udev-db [DIR]    (default: a new directory in /dev/shm)
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "bench.h"
#include "daemon/udev-data.h"
#include "daemon/udev-db.h"
#include "strv.h"

#define ROUNDS 31
#define BATCH 2000

#define CHECK(x)                                                                                                       \
        do {                                                                                                           \
                if (!(x)) {                                                                                            \
                        fprintf(stderr, "%s:%d: %s failed: %m\n", __FILE__, __LINE__, #x);                             \
                        abort();                                                                                       \
                }                                                                                                      \
        } while (0)

static void plain_write(int dir_fd, const char *name, const char *text, size_t size) {
        int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        CHECK(fd >= 0 && write(fd, text, size) == (ssize_t) size);
        close(fd);
}

int main(int argc, char *argv[]) {
        char tmpl[] = "/dev/shm/bench-udev-db-XXXXXX", *base = argc > 1 ? argv[1] : mkdtemp(tmpl);
        static const char *const keys[] = {
                "DEVPATH=/devices/virtual/block/loop4000",
                "SUBSYSTEM=block",
                "MAJOR=7",
                "MINOR=4000",
                "DEVNAME=/dev/loop4000",
                "DEVTYPE=disk",
                "DISKSEQ=77",
                "ID_FS_TYPE=ext4",
                "ID_FS_UUID=61f0df29-192c-4661-ba13-6c27b0524093",
                "ID_FS_USAGE=filesystem",
        };
        uint64_t db_t[ROUNDS], plain_t[ROUNDS], untagged_t[ROUNDS], db_cycle_t[ROUNDS], plain_cycle_t[ROUNDS];
        char **props = NULL, **tags = NULL, *db_dir, *plain_dir, *text;
        struct udev_db *db, *untagged_db;
        struct device *d, *untagged;
        char *untagged_dir;
        size_t size;
        int plain_fd;

        CHECK(base);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                CHECK(strv_extend(&props, keys[i]) >= 0);
        CHECK(strv_extend(&tags, "systemd") >= 0);
        struct device_snapshot snap = {props, SUBSYSTEM_KIND_CLASS, tags};
        CHECK(device_new(1, -1, &snap, &d) == 0);
        char *links[] = {"disk/by-label/data", NULL};
        struct visible_device v = {.device = d, .node = "xvdq", .symlinks = links};
        struct delta change = {.kind = DELTA_CHANGED, .device = d, .old = &v, .new = &v};
        struct delta hide = {.kind = DELTA_HIDDEN, .device = d, .old = &v};
        struct delta show = {.kind = DELTA_VISIBLE, .device = d, .new = &v};

        CHECK(asprintf(&db_dir, "%s/udev", base) > 0 && asprintf(&plain_dir, "%s/plain", base) > 0);
        CHECK(udev_db_new(db_dir, "bench", &db) == 0);
        struct device_snapshot untagged_snap = { props, SUBSYSTEM_KIND_CLASS, NULL };
        CHECK(device_new(2, -1, &untagged_snap, &untagged) == 0);
        struct visible_device uv = { .device = untagged, .node = "xvdq", .symlinks = links };
        struct delta untagged_change = { .kind = DELTA_CHANGED, .device = untagged, .old = &uv, .new = &uv };
        CHECK(asprintf(&untagged_dir, "%s/untagged", base) > 0);
        CHECK(udev_db_new(untagged_dir, "bench-untagged", &untagged_db) == 0);
        CHECK(mkdir(plain_dir, 0755) == 0);
        plain_fd = open(plain_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(plain_fd >= 0);
        CHECK(udev_data_format(&v, &text, &size) == 0);

        for (unsigned r = 0; r < ROUNDS; r++) {
                /* Interleaved, so drift on a noisy machine hits both sides. */
                uint64_t start = bench_now_ns();
                for (unsigned k = 0; k < BATCH; k++)
                        udev_db_apply(db, &change, 1);
                db_t[r] = bench_now_ns() - start;
                start = bench_now_ns();
                for (unsigned k = 0; k < BATCH; k++)
                        plain_write(plain_fd, "b7:4000", text, size);
                plain_t[r] = bench_now_ns() - start;
                start = bench_now_ns();
                for (unsigned k = 0; k < BATCH; k++)
                        udev_db_apply(untagged_db, &untagged_change, 1);
                untagged_t[r] = bench_now_ns() - start;

                start = bench_now_ns();
                for (unsigned k = 0; k < BATCH; k++) {
                        udev_db_apply(db, &hide, 1);
                        udev_db_apply(db, &show, 1);
                }
                db_cycle_t[r] = bench_now_ns() - start;
                start = bench_now_ns();
                for (unsigned k = 0; k < BATCH; k++) {
                        CHECK(unlinkat(plain_fd, "b7:4000", 0) == 0);
                        plain_write(plain_fd, "b7:4000", text, size);
                }
                plain_cycle_t[r] = bench_now_ns() - start;
        }
        struct udev_db_stats st;
        udev_db_get_stats(db, &st);
        CHECK(st.failed == 0);

        printf("udev database on %s, %zu-byte data file, one tag; medians of %u batches of %u\n", base, size, ROUNDS,
               BATCH);
        bench_print_header();
        bench_print_row("udev_db: write one device's entry", bench_percentile(db_t, ROUNDS, 50) / 1000.0 / BATCH,
                        "open+write+close", bench_percentile(plain_t, ROUNDS, 50) / 1000.0 / BATCH);
        bench_print_row("udev_db: the same, no tags anywhere", bench_percentile(untagged_t, ROUNDS, 50) / 1000.0 / BATCH,
                        "open+write+close", bench_percentile(plain_t, ROUNDS, 50) / 1000.0 / BATCH);
        bench_print_row("udev_db: hide + show one device", bench_percentile(db_cycle_t, ROUNDS, 50) / 1000.0 / BATCH,
                        "unlink + open+write+close", bench_percentile(plain_cycle_t, ROUNDS, 50) / 1000.0 / BATCH);

        udev_db_free(db);
        udev_db_free(untagged_db);
        device_free(untagged);
        free(untagged_dir);
        CHECK(unlinkat(plain_fd, "b7:4000", 0) == 0);
        close(plain_fd);
        CHECK(rmdir(plain_dir) == 0);
        if (argc <= 1)
                CHECK(rmdir(base) == 0);
        device_free(d);
        strv_free(props);
        strv_free(tags);
        free(text);
        free(db_dir);
        free(plain_dir);
        return 0;
}
