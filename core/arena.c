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

void *hmtp_arena_alloc(hmtp_arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    if (size > SIZE_MAX - align - sizeof(hmtp_arena_block))
        return NULL;
    size = (size + align - 1) & ~(align - 1);
    if (size == 0)
        size = align;
    hmtp_arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        /* Large requests get a block of their own, placed behind the current
           head so the head keeps serving small requests. */
        size_t grown = b ? (b->size < ARENA_BLOCK ? b->size * 2 : ARENA_BLOCK) : ARENA_FIRST_BLOCK;
        size_t bsize = size > grown / 4 ? size : grown;
        hmtp_arena_block *nb = malloc(sizeof *nb + bsize);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->size = bsize;
        if (b && bsize == size) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *hmtp_arena_strndup(hmtp_arena *a, const char *s, size_t len)
{
    char *p = hmtp_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
