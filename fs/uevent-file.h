/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"
#include "uevent-action.h"

/* The synthetic uevent files of a container's /sys: what reading one shows
 * and what writing one means. Pure functions, no I/O. */

/* What the container wrote, in the kernel's syntax (see the kernel's
 * Documentation/ABI/testing/sysfs-uevent): "ACTION [UUID [KEY=VALUE ...]]",
 * an optional trailing newline. */
struct synth_request {
        enum uevent_action action;
        char *uuid; /* NULL: none given (the event says SYNTH_UUID=0) */
        char **args; /* "KEY=VALUE" */
};

/* -EINVAL for anything the kernel would refuse. */
int synth_request_parse(const char *buf, size_t size, struct synth_request *ret);
void synth_request_done(struct synth_request *r);

/* The text of a uevent file as the container sees it: DEVNAME follows the
 * node the container has (node NULL: the line is dropped). */
int uevent_file_rewrite(const char *text, const char *node, char **ret);

/* The event a write makes: ACTION, DEVPATH, SUBSYSTEM, the properties of
 * the (rewritten) uevent file, SYNTH_UUID and SYNTH_ARG_KEY=VALUE, as the
 * kernel builds them. */
int synth_event_properties(const struct synth_request *r, const char *devpath, const char *subsystem,
                           const char *uevent_text, char ***ret);
