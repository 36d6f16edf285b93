/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>

#include "output.h"
#include "strv.h"

struct table {
        size_t n_columns;
        char **cells; /* row-major strv, header row first */
};

int table_new(const char *const *headers, size_t n_columns, struct table **ret) {
        _cleanup_(table_freep) struct table *t = NULL;
        int r;

        if (n_columns == 0)
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->n_columns = n_columns;
        r = table_add_row(t, headers);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

struct table *table_free(struct table *t) {
        if (t) {
                strv_free(t->cells);
                free(t);
        }
        return NULL;
}

int table_add_row(struct table *t, const char *const *cells) {
        for (size_t i = 0; i < t->n_columns; i++) {
                int r = strv_extend(&t->cells, cells[i] && *cells[i] ? cells[i] : "-");
                if (r < 0)
                        return r;
        }
        return 0;
}

size_t table_n_rows(const struct table *t) {
        /* Without the header. */
        return strv_length(t->cells) / t->n_columns - 1;
}

int table_print(const struct table *t, FILE *f) {
        _cleanup_free_ size_t *widths = calloc(t->n_columns, sizeof(size_t));
        size_t n_cells = strv_length(t->cells);

        if (!widths)
                return -ENOMEM;
        for (size_t i = 0; i < n_cells; i++) {
                size_t *w = &widths[i % t->n_columns], l = strlen(t->cells[i]);
                if (l > *w)
                        *w = l;
        }
        for (size_t i = 0; i < n_cells; i++) {
                size_t column = i % t->n_columns;

                /* No padding after the last column: lines end without blanks. */
                if (column + 1 == t->n_columns)
                        fprintf(f, "%s\n", t->cells[i]);
                else
                        fprintf(f, "%-*s  ", (int) widths[column], t->cells[i]);
        }
        return ferror(f) ? -EIO : 0;
}

/* Accessors that tolerate missing keys and nulls: the JSON may come from a
 * daemon of another version. */
static const char *get_string(json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

/* A JSON integer as text, or NULL; buf needs 21 bytes. */
static const char *get_number(json_t *o, const char *key, char *buf, size_t size) {
        json_t *v = json_object_get(o, key);

        if (!json_is_integer(v))
                return NULL;
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
}

static const char *type_letter(const char *type) {
        if (streq_ptr(type, "block"))
                return "b";
        if (streq_ptr(type, "char"))
                return "c";
        return NULL;
}

/* "7:0", or NULL for a device without a node. */
static char *devnum_string(json_t *o) {
        json_t *major = json_object_get(o, "major"), *minor = json_object_get(o, "minor");
        char *s;

        if (!json_is_integer(major) || !json_is_integer(minor))
                return NULL;
        if (asprintf(&s, "%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT, json_integer_value(major),
                     json_integer_value(minor)) < 0)
                return NULL;
        return s;
}

/* ", "-joined strings of an array, or NULL when empty. */
static char *join_array(json_t *a) {
        _cleanup_free_ char *s = NULL;
        size_t size = 0, i;
        json_t *v;
        FILE *f;

        if (json_array_size(a) == 0)
                return NULL;
        f = open_memstream(&s, &size);
        if (!f)
                return NULL;
        json_array_foreach(a, i, v)
                fprintf(f, "%s%s", i > 0 ? ", " : "", strempty(json_string_value(v)));
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(s);
}

int output_device_table(json_t *rows, FILE *f) {
        static const char *const headers[] = { "PATH", "DEVNAME", "TYPE", "MAJ:MIN", "OWNER", "GROUP", "MODE", "RULE" };
        _cleanup_(table_freep) struct table *t = NULL;
        size_t i;
        json_t *row;
        int r;

        r = table_new(headers, ELEMENTSOF(headers), &t);
        if (r < 0)
                return r;

        json_array_foreach(rows, i, row) {
                _cleanup_free_ char *devnum = devnum_string(row);
                char uid[32], gid[32];
                const char *cells[] = {
                        get_string(row, "path"),
                        get_string(row, "devname"),
                        get_string(row, "type"),
                        devnum,
                        get_number(row, "uid", uid, sizeof(uid)),
                        get_number(row, "gid", gid, sizeof(gid)),
                        get_string(row, "mode"),
                        get_string(row, "rule"),
                };

                r = table_add_row(t, cells);
                if (r < 0)
                        return r;
        }

        return table_print(t, f);
}

static void field(FILE *f, const char *name, const char *value) {
        fprintf(f, "%-20s %s\n", name, value && *value ? value : "-");
}

static void output_result(json_t *result, FILE *f) {
        _cleanup_free_ char *symlinks = join_array(json_object_get(result, "symlinks"));
        _cleanup_free_ char *attributes = join_array(json_object_get(result, "writable_attributes"));
        char uid[32], gid[32];

        field(f, "path:", get_string(result, "path"));
        field(f, "owner:", get_number(result, "uid", uid, sizeof(uid)));
        field(f, "group:", get_number(result, "gid", gid, sizeof(gid)));
        field(f, "mode:", get_string(result, "mode"));
        field(f, "access:", get_string(result, "access"));
        field(f, "symlinks:", symlinks);
        field(f, "writable attributes:", attributes);
}

static void output_trace_entry(json_t *e, FILE *f) {
        json_t *line = json_object_get(e, "line");
        bool matched = json_is_true(json_object_get(e, "matched"));
        const char *failed = get_string(e, "failed_key"), *value = get_string(e, "device_value");

        fprintf(f, "  %s:%" JSON_INTEGER_FORMAT ": %s %s\n", strempty(get_string(e, "file")),
                json_integer_value(line), matched ? "matched: " : "no match:", strempty(get_string(e, "text")));
        if (!matched && failed) {
                if (value)
                        fprintf(f, "      %s failed: the device has \"%s\"\n", failed, value);
                else
                        fprintf(f, "      %s failed: the device has no value\n", failed);
        }
}

int output_explanation(json_t *explanation, FILE *f) {
        json_t *device = json_object_get(explanation, "device");
        json_t *result = json_object_get(explanation, "result");
        json_t *trace = json_object_get(explanation, "trace");
        const char *verdict = get_string(explanation, "verdict"), *rule = get_string(explanation, "rule");
        _cleanup_free_ char *devnum = devnum_string(device), *node = NULL, *decided = NULL;
        json_t *e;
        size_t i;

        if (devnum && asprintf(&node, "%s (%s %s)", strempty(get_string(device, "devname")),
                               strempty(type_letter(get_string(device, "type"))), devnum) < 0)
                return -ENOMEM;
        if (rule && asprintf(&decided, "%s: %s", rule, strempty(get_string(explanation, "rule_text"))) < 0)
                return -ENOMEM;

        field(f, "device:", get_string(device, "devpath"));
        field(f, "subsystem:", get_string(device, "subsystem"));
        field(f, "devtype:", get_string(device, "devtype"));
        field(f, "driver:", get_string(device, "driver"));
        field(f, "node:", node);
        field(f, "verdict:", verdict);
        field(f, "rule:", decided ?: "no rule matched: hidden by default");
        if (json_is_object(result))
                output_result(result, f);

        if (json_array_size(trace) > 0) {
                fprintf(f, "\nrules, in evaluation order:\n");
                json_array_foreach(trace, i, e)
                        output_trace_entry(e, f);
        }
        return ferror(f) ? -EIO : 0;
}

int output_json(json_t *j, FILE *f) {
        if (json_dumpf(j, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
                return -EIO;
        fputc('\n', f);
        return ferror(f) ? -EIO : 0;
}
