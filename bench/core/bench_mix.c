/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bench_mix.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmtp.h"

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const char *const WORDS[] = {"market", "rally",  "storm",   "election", "vote",   "cloud",
                                    "server", "caucho", "resin",   "hessian",  "report", "update",
                                    "city",   "caf\xc3\xa9", "\xe2\x82\xac", "sports"};

static hessian_value *text(hmtp_arena *a, uint64_t *rng, size_t words)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    for (size_t i = 0; i < words; i++) {
        const char *w = WORDS[next_rand(rng) % (sizeof WORDS / sizeof WORDS[0])];
        hmtp_buf_append(&b, w, strlen(w));
        hmtp_buf_append_byte(&b, ' ');
    }
    hessian_value *v = hessian_new_string(a, (const char *)b.data, b.len);
    hmtp_buf_free(&b);
    return v;
}

static hessian_value *news_item(hmtp_arena *a, uint64_t *rng, size_t n)
{
    static const char *const f[] = {"_id", "_title", "_body", "_published", "_score", "_tags", "_source"};
    hessian_value *o = hessian_new_object(a, "example.NewsItem", 7, f);
    hessian_object_set(o, "_id", hessian_new_long(a, (int64_t)n * 7919));
    hessian_object_set(o, "_title", text(a, rng, 4 + next_rand(rng) % 6));
    hessian_object_set(o, "_body", text(a, rng, 20 + next_rand(rng) % 300));
    hessian_object_set(o, "_published", hessian_new_date(a, 1230768000000LL + (int64_t)n * 60000));
    hessian_object_set(o, "_score", hessian_new_double(a, (double)(next_rand(rng) % 100000) / 1000.0));
    size_t ntags = next_rand(rng) % 5;
    hessian_value *tags = hessian_new_list(a, "[string", false, ntags);
    for (size_t i = 0; i < ntags; i++)
        tags->v.list.items[i] = text(a, rng, 1);
    hessian_object_set(o, "_tags", tags);
    hessian_object_set(o, "_source", hessian_new_string(a, "news@cnn.com", 12));
    return o;
}

static hessian_value *status(hmtp_arena *a, uint64_t *rng)
{
    static const char *const f[] = {"_show", "_status", "_priority"};
    hessian_value *o = hessian_new_object(a, "com.caucho.bam.Presence", 3, f);
    hessian_object_set(o, "_show", hessian_new_string(a, "away", 4));
    hessian_object_set(o, "_status", text(a, rng, 3));
    hessian_object_set(o, "_priority", hessian_new_int(a, (int32_t)(next_rand(rng) % 10)));
    return o;
}

static void fill(hmtp_packet *p, uint64_t *rng, size_t n, bench_mix_stats *st)
{
    hmtp_arena *a = &p->arena;
    uint64_t r = next_rand(rng) % 100;
    p->to = "ferg@hmtp.caucho.com/my-iPhone-1";
    p->from = "news@cnn.com";
    if (n % 2000 == 1999) { /* a few big payloads: 100 KB .. 1 MB */
        size_t len = 100 * 1024 + (size_t)(next_rand(rng) % (924 * 1024));
        uint8_t *d = hmtp_arena_alloc(a, len);
        for (size_t i = 0; d && i < len; i += 8) {
            uint64_t x = next_rand(rng);
            memcpy(d + i, &x, len - i < 8 ? len - i : 8);
        }
        p->type = HMTP_MESSAGE;
        p->value = hessian_new_binary(a, d, len);
        st->large++;
    } else if (r < 50) {
        p->type = HMTP_PRESENCE + (int32_t)(next_rand(rng) % 7);
        p->from = NULL; /* clients send presence with from = null */
        p->value = r < 25 ? hessian_new_null(a) : status(a, rng);
        st->presence++;
    } else if (r < 80) {
        p->type = HMTP_MESSAGE;
        p->value = news_item(a, rng, n);
        st->messages++;
    } else {
        p->type = r < 90 ? HMTP_QUERY_GET : HMTP_QUERY_RESULT;
        p->has_id = true;
        p->id = (int64_t)n;
        p->value = r < 90 ? hessian_new_null(a) : news_item(a, rng, n);
        st->queries++;
    }
}

bool bench_mix_generate(hmtp_buf *out, size_t target, bench_mix_stats *st, bench_mix_each each, void *ctx)
{
    memset(st, 0, sizeof *st);
    hessian_writer w;
    hessian_writer_init(&w, out);
    uint64_t rng = 20090101;
    bool ok = true;
    while (out->len < target && ok) {
        hmtp_packet p;
        hmtp_packet_init(&p);
        fill(&p, &rng, st->packets, st);
        ok = hmtp_packet_write(&w, &p) && !w.failed && !out->failed && (!each || each(&p, ctx));
        hmtp_packet_free(&p);
        st->packets++;
    }
    hessian_writer_free(&w);
    return ok;
}
