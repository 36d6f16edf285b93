/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <uthash.h>

#include "handles.h"

#define INDEX_MAX ((UINT64_C(1) << FS_HANDLE_INDEX_BITS) - 1)

struct fs_handle_entry {
        uint64_t fh;
        const struct fs_handle_kind *kind;
        void *object;
        UT_hash_handle hh;
};

static uint32_t generation_of(uint64_t fh) {
        return (uint32_t) (fh >> FS_HANDLE_INDEX_BITS);
}

int fs_handles_init(struct fs_handles *t, uint32_t generation) {
        if (generation == 0 || generation > FS_HANDLE_GENERATION_MAX)
                return -ERANGE;
        *t = (struct fs_handles) { .generation = generation, .next_index = 1 };
        pthread_mutex_init(&t->lock, NULL);
        return 0;
}

void fs_handles_done(struct fs_handles *t) {
        struct fs_handle_entry *e, *tmp;

        if (t->generation == 0)
                return; /* never initialised */
        HASH_ITER(hh, t->table, e, tmp) {
                HASH_DEL(t->table, e);
                e->kind->free(e->object);
                free(e);
        }
        pthread_mutex_destroy(&t->lock);
        t->generation = 0;
}

static struct fs_handle_entry *find(struct fs_handles *t, uint64_t fh) {
        struct fs_handle_entry *e;

        HASH_FIND(hh, t->table, &fh, sizeof(fh), e);
        return e;
}

static struct fs_handle_entry *entry_new(uint64_t fh, const struct fs_handle_kind *kind, void *object) {
        struct fs_handle_entry *e = calloc(1, sizeof(*e));

        if (e)
                *e = (struct fs_handle_entry) { .fh = fh, .kind = kind, .object = object };
        return e;
}

uint64_t fs_handles_add(struct fs_handles *t, const struct fs_handle_kind *kind, void *object) {
        struct fs_handle_entry *e;
        uint64_t fh = 0;

        pthread_mutex_lock(&t->lock);
        /* An index is never given twice: no handle the kernel may still
         * send comes to mean another object. */
        if (t->next_index <= INDEX_MAX) {
                e = entry_new((uint64_t) t->generation << FS_HANDLE_INDEX_BITS | t->next_index, kind, object);
                if (e) {
                        t->next_index++;
                        fh = e->fh;
                        HASH_ADD(hh, t->table, fh, sizeof(e->fh), e);
                }
        }
        pthread_mutex_unlock(&t->lock);
        return fh;
}

void *fs_handles_get(struct fs_handles *t, uint64_t fh, const struct fs_handle_kind *kind) {
        struct fs_handle_entry *e;
        void *object = NULL;

        pthread_mutex_lock(&t->lock);
        e = find(t, fh);
        if (e && e->kind == kind)
                object = e->object;
        pthread_mutex_unlock(&t->lock);
        return object;
}

void *fs_handles_take(struct fs_handles *t, uint64_t fh, const struct fs_handle_kind *kind) {
        struct fs_handle_entry *e;
        void *object = NULL;

        pthread_mutex_lock(&t->lock);
        e = find(t, fh);
        if (e && e->kind == kind) {
                object = e->object;
                HASH_DEL(t->table, e);
                free(e);
        }
        pthread_mutex_unlock(&t->lock);
        return object;
}

bool fs_handles_ours(const struct fs_handles *t, uint64_t fh) {
        return generation_of(fh) == t->generation;
}

void *fs_handles_adopt(struct fs_handles *t, uint64_t fh, const struct fs_handle_kind *kind, void *object) {
        struct fs_handle_entry *e;
        void *kept = NULL;

        if (fh == 0 || fs_handles_ours(t, fh))
                return NULL;
        pthread_mutex_lock(&t->lock);
        e = find(t, fh);
        if (e)
                kept = e->kind == kind ? e->object : NULL;
        else if ((e = entry_new(fh, kind, object))) {
                HASH_ADD(hh, t->table, fh, sizeof(e->fh), e);
                kept = object;
        }
        pthread_mutex_unlock(&t->lock);
        return kept;
}

unsigned fs_handles_count(struct fs_handles *t) {
        unsigned n;

        pthread_mutex_lock(&t->lock);
        n = HASH_COUNT(t->table);
        pthread_mutex_unlock(&t->lock);
        return n;
}
