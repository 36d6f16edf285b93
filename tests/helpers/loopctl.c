/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdbool.h>
#include <sys/ioctl.h>

#include "macro.h"

/* loopctl add [N]   creates a new loop device and prints its node
 * loopctl remove N  removes loop device N
 *
 * Tests need a device that appears (an "add" uevent) and that nothing else on
 * the machine uses; losetup -f would hand out an existing idle device. Without
 * N the index is the first free one from FIRST_INDEX up, far above the
 * handful a system creates at boot. */

#define FIRST_INDEX 1000
#define MAX_TRIES 1000

static int parse_index(const char *s, int *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < 0 || v > INT_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

static int loop_add(int fd, int index, bool search) {
        for (int i = 0; i < (search ? MAX_TRIES : 1); i++) {
                int r = ioctl(fd, LOOP_CTL_ADD, index + i);
                if (r >= 0)
                        return r;
                /* Another test may have taken it meanwhile: try the next. */
                if (errno != EEXIST || !search)
                        return negative_errno();
        }
        return -ENOSPC;
}

static int usage(void) {
        fprintf(stderr, "Usage: loopctl add [N]\n       loopctl remove N\n");
        return 2;
}

int main(int argc, char *argv[]) {
        _cleanup_close_ int fd = -EBADF;
        int index = FIRST_INDEX, r;

        if (argc < 2 || argc > 3)
                return usage();
        if (argc == 3 && parse_index(argv[2], &index) < 0) {
                fprintf(stderr, "loopctl: invalid loop device number '%s'\n", argv[2]);
                return 2;
        }

        fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "loopctl: cannot open /dev/loop-control: %m\n");
                return 1;
        }

        if (streq(argv[1], "add")) {
                r = loop_add(fd, index, argc == 2);
                if (r < 0) {
                        errno = -r;
                        fprintf(stderr, "loopctl: cannot add loop device %d%s: %m\n", index,
                                argc == 2 ? " or above" : "");
                        return 1;
                }
                printf("/dev/loop%d\n", r);
                return 0;
        }

        if (streq(argv[1], "remove") && argc == 3) {
                if (ioctl(fd, LOOP_CTL_REMOVE, index) < 0) {
                        fprintf(stderr, "loopctl: cannot remove loop device %d: %m\n", index);
                        return 1;
                }
                return 0;
        }

        return usage();
}
