/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the packet fuzzers: cut an input into packet bodies with the
 * incremental reader. Bodies are copied (the reader's buffer is reused). */
#ifndef HMTP_FUZZ_FRAMES_H
#define HMTP_FUZZ_FRAMES_H

#include <stdlib.h>
#include <string.h>

#include "framing.h"

#define FUZZ_MAX_PACKETS 256
#define FUZZ_MAX_BODY ((size_t)1 << 20)

typedef struct fuzz_frames {
    uint8_t *body[FUZZ_MAX_PACKETS];
    size_t len[FUZZ_MAX_PACKETS];
    size_t n;
} fuzz_frames;

static inline void fuzz_frames_cut(fuzz_frames *fr, const uint8_t *data, size_t size)
{
    fr->n = 0;
    hmtp_reader *r = hmtp_reader_new(FUZZ_MAX_BODY);
    if (!r)
        return;
    while (size > 0 && fr->n < FUZZ_MAX_PACKETS) {
        size_t consumed = 0;
        hmtp_frame f;
        hmtp_error err;
        int rc = hmtp_reader_push(r, data, size, &consumed, &f, &err);
        if (rc != 1)
            break;
        uint8_t *copy = malloc(f.body_len ? f.body_len : 1);
        if (!copy)
            break;
        memcpy(copy, f.body, f.body_len);
        fr->body[fr->n] = copy;
        fr->len[fr->n++] = f.body_len;
        data += consumed;
        size -= consumed;
    }
    hmtp_reader_free(r);
}

static inline void fuzz_frames_free(fuzz_frames *fr)
{
    for (size_t i = 0; i < fr->n; i++)
        free(fr->body[i]);
    fr->n = 0;
}

#endif
