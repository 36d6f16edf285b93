/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs-filter.h"

/* libFuzzer target: any input is kernel text for one of the /proc filters
 * (the first byte picks which). Each must return a NUL-terminated buffer
 * of the length it says, never crash, leak or read past the input; hiding
 * every device can only shorten the text. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *hide_all(unsigned major, unsigned minor, void *userdata) {
        return NULL;
}

static const char *rename_even(unsigned major, unsigned minor, void *userdata) {
        return minor % 2 == 0 ? "renamed-by-devsieve" : NULL;
}

static bool input_none(const char *sysfs, void *userdata) {
        return false;
}

static bool input_some(const char *sysfs, void *userdata) {
        return strlen(sysfs) % 2 == 0;
}

static const char *handler_some(const char *sysfs, const char *handler, void *userdata) {
        return strlen(handler) % 2 ? handler : NULL;
}

static bool pci_some(unsigned bus, unsigned devfn, void *userdata) {
        return devfn % 2 == 0;
}

static void check(int r, const char *out, size_t out_size) {
        if (r < 0)
                return;
        /* Kernel text holds no NUL, but a NUL must not cut the length short. */
        if (out[out_size] != '\0')
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *) data + 1;
        char *out = NULL;
        size_t out_size = 0;
        int r;

        if (size < 1)
                return 0;
        size--;
        /* The filters take text that need not end in a NUL: no copy, so that
         * ASan sees any read past the end. */
        switch (data[0] % 4) {
        case 0:
                r = procfs_filter_partitions(text, size, hide_all, NULL, &out, &out_size);
                check(r, out, out_size);
                if (r >= 0 && out_size > size)
                        abort();
                free(out);
                r = procfs_filter_partitions(text, size, rename_even, NULL, &out, &out_size);
                break;
        case 1:
                r = procfs_filter_diskstats(text, size, hide_all, NULL, &out, &out_size);
                check(r, out, out_size);
                if (r >= 0 && out_size > size)
                        abort();
                free(out);
                r = procfs_filter_diskstats(text, size, rename_even, NULL, &out, &out_size);
                break;
        case 3:
                r = procfs_filter_pci_devices(text, size, pci_some, NULL, &out, &out_size);
                if (r >= 0 && out_size > size)
                        abort();
                break;
        default:
                r = procfs_filter_input_devices(text, size, input_none, handler_some, NULL, &out, &out_size);
                check(r, out, out_size);
                if (r >= 0 && out_size > size)
                        abort();
                free(out);
                /* Handlers lines are rewritten as the kernel writes them: they
                 * may grow by the separators the input lacked. */
                r = procfs_filter_input_devices(text, size, input_some, handler_some, NULL, &out, &out_size);
                break;
        }
        check(r, out, out_size);
        free(out);
        return 0;
}
