/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the policy engine knows of a device. The engine never reads sysfs:
 * the daemon embeds this struct in its host-device record, the offline
 * checker wraps a libudev device (udev-device.h), and tests fill one in by
 * hand. */
struct policy_device {
        const char *devpath;   /* "/devices/virtual/block/loop0", without "/sys" */
        const char *subsystem; /* NULL for a device without one */
        const char *sysname;   /* the KERNEL key: last component of devpath */
        const char *devtype;   /* NULL when the device has none */
        const char *driver;    /* NULL when no driver is bound */
        const char *devname;   /* "/dev/loop0"; NULL for a device without a node */
        char type;             /* 'c' or 'b'; 0 for a device without a node */
        unsigned major, minor;
        const struct policy_device *parent; /* NULL at the top of the chain */

        /* ENV{KEY}: the device's property, or NULL when it has none. */
        const char *(*property)(const struct policy_device *d, const char *key);
        /* ATTR{name}: the sysfs attribute's value with trailing whitespace
         * removed, or NULL when absent or unreadable. name is relative to the
         * device directory and never contains "..". */
        const char *(*attribute)(const struct policy_device *d, const char *name);
        /* Returned strings stay valid while the device is unchanged. */
};
