/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The text filters behind a container's /proc/partitions, /proc/diskstats
 * and /proc/bus/input/devices: the kernel's text in, the same text with
 * only what the container sees out. No I/O, no locks: callable from any
 * thread, and fuzzed.
 *
 * Lines (blocks) are kept byte for byte. A renamed block device gets only
 * its name replaced: in both files every column before the name has a
 * fixed width and nothing after it depends on the name, so this is what
 * the kernel's own printf would write for that name. */

/* The container's name (relative to /dev) of block device major:minor, or
 * NULL when the container does not see it. A name with white space or a
 * control character in it would break the format: such a line is dropped. */
typedef const char *(*procfs_block_name_fn)(unsigned major, unsigned minor, void *userdata);

/* Whether the container sees the input device at sysfs_path ("/devices/...",
 * as the block's "S: Sysfs=" line says) or one of its handlers. */
typedef bool (*procfs_input_visible_fn)(const char *sysfs_path, void *userdata);
/* The name to show for one handler ("event3", "js0", "kbd") on the "H:
 * Handlers=" line of a visible input device, or NULL to leave it out (a
 * node the container does not see). */
typedef const char *(*procfs_input_handler_fn)(const char *sysfs_path, const char *handler, void *userdata);

/* Whether the container sees the PCI device at bus and devfn (domain
 * 0000: the kernel's /proc/bus/pci/devices names no domain). */
typedef bool (*procfs_pci_visible_fn)(unsigned bus, unsigned devfn, void *userdata);

/* Each takes size bytes of text (not necessarily NUL-terminated) and
 * returns a new NUL-terminated string (owned by the caller) and its
 * length in *ret_size. Lines that are not device lines (the header, blank
 * lines, anything the filter does not understand as a device of its
 * kind) are kept: they name no device. */
int procfs_filter_partitions(const char *text, size_t size, procfs_block_name_fn fn, void *userdata, char **ret,
                             size_t *ret_size);
int procfs_filter_diskstats(const char *text, size_t size, procfs_block_name_fn fn, void *userdata, char **ret,
                            size_t *ret_size);
/* Blocks (separated by an empty line) without a "S: Sysfs=" line the
 * container sees are dropped whole; in the others, the handlers are
 * renamed or left out as handler_fn says ("%s " each, as the kernel
 * writes them). */
int procfs_filter_input_devices(const char *text, size_t size, procfs_input_visible_fn fn,
                                procfs_input_handler_fn handler_fn, void *userdata, char **ret, size_t *ret_size);
/* /proc/bus/pci/devices: one line per device, "BBDF\t...". A line that
 * does not start so, or whose bus and devfn the file holds more than once
 * (devices of different domains), is dropped: it cannot be attributed. */
int procfs_filter_pci_devices(const char *text, size_t size, procfs_pci_visible_fn fn, void *userdata, char **ret,
                              size_t *ret_size);
