/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "store.h"

#include "framing.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- records */

/* A record is the packet's struct (its pointers meaningless on disk), then
 * its bytes, padded so that the next record's struct is aligned: a session's
 * records are used where they were read (rec_session_acquire). What is kept
 * of the bytes is what the replay uses: a client packet's wire bytes (sent
 * as recorded) and its body, which is inside them when the packet is one
 * chunk (the usual case); a server packet's body only (compared, never
 * sent), its wire NULL. */
#define REC_ALIGN alignof(rec_packet)

/* Offset of the body inside the wire bytes when the packet is one chunk,
 * else SIZE_MAX (the body is kept after the wire bytes). */
static size_t body_in_wire(const uint8_t *wire, size_t wire_len, size_t body_len)
{
    size_t pos = 0;
    hmtp_chunk c;
    if (wire && hmtp_frame_next_chunk(wire, wire_len, &pos, &c) && c.data_len == body_len)
        return c.data_offset;
    return SIZE_MAX;
}

static size_t record_size(size_t wire_len, size_t body_len, size_t body_at)
{
    size_t n = sizeof(rec_packet) + wire_len + (body_at == SIZE_MAX ? body_len : 0);
    return (n + REC_ALIGN - 1) & ~(REC_ALIGN - 1);
}

/* Points a record's wire and body at its bytes, which follow it. */
static void record_link(rec_packet *r)
{
    uint8_t *p = (uint8_t *)(r + 1);
    r->wire = r->wire_len ? p : NULL;
    size_t at = body_in_wire(r->wire, r->wire_len, r->body_len);
    r->body = at == SIZE_MAX ? p + r->wire_len : p + at;
}

/* A record of its own (the index pass, or a store without spill file). */
static rec_packet *rec_packet_alloc(const rec_packet *head, const uint8_t *wire, const uint8_t *body)
{
    size_t at = body_in_wire(wire, head->wire_len, head->body_len);
    size_t size = record_size(head->wire_len, head->body_len, at);
    rec_packet *r = g_malloc(size);
    *r = *head;
    uint8_t *p = (uint8_t *)(r + 1), *end = (uint8_t *)r + size;
    if (head->wire_len)
        memcpy(p, wire, head->wire_len);
    p += head->wire_len;
    if (at == SIZE_MAX) {
        if (head->body_len)
            memcpy(p, body, head->body_len);
        p += head->body_len;
    }
    memset(p, 0, (size_t)(end - p)); /* the padding goes to the spill file too */
    record_link(r);
    return r;
}

static void rec_packet_free(gpointer p) { g_free(p); } /* one allocation: struct and bytes */

/* ---------------------------------------------------------------- the spill file */

/* Records waiting in memory, all sessions together, before they are
 * written: large enough that a block is worth a write, small beside the
 * 128 MB a replay of any capture length should stay under. */
#define SPILL_BUDGET ((size_t)4 << 20)

/* Buffers of sessions let go, kept for the next one read back: a session's
 * records are one allocation, usually larger than glibc's mmap threshold
 * (which stays at 128 KiB once the engine sets the trim threshold), so a
 * fresh one per job cost a page fault per 4 KiB and its munmap. A few are
 * kept, up to a total small beside what a run holds. */
#define IDLE_MAX 8
#define IDLE_BYTES ((size_t)16 << 20)

struct rec_spill_buf {
    size_t cap;
    alignas(max_align_t) uint8_t data[];
};

struct rec_spill {
    int fd;
    char *path;           /* for messages (the file is unlinked at once) */
    uint64_t end;         /* bytes written */
    size_t pending;       /* bytes waiting in the sessions' pending buffers */
    GPtrArray *dirty;     /* rec_session* with pending bytes */
    char error[256];      /* the first write that failed */
    GPtrArray *idle;      /* rec_spill_buf* to use again */
    size_t idle_bytes;
};

struct rec_spill_block {
    uint64_t off;
    uint64_t len;
};

static rec_spill *spill_open(void)
{
    GError *gerr = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("hmtp-replay-spill-XXXXXX", &path, &gerr);
    if (fd < 0) {
        g_clear_error(&gerr);
        return NULL;
    }
    g_unlink(path); /* gone with the process, however it ends */
    rec_spill *sp = g_new0(rec_spill, 1);
    sp->fd = fd;
    sp->path = path;
    sp->dirty = g_ptr_array_new();
    sp->idle = g_ptr_array_new_with_free_func(g_free);
    return sp;
}

static void spill_close(rec_spill *sp)
{
    if (!sp)
        return;
    close(sp->fd);
    g_free(sp->path);
    g_ptr_array_free(sp->dirty, TRUE);
    g_ptr_array_free(sp->idle, TRUE);
    g_free(sp);
}

/* A buffer of at least need bytes: the smallest idle one that is large
 * enough, else the largest made larger, else a new one. */
static rec_spill_buf *buf_take(rec_spill *sp, size_t need)
{
    guint pick = G_MAXUINT;
    for (guint i = 0; i < sp->idle->len; i++) {
        const rec_spill_buf *b = g_ptr_array_index(sp->idle, i), *p = pick == G_MAXUINT ? NULL : g_ptr_array_index(sp->idle, pick);
        bool fits = b->cap >= need;
        if (!p || (fits && (p->cap < need || b->cap < p->cap)) || (!fits && p->cap < need && b->cap > p->cap))
            pick = i;
    }
    rec_spill_buf *b = NULL;
    if (pick != G_MAXUINT) {
        b = g_ptr_array_steal_index_fast(sp->idle, pick);
        sp->idle_bytes -= b->cap;
    }
    if (!b || b->cap < need) {
        b = g_realloc(b, sizeof *b + need);
        b->cap = need;
    }
    return b;
}

static void buf_give(rec_spill *sp, rec_spill_buf *b)
{
    if (sp->idle->len < IDLE_MAX && sp->idle_bytes + b->cap <= IDLE_BYTES) {
        g_ptr_array_add(sp->idle, b);
        sp->idle_bytes += b->cap;
    } else {
        g_free(b);
    }
}

static bool spill_pwrite(rec_spill *sp, const uint8_t *data, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(sp->fd, data, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!sp->error[0])
                snprintf(sp->error, sizeof sp->error, "cannot write the spill file %s: %s", sp->path,
                         n < 0 ? g_strerror(errno) : "nothing written");
            return false;
        }
        data += n, len -= (size_t)n, off += (uint64_t)n;
    }
    return true;
}

/* Writes every session's waiting records, one block each. */
static void spill_flush(rec_spill *sp)
{
    for (guint i = 0; i < sp->dirty->len; i++) {
        rec_session *s = g_ptr_array_index(sp->dirty, i);
        rec_spill_block b = {sp->end, s->pending->len};
        if (spill_pwrite(sp, s->pending->data, s->pending->len, sp->end)) {
            sp->end += b.len;
            s->blocks = g_renew(rec_spill_block, s->blocks, s->nblocks + 1);
            s->blocks[s->nblocks++] = b;
        }
        g_byte_array_free(s->pending, TRUE);
        s->pending = NULL;
    }
    g_ptr_array_set_size(sp->dirty, 0);
    sp->pending = 0;
}

static void spill_add(rec_spill *sp, rec_session *s, const rec_packet *r)
{
    if (!s->pending) {
        s->pending = g_byte_array_new();
        g_ptr_array_add(sp->dirty, s);
    }
    size_t size = record_size(r->wire_len, r->body_len, body_in_wire(r->wire, r->wire_len, r->body_len));
    g_byte_array_append(s->pending, (const guint8 *)r, (guint)size);
    sp->pending += size;
    if (sp->pending >= SPILL_BUDGET)
        spill_flush(sp);
}

static bool spill_pread(rec_spill *sp, uint8_t *data, size_t len, uint64_t off, hmtp_tool_error *err)
{
    while (len > 0) {
        ssize_t n = pread(sp->fd, data, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return hmtp_tool_fail(err, "cannot read back the spill file %s at offset %" PRIu64 ": %s", sp->path, off,
                               n < 0 ? g_strerror(errno) : "it is shorter than written");
        data += n, len -= (size_t)n, off += (uint64_t)n;
    }
    return true;
}

/* Reads every block of the session into one buffer, one pread for blocks
 * that follow each other in the file. */
static bool spill_read_session(rec_session *s, uint8_t *data, hmtp_tool_error *err)
{
    const rec_spill_block *b = s->blocks;
    for (guint i = 0; i < s->nblocks;) {
        uint64_t off = b[i].off, len = b[i].len;
        for (i++; i < s->nblocks && b[i].off == off + len; i++)
            len += b[i].len;
        if (!spill_pread(s->spill, data, (size_t)len, off, err))
            return false;
        data += len;
    }
    return true;
}

/* Finds the records of a buffer read back, used where they are. */
static bool spill_parse(rec_session *s, uint8_t *p, size_t len, hmtp_tool_error *err)
{
    while (len > 0) {
        rec_packet *r = (rec_packet *)(void *)p;
        if (len < sizeof *r || r->wire_len > len - sizeof *r || r->body_len > len)
            return hmtp_tool_fail(err, "the spill file is damaged (session %u)", s->info.id);
        size_t size = record_size(r->wire_len, r->body_len, body_in_wire(p + sizeof *r, r->wire_len, r->body_len));
        if (size > len)
            return hmtp_tool_fail(err, "the spill file is damaged (session %u)", s->info.id);
        record_link(r);
        g_ptr_array_add(s->packets, r);
        p += size, len -= size;
    }
    return true;
}

static void new_streams(rec_session *s)
{
    s->stream = g_new(hessian_stream, 2);
    hessian_stream_init(&s->stream[0], NULL);
    hessian_stream_init(&s->stream[1], NULL);
}

bool rec_session_acquire(rec_session *s, hmtp_tool_error *err)
{
    if (!s->spill || s->holders++ > 0)
        return true;
    uint64_t total = 0;
    for (guint i = 0; i < s->nblocks; i++)
        total += s->blocks[i].len;
    s->packets = g_ptr_array_sized_new((guint)s->npackets); /* the records are in s->held */
    s->held = buf_take(s->spill, (size_t)total);
    if (!spill_read_session(s, s->held->data, err) || !spill_parse(s, s->held->data, (size_t)total, err)) {
        g_ptr_array_free(s->packets, TRUE);
        s->packets = NULL;
        buf_give(s->spill, s->held);
        s->held = NULL;
        s->holders--;
        return false;
    }
    new_streams(s);
    /* The class definitions the marks count, made again by decoding the
       packets in their order: a few KB a session, kept only while held.
       Only a packet after which its direction's mark moves defines
       anything (and the last of each direction, which nothing follows):
       decoding every packet again cost a job start as much as reading the
       capture (36% of a --top-speed replay, measured with perf). */
    hmtp_packet pkt;
    hmtp_packet_init(&pkt);
    const rec_packet *prev[2] = {NULL, NULL};
    for (guint i = 0; i <= s->packets->len; i++) {
        const rec_packet *r = i < s->packets->len ? g_ptr_array_index(s->packets, i) : NULL;
        for (int d = 0; d < 2; d++) {
            const rec_packet *q = prev[d];
            if (!q || (r && (int)r->dir != d))
                continue;
            bool defines = !r || r->mark.nclasses != q->mark.nclasses || r->mark.ntypes != q->mark.ntypes;
            if (defines) {
                hmtp_error perr;
                hmtp_packet_reset(&pkt);
                hmtp_packet_decode(&pkt, &s->stream[d], q->mark, q->body, q->body_len, &perr);
            }
        }
        if (r)
            prev[r->dir] = r;
    }
    hmtp_packet_free(&pkt);
    return true;
}

/* No decoder state for a session whose packets are not held. */
static void forget_streams(rec_session *s)
{
    if (!s->stream)
        return;
    for (int d = 0; d < 2; d++)
        hessian_stream_free(&s->stream[d]);
    g_free(s->stream);
    s->stream = NULL;
}

void rec_session_release(rec_session *s)
{
    if (!s->spill || s->holders == 0 || --s->holders > 0)
        return;
    g_ptr_array_free(s->packets, TRUE);
    s->packets = NULL;
    buf_give(s->spill, s->held);
    s->held = NULL;
    forget_streams(s);
}

/* ---------------------------------------------------------------- the index pass */

static void rec_session_free(gpointer p)
{
    rec_session *s = p;
    if (s->packets)
        g_ptr_array_free(s->packets, TRUE);
    g_free(s->held); /* only when the store goes while a session is held */
    if (s->pending)
        g_byte_array_free(s->pending, TRUE);
    g_free(s->blocks);
    forget_streams(s);
    g_free(s);
}

/* Called when the session begins and again when it ends: its texts are
 * packed again only when they changed. */
static void rec_info_set(replay_store *st, rec_info *ri, const replay_session_info *info)
{
    ri->id = info->id;
    if (!ri->client || strcmp(ri->client, info->client) != 0)
        ri->client = g_string_chunk_insert(st->strings, info->client);
    if (!ri->server || strcmp(ri->server, info->server) != 0)
        ri->server = g_string_chunk_insert(st->strings, info->server);
    ri->first_frame = info->first_frame;
    ri->upgrade_seen = info->upgrade_seen;
    memcpy(ri->skipped, info->skipped, sizeof ri->skipped);
    memcpy(ri->packets, info->packets, sizeof ri->packets);
    ri->end = info->end;
    ri->incomplete = info->incomplete;
    ri->broken_dir = info->broken_dir;
    ri->broken_frame = info->broken_frame;
    ri->broken_offset = info->broken_offset;
    ri->broken_reason = info->incomplete ? g_string_chunk_insert(st->strings, info->broken_reason) : "";
    ri->path = g_intern_string(info->path);
}

/* The index pass: one packet and one decoder reused for every packet of
 * the capture (a malloc and free of each per packet otherwise). */
typedef struct store_load {
    replay_store *st;
    hmtp_packet pkt;
    hessian_decoder dec;
} store_load;

static void on_begin(void *ctx, const replay_session_info *info)
{
    replay_store *st = ((store_load *)ctx)->st;
    rec_session *s = g_new0(rec_session, 1);
    rec_info_set(st, &s->info, info);
    s->spill = st->spill;
    if (!s->spill)
        s->packets = g_ptr_array_new_with_free_func(rec_packet_free);
    new_streams(s); /* the index pass decodes every packet */
    /* ids are handed out in order, so the array index is the id */
    g_ptr_array_add(st->sessions, s);
}

/* The login exchange tells who the session is: --session-jid selects by it
 * and the JID the target assigns is learned from the answer. */
static void note_login(replay_store *st, rec_session *s, rec_packet *r, const hmtp_packet *p)
{
    if (r->status != HMTP_OK)
        return;
    const hessian_value *v = p->value;
    bool auth_query = hmtp_value_is_object(v, HMTP_AUTH_QUERY_CLASS);
    r->login = r->dir == REPLAY_C2S && p->type == HMTP_QUERY_SET && !p->to && auth_query;
    r->key_query = r->dir == REPLAY_C2S && p->type == HMTP_QUERY_GET && hmtp_value_is_object(v, HMTP_GET_PUBLIC_KEY_QUERY_CLASS);
    if (r->login && !s->login_frame) {
        /* An encrypted password can only be replayed by doing the login
           again against the target's own key (login_edit.c, rewrite.c). */
        s->login_encrypted = hmtp_value_is_object(hessian_object_field(v, "_credentials"), HMTP_ENCRYPTED_OBJECT_CLASS);
        s->login_frame = r->frame;
    }
    if (r->dir == REPLAY_C2S && p->type == HMTP_QUERY_SET && auth_query && !s->login_uid) {
        const char *uid = hessian_value_string(hessian_object_field(v, "_uid"));
        if (uid)
            s->login_uid = g_string_chunk_insert(st->strings, uid);
    } else if (r->dir == REPLAY_S2C && p->type == HMTP_QUERY_RESULT && hmtp_value_is_object(v, HMTP_AUTH_RESULT_CLASS) &&
               !s->login_jid) {
        const char *jid = hessian_value_string(hessian_object_field(v, "_jid"));
        if (jid)
            s->login_jid = g_string_chunk_insert(st->strings, jid);
    }
}

static void on_packet(void *ctx, const replay_session_info *info, const replay_wire_packet *w)
{
    replay_store *st = ((store_load *)ctx)->st;
    if (info->id >= st->sessions->len)
        return;
    rec_session *s = g_ptr_array_index(st->sessions, info->id);
    /* a server packet is compared, never sent: its wire bytes are not kept */
    rec_packet head = {.dir = w->dir, .frame = w->frame, .ts = w->ts, .index = w->index,
                       .wire_len = w->dir == REPLAY_C2S ? w->wire_len : 0, .body_len = w->body_len};
    rec_packet *r = rec_packet_alloc(&head, w->dir == REPLAY_C2S ? w->wire : NULL, w->body);
    hessian_stream *hs = &s->stream[w->dir];
    r->mark = hessian_stream_mark(hs);
    hmtp_packet *pkt = &((store_load *)ctx)->pkt;
    hmtp_packet_reset(pkt);
    hmtp_error err;
    hmtp_error_clear(&err);
    r->status = hmtp_packet_decode_with(pkt, &((store_load *)ctx)->dec, hs, r->mark, r->body, r->body_len, &err);
    r->type = pkt->type;
    r->has_id = pkt->has_id;
    r->id = pkt->id;
    if (r->status != HMTP_OK)
        g_string_append_printf(st->notes, "session %u %s frame %" PRIu64 ": recorded packet cannot be decoded: %s (body offset %zu)\n",
                               info->id, replay_dir_name(w->dir), w->frame, err.msg, err.offset);
    if (w->dir == REPLAY_S2C)
        s->server_seen++;
    else
        r->server_before = s->server_seen;
    note_login(st, s, r, pkt);
    s->npackets++;
    if (s->spill) {
        spill_add(s->spill, s, r);
        rec_packet_free(r);
    } else {
        g_ptr_array_add(s->packets, r);
    }
}

static void on_end(void *ctx, const replay_session_info *info)
{
    replay_store *st = ((store_load *)ctx)->st;
    if (info->id < st->sessions->len) {
        rec_session *s = g_ptr_array_index(st->sessions, info->id);
        rec_info_set(st, &s->info, info);
        if (s->spill)
            forget_streams(s); /* made again when its packets are (rec_session_acquire) */
    }
}

static void on_refused(void *ctx, const replay_session_info *info)
{
    replay_store *st = ((store_load *)ctx)->st;
    g_string_append_printf(st->notes, "%s -> %s: the recorded upgrade was refused with HTTP %d %s (frame %" PRIu64 "): not replayed\n",
                           info->client, info->server, info->status, info->reason, info->first_frame);
}

hmtp_status rec_packet_decode(rec_session *s, const rec_packet *r, hmtp_packet *out, hmtp_error *err)
{
    hmtp_packet_init(out);
    return hmtp_packet_decode(out, &s->stream[r->dir], r->mark, r->body, r->body_len, err);
}

hmtp_status rec_packet_decode_with(rec_session *s, const rec_packet *r, hmtp_packet *out, hessian_decoder *d,
                                   hmtp_error *err)
{
    return hmtp_packet_decode_with(out, d, &s->stream[r->dir], r->mark, r->body, r->body_len, err);
}

int replay_store_load(replay_store *st, const char *path, const replay_capture_options *opt, hmtp_tool_error *err)
{
    memset(st, 0, sizeof *st);
    st->sessions = g_ptr_array_new_with_free_func(rec_session_free);
    st->notes = g_string_new(NULL);
    st->strings = g_string_chunk_new(64 << 10);
    st->spill = spill_open();
    store_load load = {.st = st};
    hmtp_packet_init(&load.pkt);
    replay_sink sink = {&load, on_begin, on_packet, on_end, on_refused};
    int r = replay_capture_read(path, opt, &sink, &st->stats, err);
    hmtp_packet_free(&load.pkt);
    hessian_decoder_free(&load.dec);
    if (st->spill) {
        spill_flush(st->spill);
        if (r == 0 && st->spill->error[0]) {
            /* a full disk: replaying what could not be kept would hide work not done */
            hmtp_tool_fail(err, "%s (it holds the capture's packets while sessions wait for their turn; set TMPDIR "
                             "to a folder with room for about twice the capture)",
                        st->spill->error);
            r = -1;
        }
    }
    return r;
}

void replay_store_free(replay_store *st)
{
    if (st->sessions)
        g_ptr_array_free(st->sessions, TRUE);
    if (st->notes)
        g_string_free(st->notes, TRUE);
    if (st->strings)
        g_string_chunk_free(st->strings);
    spill_close(st->spill);
    memset(st, 0, sizeof *st);
}
