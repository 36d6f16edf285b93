/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "strv.h"

char **strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        STRV_FOREACH(s, l)
                n++;
        return n;
}

bool strv_contains(char *const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

bool strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

int strv_consume(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **grown;

        if (!value)
                return -ENOMEM;
        grown = realloc(*l, sizeof(char *) * (n + 2));
        if (!grown) {
                free(value);
                return -ENOMEM;
        }
        grown[n] = value;
        grown[n + 1] = NULL;
        *l = grown;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        return strv_consume(l, strdup(value));
}

int strv_copy(char *const *l, char ***ret) {
        _cleanup_strv_free_ char **copy = calloc(strv_length(l) + 1, sizeof(char *));
        size_t n = 0;

        if (!copy)
                return -ENOMEM;
        STRV_FOREACH(s, l) {
                copy[n] = strdup(*s);
                if (!copy[n])
                        return -ENOMEM;
                n++;
        }
        *ret = TAKE_PTR(copy);
        return 0;
}

static char *const *env_find(char *const *l, const char *key) {
        size_t k = strlen(key);

        STRV_FOREACH(s, l)
                if (strncmp(*s, key, k) == 0 && (*s)[k] == '=')
                        return s;
        return NULL;
}

const char *strv_env_get(char *const *l, const char *key) {
        char *const *s = env_find(l, key);
        return s ? *s + strlen(key) + 1 : NULL;
}

int strv_env_set(char ***l, const char *key, const char *value) {
        char *const *existing = env_find(*l, key);
        char *entry;

        if (asprintf(&entry, "%s=%s", key, value) < 0)
                return -ENOMEM;
        if (existing) {
                char **slot = (char **) existing;
                free(*slot);
                *slot = entry;
                return 0;
        }
        return strv_consume(l, entry);
}

void strv_env_unset(char **l, const char *key) {
        char **s = (char **) env_find(l, key);

        if (!s)
                return;
        free(*s);
        do
                s[0] = s[1];
        while (*s++);
}
