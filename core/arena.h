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
/* A NUL-terminated copy of len bytes. */
char *hmtp_arena_strndup(hmtp_arena *a, const char *s, size_t len);

#endif
