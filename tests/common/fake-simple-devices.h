/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "fake-device.h"

/* Devices the policy tests share: a loop block device (a size and a
 * rotational attribute, a DEVNAME and an empty ID_FS_TYPE), /dev/null and
 * a device with nothing but a path and a name. The definitions are static:
 * include this only where all three are used. */
static struct fake_device loop0 = {
        .pd = {
                .devpath = "/devices/virtual/block/loop0",
                .subsystem = "block",
                .sysname = "loop0",
                .devtype = "disk",
                .devname = "/dev/loop0",
                .type = 'b',
                .major = 7,
                .minor = 0,
                FAKE_CALLBACKS,
        },
        .attributes = { { "size", "0" }, { "queue/rotational", "1" } },
        .properties = { { "DEVNAME", "/dev/loop0" }, { "ID_FS_TYPE", "" } },
};

static struct fake_device null_dev = {
        .pd = {
                .devpath = "/devices/virtual/mem/null",
                .subsystem = "mem",
                .sysname = "null",
                .devname = "/dev/null",
                .type = 'c',
                .major = 1,
                .minor = 3,
                FAKE_CALLBACKS,
        },
};

/* No subsystem, node, driver or callbacks: missing values compare as "". */
static struct fake_device bare = {
        .pd = {
                .devpath = "/devices/virtual/bare",
                .sysname = "bare",
        },
};
