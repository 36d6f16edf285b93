/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>

#include "policy.h"

/* libFuzzer target: any input is a policy file. It must load or be refused
 * with diagnostics, never crash, leak or hang; when it loads, it is
 * evaluated against a fixed device chain, with and without a trace, and the
 * two must agree. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct kv {
        const char *key, *value;
};

static const char *lookup(const struct kv *kv, const char *key) {
        for (; kv->key; kv++)
                if (streq(kv->key, key))
                        return kv->value;
        return NULL;
}

static const char *usb_attribute(const struct policy_device *d, const char *name) {
        static const struct kv attributes[] = {
                { "idVendor", "0781" },
                { "idProduct", "5581" },
                { "serial", "4C530001" },
                { NULL, NULL },
        };
        return lookup(attributes, name);
}

static const char *disk_attribute(const struct policy_device *d, const char *name) {
        static const struct kv attributes[] = {
                { "size", "0" },
                { "removable", "1" },
                { "queue/rotational", "0" },
                { NULL, NULL },
        };
        return lookup(attributes, name);
}

static const char *disk_property(const struct policy_device *d, const char *key) {
        static const struct kv properties[] = {
                { "ID_BUS", "usb" },
                { "ID_FS_TYPE", "" },
                { "DEVNAME", "/dev/sdb" },
                { NULL, NULL },
        };
        return lookup(properties, key);
}

static const char *none(const struct policy_device *d, const char *key) {
        return NULL;
}

static const struct policy_device usb = {
        .devpath = "/devices/pci0000:00/usb1/1-1",
        .subsystem = "usb",
        .sysname = "1-1",
        .devtype = "usb_device",
        .driver = "usb",
        .devname = "/dev/bus/usb/001/002",
        .type = 'c',
        .major = 189,
        .minor = 1,
        .property = none,
        .attribute = usb_attribute,
};

static const struct policy_device host = {
        .devpath = "/devices/pci0000:00/usb1/1-1/1-1:1.0/host6",
        .subsystem = "scsi",
        .sysname = "host6",
        .driver = "usb-storage",
        .parent = &usb,
        .property = none,
        .attribute = none,
};

static const struct policy_device disk = {
        .devpath = "/devices/pci0000:00/usb1/1-1/1-1:1.0/host6/block/sdb",
        .subsystem = "block",
        .sysname = "sdb",
        .devtype = "disk",
        .devname = "/dev/sdb",
        .type = 'b',
        .major = 8,
        .minor = 16,
        .parent = &host,
        .property = disk_property,
        .attribute = disk_attribute,
};

static void evaluate(const struct policy *p, const struct policy_device *d) {
        struct policy_result fast = {}, traced = {};
        struct policy_trace t = {};

        if (policy_evaluate(p, d, &fast, NULL) < 0)
                return;
        if (policy_evaluate(p, d, &traced, &t) == 0) {
                if (fast.allowed != traced.allowed || fast.decided_by != traced.decided_by ||
                    t.n_entries != policy_n_rules(p))
                        abort();
                for (size_t i = 0; i < t.n_entries; i++)
                        if (!policy_rule_text(t.entries[i].rule) || !policy_rule_file(t.entries[i].rule))
                                abort();
                policy_trace_done(&t);
                policy_result_done(&traced);
        }
        if (fast.decided_by && (policy_rule_verb(fast.decided_by) == POLICY_ALLOW) != fast.allowed)
                abort();
        policy_result_done(&fast);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Names never resolve against the host: NSS lookups are slow and
         * would make the run depend on the machine. Relative includes lead
         * nowhere either. */
        const struct policy_load_options options = {
                .root = "/nonexistent-devsieve-fuzz-root",
                .unknown_names_are_errors = size % 2,
        };
        struct policy_diagnostics diags = {};
        _cleanup_free_ char *text = NULL;
        struct policy *p = NULL;

        /* Text ends at a NUL byte; the file loader's NUL check is tested by
         * the unit tests. Not strndup(): data need not be NUL-terminated,
         * and ASan's strict_string_checks reads it as a string. */
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        if (policy_load_string("/nonexistent-devsieve-fuzz/input.rules", text, &options, &p, &diags) == 0) {
                char *const *paths = policy_exposed_paths(p);

                for (size_t i = 0; paths[i]; i++)
                        if (paths[i][0] != '/')
                                abort();
                evaluate(p, &disk);
                evaluate(p, &usb);
                evaluate(p, &host);
                policy_free(p);
        } else if (diags.n_errors == 0)
                abort(); /* a refusal must say why */

        for (size_t i = 0; i < diags.n_items; i++) {
                _cleanup_free_ char *s = NULL;

                (void) policy_diagnostic_format(&diags.items[i], &s);
        }
        policy_diagnostics_done(&diags);
        return 0;
}
