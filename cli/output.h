/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "macro.h"

/* Human output of devsieve(1). Commands build JSON (policy-json.h, or the
 * daemon's replies) and render it here, so "--json" and the human form
 * always say the same thing. */

/* A text table: a header row, then rows; each column as wide as its widest
 * cell, two spaces apart. */
struct table;

/* headers: n_columns strings. */
int table_new(const char *const *headers, size_t n_columns, struct table **ret);
struct table *table_free(struct table *t);
DEFINE_POINTER_CLEANUP(struct table, table_free);
/* cells: n_columns strings, copied; NULL or "" prints as "-". */
int table_add_row(struct table *t, const char *const *cells);
size_t table_n_rows(const struct table *t);
int table_print(const struct table *t, FILE *f);

/* rows: an array of policy-json rows. Columns PATH, DEVNAME, TYPE, MAJ:MIN,
 * OWNER, GROUP, MODE, RULE. Rows are printed in the order given. */
int output_device_table(json_t *rows, FILE *f);

/* explanation: a policy-json explanation object. */
int output_explanation(json_t *explanation, FILE *f);

/* Pretty-printed JSON and a newline. */
int output_json(json_t *j, FILE *f);
