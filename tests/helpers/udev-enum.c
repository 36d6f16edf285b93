/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* udev-enum: what a libudev client sees of one subsystem, one line per
 * device, as libudev enumerates it (inside a container: through its /sys
 * and /run/udev):
 *
 *   SYSNAME initialized=0|1 devnode=PATH KEY=VALUE ...
 *
 *   udev-enum SUBSYSTEM
 *
 * Exits 1 when libudev reports an error, 0 otherwise (also with no
 * device). */
#include <libudev.h>
#include <stdio.h>

int main(int argc, char **argv) {
        struct udev *udev;
        struct udev_enumerate *e;
        struct udev_list_entry *entry;

        if (argc != 2) {
                fprintf(stderr, "usage: udev-enum SUBSYSTEM\n");
                return 2;
        }
        udev = udev_new();
        if (!udev)
                return 1;
        e = udev_enumerate_new(udev);
        if (!e || udev_enumerate_add_match_subsystem(e, argv[1]) < 0 || udev_enumerate_scan_devices(e) < 0) {
                perror("udev_enumerate");
                return 1;
        }
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e)) {
                struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(entry));
                struct udev_list_entry *p;

                if (!d)
                        continue;
                printf("%s initialized=%d devnode=%s", udev_device_get_sysname(d), udev_device_get_is_initialized(d),
                       udev_device_get_devnode(d) ?: "-");
                udev_list_entry_foreach(p, udev_device_get_properties_list_entry(d))
                        printf(" %s=%s", udev_list_entry_get_name(p), udev_list_entry_get_value(p) ?: "");
                printf("\n");
                udev_device_unref(d);
        }
        udev_enumerate_unref(e);
        udev_unref(udev);
        return 0;
}
