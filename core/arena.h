/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A bump allocator: a decoded packet's value tree and strings live in one
 * arena and are freed together. */
#ifndef HMTP_ARENA_H
#define HMTP_ARENA_H

#include <stddef.h>

typedef struct hmtp_arena_block hmtp_arena_block;

typedef struct hmtp_arena {
    hmtp_arena_block *head;
} hmtp_arena;

void hmtp_arena_init(hmtp_arena *a);
void hmtp_arena_free(hmtp_arena *a);
/* Zeroed memory aligned for any type; NULL when out of memory. */
void *hmtp_arena_alloc(hmtp_arena *a, size_t size);
/* Makes the next allocations, up to size bytes in all, come from one block
 * (a caller that knows how much it will need saves the block-by-block
 * growth). Only a hint: without memory it does nothing. */
void hmtp_arena_reserve(hmtp_arena *a, size_t size);
/* A NUL-terminated copy of len bytes (not aligned). */
char *hmtp_arena_strndup(hmtp_arena *a, const char *s, size_t len);

#endif
