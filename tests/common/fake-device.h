/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Fake devices for the policy engine's tests and fuzzer: devices whose
 * ENV{} and ATTR{} answers come from small tables. Header-only and free of
 * cmocka, so unit tests and the fuzzer share it. */

#include <stddef.h>

#include "macro.h"
#include "policy.h"

struct fake_kv {
        const char *key, *value;
};

struct fake_device {
        struct policy_device pd;
        struct fake_kv properties[8];
        struct fake_kv attributes[8];
};

static inline const char *fake_lookup(const struct fake_kv *kv, size_t n, const char *key) {
        for (size_t i = 0; i < n && kv[i].key; i++)
                if (streq(kv[i].key, key))
                        return kv[i].value;
        return NULL;
}

static inline const char *fake_property(const struct policy_device *d, const char *key) {
        const struct fake_device *f = container_of(d, struct fake_device, pd);
        return fake_lookup(f->properties, ELEMENTSOF(f->properties), key);
}

static inline const char *fake_attribute(const struct policy_device *d, const char *name) {
        const struct fake_device *f = container_of(d, struct fake_device, pd);
        return fake_lookup(f->attributes, ELEMENTSOF(f->attributes), name);
}

#define FAKE_CALLBACKS .property = fake_property, .attribute = fake_attribute
