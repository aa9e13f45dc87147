/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "resync.h"

#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "hessian.h"
#include "hmtp.h"
#include "jid.h"

/* Longer JIDs are not taken for one when looking for a packet start. */
#define RESYNC_MAX_JID 1023u

static bool jid_like(const char *s, size_t len)
{
    if (!s)
        return true; /* null is a legal JID value */
    if (len == 0 || len > RESYNC_MAX_JID)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return false;
    hmtp_jid jid;
    return hmtp_jid_parse(s, len, &jid);
}

/* Decodes a candidate body with a throwaway stream: the full HMTP grammar
 * is the strictest test there is. The stream is fresh, as after a capture
 * start: objects of classes defined earlier decode as holes. A partial body
 * (the packet continues past the bytes there are) passes as long as nothing
 * but its end is wrong. */
static bool body_is_packet(const uint8_t *body, size_t len, bool partial)
{
    hessian_stream stream;
    hessian_stream_init(&stream, NULL);
    hmtp_packet p;
    hmtp_packet_init(&p);
    hmtp_error err;
    hmtp_status st = hmtp_packet_decode(&p, &stream, hessian_stream_mark(&stream), body, len, &err);
    bool ran_out = st == HMTP_ERR_TRUNCATED || (st == HMTP_ERR_BAD_PACKET && err.offset == len);
    /* every field read, and a value after them: an extra one, however long */
    bool extra = st == HMTP_ERR_TRUNCATED && p.value && (!hmtp_type_has_error(p.type) || p.error_value);
    ran_out = ran_out && !extra;
    bool ok = (st == HMTP_OK || (partial && ran_out)) && jid_like(p.to, p.to ? strlen(p.to) : 0) &&
              jid_like(p.from, p.from ? strlen(p.from) : 0);
    if (st == HMTP_OK)
        ok = ok && hmtp_type_valid(p.type);
    hmtp_packet_free(&p);
    hessian_stream_free(&stream);
    return ok;
}

/* The chunk data of a packet that frames incompletely, as far as the bytes
 * go; body must hold len bytes. */
static size_t partial_body(const uint8_t *buf, size_t len, uint8_t *body)
{
    size_t pos = 0, n = 0;
    while (pos < len) {
        size_t chunk = 0, i = 0;
        for (; i < HMTP_MAX_LENGTH_BYTES && pos + i < len; i++) {
            chunk = (chunk << 7) | (buf[pos + i] & 0x7f);
            if (!(buf[pos + i] & 0x80))
                break;
        }
        if (i == HMTP_MAX_LENGTH_BYTES || pos + i >= len || chunk == 0)
            break;
        pos += i + 1;
        size_t take = chunk < len - pos ? chunk : len - pos;
        memcpy(body + n, buf + pos, take);
        n += take;
        pos += take;
    }
    return n;
}

/* A candidate that runs past the bytes there are: it may be a packet while
 * its chunk headers are sane (hmtp_frame_scan said so), its start looks
 * like one, and its body so far decodes. The last matters: a byte inside a
 * payload, read as a chunk length, easily claims megabytes that would be
 * waited for in vain. */
static bool partial_is_packet(const uint8_t *buf, size_t len)
{
    if (hmtp_resync_prefix(buf, len) == HMTP_RESYNC_NO)
        return false;
    uint8_t *body = malloc(len);
    if (!body)
        return false;
    size_t n = partial_body(buf, len, body);
    bool ok = body_is_packet(body, n, true);
    free(body);
    return ok;
}

/* The body's first byte, behind the first chunk length, can begin an int
 * (any of its forms): a packet's type. Refuses most offsets before the
 * framing is walked, which inside text would chain through many "chunks". */
static bool type_byte_possible(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len && i < HMTP_MAX_LENGTH_BYTES; i++) {
        if (buf[i] & 0x80)
            continue;
        if (i + 1 >= len)
            return true; /* the data is not there yet */
        uint8_t c = buf[i + 1];
        return (c >= 0x80 && c <= 0xd7) || c == 'I';
    }
    return len < HMTP_MAX_LENGTH_BYTES;
}

/* may_continue: bytes may follow buf, so a packet that runs past it can be
 * MORE; else it is NO without a look at its body. */
static hmtp_resync_answer packet_at(const uint8_t *buf, size_t len, size_t max_body, bool may_continue,
                                    size_t *wire_len, size_t *need)
{
    if (!type_byte_possible(buf, len))
        return HMTP_RESYNC_NO;
    hmtp_frame_info info;
    hmtp_error err;
    hmtp_frame_status st = hmtp_frame_scan(buf, len, max_body, &info, &err);
    if (st == HMTP_FRAME_INVALID)
        return HMTP_RESYNC_NO;
    if (st == HMTP_FRAME_INCOMPLETE) {
        if (!may_continue || !partial_is_packet(buf, len))
            return HMTP_RESYNC_NO;
        *need = info.need;
        return HMTP_RESYNC_MORE;
    }
    if (info.chunks == 0 || info.body_len < 3)
        return HMTP_RESYNC_NO;
    uint8_t *body = malloc(info.body_len);
    if (!body)
        return HMTP_RESYNC_NO;
    hmtp_frame_copy_body(buf, info.wire_len, body);
    bool ok = body_is_packet(body, info.body_len, false);
    free(body);
    if (!ok)
        return HMTP_RESYNC_NO;
    *wire_len = info.wire_len;
    return HMTP_RESYNC_YES;
}

hmtp_resync_answer hmtp_resync_packet(const uint8_t *buf, size_t len, size_t max_body, size_t *wire_len,
                                      size_t *need)
{
    return packet_at(buf, len, max_body, true, wire_len, need);
}

/* The first values of a body prefix: the type, then to and from.
 * truncated_by_data: the prefix ends where the available bytes end (more
 * may come), not where the first chunk ends. */
static hmtp_resync_answer prefix_values(const uint8_t *data, size_t len, bool truncated_by_data)
{
    /* The type's one byte, and the code of to (null or a string: short,
     * medium, 'S' or 'R' chunk), settle most offsets before the decoder
     * waits for a long value that is no packet's first. */
    if (len >= 1 && (data[0] < 0x90 || data[0] > 0x9d))
        return HMTP_RESYNC_NO;
    if (len >= 2 && !(data[1] == 'N' || data[1] <= 0x1f || (data[1] >= 0x30 && data[1] <= 0x33) || data[1] == 'S' ||
                      data[1] == 'R'))
        return HMTP_RESYNC_NO;
    hessian_stream stream;
    hessian_stream_init(&stream, NULL);
    hessian_decoder d;
    hessian_decoder_init(&d, &stream, hessian_stream_mark(&stream), data, len);
    hessian_event ev;
    int values = 0;
    hmtp_resync_answer answer = HMTP_RESYNC_YES;
    while (values < 3) {
        int rc = hessian_next(&d, &ev);
        if (rc <= 0) {
            /* the bytes ran out (inside a value, or cleanly between two) */
            bool ran_out = rc == 0 ? truncated_by_data : hessian_decoder_error(&d)->code == HMTP_ERR_TRUNCATED;
            /* which is fine once type and to were seen */
            if (!ran_out)
                answer = HMTP_RESYNC_NO;
            else if (values < 2)
                answer = truncated_by_data ? HMTP_RESYNC_MORE : HMTP_RESYNC_NO;
            break;
        }
        bool ok;
        if (values == 0)
            ok = ev.kind == HESSIAN_INT && hmtp_type_valid(ev.v.i) && ev.code >= 0x90 && ev.code <= 0x9d;
        else
            ok = ev.kind == HESSIAN_NULL || (ev.kind == HESSIAN_STRING && jid_like(ev.v.str.data, ev.v.str.len));
        if (!ok) {
            answer = HMTP_RESYNC_NO;
            break;
        }
        values++;
    }
    hessian_decoder_free(&d);
    hessian_stream_free(&stream);
    return answer;
}

hmtp_resync_answer hmtp_resync_prefix(const uint8_t *buf, size_t len)
{
    /* the first chunk's length: big-endian base-128, top bit = more follows */
    size_t chunk = 0, i = 0;
    for (;; i++) {
        if (i >= HMTP_MAX_LENGTH_BYTES)
            return HMTP_RESYNC_NO;
        if (i >= len)
            return HMTP_RESYNC_MORE;
        chunk = (chunk << 7) | (buf[i] & 0x7f);
        if (!(buf[i] & 0x80))
            break;
    }
    i++;
    if (chunk < 3)
        return HMTP_RESYNC_NO;
    if (i >= len)
        return HMTP_RESYNC_MORE;
    size_t avail = len - i;
    return prefix_values(buf + i, avail < chunk ? avail : chunk, avail < chunk);
}

/* What follows a whole packet: the start of another (YES), something else
 * (NO), or too few bytes to tell (MORE). */
static hmtp_resync_answer followed_by_packet(const uint8_t *buf, size_t len, size_t max_body)
{
    if (len == 0)
        return HMTP_RESYNC_MORE;
    hmtp_resync_answer a = hmtp_resync_prefix(buf, len);
    if (a != HMTP_RESYNC_NO)
        return a;
    size_t wire, need;
    /* a whole packet whose type is written in a longer form */
    return packet_at(buf, len, max_body, false, &wire, &need) == HMTP_RESYNC_YES ? HMTP_RESYNC_YES : HMTP_RESYNC_NO;
}

hmtp_resync_status hmtp_resync_find(const uint8_t *buf, size_t len, size_t from, const hmtp_resync_config *cfg,
                                    size_t *at, size_t *need)
{
    size_t end = cfg->window > len - from ? len : from + cfg->window;
    if (cfg->prefix_at_from && from < len && hmtp_resync_prefix(buf + from, len - from) == HMTP_RESYNC_YES) {
        *at = from;
        return HMTP_RESYNC_FOUND;
    }
    for (size_t c = from; c < end; c++) {
        size_t wire = 0, more = 0;
        hmtp_resync_answer a = packet_at(buf + c, len - c, cfg->max_body, !cfg->at_end, &wire, &more);
        if (a == HMTP_RESYNC_NO)
            continue;
        if (a == HMTP_RESYNC_MORE) {
            /* Look again once the packet could be whole, or sooner: more of
             * its body may prove it is none. Doubling what is looked at
             * keeps the work of a long wait in proportion to its bytes. */
            size_t step = len - c > 4096 ? len - c : 4096;
            *at = c;
            *need = len + (more < step ? more : step);
            return HMTP_RESYNC_NEED;
        }
        hmtp_resync_answer next = followed_by_packet(buf + c + wire, len - c - wire, cfg->max_body);
        bool edge = cfg->accept_at_edge && c + wire == len;
        if (next == HMTP_RESYNC_YES || (next == HMTP_RESYNC_MORE && (cfg->at_end || edge))) {
            *at = c;
            return HMTP_RESYNC_FOUND;
        }
        if (next == HMTP_RESYNC_MORE) {
            *at = c;
            *need = len + 1;
            return HMTP_RESYNC_NEED;
        }
    }
    if (!cfg->at_end && end - from < cfg->window) {
        /* the window reaches past the bytes there are */
        *at = len;
        *need = len + 1;
        return HMTP_RESYNC_NEED;
    }
    return HMTP_RESYNC_NONE;
}
