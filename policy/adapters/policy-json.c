/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>

#include "policy-json.h"
#include "strv.h"

/* json_object_set_new() drops v even when it fails; a NULL v is a failed
 * constructor. */
int policy_json_set(json_t *o, const char *key, json_t *v) {
        if (!v || json_object_set_new(o, key, v) < 0)
                return -ENOMEM;
        return 0;
}

/* Device values come from sysfs and udev and need not be UTF-8, which JSON
 * strings must be: replace every non-ASCII byte of such a value rather than
 * fail the whole reply. */
json_t *policy_json_string(const char *s) {
        _cleanup_free_ char *copy = NULL;
        json_t *j;

        if (!s)
                return json_null();
        j = json_string(s);
        if (j)
                return j;
        copy = strdup(s);
        if (!copy)
                return NULL;
        for (char *p = copy; *p; p++)
                if ((unsigned char) *p >= 0x80)
                        *p = '?';
        return json_string(copy);
}

json_t *policy_json_strv(char *const *l) {
        _cleanup_(json_decrefp) json_t *a = json_array();

        if (!a)
                return NULL;
        STRV_FOREACH(s, l) {
                json_t *v = policy_json_string(*s);
                if (!v || json_array_append_new(a, v) < 0)
                        return NULL;
        }
        return TAKE_PTR(a);
}

static const char *type_name(char type) {
        switch (type) {
        case 'b':
                return "block";
        case 'c':
                return "char";
        default:
                return NULL;
        }
}

const char *policy_json_kernel_node(const struct policy_device *d) {
        const char *node;

        if (!d->devname)
                return NULL;
        node = startswith(d->devname, "/dev/");
        return node && *node ? node : NULL;
}

int policy_json_rule_location(const struct policy_rule *rule, char **ret) {
        if (asprintf(ret, "%s:%u", policy_rule_file(rule), policy_rule_line(rule)) < 0)
                return -ENOMEM;
        return 0;
}

static json_t *rule_location_or_null(const struct policy_rule *rule) {
        _cleanup_free_ char *s = NULL;

        if (!rule)
                return json_null();
        if (policy_json_rule_location(rule, &s) < 0)
                return NULL;
        return policy_json_string(s);
}

/* The node identity shared by the device object and the row. */
static int set_devnum(json_t *o, const struct policy_device *d) {
        int r;

        r = policy_json_set(o, "type", policy_json_string(type_name(d->type)));
        if (r < 0)
                return r;
        r = policy_json_set(o, "major", d->type ? json_integer(d->major) : json_null());
        if (r < 0)
                return r;
        return policy_json_set(o, "minor", d->type ? json_integer(d->minor) : json_null());
}

int policy_json_device(const struct policy_device *d, json_t **ret) {
        _cleanup_(json_decrefp) json_t *o = json_object();
        int r;

        if (!o)
                return -ENOMEM;
        if (policy_json_set(o, "devpath", policy_json_string(d->devpath)) < 0 ||
            policy_json_set(o, "subsystem", policy_json_string(d->subsystem)) < 0 ||
            policy_json_set(o, "sysname", policy_json_string(d->sysname)) < 0 ||
            policy_json_set(o, "devtype", policy_json_string(d->devtype)) < 0 ||
            policy_json_set(o, "driver", policy_json_string(d->driver)) < 0 ||
            policy_json_set(o, "devname", policy_json_string(d->devname)) < 0)
                return -ENOMEM;
        r = set_devnum(o, d);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(o);
        return 0;
}

json_t *policy_json_mode(mode_t mode) {
        char buf[16];

        snprintf(buf, sizeof(buf), "%04o", (unsigned) (mode & 07777));
        return json_string(buf);
}

json_t *policy_json_access(unsigned access) {
        char buf[4], *p = buf;

        if (access & POLICY_ACCESS_READ)
                *p++ = 'r';
        if (access & POLICY_ACCESS_WRITE)
                *p++ = 'w';
        if (access & POLICY_ACCESS_MKNOD)
                *p++ = 'm';
        *p = '\0';
        return json_string(buf);
}

int policy_json_row(const struct policy_device *d, const struct policy_result *r, json_t **ret) {
        _cleanup_(json_decrefp) json_t *o = NULL;
        const char *path;

        if (!r->allowed)
                return -EINVAL;

        o = json_object();
        if (!o)
                return -ENOMEM;

        /* Without NAME the node keeps the kernel's name. */
        path = r->name ?: policy_json_kernel_node(d);

        if (policy_json_set(o, "path", policy_json_string(path)) < 0 ||
            policy_json_set(o, "devname", policy_json_string(d->devname)) < 0 ||
            policy_json_set(o, "devpath", policy_json_string(d->devpath)) < 0 ||
            policy_json_set(o, "subsystem", policy_json_string(d->subsystem)) < 0 ||
            set_devnum(o, d) < 0 ||
            policy_json_set(o, "uid", json_integer(r->uid)) < 0 ||
            policy_json_set(o, "gid", json_integer(r->gid)) < 0 ||
            policy_json_set(o, "mode", policy_json_mode(r->mode)) < 0 ||
            policy_json_set(o, "access", policy_json_access(r->access)) < 0 ||
            policy_json_set(o, "symlinks", policy_json_strv(r->symlinks)) < 0 ||
            policy_json_set(o, "writable_attributes", policy_json_strv(r->writable_attributes)) < 0 ||
            policy_json_set(o, "rule", rule_location_or_null(r->decided_by)) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(o);
        return 0;
}

static int trace_entry(const struct policy_trace_entry *e, json_t **ret) {
        _cleanup_(json_decrefp) json_t *o = json_object();

        if (!o)
                return -ENOMEM;
        if (policy_json_set(o, "file", policy_json_string(policy_rule_file(e->rule))) < 0 ||
            policy_json_set(o, "line", json_integer(policy_rule_line(e->rule))) < 0 ||
            policy_json_set(o, "verb", json_string(policy_rule_verb(e->rule) == POLICY_ALLOW ? "allow" : "deny")) < 0 ||
            policy_json_set(o, "text", policy_json_string(policy_rule_text(e->rule))) < 0 ||
            policy_json_set(o, "matched", json_boolean(e->matched)) < 0 ||
            policy_json_set(o, "failed_key", policy_json_string(e->failed_key)) < 0 ||
            policy_json_set(o, "device_value", policy_json_string(e->device_value)) < 0)
                return -ENOMEM;

        *ret = TAKE_PTR(o);
        return 0;
}

static const char *verdict(const struct policy_result *r) {
        if (r->allowed)
                return "allow";
        return r->decided_by ? "deny" : "default-deny";
}

int policy_json_explanation(const struct policy_device *d, const struct policy_result *r,
                            const struct policy_trace *t, json_t **ret) {
        _cleanup_(json_decrefp) json_t *o = json_object(), *trace = json_array();
        json_t *device = NULL, *row = NULL;
        int k;

        if (!o || !trace)
                return -ENOMEM;

        k = policy_json_device(d, &device);
        if (k < 0)
                return k;
        k = policy_json_set(o, "device", device);
        if (k < 0)
                return k;

        if (policy_json_set(o, "verdict", json_string(verdict(r))) < 0 ||
            policy_json_set(o, "rule", rule_location_or_null(r->decided_by)) < 0 ||
            policy_json_set(o, "rule_text",
                            r->decided_by ? policy_json_string(policy_rule_text(r->decided_by)) : json_null()) < 0)
                return -ENOMEM;

        if (r->allowed) {
                k = policy_json_row(d, r, &row);
                if (k < 0)
                        return k;
        } else
                row = json_null();
        k = policy_json_set(o, "result", row);
        if (k < 0)
                return k;

        for (size_t i = 0; t && i < t->n_entries; i++) {
                json_t *e;

                k = trace_entry(&t->entries[i], &e);
                if (k < 0)
                        return k;
                if (json_array_append_new(trace, e) < 0)
                        return -ENOMEM;
        }
        k = policy_json_set(o, "trace", TAKE_PTR(trace));
        if (k < 0)
                return k;

        *ret = TAKE_PTR(o);
        return 0;
}

int policy_json_diagnostics(const struct policy_diagnostics *diags, json_t **ret) {
        _cleanup_(json_decrefp) json_t *a = json_array();

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; diags && i < diags->n_items; i++) {
                const struct policy_diagnostic *d = &diags->items[i];
                _cleanup_(json_decrefp) json_t *o = json_object();

                if (!o)
                        return -ENOMEM;
                if (policy_json_set(o, "file", policy_json_string(d->file)) < 0 ||
                    policy_json_set(o, "line", json_integer(d->line)) < 0 ||
                    policy_json_set(o, "column", json_integer(d->column)) < 0 ||
                    policy_json_set(o, "severity", json_string(d->is_error ? "error" : "warning")) < 0 ||
                    policy_json_set(o, "message", policy_json_string(d->message)) < 0)
                        return -ENOMEM;
                if (json_array_append_new(a, TAKE_PTR(o)) < 0)
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(a);
        return 0;
}
