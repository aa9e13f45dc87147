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
    size_t used, size;
    alignas(max_align_t) unsigned char data[];
};

void hmtp_arena_init(hmtp_arena *a)
{
    a->head = NULL;
}

void hmtp_arena_free(hmtp_arena *a)
{
    hmtp_arena_block *b = a->head;
    while (b) {
        hmtp_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

static hmtp_arena_block *new_block(size_t size)
{
    if (size > SIZE_MAX - sizeof(hmtp_arena_block))
        return NULL;
    hmtp_arena_block *b = malloc(sizeof *b + size);
    if (b) {
        b->used = 0;
        b->size = size;
    }
    return b;
}

/* size bytes at an `align` boundary (a power of two up to max_align_t's),
 * not zeroed. */
static void *bump(hmtp_arena *a, size_t size, size_t align)
{
    hmtp_arena_block *b = a->head;
    if (b) {
        size_t at = (b->used + align - 1) & ~(align - 1);
        if (at <= b->size && size <= b->size - at) {
            b->used = at + size;
            return b->data + at;
        }
    }
    /* Large requests get a block of their own, placed behind the current
       head so the head keeps serving small requests. */
    size_t grown = b ? (b->size < ARENA_BLOCK ? b->size * 2 : ARENA_BLOCK) : ARENA_FIRST_BLOCK;
    size_t bsize = size > grown / 4 ? size : grown;
    hmtp_arena_block *nb = new_block(bsize);
    if (!nb)
        return NULL;
    if (b && bsize == size) {
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        a->head = nb;
    }
    nb->used = size;
    return nb->data;
}

void *hmtp_arena_alloc(hmtp_arena *a, size_t size)
{
    if (size == 0)
        size = 1;
    void *p = bump(a, size, alignof(max_align_t));
    if (p)
        memset(p, 0, size);
    return p;
}

void hmtp_arena_reserve(hmtp_arena *a, size_t size)
{
    hmtp_arena_block *b = a->head;
    if (b && b->size - b->used >= size)
        return;
    hmtp_arena_block *nb = new_block(size);
    if (!nb)
        return; /* only a hint: allocations still grow the arena as needed */
    nb->next = b;
    a->head = nb;
}

char *hmtp_arena_strndup(hmtp_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = bump(a, len + 1, 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
