/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "macro.h"
#include "model.h"

/* Where host devices come from: libudev. Enumerate once at start, then
 * follow a monitor.
 *
 * The monitor listens to the kernel's own uevents (source "kernel") unless
 * a udevd runs (/run/udev/control exists): most container hosts have none,
 * and devsieve must not depend on one. With a udevd, the "udev" source is
 * used instead, because its events arrive after udevd finished with the
 * device (node permissions set, rule properties such as ID_* and tags
 * present for ENV{} rules), and libudev's own database agrees with them. */

struct udev_source;

/* The monitor is listening when this returns, before enumeration starts,
 * so no event between the two is lost (a device seen twice is harmless). */
int udev_source_new(bool force_kernel_events, struct udev_source **ret);
struct udev_source *udev_source_free(struct udev_source *s);
DEFINE_POINTER_CLEANUP(struct udev_source, udev_source_free);

int udev_source_fd(const struct udev_source *s);
const char *udev_source_name(const struct udev_source *s);

/* Every device on the host, ancestors before descendants. */
int udev_source_enumerate(struct udev_source *s, struct model *m, unsigned *ret_count);
/* Applies every event waiting on the monitor (non-blocking). Returns the
 * number applied. */
int udev_source_dispatch(struct udev_source *s, struct model *m);
