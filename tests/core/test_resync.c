/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Resynchronisation (core/resync.h): a real packet stream, written by the
 * core writer as Caucho's client writes it, cut at every byte offset. From
 * every cut the first boundary found must be the first real packet start at
 * or after the cut, both when all the bytes are there at once (Wireshark)
 * and when they arrive in pieces (hmtp-replay), and never an offset inside
 * a packet, though the stream's binary payloads hold bytes made to look like
 * packet starts and whole packets. */
#include <stdlib.h>

#include "check.h"
#include "framing.h"
#include "hmtp.h"
#include "resync.h"
#include "testutil.h"
#include "writer.h"

#define MAX_PACKETS 32

typedef struct stream {
    hmtp_buf wire;
    size_t start[MAX_PACKETS]; /* wire offset of each packet */
    size_t n;
} stream;

static void head(hessian_writer *w, stream *s, int type, const char *to, const char *from)
{
    s->start[s->n++] = w->out->len;
    hessian_writer_start_packet(w);
    hessian_write_int(w, type);
    hessian_write_string(w, to, to ? strlen(to) : 0);
    hessian_write_string(w, from, from ? strlen(from) : 0);
}

/* One framed packet on its own, to hide inside a payload. */
static hmtp_buf lone_packet(const char *to)
{
    hmtp_buf out;
    hmtp_buf_init(&out);
    hessian_writer w;
    hessian_writer_init(&w, &out);
    hessian_writer_start_packet(&w);
    hessian_write_int(&w, 0);
    hessian_write_string(&w, to, strlen(to));
    hessian_write_string(&w, NULL, 0);
    hessian_write_string(&w, "hidden", 6);
    hessian_writer_end_packet(&w);
    hessian_writer_free(&w);
    return out;
}

/* A payload of pseudo-random bytes sown with traps: short runs that begin
 * like packets (a chunk length, a type, a null or JID to), and whole packets,
 * one followed by more payload and one at the very end of the payload (so
 * the enclosing packet's closing 0x00 follows it). */
static hmtp_buf trap_payload(uint64_t *rng)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_buf hidden = lone_packet("news@localhost");
    for (int k = 0; k < 12; k++) {
        for (int i = 0; i < 40; i++)
            hmtp_buf_append_byte(&b, (uint8_t)test_rand(rng));
        /* chunk length 0x20, type 0x90 + k, to null 'N', from a short JID */
        const uint8_t looks[] = {0x20, (uint8_t)(0x90 + k), 'N', 0x03, 'a', '@', 'b', 0x4e};
        hmtp_buf_append(&b, looks, sizeof looks);
        if (k == 5)
            hmtp_buf_append(&b, hidden.data, hidden.len);
    }
    hmtp_buf_append(&b, hidden.data, hidden.len);
    hmtp_buf_free(&hidden);
    return b;
}

static void build_stream(stream *s)
{
    memset(s, 0, sizeof *s);
    hmtp_buf_init(&s->wire);
    hessian_writer w;
    hessian_writer_init(&w, &s->wire);
    uint64_t rng = 14;

    /* login: queryGet to the broker with an AuthQuery */
    head(&w, s, 2, NULL, NULL);
    hessian_write_long(&w, 1);
    const char *aq[] = {"_uid", "_resource", "_credentials"};
    hessian_write_object_begin(&w, "com.caucho.bam.hmtp.AuthQuery", 3, aq);
    hessian_write_string(&w, "alice", 5);
    hessian_write_string(&w, "phone", 5);
    hessian_write_string(&w, "secret", 6);
    hessian_writer_end_packet(&w);

    /* a subscription, then a message whose binary value is full of traps */
    head(&w, s, 9, "news@localhost", "alice@localhost/phone");
    hessian_write_null(&w);
    hessian_writer_end_packet(&w);
    hmtp_buf trap = trap_payload(&rng);
    head(&w, s, 0, "news@localhost", "alice@localhost/phone");
    hessian_write_binary(&w, trap.data, trap.len);
    hessian_writer_end_packet(&w);

    /* an object of a new class, then one by class index only (a decoder
     * that starts after the first sees a class it never saw defined) */
    const char *item[] = {"title", "body"};
    for (int k = 0; k < 2; k++) {
        head(&w, s, 0, "alice@localhost/phone", "news@localhost");
        hessian_write_object_begin(&w, "example.NewsItem", 2, item);
        hessian_write_string(&w, "headline", 8);
        hessian_write_binary(&w, trap.data, trap.len / (size_t)(k + 2));
        hessian_writer_end_packet(&w);
    }
    hmtp_buf_free(&trap);

    /* a packet of several 4 KB chunks */
    char *text = malloc(9000);
    for (size_t i = 0; i < 9000; i++)
        text[i] = (char)('a' + i % 26);
    head(&w, s, 3, "ping@localhost", "alice@localhost/phone");
    hessian_write_long(&w, 2);
    hessian_write_string(&w, text, 9000);
    hessian_writer_end_packet(&w);
    free(text);

    /* an error answer with a BamError, a map, and a short presence */
    head(&w, s, 5, "alice@localhost/phone", "ping@localhost");
    hessian_write_long(&w, 2);
    hessian_write_null(&w);
    hmtp_arena arena;
    hmtp_arena_init(&arena);
    hessian_write_value(&w, hmtp_new_bam_error(&arena, "cancel", "item-not-found", NULL));
    hmtp_arena_free(&arena);
    hessian_writer_end_packet(&w);
    head(&w, s, 6, "bob@localhost", "alice@localhost/phone");
    hessian_write_map_begin(&w, NULL);
    hessian_write_string(&w, "status", 6);
    hessian_write_int(&w, 200);
    hessian_write_map_end(&w);
    hessian_writer_end_packet(&w);
    head(&w, s, 7, NULL, "alice@localhost/phone");
    hessian_write_null(&w);
    hessian_writer_end_packet(&w);
    CHECK(!w.failed && s->n <= MAX_PACKETS, "stream written");
    hessian_writer_free(&w);
}

/* The first real packet start at or after cut; len when there is none.
 * Caucho's writer gives a short first chunk a two-byte length, 0x80 then
 * the length: cut after the 0x80, the bytes left are the same packet with a
 * one-byte length, and that is what must be found. */
static size_t first_start(const stream *s, size_t cut)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->start[i] >= cut)
            return s->start[i];
        bool in_zero_groups = true;
        for (size_t k = s->start[i]; k < cut; k++)
            in_zero_groups = in_zero_groups && s->wire.data[k] == 0x80;
        if (in_zero_groups)
            return cut;
    }
    return s->wire.len;
}

/* The end of the packet that holds offset `at`. */
static size_t packet_end(const stream *s, size_t at)
{
    for (size_t i = 0; i < s->n; i++)
        if (i + 1 == s->n || s->start[i + 1] > at)
            return i + 1 < s->n ? s->start[i + 1] : s->wire.len;
    return s->wire.len;
}

/* The stream written is what the rule says is a packet stream: every
 * packet, taken alone, is a whole packet of the right length. */
static void test_every_packet_is_one(const stream *s)
{
    for (size_t i = 0; i < s->n; i++) {
        size_t wire = 0, need = 0, end = packet_end(s, s->start[i]);
        hmtp_resync_answer a = hmtp_resync_packet(s->wire.data + s->start[i], s->wire.len - s->start[i],
                                                  HMTP_DEFAULT_MAX_PACKET, &wire, &need);
        CHECK(a == HMTP_RESYNC_YES && wire == end - s->start[i], "packet %zu: answer %d, length %zu of %zu", i,
              (int)a, wire, end - s->start[i]);
        /* cut short, it is a packet that needs more bytes */
        a = hmtp_resync_packet(s->wire.data + s->start[i], end - s->start[i] - 1, HMTP_DEFAULT_MAX_PACKET, &wire,
                               &need);
        CHECK(a == HMTP_RESYNC_MORE && need >= 1, "packet %zu less its last byte: answer %d", i, (int)a);
        CHECK(hmtp_resync_prefix(s->wire.data + s->start[i], 2) == HMTP_RESYNC_MORE,
              "packet %zu: 2 bytes are too few to tell", i);
        CHECK(hmtp_resync_prefix(s->wire.data + s->start[i], 40) == HMTP_RESYNC_YES, "packet %zu: prefix", i);
    }
}

/* All the bytes after the cut at once, as the plugin sees a segment. */
static void test_cut_at_every_offset(const stream *s)
{
    hmtp_resync_config cfg = {.max_body = HMTP_DEFAULT_MAX_PACKET, .window = s->wire.len, .at_end = true};
    int wrong = 0;
    for (size_t cut = 0; cut < s->wire.len && wrong < 5; cut++) {
        size_t at = 0, need = 0, want = first_start(s, cut);
        hmtp_resync_status st = hmtp_resync_find(s->wire.data + cut, s->wire.len - cut, 0, &cfg, &at, &need);
        bool ok = want == s->wire.len ? st == HMTP_RESYNC_NONE : st == HMTP_RESYNC_FOUND && cut + at == want;
        if (!CHECK(ok, "cut at %zu: status %d at %zu, want the packet at %zu", cut, (int)st, cut + at, want))
            wrong++;
    }
}

/* Where the bytes that decide a boundary at `start` end: its packet and
 * enough of the next one to tell it starts a packet; the stream's length
 * for the last packet (decided at the end of the stream). */
static size_t decided_at(const stream *s, size_t start)
{
    size_t end = packet_end(s, start);
    if (end == s->wire.len)
        return end;
    size_t k = 1;
    while (hmtp_resync_prefix(s->wire.data + end, k) == HMTP_RESYNC_MORE)
        k++;
    return end + k;
}

/* The bytes after the cut arrive in pieces of 1 to 1500 bytes; the caller
 * drops what is refused and asks again once it has what was asked for, as
 * hmtp-replay does. The boundary is found by the first call that has the
 * bytes that decide it (its packet and the next one's start), never
 * later. */
static void test_cut_streaming(const stream *s)
{
    hmtp_resync_config cfg = {.max_body = HMTP_DEFAULT_MAX_PACKET, .window = s->wire.len};
    uint64_t rng = 99;
    int wrong = 0;
    for (size_t cut = 0; cut < s->wire.len && wrong < 5; cut++) {
        size_t want = first_start(s, cut), complete = decided_at(s, want);
        size_t base = cut, fed = cut, before = cut, need = 0, at = 0;
        hmtp_resync_status st = HMTP_RESYNC_NEED;
        cfg.at_end = false;
        size_t last_call = cut;
        while (st == HMTP_RESYNC_NEED) {
            if (fed == s->wire.len) {
                cfg.at_end = true;
            } else {
                size_t piece = 1 + (size_t)(test_rand(&rng) % 1500);
                fed = fed + piece > s->wire.len ? s->wire.len : fed + piece;
                if (fed - base < need)
                    continue;
            }
            cfg.window = s->wire.len - base;
            before = last_call;
            last_call = fed;
            st = hmtp_resync_find(s->wire.data + base, fed - base, 0, &cfg, &at, &need);
            if (st == HMTP_RESYNC_NEED) {
                CHECK(at <= fed - base && need > fed - base - at, "cut %zu: need %zu not beyond what is there", cut,
                      need);
                base += at; /* what is refused is dropped */
                need -= at;
            }
        }
        bool ok = want == s->wire.len ? st == HMTP_RESYNC_NONE
                                      : st == HMTP_RESYNC_FOUND && base + at == want &&
                                            (complete == s->wire.len ? cfg.at_end : before < complete && complete <= fed);
        if (!CHECK(ok, "streaming cut at %zu: status %d at %zu with %zu..%zu bytes, want the packet at %zu (decided at %zu)",
                   cut, (int)st, base + at, before, fed, want, complete))
            wrong++;
    }
}

/* The plugin's rule for a segment's first byte: a packet start counts
 * there even when the packet runs past the segment. */
static void test_prefix_at_from(const stream *s)
{
    hmtp_resync_config cfg = {
        .max_body = HMTP_DEFAULT_MAX_PACKET, .window = HMTP_RESYNC_WINDOW, .at_end = true, .prefix_at_from = true};
    for (size_t i = 0; i < s->n; i++) {
        size_t at = 99, need, len = 30;
        hmtp_resync_status st = hmtp_resync_find(s->wire.data + s->start[i], len, 0, &cfg, &at, &need);
        CHECK(st == HMTP_RESYNC_FOUND && at == 0, "packet %zu cut to 30 bytes: status %d at %zu", i, (int)st, at);
        cfg.prefix_at_from = false;
        st = hmtp_resync_find(s->wire.data + s->start[i], len, 0, &cfg, &at, &need);
        CHECK(st == HMTP_RESYNC_NONE, "without the rule, 30 bytes of packet %zu hold no boundary: %d", i, (int)st);
        cfg.prefix_at_from = true;
    }
}

/* The window bounds the search: a boundary beyond it is not found. */
static void test_window(const stream *s)
{
    size_t cut = s->start[1] + 1, want = s->start[2];
    hmtp_resync_config cfg = {.max_body = HMTP_DEFAULT_MAX_PACKET, .window = want - cut, .at_end = true};
    size_t at, need;
    CHECK(hmtp_resync_find(s->wire.data + cut, s->wire.len - cut, 0, &cfg, &at, &need) == HMTP_RESYNC_NONE,
          "a boundary one byte past the window is not found");
    cfg.window++;
    CHECK(hmtp_resync_find(s->wire.data + cut, s->wire.len - cut, 0, &cfg, &at, &need) == HMTP_RESYNC_FOUND &&
              at == want - cut,
          "a boundary at the window's last offset is found");
    /* streaming: the window ends inside the bytes there are, so NONE, not NEED */
    cfg.at_end = false;
    cfg.window = want - cut;
    CHECK(hmtp_resync_find(s->wire.data + cut, s->wire.len - cut, 0, &cfg, &at, &need) == HMTP_RESYNC_NONE,
          "streaming: an exhausted window is NONE");
}

/* accept_at_edge: a packet that ends where the bytes end counts at once;
 * without it, the search waits for what follows. */
static void test_edge(const stream *s)
{
    size_t cut = s->start[1] + 1, end = s->start[3];
    hmtp_resync_config cfg = {.max_body = HMTP_DEFAULT_MAX_PACKET, .window = s->wire.len};
    size_t at = 0, need = 0;
    hmtp_resync_status st = hmtp_resync_find(s->wire.data + cut, end - cut, 0, &cfg, &at, &need);
    CHECK(st == HMTP_RESYNC_NEED && cut + at == s->start[2] && need == end - cut + 1,
          "packet 2 ends where the bytes do: wait for one more (status %d at %zu need %zu)", (int)st, cut + at, need);
    cfg.accept_at_edge = true;
    st = hmtp_resync_find(s->wire.data + cut, end - cut, 0, &cfg, &at, &need);
    CHECK(st == HMTP_RESYNC_FOUND && cut + at == s->start[2], "at the edge: found at once (status %d)", (int)st);
    /* a packet followed by one byte is not at the edge */
    st = hmtp_resync_find(s->wire.data + cut, end - cut + 1, 0, &cfg, &at, &need);
    CHECK(st == HMTP_RESYNC_NEED && cut + at == s->start[2], "one byte after it: wait (status %d)", (int)st);
}

/* A whole packet that a payload carries is refused by what follows it. */
static void test_hidden_packet_alone(void)
{
    hmtp_buf hidden = lone_packet("news@localhost");
    size_t wire = 0, need = 0;
    CHECK(hmtp_resync_packet(hidden.data, hidden.len, HMTP_DEFAULT_MAX_PACKET, &wire, &need) == HMTP_RESYNC_YES,
          "the hidden packet is a whole packet on its own");
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_buf_append(&b, hidden.data, hidden.len);
    hex_append(&b, "00 24 99"); /* a closing 0x00, then a packet start */
    hmtp_resync_config cfg = {.max_body = HMTP_DEFAULT_MAX_PACKET, .window = b.len, .at_end = true};
    size_t at;
    hmtp_resync_status st = hmtp_resync_find(b.data, b.len, 0, &cfg, &at, &need);
    CHECK(st == HMTP_RESYNC_NONE, "a whole packet followed by a lone 0x00 is not a boundary: %d at %zu", (int)st,
          at);
    hmtp_buf_free(&b);
    hmtp_buf_free(&hidden);
}

int main(void)
{
    stream s;
    build_stream(&s);
    CHECK(s.n == 9 && s.wire.len > 10000, "stream of %zu packets, %zu bytes", s.n, s.wire.len);
    test_every_packet_is_one(&s);
    test_cut_at_every_offset(&s);
    test_cut_streaming(&s);
    test_prefix_at_from(&s);
    test_window(&s);
    test_edge(&s);
    test_hidden_packet_alone();
    hmtp_buf_free(&s.wire);
    return check_summary("core_resync");
}
