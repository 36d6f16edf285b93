/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "strv.h"
#include "uevent.h"

/* libFuzzer target: any input is one netlink uevent datagram
 * ("ACTION@DEVPATH\0KEY=VALUE\0..."), as the daemon receives it from the
 * kernel or from libudev's monitor. It must parse or be refused, never
 * crash, leak or hang; what parses serializes back to what parses to the
 * same properties (the relay forwards events in this framing). */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(uevent_freep) struct uevent *ev = NULL, *again = NULL;
        _cleanup_free_ char *wire = NULL;
        size_t wire_size;

        if (uevent_parse_wire((const char *) data, size, &ev) < 0)
                return 0;
        if (!ev->devpath || !uevent_action_to_string(ev->action))
                abort();
        if (uevent_wire_from_properties(ev->properties, &wire, &wire_size) < 0)
                return 0;
        if (uevent_parse_wire(wire, wire_size, &again) < 0)
                abort();
        if (!strv_equal(ev->properties, again->properties) || ev->action != again->action ||
            !streq(ev->devpath, again->devpath) || ev->seqnum != again->seqnum)
                abort();
        return 0;
}
