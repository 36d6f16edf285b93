/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* A DEVICE argument as a user writes it on the command line. Parsing does no
 * I/O: a node path is resolved later with stat(), a sysfs path with
 * realpath(), so that the caller can name the argument in its errors. */

enum device_spec_kind {
        DEVICE_SPEC_NODE,    /* "/dev/loop0": any absolute path outside /sys */
        DEVICE_SPEC_SYSPATH, /* "/sys/devices/...", "/sys/class/block/loop0", "/sys/dev/block/7:0" */
        DEVICE_SPEC_DEVNUM,  /* "b 7:0", "c 1:3", also without the space: "b7:0" */
};

struct device_spec {
        enum device_spec_kind kind;
        const char *path; /* NODE and SYSPATH: points into the parsed string */
        char type;        /* DEVNUM: 'b' or 'c' */
        unsigned major, minor;
};

/* The largest numbers the kernel's dev_t can hold (MINORBITS = 20, and 12
 * bits of major). */
#define DEVICE_SPEC_MAJOR_MAX 0xfffU
#define DEVICE_SPEC_MINOR_MAX 0xfffffU

/* Returns 0, -EINVAL when s is none of the forms above (empty, relative,
 * "/sys" alone, a type other than b or c, a missing or non-decimal number,
 * anything trailing), or -ERANGE when a number is too big for a dev_t. */
int device_spec_parse(const char *s, struct device_spec *ret);
