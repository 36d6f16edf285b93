/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "container-name.h"
#include "control-request.h"

/* libFuzzer target: any input is one control socket request line, as any
 * peer that can connect may send it. It must parse or be refused with a
 * message, never crash, leak or hang; what parses must be consistent. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parsed(const struct control_request *req) {
        if (!control_command_to_string(req->command))
                abort();
        /* A name reaches the file system (RUNTIME/containers/NAME). */
        if (req->name && !container_name_is_valid(req->name))
                abort();
        if (req->pid < 0)
                abort();
        if (req->device) {
                if (req->device_spec.kind == DEVICE_SPEC_DEVNUM &&
                    (req->device_spec.major > DEVICE_SPEC_MAJOR_MAX || req->device_spec.minor > DEVICE_SPEC_MINOR_MAX))
                        abort();
        }
        if (req->has_mode && (req->mode & ~07777U))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        struct control_request req;
        json_t *json = NULL;
        int r;

        if (size >= CONTROL_LINE_MAX)
                return 0; /* the daemon never reads a longer line */
        r = control_request_parse((const char *) data, size, &req, &json, &error);
        if (r < 0) {
                /* A refusal says why, unless memory ran out. */
                if (!error && r != -ENOMEM)
                        abort();
        } else {
                if (error)
                        abort();
                check_parsed(&req);
        }
        json_decref(json);
        return 0;
}
