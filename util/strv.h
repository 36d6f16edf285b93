/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* NULL-terminated arrays of owned strings ("string vectors"). A NULL strv is
 * a valid empty one. */

char **strv_free(char **l);
DEFINE_POINTER_CLEANUP(char *, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
bool strv_contains(char *const *l, const char *s);
bool strv_equal(char *const *a, char *const *b);

/* Takes ownership of value (freed on failure). */
int strv_consume(char ***l, char *value);
/* Copies value. */
int strv_extend(char ***l, const char *value);
int strv_copy(char *const *l, char ***ret);

/* For "KEY=VALUE" vectors: the value of key, or NULL. */
const char *strv_env_get(char *const *l, const char *key);
/* Replaces or appends KEY=VALUE. */
int strv_env_set(char ***l, const char *key, const char *value);
/* Removes key if present. */
void strv_env_unset(char **l, const char *key);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
