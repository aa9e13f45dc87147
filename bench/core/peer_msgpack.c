/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The peer reader for bench-core: msgpack-c over the same logical packets.
 * Its UTF-8 check has the same 8-bytes-at-a-time ASCII skip as the core's
 * decoder, so the comparison is between the two readers, not between a fast
 * and a slow validator. */
#include "bench_peer.h"

#include <msgpack.h>
#include <string.h>

static int put(void *ctx, const char *data, size_t len)
{
    return hmtp_buf_append(ctx, data, len) ? 0 : -1;
}

static bool pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    if (!s)
        return msgpack_pack_nil(pk) == 0;
    return msgpack_pack_str_with_body(pk, s, len) == 0;
}

static bool pack_value(msgpack_packer *pk, const hessian_value *v)
{
    if (!v)
        return msgpack_pack_nil(pk) == 0;
    switch (v->kind) {
    case HESSIAN_NULL: return msgpack_pack_nil(pk) == 0;
    case HESSIAN_BOOL: return (v->v.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk)) == 0;
    case HESSIAN_INT: return msgpack_pack_int32(pk, v->v.i) == 0;
    case HESSIAN_LONG: return msgpack_pack_int64(pk, v->v.l) == 0;
    case HESSIAN_DOUBLE: return msgpack_pack_double(pk, v->v.d) == 0;
    case HESSIAN_DATE: return msgpack_pack_int64(pk, v->v.date_ms) == 0;
    case HESSIAN_STRING: return pack_str(pk, v->v.str.data, v->v.str.len);
    case HESSIAN_BINARY: return msgpack_pack_bin_with_body(pk, v->v.bin.data, v->v.bin.len) == 0;
    case HESSIAN_LIST:
        if (msgpack_pack_array(pk, v->v.list.n))
            return false;
        for (size_t i = 0; i < v->v.list.n; i++)
            if (!pack_value(pk, v->v.list.items[i]))
                return false;
        return true;
    case HESSIAN_MAP:
        if (msgpack_pack_map(pk, v->v.map.n))
            return false;
        for (size_t i = 0; i < v->v.map.n; i++)
            if (!pack_value(pk, v->v.map.keys[i]) || !pack_value(pk, v->v.map.values[i]))
                return false;
        return true;
    case HESSIAN_OBJECT:
        if (msgpack_pack_map(pk, v->v.object.n))
            return false;
        for (size_t i = 0; i < v->v.object.n; i++) {
            const char *name = v->v.object.names ? v->v.object.names[i] : NULL;
            if (!pack_str(pk, name, name ? strlen(name) : 0) || !pack_value(pk, v->v.object.fields[i]))
                return false;
        }
        return true;
    default: return false; /* refs are not made by the mix */
    }
}

bool bench_peer_encode(const hmtp_packet *p, void *ctx)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, ctx, put);
    bool id = hmtp_type_has_id(p->type), error = hmtp_type_has_error(p->type);
    return msgpack_pack_array(&pk, 4 + id + error) == 0 && msgpack_pack_int32(&pk, p->type) == 0 &&
           pack_str(&pk, p->to, p->to ? strlen(p->to) : 0) && pack_str(&pk, p->from, p->from ? strlen(p->from) : 0) &&
           (!id || msgpack_pack_int64(&pk, p->id) == 0) && pack_value(&pk, p->value) &&
           (!error || pack_value(&pk, p->error_value));
}

const char *bench_peer_version(void)
{
    return msgpack_version();
}

static bool cont(uint8_t b)
{
    return (b & 0xc0) == 0x80;
}

bool bench_peer_utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            if (!(x & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
        } else if (c >= 0xc2 && c <= 0xdf) {
            if (n - i < 2 || !cont(p[i + 1]))
                return false;
            i += 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            if (n - i < 3 || !cont(p[i + 1]) || !cont(p[i + 2]) || (c == 0xe0 && p[i + 1] < 0xa0) ||
                (c == 0xed && p[i + 1] >= 0xa0))
                return false;
            i += 3;
        } else if (c >= 0xf0 && c <= 0xf4) {
            if (n - i < 4 || !cont(p[i + 1]) || !cont(p[i + 2]) || !cont(p[i + 3]) || (c == 0xf0 && p[i + 1] < 0x90) ||
                (c == 0xf4 && p[i + 1] >= 0x90))
                return false;
            i += 4;
        } else {
            return false;
        }
    }
    return true;
}

static bool validate(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_STR: return bench_peer_utf8_valid((const uint8_t *)o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_ARRAY:
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (!validate(&o->via.array.ptr[i]))
                return false;
        return true;
    case MSGPACK_OBJECT_MAP:
        for (uint32_t i = 0; i < o->via.map.size; i++)
            if (!validate(&o->via.map.ptr[i].key) || !validate(&o->via.map.ptr[i].val))
                return false;
        return true;
    default: return true;
    }
}

/* What hmtp_packet_decode checks of the grammar: an array whose first
 * element is a known packet type. */
static bool is_packet(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size >= 4 &&
           o->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
           hmtp_type_valid((int32_t)(o->via.array.ptr[0].via.u64 & 0x7fffffff));
}

size_t bench_peer_read(const hmtp_buf *stream, size_t piece, bench_peer_level level, bool *ok)
{
    size_t packets = 0;
    *ok = true;
    msgpack_unpacker u;
    if (!msgpack_unpacker_init(&u, piece)) {
        *ok = false;
        return 0;
    }
    msgpack_unpacked r;
    msgpack_unpacked_init(&r);
    for (size_t pos = 0; pos < stream->len && *ok; pos += piece) {
        size_t n = stream->len - pos < piece ? stream->len - pos : piece;
        if (!msgpack_unpacker_reserve_buffer(&u, n)) {
            *ok = false;
            break;
        }
        memcpy(msgpack_unpacker_buffer(&u), stream->data + pos, n);
        msgpack_unpacker_buffer_consumed(&u, n);
        msgpack_unpack_return rc;
        while ((rc = msgpack_unpacker_next(&u, &r)) == MSGPACK_UNPACK_SUCCESS) {
            packets++;
            if (!is_packet(&r.data) || (level == PEER_VALIDATE && !validate(&r.data))) {
                *ok = false;
                break;
            }
        }
        if (rc != MSGPACK_UNPACK_SUCCESS && rc != MSGPACK_UNPACK_CONTINUE)
            *ok = false;
    }
    msgpack_unpacked_destroy(&r);
    msgpack_unpacker_destroy(&u);
    return packets;
}
