/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "device-spec.h"

/* libFuzzer target: any input is a DEVICE argument (devsieve explain, add,
 * remove; the control socket's "device"). It must parse or be refused,
 * never crash or hang; what parses is one of the documented forms. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        struct device_spec spec;

        /* An argument is a C string. Not strndup(): data need not be
         * NUL-terminated. */
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        if (device_spec_parse(s, &spec) < 0)
                return 0;
        switch (spec.kind) {
        case DEVICE_SPEC_NODE:
                if (spec.path < s || spec.path > s + size || spec.path[0] != '/' || startswith(spec.path, "/sys/"))
                        abort();
                break;
        case DEVICE_SPEC_SYSPATH:
                if (spec.path < s || spec.path > s + size || !startswith(spec.path, "/sys/"))
                        abort();
                break;
        case DEVICE_SPEC_DEVNUM:
                if ((spec.type != 'b' && spec.type != 'c') || spec.major > DEVICE_SPEC_MAJOR_MAX ||
                    spec.minor > DEVICE_SPEC_MINOR_MAX)
                        abort();
                break;
        default:
                abort();
        }
        return 0;
}
