/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON rendering that keeps Hessian's kinds apart: doubles always carry a
 * fraction or exponent, integers never do; other kinds use "$" objects. */
#include "json.h"

#include "utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_str(hmtp_buf *out, const char *s)
{
    hmtp_buf_append(out, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when invalid. Lone
 * surrogate halves (ED A0-BF xx, which Java strings can hold) report 3 and
 * set *surrogate. */
static size_t utf8_seq(const uint8_t *p, size_t left, bool *surrogate)
{
    uint32_t cp;
    size_t n;
    if (hmtp_utf8_next(p, left, &cp, &n) != HMTP_UTF8_OK || hmtp_utf8_overlong(cp, n) || cp > 0x10ffff)
        return 0;
    *surrogate = hmtp_utf8_surrogate(cp);
    return n;
}

/* Bytes that go out as they are: printable ASCII but the quote and the
 * backslash. */
static inline bool json_plain(uint8_t c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void hmtp_json_string(hmtp_buf *out, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    hmtp_buf_append_byte(out, '"');
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        if (json_plain(c)) {
            /* a run of plain bytes in one append, not one call a byte */
            size_t run = i + 1;
            while (run < len && json_plain(p[run]))
                run++;
            hmtp_buf_append(out, p + i, run - i);
            i = run;
        } else if (c == '"' || c == '\\') {
            hmtp_buf_append_byte(out, '\\');
            hmtp_buf_append_byte(out, c);
            i++;
        } else if (c < 0x20) {
            static const char short_esc[] = {['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
            if (c < sizeof short_esc && short_esc[c]) {
                hmtp_buf_append_byte(out, '\\');
                hmtp_buf_append_byte(out, (uint8_t)short_esc[c]);
            } else {
                hmtp_buf_printf(out, "\\u%04x", c);
            }
            i++;
        } else {
            bool surrogate;
            size_t n = utf8_seq(p + i, len - i, &surrogate);
            if (n == 0) {
                put_str(out, "\xef\xbf\xbd");
                i++;
            } else if (surrogate) {
                unsigned unit = ((unsigned)(p[i] & 0x0f) << 12) | ((unsigned)(p[i + 1] & 0x3f) << 6) | (p[i + 2] & 0x3f);
                hmtp_buf_printf(out, "\\u%04x", unit);
                i += n;
            } else {
                hmtp_buf_append(out, p + i, n);
                i += n;
            }
        }
    }
    hmtp_buf_append_byte(out, '"');
}

size_t hmtp_int_text(char text[HMTP_INT_TEXT_SIZE], int64_t n)
{
    char tmp[HMTP_INT_TEXT_SIZE];
    char *end = tmp + sizeof tmp, *q = end;
    /* the magnitude as unsigned, so INT64_MIN needs no special case */
    uint64_t u = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (n < 0)
        *--q = '-';
    size_t len = (size_t)(end - q);
    memcpy(text, q, len);
    text[len] = '\0';
    return len;
}

void hmtp_json_int(hmtp_buf *out, int64_t n)
{
    char text[HMTP_INT_TEXT_SIZE];
    hmtp_buf_append(out, text, hmtp_int_text(text, n));
}

void hmtp_json_double(hmtp_buf *out, double d)
{
    if (isnan(d)) {
        put_str(out, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        put_str(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    /* The fewest significant digits that read back to the same bits, laid
       out like JavaScript/Python: plain decimals for exponents -5..20,
       scientific notation outside. */
    char tmp[64];
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
    int exp = atoi(strchr(tmp, 'e') + 1);
    if (exp >= -5 && exp < 21) {
        int decimals = prec - 1 - exp;
        snprintf(tmp, sizeof tmp, "%.*f", decimals > 0 ? decimals : 0, d);
    }
    put_str(out, tmp);
    if (!strpbrk(tmp, ".e"))
        put_str(out, ".0");
}

static void json_long(hmtp_buf *out, int64_t l)
{
    const int64_t safe = (int64_t)1 << 53;
    bool quoted = l > safe || l < -safe;
    if (quoted)
        hmtp_buf_append_byte(out, '"');
    hmtp_json_int(out, l);
    if (quoted)
        hmtp_buf_append_byte(out, '"');
}

static void base64(hmtp_buf *out, const uint8_t *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!hmtp_buf_reserve(out, (n + 2) / 3 * 4))
        return;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63]};
        hmtp_buf_append(out, q, 4);
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], i + 1 < n ? tbl[(v >> 6) & 63] : '=', '='};
        hmtp_buf_append(out, q, 4);
    }
}

static void json_type(hmtp_buf *out, const char *type, int32_t type_index)
{
    put_str(out, "\"$type\":");
    if (type)
        hmtp_json_string(out, type, strlen(type));
    else
        hmtp_buf_printf(out, "\"#%d\"", type_index);
}

void hmtp_json_value(hmtp_buf *out, const hessian_value *v)
{
    if (!v) {
        put_str(out, "null");
        return;
    }
    switch (v->kind) {
    case HESSIAN_NULL: put_str(out, "null"); break;
    case HESSIAN_BOOL: put_str(out, v->v.b ? "true" : "false"); break;
    case HESSIAN_INT: hmtp_json_int(out, v->v.i); break;
    case HESSIAN_LONG: json_long(out, v->v.l); break;
    case HESSIAN_DOUBLE: hmtp_json_double(out, v->v.d); break;
    case HESSIAN_DATE: hmtp_buf_printf(out, "{\"$date\":%lld}", (long long)v->v.date_ms); break;
    case HESSIAN_STRING: hmtp_json_string(out, v->v.str.data, v->v.str.len); break;
    case HESSIAN_BINARY:
        put_str(out, "{\"$binary\":\"");
        base64(out, v->v.bin.data, v->v.bin.len);
        put_str(out, "\"}");
        break;
    case HESSIAN_REF: hmtp_buf_printf(out, "{\"$ref\":%u}", v->v.ref); break;
    case HESSIAN_LIST: {
        bool typed = v->v.list.type || v->v.list.type_index >= 0;
        if (typed) {
            hmtp_buf_append_byte(out, '{');
            json_type(out, v->v.list.type, v->v.list.type_index);
            put_str(out, ",\"$list\":");
        }
        hmtp_buf_append_byte(out, '[');
        for (size_t i = 0; i < v->v.list.n; i++) {
            if (i)
                hmtp_buf_append_byte(out, ',');
            hmtp_json_value(out, v->v.list.items[i]);
        }
        hmtp_buf_append_byte(out, ']');
        if (typed)
            hmtp_buf_append_byte(out, '}');
        break;
    }
    case HESSIAN_MAP:
        hmtp_buf_append_byte(out, '{');
        if (v->v.map.type || v->v.map.type_index >= 0) {
            json_type(out, v->v.map.type, v->v.map.type_index);
            hmtp_buf_append_byte(out, ',');
        }
        put_str(out, "\"$map\":[");
        for (size_t i = 0; i < v->v.map.n; i++) {
            put_str(out, i ? ",[" : "[");
            hmtp_json_value(out, v->v.map.keys[i]);
            hmtp_buf_append_byte(out, ',');
            hmtp_json_value(out, v->v.map.values[i]);
            hmtp_buf_append_byte(out, ']');
        }
        put_str(out, "]}");
        break;
    case HESSIAN_OBJECT:
        put_str(out, "{\"$class\":");
        if (v->v.object.cls && v->v.object.names) {
            hmtp_json_string(out, v->v.object.cls, strlen(v->v.object.cls));
            for (size_t i = 0; i < v->v.object.n; i++) {
                hmtp_buf_append_byte(out, ',');
                const char *name = v->v.object.names[i];
                hmtp_json_string(out, name, strlen(name));
                hmtp_buf_append_byte(out, ':');
                hmtp_json_value(out, v->v.object.fields[i]);
            }
        } else {
            hmtp_buf_printf(out, "\"#%d\",\"$fields\":[", v->v.object.class_index);
            for (size_t i = 0; i < v->v.object.n; i++) {
                if (i)
                    hmtp_buf_append_byte(out, ',');
                hmtp_json_value(out, v->v.object.fields[i]);
            }
            hmtp_buf_append_byte(out, ']');
        }
        hmtp_buf_append_byte(out, '}');
        break;
    default: put_str(out, "null"); break;
    }
}

static void json_opt_string(hmtp_buf *out, const char *s)
{
    if (s)
        hmtp_json_string(out, s, strlen(s));
    else
        put_str(out, "null");
}

void hmtp_json_packet_fields(hmtp_buf *out, const hmtp_packet *p)
{
    put_str(out, "\"type\":");
    hmtp_json_int(out, p->type);
    put_str(out, ",\"type_name\":");
    json_opt_string(out, hmtp_type_name(p->type));
    put_str(out, ",\"to\":");
    json_opt_string(out, p->to);
    put_str(out, ",\"from\":");
    json_opt_string(out, p->from);
    put_str(out, ",\"id\":");
    if (p->has_id)
        json_long(out, p->id);
    else
        put_str(out, "null");
    put_str(out, ",\"value\":");
    hmtp_json_value(out, p->value);
    put_str(out, ",\"error\":");
    if (hmtp_type_has_error(p->type) && p->error_value) {
        put_str(out, "{\"type\":");
        json_opt_string(out, p->error.type);
        put_str(out, ",\"group\":");
        json_opt_string(out, p->error.group);
        put_str(out, ",\"text\":");
        json_opt_string(out, p->error.text);
        hmtp_buf_append_byte(out, '}');
    } else {
        put_str(out, "null");
    }
}
