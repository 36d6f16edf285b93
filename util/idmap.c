/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "fileio.h"
#include "idmap.h"

void idmap_identity(struct idmap *m) {
        m->n_extents = 1;
        m->extents[0] = (struct idmap_extent){ .inside = 0, .outside = 0, .count = UINT32_MAX };
}

int idmap_parse(const char *text, struct idmap *ret) {
        struct idmap m = { .n_extents = 0 };
        const char *p = text;

        while (*p) {
                struct idmap_extent e;
                int consumed = 0;

                if (sscanf(p, " %" SCNu32 " %" SCNu32 " %" SCNu32 "%n", &e.inside, &e.outside, &e.count,
                           &consumed) != 3)
                        return -EINVAL;
                if (e.count == 0 || m.n_extents >= IDMAP_EXTENTS_MAX)
                        return -EINVAL;
                m.extents[m.n_extents++] = e;
                p += consumed;
                while (*p == ' ' || *p == '\n' || *p == '\t')
                        p++;
        }
        if (m.n_extents == 0)
                return -EINVAL;
        *ret = m;
        return 0;
}

int idmap_read(pid_t pid, const char *which, struct idmap *ret) {
        _cleanup_free_ char *text = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, which);
        r = read_small_file_at(-EBADF, path, 64 * 1024, &text);
        if (r < 0)
                return r;
        return idmap_parse(text, ret);
}

static int translate(const struct idmap *m, uint32_t id, int to_host, uint32_t *ret) {
        for (unsigned i = 0; i < m->n_extents; i++) {
                const struct idmap_extent *e = &m->extents[i];
                uint32_t from = to_host ? e->inside : e->outside;
                uint32_t to = to_host ? e->outside : e->inside;

                if (id >= from && id - from < e->count) {
                        *ret = to + (id - from);
                        return 0;
                }
        }
        return -ERANGE;
}

int idmap_to_host(const struct idmap *m, uint32_t inside, uint32_t *ret) {
        return translate(m, inside, 1, ret);
}

int idmap_from_host(const struct idmap *m, uint32_t outside, uint32_t *ret) {
        return translate(m, outside, 0, ret);
}

int idmap_equal(const struct idmap *a, const struct idmap *b) {
        return a->n_extents == b->n_extents &&
               memcmp(a->extents, b->extents, sizeof(a->extents[0]) * a->n_extents) == 0;
}
