/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdint.h>

#include "daemon/udev-wire.h"
#include "strv.h"

/* libFuzzer target: any input is a message a container's libudev could be
 * handed. The parser accepts it or says -EBADMSG, never crashes, leaks or
 * reads past it; what it accepts, built again, parses to the same
 * properties and hashes. And any input, as lines, is a property list to
 * build from: what builds, parses back to itself. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a string. Not strndup: ASan's strict_string_checks reads
 * its argument up to a NUL the input does not have. */
static char *text_of(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);

        if (text) {
                memcpy(text, data, size);
                text[size] = '\0';
        }
        return text;
}

static void check_roundtrip(char **properties, char **tags) {
        struct udev_wire_message m = {};
        const char *devtype = strv_env_get(properties, "DEVTYPE");
        uint64_t bloom = 0;
        char *buf = NULL;
        size_t n;

        if (udev_wire_build(properties, tags, &buf, &n) < 0)
                return;
        assert(udev_wire_parse(buf, n, &m) == 0);
        assert(strv_equal(m.properties, properties));
        assert(m.subsystem_hash == udev_wire_hash32(strv_env_get(properties, "SUBSYSTEM")));
        assert(m.devtype_hash == (devtype ? udev_wire_hash32(devtype) : 0));
        STRV_FOREACH(t, tags)
                bloom |= udev_wire_tag_bloom(*t);
        assert(m.tag_bloom == bloom);
        udev_wire_message_done(&m);
        free(buf);
}

/* Lines: "@TAG" a tag, anything else a property; empty lines dropped. */
static void split_lines(const uint8_t *data, size_t size, char ***ret_properties, char ***ret_tags) {
        char *text = text_of(data, size), *state = NULL;

        *ret_properties = *ret_tags = NULL;
        if (!text)
                return;
        for (char *l = strtok_r(text, "\n", &state); l; l = strtok_r(NULL, "\n", &state))
                (void) strv_extend(l[0] == '@' ? ret_tags : ret_properties, l[0] == '@' ? l + 1 : l);
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct udev_wire_message m = {};
        char **properties, **tags;

        if (udev_wire_parse(data, size, &m) == 0) {
                STRV_FOREACH(p, m.properties)
                        assert(**p && strchr(*p, '='));
                check_roundtrip(m.properties, NULL);
                udev_wire_message_done(&m);
        }

        split_lines(data, size, &properties, &tags);
        check_roundtrip(properties, tags);
        strv_free(properties);
        strv_free(tags);
        return 0;
}
