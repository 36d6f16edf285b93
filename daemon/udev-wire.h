/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* libudev's message for a processed ("udev", netlink group 2) event, as
 * udevd broadcasts it and libudev's monitors accept it:
 *
 *   a 40-byte header: "libudev\0", magic 0xfeedcafe (network order), the
 *   header's size, the properties' offset and length (host order),
 *   MurmurHash2 (seed 0) of SUBSYSTEM and of DEVTYPE (0 without one) and a
 *   64-bit bloom filter of the tags, high and low halves (network order);
 *   then the properties, "KEY=VALUE\0" each.
 *
 * libudev's monitors filter on the hashes in the kernel (socket filters),
 * so they must be right. Pure: no I/O. */

#define UDEV_WIRE_MAGIC 0xfeedcafeu
#define UDEV_WIRE_HEADER_SIZE 40u

uint32_t udev_wire_hash32(const char *s);
/* The bits one tag sets in the header's bloom filter. */
uint64_t udev_wire_tag_bloom(const char *tag);

/* properties must hold SUBSYSTEM (libudev drops events without one);
 * -EINVAL otherwise, or for a property with no '='. The bloom covers tags.
 * The caller frees *ret. */
int udev_wire_build(char *const *properties, char *const *tags, char **ret, size_t *ret_size);

struct udev_wire_message {
        char **properties; /* KEY=VALUE, owned */
        uint32_t subsystem_hash, devtype_hash;
        uint64_t tag_bloom;
};

/* Checks the header as libudev does (prefix, magic, offsets within the
 * message) and that every property is a NUL-terminated KEY=VALUE; -EBADMSG
 * otherwise. */
int udev_wire_parse(const void *buf, size_t size, struct udev_wire_message *ret);
void udev_wire_message_done(struct udev_wire_message *m);
