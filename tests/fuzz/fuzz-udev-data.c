/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdint.h>

#include "daemon/udev-data.h"
#include "daemon/udev-wire.h"
#include "strv.h"

/* libFuzzer target: any input, as lines, is a device as the host's udev
 * (or kernel) describes it: "KEY=VALUE" properties, "@TAG" tags, "S:LINK"
 * the container's links. Building its database file and its udev event
 * never crashes or leaks; the file is all known line types and holds none
 * of the keys the container must not get from the host; the event, when
 * it can be framed, parses back to itself. */

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

static bool line_is_known(const char *l) {
        return (strchr("SLIEGQV", l[0]) && l[1] == ':');
}

static void check_file(const struct visible_device *v) {
        char *text = NULL, *state = NULL;
        size_t n;

        if (udev_data_format(v, &text, &n) < 0)
                return;
        assert(n == strlen(text));
        assert(n > 0 && text[n - 1] == '\n');
        for (char *l = strtok_r(text, "\n", &state); l; l = strtok_r(NULL, "\n", &state)) {
                assert(line_is_known(l));
                assert(!startswith(l, "E:DEVLINKS=") && !startswith(l, "E:TAGS=") && !startswith(l, "E:DEVNAME=") &&
                       !startswith(l, "E:DEVUID="));
        }
        free(text);
}

static void check_event(const struct visible_device *v) {
        struct udev_wire_message m = {};
        char **l = NULL, *buf = NULL;
        size_t n;

        if (udev_data_event_properties(v->device->properties, "change", v, 7, &l) < 0)
                return;
        assert(streq(strv_env_get(l, "ACTION"), "change"));
        assert(streq(strv_env_get(l, "SEQNUM"), "7"));
        if (v->node)
                assert(startswith(strv_env_get(l, "DEVNAME"), "/dev/"));
        if (udev_wire_build(l, v->device->tags, &buf, &n) >= 0) {
                assert(udev_wire_parse(buf, n, &m) == 0);
                assert(strv_equal(m.properties, l));
                udev_wire_message_done(&m);
                free(buf);
        }
        strv_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = text_of(data, size), *state = NULL, *id = NULL;
        char **properties = NULL, **tags = NULL, **links = NULL;
        struct device *d = NULL;

        if (!text)
                return 0;
        for (char *l = strtok_r(text, "\n", &state); l; l = strtok_r(NULL, "\n", &state)) {
                if (l[0] == '@')
                        (void) strv_extend(&tags, l + 1);
                else if (startswith(l, "S:"))
                        (void) strv_extend(&links, l + 2);
                else
                        (void) strv_extend(&properties, l);
        }
        struct device_snapshot s = {properties, SUBSYSTEM_KIND_CLASS, tags};
        if (device_new(1, -1, &s, &d) >= 0) {
                struct visible_device v = {.device = d, .node = links ? links[0] : NULL, .symlinks = links};

                if (udev_data_id(d, &id) >= 0) {
                        assert(id[0] == 'b' || id[0] == 'c' || id[0] == 'n' || id[0] == '+');
                        free(id);
                }
                check_file(&v);
                check_event(&v);
                device_free(d);
        }
        strv_free(properties);
        strv_free(tags);
        strv_free(links);
        free(text);
        return 0;
}
