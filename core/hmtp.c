/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HMTP packets: the body grammar on top of the Hessian value reader. */
#include "hmtp.h"

#include <string.h>

#include "jid.h"

static const char *const type_names[HMTP_TYPE_COUNT] = {
    "message",
    "messageError",
    "queryGet",
    "querySet",
    "queryResult",
    "queryError",
    "presence",
    "presenceUnavailable",
    "presenceProbe",
    "presenceSubscribe",
    "presenceSubscribed",
    "presenceUnsubscribe",
    "presenceUnsubscribed",
    "presenceError",
};

const char *hmtp_type_name(int32_t type)
{
    return hmtp_type_valid(type) ? type_names[type] : NULL;
}

int32_t hmtp_type_from_name(const char *name)
{
    for (int32_t i = 0; i < HMTP_TYPE_COUNT; i++)
        if (strcmp(type_names[i], name) == 0)
            return i;
    return -1;
}

/* In line for hmtp_packet_decode(), which asks for every value. */
static inline bool type_valid(int32_t type)
{
    return type >= 0 && type < HMTP_TYPE_COUNT;
}

static inline bool type_has_id(int32_t type)
{
    return type >= HMTP_QUERY_GET && type <= HMTP_QUERY_ERROR;
}

static inline bool type_has_error(int32_t type)
{
    return type == HMTP_MESSAGE_ERROR || type == HMTP_QUERY_ERROR || type == HMTP_PRESENCE_ERROR;
}

static inline hmtp_field field_at(int32_t type, uint32_t index)
{
    static const hmtp_field head[] = {HMTP_FIELD_TYPE, HMTP_FIELD_TO, HMTP_FIELD_FROM};
    if (index < 3)
        return head[index];
    if (!type_valid(type))
        return HMTP_FIELD_EXTRA;
    index -= 3;
    if (type_has_id(type)) {
        if (index == 0)
            return HMTP_FIELD_ID;
        index--;
    }
    if (index == 0)
        return HMTP_FIELD_VALUE;
    if (index == 1 && type_has_error(type))
        return HMTP_FIELD_ERROR;
    return HMTP_FIELD_EXTRA;
}

bool hmtp_type_valid(int32_t type)
{
    return type_valid(type);
}

bool hmtp_type_has_id(int32_t type)
{
    return type_has_id(type);
}

bool hmtp_type_has_error(int32_t type)
{
    return type_has_error(type);
}

bool hmtp_type_is_presence(int32_t type)
{
    return type >= HMTP_PRESENCE && type <= HMTP_PRESENCE_ERROR;
}

hmtp_field hmtp_field_at(int32_t type, uint32_t index)
{
    return field_at(type, index);
}

const char *hmtp_field_name(hmtp_field f)
{
    static const char *const names[] = {"type", "to", "from", "id", "value", "error", "extra"};
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "?";
}

void hmtp_packet_init(hmtp_packet *p)
{
    memset(p, 0, sizeof *p);
    p->type = -1;
    hmtp_arena_init(&p->arena);
}

void hmtp_packet_free(hmtp_packet *p)
{
    hmtp_arena_free(&p->arena);
    memset(p, 0, sizeof *p);
    p->type = -1;
}

void hmtp_packet_reset(hmtp_packet *p)
{
    hmtp_arena arena = p->arena;
    hmtp_arena_reset(&arena);
    memset(p, 0, sizeof *p);
    p->type = -1;
    p->arena = arena;
}

void hmtp_packet_read_bam_error(hmtp_packet *p)
{
    const hessian_value *e = p->error_value;
    memset(&p->error, 0, sizeof p->error);
    if (!e || e->kind != HESSIAN_OBJECT)
        return;
    p->error.type = hessian_value_string(hessian_object_field(e, "_type"));
    p->error.group = hessian_value_string(hessian_object_field(e, "_group"));
    p->error.text = hessian_value_string(hessian_object_field(e, "_text"));
    p->error.data = hessian_object_field(e, "_data");
    p->error.extra = hessian_object_field(e, "_extra");
}

static hmtp_status field_error(hmtp_error *err, const hessian_value *v, const char *what, const char *want)
{
    return hmtp_fail(err, HMTP_ERR_BAD_PACKET, v->offset, "packet %s at body offset %zu is a %s, not %s", what,
                     v->offset, hessian_kind_name(v->kind), want);
}

/* True when every byte is printable ASCII (0x20-0x7e), which is every JID
 * in practice and which hmtp_jid_check() always passes: eight bytes a step
 * instead of its character-by-character UTF-8 walk (a sixth of a presence
 * packet's decoding). */
bool hmtp_text_printable_ascii(const char *s, size_t len)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* a high bit in some byte of: w (>= 0x80), w + 1 (0x7f), or the
           classic has-less-than test for 0x20; carries and borrows arise
           only from bytes already caught, so "any" is exact */
        if (((w | (w + ones) | ((w - 0x20 * ones) & ~w)) & highs) != 0)
            return false;
    }
    for (; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* A JID field: a string or null. */
static hmtp_status jid_field(const hessian_value *v, const char **out, const char *what, hmtp_error *err)
{
    if (v->kind == HESSIAN_NULL) {
        *out = NULL;
        return HMTP_OK;
    }
    if (v->kind != HESSIAN_STRING)
        return field_error(err, v, what, "a string or null");
    size_t at;
    const char *why = hmtp_text_printable_ascii(v->v.str.data, v->v.str.len)
                          ? NULL
                          : hmtp_jid_check(v->v.str.data, v->v.str.len, &at);
    if (why)
        return hmtp_fail(err, HMTP_ERR_BAD_STRING, v->offset,
                         "packet %s at body offset %zu is not a JID: %s at byte %zu of %zu", what,
                         v->offset, why, at, v->v.str.len);
    *out = v->v.str.data;
    return HMTP_OK;
}

/* The BamError fields are handed out as C strings: one holding U+0000 would
   reach every user cut short, so the packet is refused instead. */
static hmtp_status bam_error_strings(const hessian_value *e, hmtp_error *err)
{
    static const char *const names[] = {"_type", "_group", "_text"};
    if (!e || e->kind != HESSIAN_OBJECT)
        return HMTP_OK;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const hessian_value *f = hessian_object_field(e, names[i]);
        const char *nul = f && f->kind == HESSIAN_STRING ? memchr(f->v.str.data, '\0', f->v.str.len) : NULL;
        if (nul)
            return hmtp_fail(err, HMTP_ERR_BAD_STRING, f->offset,
                             "packet error.%s at body offset %zu holds U+0000 at byte %zu of %zu", names[i] + 1,
                             f->offset, (size_t)(nul - f->v.str.data), f->v.str.len);
    }
    return HMTP_OK;
}

hmtp_status hmtp_packet_decode(hmtp_packet *p, hessian_stream *s, hessian_mark at, const uint8_t *body,
                               size_t len, hmtp_error *err)
{
    hessian_decoder d;
    hessian_decoder_init(&d, s, at, body, len);
    hmtp_status st = hmtp_packet_decode_with(p, &d, s, at, body, len, err);
    hessian_decoder_free(&d);
    return st;
}

hmtp_status hmtp_packet_decode_with(hmtp_packet *p, hessian_decoder *d, hessian_stream *s, hessian_mark at,
                                    const uint8_t *body, size_t len, hmtp_error *err)
{
    hmtp_error_clear(err);
    hessian_decoder_restart(d, s, at, body, len);
    hmtp_status st = HMTP_OK;
    uint32_t index = 0;
    for (;; index++) {
        hessian_value *v;
        hmtp_error verr;
        int rc = hessian_read_value(d, &p->arena, &v, &verr);
        if (rc < 0) {
            st = verr.code;
            if (err)
                *err = verr;
            break;
        }
        hmtp_field field = field_at(p->type, index);
        if (rc == 0) {
            hessian_value *val = p->value;
            if (field == HMTP_FIELD_ERROR && val && val->kind == HESSIAN_OBJECT && !val->v.object.cls &&
                val->v.object.n > 0) {
                /* A value of a class defined before the capture started has
                   no known field count, so it ran to the end of the body and
                   took the error with it: its last "field" is the error. */
                p->error_value = val->v.object.fields[--val->v.object.n];
                st = bam_error_strings(p->error_value, err);
                if (st == HMTP_OK)
                    hmtp_packet_read_bam_error(p);
                break;
            }
            /* Everything up to the value is required; value and error too. */
            bool complete = index > 0 && field_at(p->type, index) == HMTP_FIELD_EXTRA;
            if (!complete) {
                st = hmtp_fail(err, HMTP_ERR_BAD_PACKET, len,
                               "body ends after %u values: the %s field of a %s is missing", index,
                               hmtp_field_name(field), hmtp_type_name(p->type) ? hmtp_type_name(p->type) : "packet");
            }
            break;
        }
        switch (field) {
        case HMTP_FIELD_TYPE:
            if (v->kind != HESSIAN_INT) {
                st = field_error(err, v, "type", "an int");
                goto done;
            }
            p->type = v->v.i;
            if (!type_valid(p->type)) {
                st = hmtp_fail(err, HMTP_ERR_UNKNOWN_TYPE, v->offset, "unknown packet type %d at body offset %zu",
                               p->type, v->offset);
                goto done;
            }
            break;
        case HMTP_FIELD_TO: st = jid_field(v, &p->to, "to", err); break;
        case HMTP_FIELD_FROM: st = jid_field(v, &p->from, "from", err); break;
        case HMTP_FIELD_ID:
            /* Caucho writes a long; an int is accepted as the same number. */
            if (v->kind == HESSIAN_LONG)
                p->id = v->v.l;
            else if (v->kind == HESSIAN_INT)
                p->id = v->v.i;
            else {
                st = field_error(err, v, "id", "a long");
                break;
            }
            p->has_id = true;
            break;
        case HMTP_FIELD_VALUE: p->value = v; break;
        case HMTP_FIELD_ERROR:
            p->error_value = v;
            st = bam_error_strings(v, err);
            if (st == HMTP_OK)
                hmtp_packet_read_bam_error(p);
            break;
        case HMTP_FIELD_EXTRA:
            st = hmtp_fail(err, HMTP_ERR_BAD_PACKET, v->offset,
                           "extra %s at body offset %zu after the last field of a %s", hessian_kind_name(v->kind),
                           v->offset, hmtp_type_name(p->type));
            break;
        }
        if (st != HMTP_OK)
            break;
    }
done:
    return st;
}

bool hmtp_packet_write(hessian_writer *w, const hmtp_packet *p)
{
    bool faithful = true;
    hessian_writer_start_packet(w);
    hessian_write_int(w, p->type);
    hessian_write_string(w, p->to, p->to ? strlen(p->to) : 0);
    hessian_write_string(w, p->from, p->from ? strlen(p->from) : 0);
    if (hmtp_type_has_id(p->type))
        hessian_write_long(w, p->id);
    faithful &= hessian_write_value(w, p->value);
    if (hmtp_type_has_error(p->type))
        faithful &= hessian_write_value(w, p->error_value);
    hessian_writer_end_packet(w);
    return faithful && !w->failed;
}

hessian_value *hmtp_new_bam_error(hmtp_arena *a, const char *type, const char *group, const char *text)
{
    static const char *const names[] = {"_type", "_group", "_text", "_data", "_extra"};
    hessian_value *e = hessian_new_object(a, HMTP_BAM_ERROR_CLASS, 5, names);
    if (!e)
        return NULL;
    hessian_value *t = hessian_new_string(a, type, type ? strlen(type) : 0);
    hessian_value *g = hessian_new_string(a, group, group ? strlen(group) : 0);
    hessian_value *x = hessian_new_string(a, text, text ? strlen(text) : 0);
    if (!t || !g || !x)
        return NULL;
    hessian_object_set(e, "_type", t);
    hessian_object_set(e, "_group", g);
    hessian_object_set(e, "_text", x);
    return e;
}

hessian_value *hmtp_new_auth_query(hmtp_arena *a, const char *uid, const char *resource,
                                   hessian_value *credentials)
{
    static const char *const names[] = {"_uid", "_resource", "_credentials"};
    hessian_value *q = hessian_new_object(a, HMTP_AUTH_QUERY_CLASS, 3, names);
    if (!q)
        return NULL;
    hessian_value *u = hessian_new_string(a, uid, uid ? strlen(uid) : 0);
    hessian_value *r = hessian_new_string(a, resource, resource ? strlen(resource) : 0);
    if (!u || !r)
        return NULL;
    hessian_object_set(q, "_uid", u);
    hessian_object_set(q, "_resource", r);
    if (credentials)
        hessian_object_set(q, "_credentials", credentials);
    return q;
}

hessian_value *hmtp_new_auth_result(hmtp_arena *a, const char *jid)
{
    static const char *const names[] = {"_jid"};
    hessian_value *r = hessian_new_object(a, HMTP_AUTH_RESULT_CLASS, 1, names);
    hessian_value *j = r ? hessian_new_string(a, jid, jid ? strlen(jid) : 0) : NULL;
    if (!j)
        return NULL;
    hessian_object_set(r, "_jid", j);
    return r;
}

hessian_value *hmtp_new_public_key_query(hmtp_arena *a, const char *algorithm, const char *format,
                                         const uint8_t *encoded, size_t encoded_len)
{
    static const char *const names[] = {"_algorithm", "_format", "_encoded"};
    hessian_value *q = hessian_new_object(a, HMTP_GET_PUBLIC_KEY_QUERY_CLASS, 3, names);
    if (!q)
        return NULL;
    hessian_value *alg = hessian_new_string(a, algorithm, algorithm ? strlen(algorithm) : 0);
    hessian_value *fmt = hessian_new_string(a, format, format ? strlen(format) : 0);
    hessian_value *enc = hessian_new_binary(a, encoded, encoded_len);
    if (!alg || !fmt || !enc)
        return NULL;
    hessian_object_set(q, "_algorithm", alg);
    hessian_object_set(q, "_format", fmt);
    hessian_object_set(q, "_encoded", enc);
    return q;
}

hessian_value *hmtp_new_encrypted_object(hmtp_arena *a, const char *key_algorithm, const uint8_t *enc_key,
                                         size_t enc_key_len, const uint8_t *enc_data, size_t enc_data_len)
{
    static const char *const names[] = {"_keyAlgorithm", "_encKey", "_encData"};
    hessian_value *o = hessian_new_object(a, HMTP_ENCRYPTED_OBJECT_CLASS, 3, names);
    if (!o)
        return NULL;
    hessian_value *alg = hessian_new_string(a, key_algorithm, key_algorithm ? strlen(key_algorithm) : 0);
    hessian_value *key = hessian_new_binary(a, enc_key, enc_key_len);
    hessian_value *data = hessian_new_binary(a, enc_data, enc_data_len);
    if (!alg || !key || !data)
        return NULL;
    hessian_object_set(o, "_keyAlgorithm", alg);
    hessian_object_set(o, "_encKey", key);
    hessian_object_set(o, "_encData", data);
    return o;
}
