/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "packet_log.h"

#include <string.h>

#include "buf.h"
#include "json.h"

static void describe_value(const hessian_value *v, char *out, size_t size)
{
    switch (v->kind) {
    case HESSIAN_OBJECT:
        snprintf(out, size, "%s{...}", v->v.object.cls ? v->v.object.cls : "(class not seen)");
        return;
    case HESSIAN_STRING:
        if (v->v.str.len > 40)
            snprintf(out, size, "string[%zu bytes]", v->v.str.len);
        else
            snprintf(out, size, "\"%s\"", v->v.str.data);
        return;
    case HESSIAN_BINARY:
        snprintf(out, size, "binary[%zu]", v->v.bin.len);
        return;
    case HESSIAN_LIST:
        snprintf(out, size, "list[%zu]", v->v.list.n);
        return;
    case HESSIAN_MAP:
        snprintf(out, size, "map[%zu]", v->v.map.n);
        return;
    default: {
        hmtp_buf b;
        hmtp_buf_init(&b);
        hmtp_json_value(&b, v);
        snprintf(out, size, "%.*s", b.data ? (int)(b.len > 60 ? 60 : b.len) : 0, b.data ? (const char *)b.data : "");
        hmtp_buf_free(&b);
    }
    }
}

void client_packet_summary(const hmtp_packet *p, char *out, size_t size)
{
    const char *name = hmtp_type_name(p->type);
    size_t at = 0;
#define PUT(...)                                                                                                   \
    do {                                                                                                           \
        if (at < size)                                                                                             \
            at += (size_t)snprintf(out + at, size - at, __VA_ARGS__);                                              \
    } while (0)
    if (name)
        PUT("%s", name);
    else
        PUT("type%d", (int)p->type);
    PUT(" from=%s to=%s", p->from ? p->from : "null", p->to ? p->to : "null");
    if (p->has_id)
        PUT(" id=%lld", (long long)p->id);
    if (p->error_value)
        PUT(" error=%s/%s%s%s%s", p->error.type ? p->error.type : "null", p->error.group ? p->error.group : "null",
            p->error.text ? " text=\"" : "", p->error.text ? p->error.text : "", p->error.text ? "\"" : "");
    if (p->value && p->value->kind != HESSIAN_NULL) {
        char v[160];
        describe_value(p->value, v, sizeof v);
        PUT(" value=%s", v);
    }
#undef PUT
}

void packet_print_json(FILE *f, const char *conn, const hmtp_packet *p)
{
    hmtp_buf b;
    hmtp_buf_init(&b);
    hmtp_buf_append(&b, "{\"conn\":", 8);
    hmtp_json_string(&b, conn, strlen(conn));
    hmtp_buf_append_byte(&b, ',');
    hmtp_json_packet_fields(&b, p);
    hmtp_buf_append(&b, "}\n", 2);
    if (!b.failed)
        fwrite(b.data, 1, b.len, f);
    fflush(f);
    hmtp_buf_free(&b);
}
