/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* The file handles (fuse_file_info.fh) one process gives the kernel on one
 * connection. With the holder (docs/restart.md) a connection outlives the
 * process that serves it, and the kernel keeps sending the handles a dead
 * daemon handed out. A handle is therefore never a pointer: it is
 *
 *   GENERATION << FS_HANDLE_INDEX_BITS | INDEX
 *
 * where GENERATION names the process on this connection (1 for the one that
 * mounted it; the holder gives each next one a higher number, so no two
 * processes that served a connection share one) and INDEX is never given
 * twice by one table. What a handle stands for is found in the table: a
 * handle of our generation that is not there is none of ours (EBADF), one
 * of another generation is a dead process's (fs_handles_adopt()). Nothing
 * the kernel sends is ever dereferenced.
 *
 * Every function may be called from any thread. */

#define FS_HANDLE_INDEX_BITS 40
#define FS_HANDLE_GENERATION_MAX ((UINT32_C(1) << (64 - FS_HANDLE_INDEX_BITS)) - 1)

/* What a handle stands for: objects of one kind are only found as that
 * kind (a READ never gets a directory's listing). */
struct fs_handle_kind {
        const char *name;
        void (*free)(void *object);
};

struct fs_handle_entry;

struct fs_handles {
        pthread_mutex_t lock; /* guards everything below */
        uint32_t generation;
        uint64_t next_index;
        struct fs_handle_entry *table; /* by handle */
};

/* generation: 1 on a connection of our own, what the holder says on an
 * adopted one. -ERANGE when it does not fit a handle. */
int fs_handles_init(struct fs_handles *t, uint32_t generation);
/* Frees every object still in the table (the kernel will never release
 * them: its connection is gone) with its kind's free. */
void fs_handles_done(struct fs_handles *t);

/* A new handle for object; 0 without memory (or once 2^40 were given). */
uint64_t fs_handles_add(struct fs_handles *t, const struct fs_handle_kind *kind, void *object);
/* The object fh stands for, if it is of that kind; NULL otherwise. */
void *fs_handles_get(struct fs_handles *t, uint64_t fh, const struct fs_handle_kind *kind);
/* As fs_handles_get(), and fh is forgotten: the caller owns the object. */
void *fs_handles_take(struct fs_handles *t, uint64_t fh, const struct fs_handle_kind *kind);
/* Whether fh is of this process (in the table or not). */
bool fs_handles_ours(const struct fs_handles *t, uint64_t fh);
/* For a dead process's handle fh (not ours): object answers for it from now
 * on, unless another thread put one there first. Returns the object kept
 * under fh (the caller frees object if it is not that one); NULL, and
 * nothing kept, when fh is ours, 0, of another kind, or without memory. */
void *fs_handles_adopt(struct fs_handles *t, uint64_t fh, const struct fs_handle_kind *kind, void *object);
/* Handles in the table (for tests and status). */
unsigned fs_handles_count(struct fs_handles *t);
