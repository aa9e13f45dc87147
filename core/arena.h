/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A bump allocator: a decoded packet's value tree and strings live in one
 * arena and are freed together. */
#ifndef HMTP_ARENA_H
#define HMTP_ARENA_H

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hmtp_arena_block hmtp_arena_block;

typedef struct hmtp_arena {
    hmtp_arena_block *head;
    unsigned char *cur, *end; /* the head block's free bytes */
} hmtp_arena;

void hmtp_arena_init(hmtp_arena *a);
void hmtp_arena_free(hmtp_arena *a);
/* Empties the arena for reuse (every pointer into it becomes invalid) but
 * keeps its largest block, when that is at most HMTP_ARENA_KEEP bytes, so a
 * reader that decodes packet after packet into one arena needs no malloc
 * once its block is large enough; the other blocks are freed. */
void hmtp_arena_reset(hmtp_arena *a);
#define HMTP_ARENA_KEEP ((size_t)4 << 20)
/* Free bytes left in the current block. */
static inline size_t hmtp_arena_room(const hmtp_arena *a)
{
    return a->cur ? (size_t)(a->end - a->cur) : 0;
}
/* Zeroed memory aligned for any type; NULL when out of memory. */
void *hmtp_arena_alloc(hmtp_arena *a, size_t size);
/* Makes the next allocations, up to size bytes in all, come from one block
 * (a caller that knows how much it will need saves the block-by-block
 * growth). Only a hint: without memory it does nothing. */
void hmtp_arena_reserve(hmtp_arena *a, size_t size);
/* A NUL-terminated copy of len bytes (not aligned). */
char *hmtp_arena_strndup(hmtp_arena *a, const char *s, size_t len);

/* size bytes at an `align` boundary (a power of two up to max_align_t's),
 * not zeroed; NULL when out of memory. */
void *hmtp_arena_alloc_aligned(hmtp_arena *a, size_t size, size_t align);

/* Like hmtp_arena_alloc() but not zeroed, for callers that fill every byte
 * (the decoder's tree nodes): in line, as it runs for every node. */
static inline void *hmtp_arena_alloc_raw(hmtp_arena *a, size_t size)
{
    const uintptr_t align = alignof(max_align_t);
    uintptr_t at = ((uintptr_t)a->cur + align - 1) & ~(align - 1);
    if (a->cur && at <= (uintptr_t)a->end && size - 1 < (uintptr_t)a->end - at) {
        a->cur = (unsigned char *)at + size;
        return (void *)at;
    }
    return hmtp_arena_alloc_aligned(a, size, align);
}

#endif
