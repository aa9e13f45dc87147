/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of the replay building blocks that need no capture file:
 * TCP reassembly of one direction, frame parsing. (The HTTP head is core's:
 * tests/core/test_http_upgrade.c.) */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "framing.h"
#include "hmtp.h"
#include "jidmap.h"
#include "hmtp_loop.h"
#include "order.h"
#include "results.h"
#include "rewrite.h"
#include "net_parse.h"
#include "tcp_stream.h"
#include "verify.h"

typedef struct collected {
    char data[256];
    size_t len;
    unsigned calls;
} collected;

static void collect(void *ctx, const uint8_t *data, size_t len, uint64_t frame, double ts)
{
    (void)frame;
    (void)ts;
    collected *c = ctx;
    if (c->len + len < sizeof c->data) {
        memcpy(c->data + c->len, data, len);
        c->len += len;
    }
    c->calls++;
}

static void seg(tcp_stream *s, collected *c, uint32_t seq, const char *text, uint64_t frame)
{
    tcp_stream_segment(s, seq, 0x10, (const uint8_t *)text, strlen(text), 0, frame, 0, collect, c);
}

static void test_in_order_and_reordered(void)
{
    tcp_stream s;
    collected c = {0};
    tcp_stream_init(&s, 1 << 20);
    tcp_stream_segment(&s, 99, 0x02, NULL, 0, 0, 1, 0, collect, &c); /* SYN: data starts at 100 */
    seg(&s, &c, 100, "hello ", 2);
    seg(&s, &c, 112, "world", 3);   /* early: waits */
    CHECK(c.len == 6);
    seg(&s, &c, 106, "there ", 4);  /* fills the hole, releases the rest */
    CHECK(c.len == 17 && memcmp(c.data, "hello there world", 17) == 0);
    seg(&s, &c, 100, "hello ", 5);  /* retransmission: nothing new */
    seg(&s, &c, 109, "re wor", 6);  /* overlap entirely inside delivered data */
    CHECK(c.len == 17);
    seg(&s, &c, 114, "rld!", 7);    /* overlap with new bytes at the end */
    CHECK(c.len == 18 && memcmp(c.data, "hello there world!", 18) == 0);
    CHECK(s.retransmitted_bytes == 6 + 6 + 3);
    tcp_stream_segment(&s, 118, 0x11, NULL, 0, 0, 8, 0, collect, &c);
    CHECK(tcp_stream_closed(&s));
    tcp_stream_finish(&s, 9);
    CHECK(!s.gap);
    tcp_stream_free(&s);
}

static void test_gap_by_ack_and_finish(void)
{
    tcp_stream s;
    collected c = {0};
    tcp_stream_init(&s, 1 << 20);
    seg(&s, &c, 5000, "abc", 1); /* no SYN: capture started mid-connection */
    seg(&s, &c, 5006, "ghi", 2); /* "def" was never captured */
    tcp_stream_peer_ack(&s, 5006, 3); /* the peer has "def": it is lost for good */
    CHECK(s.gap && s.gap_off == 3 && s.gap_frame == 3);
    seg(&s, &c, 5003, "def", 4); /* too late: nothing after a gap is delivered */
    CHECK(c.len == 3);
    tcp_stream_free(&s);

    tcp_stream_init(&s, 1 << 20);
    memset(&c, 0, sizeof c);
    seg(&s, &c, 10, "abc", 1);
    seg(&s, &c, 20, "xyz", 2);
    tcp_stream_finish(&s, 7);
    CHECK(s.gap && s.gap_off == 3 && s.gap_frame == 7);
    tcp_stream_free(&s);

    /* too much waiting behind a hole is a gap, not unbounded memory */
    tcp_stream_init(&s, 8);
    memset(&c, 0, sizeof c);
    seg(&s, &c, 10, "abc", 1);
    seg(&s, &c, 20, "0123456789", 2);
    CHECK(s.gap && s.pending == NULL && s.pending_bytes == 0);
    tcp_stream_free(&s);
}

static void test_frame_parse(void)
{
    /* Ethernet + 802.1Q + IPv4 + TCP with 2 payload bytes and 4 bytes of padding */
    uint8_t f[14 + 4 + 20 + 20 + 2 + 4] = {0};
    f[12] = 0x81, f[13] = 0x00, f[16] = 0x08, f[17] = 0x00;
    uint8_t *ip = f + 18;
    ip[0] = 0x45, ip[2] = 0, ip[3] = 42, ip[9] = 6;
    ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
    uint8_t *tcp = ip + 20;
    tcp[0] = 0x9c, tcp[1] = 0x40, tcp[2] = 0x1f, tcp[3] = 0x90;
    tcp[7] = 7, tcp[12] = 5 << 4, tcp[13] = 0x18;
    tcp[20] = 'h', tcp[21] = 'i';
    replay_segment s;
    hmtp_tool_error why;
    CHECK(replay_parse_frame(1, f, sizeof f, &s, &why) == REPLAY_PARSE_TCP);
    CHECK(s.sport == 40000 && s.dport == 8080 && s.seq == 7 && s.len == 2 && s.missing == 0);
    CHECK(memcmp(s.payload, "hi", 2) == 0 && s.flags == 0x18);
    /* cut by the snapshot length: one payload byte missing */
    CHECK(replay_parse_frame(1, f, sizeof f - 5, &s, &why) == REPLAY_PARSE_TCP);
    CHECK(s.len == 1 && s.missing == 1);
    CHECK(replay_parse_frame(1, f, 20, &s, &why) == REPLAY_PARSE_MALFORMED);
    CHECK(strstr(why.msg, "IPv4") != NULL);
    char text[64];
    replay_endpoint_format(&s.src, 1, text, sizeof text);
    ip[9] = 17; /* UDP */
    CHECK(replay_parse_frame(1, f, sizeof f, &s, &why) == REPLAY_PARSE_OTHER);
    CHECK(!replay_dlt_supported(105));
}

static void test_jid_map(void)
{
    jid_map m;
    jid_map_init(&m);
    hmtp_tool_error why;
    CHECK(jid_map_add_rule(&m, "alice@prod.example/desk=carol@localhost/r9", &why));
    CHECK(jid_map_add_rule(&m, "alice@prod.example=bob@localhost", &why));
    CHECK(jid_map_add_rule(&m, "prod.example=localhost", &why));
    CHECK(!jid_map_add_rule(&m, "alice@prod.example=localhost", &why)); /* mixed forms */
    CHECK(!jid_map_add_rule(&m, "no-equals-sign", &why));
    char *s;
    CHECK((s = jid_map_apply(&m, "alice@prod.example/desk")) && strcmp(s, "carol@localhost/r9") == 0); /* exact wins */
    g_free(s);
    CHECK((s = jid_map_apply(&m, "alice@prod.example/phone")) && strcmp(s, "bob@localhost/phone") == 0); /* bare keeps resource */
    g_free(s);
    CHECK((s = jid_map_apply(&m, "news@prod.example")) && strcmp(s, "news@localhost") == 0); /* domain keeps user */
    g_free(s);
    CHECK((s = jid_map_apply(&m, "prod.example/x")) && strcmp(s, "localhost/x") == 0);
    g_free(s);
    CHECK(jid_map_apply(&m, "news@other.example") == NULL);
    jid_map_free(&m);
}

/* A recorded login whose credentials are an EncryptedObject, rewritten with a
 * plain password and a new user: the two fields change, the bytes before and
 * after them stay as recorded. */
static void test_rewrite_login(void)
{
    hmtp_buf wire;
    hmtp_buf_init(&wire);
    hessian_writer w;
    hessian_writer_init(&w, &wire);
    hmtp_packet p;
    hmtp_packet_init(&p);
    p.type = HMTP_QUERY_SET;
    p.has_id = true;
    p.id = 2;
    static const char *const enc_fields[] = {"_keyAlgorithm", "_encKey", "_encData"};
    hessian_value *enc = hessian_new_object(&p.arena, HMTP_ENCRYPTED_OBJECT_CLASS, 3, enc_fields);
    hessian_object_set(enc, "_keyAlgorithm", hessian_new_string(&p.arena, "AES", 3));
    hessian_object_set(enc, "_encKey", hessian_new_binary(&p.arena, (const uint8_t *)"0123456789abcdef", 16));
    static const char *const auth_fields[] = {"_uid", "_credentials", "_resource"};
    hessian_value *auth = hessian_new_object(&p.arena, HMTP_AUTH_QUERY_CLASS, 3, auth_fields);
    hessian_object_set(auth, "_uid", hessian_new_string(&p.arena, "alice@prod.example", 18));
    hessian_object_set(auth, "_credentials", enc);
    hessian_object_set(auth, "_resource", hessian_new_string(&p.arena, "desk", 4));
    p.value = auth;
    CHECK(hmtp_packet_write(&w, &p));
    hessian_writer_free(&w);
    hmtp_packet_free(&p);

    hmtp_frame_info info;
    hmtp_error err;
    CHECK(hmtp_frame_scan(wire.data, wire.len, HMTP_DEFAULT_MAX_PACKET, &info, &err) == HMTP_FRAME_COMPLETE);
    uint8_t body[512];
    CHECK(info.body_len <= sizeof body);
    size_t body_len = hmtp_frame_copy_body(wire.data, info.wire_len, body);
    hessian_stream stream;
    hessian_stream_init(&stream, NULL);
    rec_packet r = {.dir = REPLAY_C2S, .wire = wire.data, .wire_len = wire.len, .body = body, .body_len = body_len};
    r.mark = hessian_stream_mark(&stream);
    hmtp_packet recorded;
    hmtp_packet_init(&recorded);
    CHECK(hmtp_packet_decode(&recorded, &stream, r.mark, body, body_len, &err) == HMTP_OK);
    hmtp_packet_free(&recorded);

    jid_map m;
    jid_map_init(&m);
    hmtp_tool_error why;
    jid_map_add_rule(&m, "prod.example=localhost", &why);
    rewrite_config cfg = {.map = &m, .login_password = "test-pw", .login_resource = "copy-1"};
    hmtp_buf out;
    hmtp_buf_init(&out);
    CHECK(rewrite_client_packet(&r, &stream, &cfg, &out, &why) == 1);
    CHECK(hmtp_frame_scan(out.data, out.len, HMTP_DEFAULT_MAX_PACKET, &info, &err) == HMTP_FRAME_COMPLETE);
    CHECK(info.wire_len == out.len);
    uint8_t body2[512];
    size_t body2_len = hmtp_frame_copy_body(out.data, info.wire_len, body2);
    /* decoded with a fresh stream: the class definition travels in the packet */
    hessian_stream fresh;
    hessian_stream_init(&fresh, NULL);
    hmtp_packet q;
    hmtp_packet_init(&q);
    CHECK(hmtp_packet_decode(&q, &fresh, hessian_stream_mark(&fresh), body2, body2_len, &err) == HMTP_OK);
    CHECK(q.type == HMTP_QUERY_SET && q.has_id && q.id == 2 && q.to == NULL);
    const char *uid = hessian_value_string(hessian_object_field(q.value, "_uid"));
    const char *cred = hessian_value_string(hessian_object_field(q.value, "_credentials"));
    const char *res = hessian_value_string(hessian_object_field(q.value, "_resource"));
    CHECK(uid && strcmp(uid, "alice@localhost") == 0);
    CHECK(cred && strcmp(cred, "test-pw") == 0);
    CHECK(res && strcmp(res, "copy-1") == 0);
    /* the class definition, type and id bytes at the front are untouched */
    size_t uid_at = 0;
    while (uid_at + 18 <= body_len && memcmp(body + uid_at + 1, "alice@prod.example", 18) != 0)
        uid_at++;
    CHECK(uid_at > 0 && memcmp(body, body2, uid_at) == 0);
    hmtp_packet_free(&q);
    hessian_stream_free(&fresh);
    hmtp_buf_free(&out);
    jid_map_free(&m);
    hessian_stream_free(&stream);
    hmtp_buf_free(&wire);
}

/* ---------------------------------------------------------------- order */

/* A member of an order group as the order sees it (order_member_ops): the
 * same counters a session run keeps, and its recorded frames. */
typedef struct fake_member {
    order_member om;
    const uint64_t *sends, *replies; /* frames, 0-terminated */
    guint next;                 /* client packets sent */
    uint64_t received_compared; /* replies arrived */
    uint64_t excused;           /* replies declared missing */
} fake_member;

static guint count_frames(const uint64_t *f)
{
    guint n = 0;
    while (f[n])
        n++;
    return n;
}
static guint fake_n_sends(const void *m) { return count_frames(((const fake_member *)m)->sends); }
static uint64_t fake_send_frame(const void *m, guint i) { return ((const fake_member *)m)->sends[i]; }
static guint fake_n_replies(const void *m) { return count_frames(((const fake_member *)m)->replies); }
static uint64_t fake_reply_frame(const void *m, guint i) { return ((const fake_member *)m)->replies[i]; }
static guint fake_sent(const void *m) { return ((const fake_member *)m)->next; }
static uint64_t fake_credit(const void *m)
{
    const fake_member *f = m;
    return f->received_compared > f->excused ? f->received_compared : f->excused;
}
static void fake_excuse(void *m, uint64_t replies)
{
    fake_member *f = m;
    if (f->excused < replies)
        f->excused = replies;
}

static void *woken[8];
static unsigned n_woken;
static void note_wake(void *m)
{
    if (n_woken < 8)
        woken[n_woken++] = m;
}

static const order_member_ops fake_ops = {fake_n_sends, fake_send_frame, fake_n_replies, fake_reply_frame,
                                          fake_sent,    fake_credit,     fake_excuse,    note_wake};

static void fake_init(fake_member *f, guint seq, const uint64_t *sends, const uint64_t *replies)
{
    memset(f, 0, sizeof *f);
    f->sends = sends;
    f->replies = replies;
    order_member_init(&f->om, f, seq);
}

/* The frontier follows the recorded frames across two jobs: b's packet of
 * frame 5 waits for a's reply of frame 4, a's packet of frame 6 for b's send.
 * Timeline: a.send1 a.reply4 b.send5 a.send6 a.reply7. */
static void test_order_group(void)
{
    static const uint64_t a_sends[] = {1, 6, 0}, a_replies[] = {4, 7, 0}, b_sends[] = {5, 0}, none[] = {0};
    fake_member a, b;
    fake_init(&a, 0, a_sends, a_replies);
    fake_init(&b, 1, b_sends, none);
    n_woken = 0;
    order_group *g = order_group_new(&fake_ops, 1000);
    order_group_join(g, &a.om);
    order_group_join(g, &b.om);
    order_group_advance(g);
    CHECK(n_woken == 1 && woken[0] == &a); /* a's frame 1 is the frontier */
    CHECK(order_reached_first(g, &a.om) && order_reached(g, &a.om, true, 0));
    CHECK(!order_reached_first(g, &b.om) && !order_reached(g, &b.om, true, 0));
    order_group_advance(g);
    CHECK(n_woken == 1); /* nothing moved: nobody woken again */
    a.next = 1; /* a sent frame 1 */
    order_group_advance(g);
    CHECK(n_woken == 2 && woken[1] == &a); /* waits for a's reply */
    CHECK(order_reached(g, &a.om, false, 0) && !order_reached(g, &b.om, true, 0));
    a.received_compared = 1;
    order_group_advance(g);
    CHECK(n_woken == 3 && woken[2] == &b && order_reached(g, &b.om, true, 0));
    CHECK(!order_reached(g, &a.om, true, 1)); /* a's frame 6 waits for b */
    order_group_leave(g, &b.om); /* an ended job holds nobody back */
    order_group_advance(g);
    CHECK(n_woken == 4 && woken[3] == &a && order_reached(g, &a.om, true, 1));
    a.excused = 2; /* declared missing */
    a.next = 2;
    order_group_advance(g);
    CHECK(g->heap->len == 0); /* a has no events left */
    order_group_free(g);
}

/* Quits the loop once the stuck timer has done its work (polled). */
static order_group *stuck_group;
static hmtp_timer **stuck_quit;
static void quit_loop(void *l)
{
    *stuck_quit = NULL;
    hmtp_loop_quit(l);
}
static void poll_stuck(void *l)
{
    if (stuck_group->timer == NULL) {
        hmtp_loop_quit(l);
        return;
    }
    hmtp_loop_timer(l, 5, poll_stuck, l);
}

/* A session that starts after the frontier passed some of its events (it
 * waited for a connection slot) keeps only its own order for those; its
 * later events hold the frontier again. A reply stuck at the frontier is
 * excused with every reply up to the next client packet. */
static void test_order_late_join(void)
{
    static const uint64_t a_sends[] = {1, 10, 0}, a_replies[] = {2, 0}, c_sends[] = {3, 12, 0}, c_replies[] = {4, 5, 0},
                          none[] = {0};
    fake_member a, c;
    fake_init(&a, 0, a_sends, a_replies);
    fake_init(&c, 2, c_sends, c_replies);
    n_woken = 0;
    order_group *g = order_group_new(&fake_ops, 1000);
    order_group_join(g, &a.om);
    order_group_advance(g);
    a.next = 1;
    a.received_compared = 1;
    order_group_advance(g); /* frontier: a's send of frame 10 */
    CHECK(order_reached(g, &a.om, true, 1));
    order_group_join(g, &c.om); /* frames 3, 4, 5 are behind the frontier */
    order_group_advance(g);
    CHECK(order_reached_first(g, &c.om) && order_reached(g, &c.om, true, 0) && order_reached(g, &c.om, false, 1));
    CHECK(!order_reached(g, &c.om, true, 1)); /* frame 12 after a's frame 10 */
    a.next = 2;
    order_group_advance(g);
    CHECK(order_reached(g, &c.om, true, 1));
    c.next = 2;
    order_group_advance(g);
    CHECK(g->heap->len == 0);
    order_group_free(g);

    /* stuck: b's reply of frame 2 never comes; a's reply of frame 3 neither;
       a's send of frame 4 is next */
    static const uint64_t a2_sends[] = {1, 4, 0}, a2_replies[] = {3, 0}, b_sends[] = {0}, b_replies[] = {2, 0};
    (void)none;
    fake_member a2, b;
    fake_init(&a2, 0, a2_sends, a2_replies);
    fake_init(&b, 1, b_sends, b_replies);
    hmtp_loop *loop = hmtp_loop_new();
    CHECK(loop != NULL);
    g = order_group_new(&fake_ops, 20); /* --timeout 20 ms */
    g->loop = loop;
    order_group_join(g, &a2.om);
    order_group_join(g, &b.om);
    a2.next = 1;
    order_group_advance(g);
    CHECK(g->timer != NULL); /* the frontier waits for a reply */
    CHECK(!order_reached(g, &a2.om, true, 1) && order_reached(g, &b.om, false, 0));
    n_woken = 0;
    hmtp_timer *quit = hmtp_loop_timer(loop, 2000, quit_loop, loop); /* bounded, in case it never fires */
    stuck_group = g;
    stuck_quit = &quit;
    hmtp_loop_timer(loop, 5, poll_stuck, loop);
    hmtp_loop_run(loop);
    CHECK(b.excused == 1 && a2.excused == 1 && order_reached(g, &a2.om, true, 1));
    CHECK(n_woken >= 2 && g->timer == NULL);
    if (quit)
        hmtp_loop_cancel(loop, quit);
    order_group_free(g);
    hmtp_loop_free(loop);
}

static void add_diff(verify_result *r, diff_kind kind, uint64_t received)
{
    verify_diff *d = g_new0(verify_diff, 1);
    d->kind = kind;
    d->received = received;
    d->packet = g_strdup_printf("#%u", (unsigned)received);
    verify_result_add(r, d);
    r->unexpected += kind == DIFF_UNEXPECTED;
    r->missing += kind == DIFF_MISSING;
}

/* A session replayed in part: only the surprises after its last client
 * packet are taken back; earlier ones and missing replies stay. */
static void test_drop_unexpected_tail(void)
{
    verify_result r;
    verify_result_init(&r);
    add_diff(&r, DIFF_UNEXPECTED, 1);
    add_diff(&r, DIFF_MISSING, 0);
    add_diff(&r, DIFF_UNEXPECTED, 4);
    add_diff(&r, DIFF_UNEXPECTED, 5);
    CHECK(verify_drop_unexpected_from(&r, 4) == 2);
    CHECK(r.unexpected == 1 && r.missing == 1 && r.diffs->len == 2);
    CHECK(((verify_diff *)g_ptr_array_index(r.diffs, 0))->received == 1 &&
          ((verify_diff *)g_ptr_array_index(r.diffs, 1))->kind == DIFF_MISSING);
    CHECK(verify_drop_unexpected_from(&r, UINT64_MAX) == 0 && r.unexpected == 1);
    verify_result_free(&r);
}

/* One difference of a recorded reply (frame) or an arrival (received). */
static void push_diff(job_result *j, diff_kind kind, uint64_t frame, uint64_t received, const char *path)
{
    verify_diff *d = g_new0(verify_diff, 1);
    d->kind = kind;
    d->frame = frame;
    d->received = received;
    d->packet = g_strdup_printf("queryResult id=%u", (unsigned)frame);
    d->path = path ? g_strdup(path) : NULL;
    d->expected = path ? g_strdup("\"a\"") : NULL;
    d->actual = path ? g_strdup("\"b\"") : NULL;
    verify_result_add(&j->verdict, d);
}

/* The first divergence is the first in capture order, whatever the order
 * of the list (verify.c lists unexpected replies last); what follows is
 * counted in replies, the fields of one reply being one. */
static void test_first_divergence(void)
{
    job_result j;
    memset(&j, 0, sizeof j);
    job_result_init(&j);
    uint64_t frames[] = {20, 30, 50, 60};
    for (int i = 0; i < 4; i++)
        reply_frames_append(&j.reply_frames, frames[i]);
    divergence dv;
    job_result_divergence(&j, &dv);
    CHECK(dv.first == NULL && divergence_text(&dv) == NULL);
    CHECK(j.verdict.diffs == NULL && verify_diff_count(&j.verdict) == 0); /* made with the first one */
    push_diff(&j, DIFF_DIFFERENT, 30, 1, "value.server");
    push_diff(&j, DIFF_DIFFERENT, 30, 1, "value.version"); /* the same reply */
    push_diff(&j, DIFF_DIFFERENT, 50, 3, "order");         /* moved too far */
    push_diff(&j, DIFF_MISSING, 60, 0, NULL);
    push_diff(&j, DIFF_UNEXPECTED, 0, 5, NULL);            /* after the last recorded one */
    job_result_divergence(&j, &dv);
    CHECK(dv.first && dv.first->frame == 30 && strcmp(dv.first->path, "value.server") == 0 && dv.at == 30);
    CHECK(dv.different == 0 && dv.reordered == 1 && dv.missing == 1 && dv.unexpected == 1,
          "after: %u %u %u %u", dv.different, dv.reordered, dv.missing, dv.unexpected);
    char *text = divergence_text(&dv);
    CHECK(text && strcmp(text, "frame 30 queryResult id=30: value.server: expected \"a\", actual \"b\"; after it: "
                               "0 different, 1 missing, 1 unexpected, 1 reordered") == 0, "%s", text);
    g_free(text);
    /* a surprise that took the place of the first recorded reply comes first */
    push_diff(&j, DIFF_UNEXPECTED, 0, 0, NULL);
    job_result_divergence(&j, &dv);
    CHECK(dv.first && dv.first->kind == DIFF_UNEXPECTED && dv.at == 20 && dv.different == 1);
    text = divergence_text(&dv);
    CHECK(text && g_str_has_prefix(text, "unexpected reply #0 (where the recording has frame 20): "), "%s", text);
    g_free(text);
    job_result_clear(&j);
}

/* The compared replies' frames, kept as varint differences: every value
 * comes back, whatever its size or order, forward and by index. */
static void test_reply_frames(void)
{
    static const uint64_t frames[] = {0, 1, 2, 63, 64, 8255, 8256, 5, (uint64_t)1 << 40, UINT64_MAX, 7, 7,
                                      UINT64_MAX - 1, 3000000};
    const unsigned n = G_N_ELEMENTS(frames);
    reply_frames rf;
    memset(&rf, 0, sizeof rf);
    for (unsigned i = 0; i < n; i++)
        reply_frames_append(&rf, frames[i]);
    reply_frames_trim(&rf);
    CHECK(rf.count == n && rf.cap == rf.len, "count %u len %u cap %u", rf.count, rf.len, rf.cap);
    reply_frames_cursor c;
    reply_frames_begin(&rf, &c);
    uint64_t f;
    unsigned k = 0;
    while (reply_frames_next(&c, &f)) {
        CHECK(k < n && f == frames[k], "frame %u: %" PRIu64, k, f);
        k++;
    }
    CHECK(k == n);
    static const unsigned ask[] = {3, 3, 4, 13, 0, 9, 8, 2};
    reply_frames_begin(&rf, &c);
    for (unsigned i = 0; i < G_N_ELEMENTS(ask); i++)
        CHECK(reply_frames_nth(&c, ask[i]) == frames[ask[i]], "nth %u", ask[i]);
    reply_frames_free(&rf);
    /* a session's replies a few frames apart: one byte each */
    for (uint64_t i = 0; i < 1000; i++)
        reply_frames_append(&rf, 100000 + 33 * i);
    CHECK(rf.count == 1000 && rf.len == 3 + 999, "%u bytes", rf.len);
    reply_frames_begin(&rf, &c);
    CHECK(reply_frames_nth(&c, 999) == 100000 + 33 * 999);
    reply_frames_free(&rf);
    reply_frames_begin(&rf, &c);
    CHECK(!reply_frames_next(&c, &f));
}

int main(void)
{
    test_reply_frames();
    test_first_divergence();
    test_drop_unexpected_tail();
    test_order_group();
    test_order_late_join();
    test_jid_map();
    test_rewrite_login();
    test_in_order_and_reordered();
    test_gap_by_ack_and_finish();
    test_frame_parse();
    return check_summary("replay units");
}
