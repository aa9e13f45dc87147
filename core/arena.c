/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Blocks grow from small to ARENA_BLOCK, so a small decoded packet costs a
 * few hundred bytes, not a full block (the replayer keeps many). */
#define ARENA_FIRST_BLOCK 256
#define ARENA_BLOCK 8192

struct hmtp_arena_block {
    hmtp_arena_block *next;
    size_t size;
    alignas(max_align_t) unsigned char data[];
};

void hmtp_arena_init(hmtp_arena *a)
{
    a->head = NULL;
    a->cur = a->end = NULL;
}

void hmtp_arena_free(hmtp_arena *a)
{
    hmtp_arena_block *b = a->head;
    while (b) {
        hmtp_arena_block *next = b->next;
        free(b);
        b = next;
    }
    hmtp_arena_init(a);
}

static hmtp_arena_block *new_block(size_t size)
{
    if (size > SIZE_MAX - sizeof(hmtp_arena_block))
        return NULL;
    hmtp_arena_block *b = malloc(sizeof *b + size);
    if (b)
        b->size = size;
    return b;
}

static void set_head(hmtp_arena *a, hmtp_arena_block *b, size_t used)
{
    b->next = a->head;
    a->head = b;
    a->cur = b->data + used;
    a->end = b->data + b->size;
}

void hmtp_arena_reset(hmtp_arena *a)
{
    hmtp_arena_block *keep = NULL;
    for (hmtp_arena_block *b = a->head; b; b = b->next)
        if (b->size <= HMTP_ARENA_KEEP && (!keep || b->size > keep->size))
            keep = b;
    hmtp_arena_block *b = a->head;
    while (b) {
        hmtp_arena_block *next = b->next;
        if (b != keep)
            free(b);
        b = next;
    }
    hmtp_arena_init(a);
    if (keep)
        set_head(a, keep, 0);
}

void *hmtp_arena_alloc_aligned(hmtp_arena *a, size_t size, size_t align)
{
    if (size == 0)
        size = 1;
    if (a->cur) {
        uintptr_t at = ((uintptr_t)a->cur + align - 1) & ~(uintptr_t)(align - 1);
        if (at <= (uintptr_t)a->end && size <= (uintptr_t)a->end - at) {
            a->cur = (unsigned char *)at + size;
            return (void *)at;
        }
    }
    /* Large requests get a block of their own, placed behind the current
       head so the head keeps serving small requests. */
    hmtp_arena_block *b = a->head;
    size_t grown = b ? (b->size < ARENA_BLOCK ? b->size * 2 : ARENA_BLOCK) : ARENA_FIRST_BLOCK;
    size_t bsize = size > grown / 4 ? size : grown;
    hmtp_arena_block *nb = new_block(bsize);
    if (!nb)
        return NULL;
    if (b && bsize == size) {
        nb->next = b->next;
        b->next = nb;
    } else {
        set_head(a, nb, size);
    }
    return nb->data;
}

void *hmtp_arena_alloc(hmtp_arena *a, size_t size)
{
    if (size == 0)
        size = 1;
    void *p = hmtp_arena_alloc_raw(a, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void hmtp_arena_reserve(hmtp_arena *a, size_t size)
{
    if (a->cur && (size_t)(a->end - a->cur) >= size)
        return;
    hmtp_arena_block *nb = new_block(size);
    if (nb) /* only a hint: allocations still grow the arena as needed */
        set_head(a, nb, 0);
}

char *hmtp_arena_strndup(hmtp_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = hmtp_arena_alloc_aligned(a, len + 1, 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
