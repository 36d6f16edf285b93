/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "fs/view-delta.h"
#include "policy/device.h"
#include "uevent.h"

struct device_snapshot {
        char *const *properties; /* KEY=VALUE; DEVPATH at least */
        enum subsystem_kind subsystem_kind;
        char *const *tags;       /* udev tags; none when no udevd runs */
};

int device_new(uint64_t id, int sysfs_fd, const struct device_snapshot *s, struct device **ret);
/* Replaces what the device says about itself (not its devpath). */
int device_update(struct device *d, const struct device_snapshot *s);
int device_set_devpath(struct device *d, const char *devpath);
void device_forget_attributes(struct device *d);
struct device *device_free(struct device *d);
DEFINE_POINTER_CLEANUP(struct device, device_free);

const char *device_property(const struct device *d, const char *key);
const char *device_subsystem(const struct device *d);
const char *device_sysname(const struct device *d);
/* Node path relative to /dev as the kernel names it ("loop0"), or NULL. */
const char *device_kernel_node(const struct device *d);
bool device_is_ancestor(const struct device *ancestor, const struct device *d);
