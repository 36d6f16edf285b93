/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "strv.h"
#include "uevent-file.h"

/* libFuzzer target: any input is what a container writes to a uevent file
 * of its /sys. It must be taken or refused as the kernel would, never
 * crash, leak or hang; what is taken makes an event that names the action
 * and carries every argument as SYNTH_ARG_. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(synth_request_done) struct synth_request req = {};
        _cleanup_strv_free_ char **props = NULL;
        const char *action;

        if (synth_request_parse((const char *) data, size, &req) < 0)
                return 0;
        action = uevent_action_to_string(req.action);
        if (!action)
                abort();
        if (synth_event_properties(&req, "/devices/virtual/block/loop7", "block",
                                   "MAJOR=7\nMINOR=7\nDEVNAME=loop7\nDEVTYPE=disk\n", &props) < 0)
                return 0;
        if (!streq_ptr(strv_env_get(props, "ACTION"), action) ||
            !streq_ptr(strv_env_get(props, "SYNTH_UUID"), req.uuid ?: "0"))
                abort();
        STRV_FOREACH(a, req.args) {
                _cleanup_free_ char *key = NULL;

                if (asprintf(&key, "SYNTH_ARG_%.*s", (int) strcspn(*a, "="), *a) < 0)
                        return 0;
                if (!strv_env_get(props, key))
                        abort();
        }
        return 0;
}
