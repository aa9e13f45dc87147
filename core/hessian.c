/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hessian 2.0 pull decoder. One call to hessian_next() reads exactly one
 * event: a scalar value, a container start or end, a ref or a class
 * definition. Positions in the tree (role, index, field name) come from a
 * stack of open containers, so callers never track the grammar themselves. */
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hessian.h"
#include "hessian_internal.h"
#include "utf8.h"

struct hessian_container {
    hessian_kind kind;      /* LIST, MAP or OBJECT */
    bool variable;          /* closed by 'Z' */
    bool unseen;            /* object of a class whose definition was not seen:
                               its fields run to the parent's 'Z' or the body end */
    bool expect_value;      /* map: a key was read, its value comes next */
    int64_t remaining;      /* fixed list elements / known object fields left */
    uint32_t index;         /* next child's position */
    size_t offset;          /* where the container started, for messages */
    const hessian_class *cls;
};

static const char *const kind_names[] = {
    [HESSIAN_NULL] = "null",     [HESSIAN_BOOL] = "bool",     [HESSIAN_INT] = "int",
    [HESSIAN_LONG] = "long",     [HESSIAN_DOUBLE] = "double", [HESSIAN_DATE] = "date",
    [HESSIAN_STRING] = "string", [HESSIAN_BINARY] = "binary", [HESSIAN_LIST] = "list",
    [HESSIAN_MAP] = "map",       [HESSIAN_OBJECT] = "object", [HESSIAN_END] = "end",
    [HESSIAN_REF] = "ref",       [HESSIAN_CLASS_DEF] = "class definition",
};

const char *hessian_kind_name(hessian_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

void hessian_decoder_init(hessian_decoder *d, hessian_stream *s, hessian_mark at, const uint8_t *body,
                          size_t len)
{
    /* Field by field rather than memset: the error's message buffer makes
       the struct a few hundred bytes, and this runs once per packet. */
    d->body = body;
    d->len = len;
    d->pos = 0;
    d->stream = s;
    d->nrefs = 0;
    d->top_index = 0;
    d->depth = 0;
    d->stack = NULL;
    d->stack_cap = 0;
    d->scratch = NULL;
    d->scratch_cap = 0;
    d->failed = false;
    hmtp_error_clear(&d->err);
    d->next_class = at.nclasses < s->nclasses ? at.nclasses : s->nclasses;
    d->next_type = at.ntypes < s->ntypes ? at.ntypes : s->ntypes;
}

void hessian_decoder_free(hessian_decoder *d)
{
    free(d->stack);
    free(d->scratch);
    d->stack = NULL;
    d->stack_cap = 0;
    d->scratch = NULL;
    d->scratch_cap = 0;
}

void hessian_decoder_restart(hessian_decoder *d, hessian_stream *s, hessian_mark at, const uint8_t *body,
                             size_t len)
{
    hessian_container *stack = d->stack;
    unsigned stack_cap = d->stack_cap;
    uint8_t *scratch = d->scratch;
    size_t scratch_cap = d->scratch_cap;
    hessian_decoder_init(d, s, at, body, len);
    d->stack = stack;
    d->stack_cap = stack_cap;
    d->scratch = scratch;
    d->scratch_cap = scratch_cap;
}

const hmtp_error *hessian_decoder_error(const hessian_decoder *d)
{
    return &d->err;
}

size_t hessian_decoder_offset(const hessian_decoder *d)
{
    return d->pos;
}

bool hessian_at_top(const hessian_decoder *d)
{
    return d->depth == 0;
}

static int fail(hessian_decoder *d, hmtp_status code, size_t offset, const char *what)
{
    d->failed = true;
    hmtp_fail(&d->err, code, offset, "%s at body offset %zu", what, offset);
    return -1;
}

static int truncated(hessian_decoder *d, size_t start, const char *what, size_t need)
{
    d->failed = true;
    hmtp_fail(&d->err, HMTP_ERR_TRUNCATED, start, "%s at body offset %zu needs %zu bytes, %zu left", what,
              start, need, d->len - start);
    return -1;
}

static bool have(const hessian_decoder *d, size_t pos, size_t n)
{
    return pos <= d->len && n <= d->len - pos;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static bool scratch_reserve(hessian_decoder *d, size_t need)
{
    if (need <= d->scratch_cap)
        return true;
    size_t cap = d->scratch_cap ? d->scratch_cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    uint8_t *p = realloc(d->scratch, cap);
    if (!p)
        return false;
    d->scratch = p;
    d->scratch_cap = cap;
    return true;
}

/* ---- integers used inside the grammar (lengths, indexes, refs) ---- */

static bool is_int_code(uint8_t c)
{
    return (c >= 0x80 && c <= 0xd7) || c == 'I';
}

static bool is_string_code(uint8_t c)
{
    return c <= 0x1f || (c >= 0x30 && c <= 0x33) || c == 'S' || c == 'R';
}

/* Reads an int at *pos (any int encoding); advances *pos. */
static int read_int(hessian_decoder *d, size_t *pos, int32_t *out, const char *what)
{
    size_t p = *pos;
    if (!have(d, p, 1))
        return truncated(d, p, what, 1);
    uint8_t c = d->body[p];
    if (c >= 0x80 && c <= 0xbf) {
        *out = (int32_t)c - 0x90;
        *pos = p + 1;
    } else if (c >= 0xc0 && c <= 0xcf) {
        if (!have(d, p, 2))
            return truncated(d, p, what, 2);
        *out = ((int32_t)c - 0xc8) * 256 + d->body[p + 1];
        *pos = p + 2;
    } else if (c >= 0xd0 && c <= 0xd7) {
        if (!have(d, p, 3))
            return truncated(d, p, what, 3);
        *out = ((int32_t)c - 0xd4) * 65536 + (int32_t)(d->body[p + 1] << 8) + d->body[p + 2];
        *pos = p + 3;
    } else if (c == 'I') {
        if (!have(d, p, 5))
            return truncated(d, p, what, 5);
        *out = (int32_t)(uint32_t)be(d->body + p + 1, 4);
        *pos = p + 5;
    } else {
        d->failed = true;
        hmtp_fail(&d->err, HMTP_ERR_BAD_VALUE, p, "%s at body offset %zu must be an int, found code 0x%02x",
                  what, p, c);
        return -1;
    }
    return 0;
}

/* ---- strings ---- */

/* How many of the first `limit` bytes at p are ASCII (top bit clear), for
 * strings, where an ASCII byte is one character and one UTF-16 unit. `avail`
 * (>= limit) is what the body holds from p: whole words are read within it
 * and the bytes past `limit` masked off. */
static inline size_t ascii_prefix(const uint8_t *p, size_t limit, size_t avail)
{
    size_t i = 0;
#if defined(__SSE2__)
    while (limit - i >= 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (;;) {
        size_t k = limit - i;
        if (k == 0 || avail - i < 8)
            break;
        uint64_t x;
        memcpy(&x, p + i, sizeof x);
        x &= 0x8080808080808080ull;
        if (k < 8)
            x &= (1ull << (8 * k)) - 1;
        if (x)
            return i + (size_t)__builtin_ctzll(x) / 8;
        if (k <= 8)
            return limit;
        i += 8;
    }
#else
    (void)avail;
#endif
    while (i < limit && p[i] < 0x80)
        i++;
    return i;
}

/* One character that the fast paths of scan_units() did not take: 4-byte
 * forms and every kind of bad input, each with its own message. Returns the
 * character's length in bytes in *n and its UTF-16 units in *u, or -1. */
static int scan_slow(hessian_decoder *d, size_t p, size_t units, size_t *n, size_t *u, bool *rewrite)
{
    uint32_t cp;
    switch (hmtp_utf8_next(d->body + p, d->len - p, &cp, n)) {
    case HMTP_UTF8_OK: break;
    case HMTP_UTF8_TRUNCATED: return truncated(d, p, "string character", *n);
    case HMTP_UTF8_BAD_LEAD: return fail(d, HMTP_ERR_BAD_UTF8, p, "invalid UTF-8 lead byte in string");
    case HMTP_UTF8_BAD_CONTINUATION:
        return fail(d, HMTP_ERR_BAD_UTF8, p + *n, "invalid UTF-8 continuation byte in string");
    }
    if (*n == 4 && (cp < 0x10000 || cp > 0x10ffff))
        return fail(d, HMTP_ERR_BAD_UTF8, p, "4-byte UTF-8 sequence out of range in string");
    if (hmtp_utf8_surrogate(cp) || hmtp_utf8_overlong(cp, *n))
        *rewrite = true; /* CESU-8 surrogates, or overlong forms (Java's C0 80 for NUL) */
    *u = *n == 4 ? 2 : 1; /* UTF-16 units */
    if (*u > units)
        return fail(d, HMTP_ERR_BAD_UTF8, p, "4-byte UTF-8 character split by the string's declared length");
    return 0;
}

/* Validates `units` UTF-16 code units of UTF-8/CESU-8 starting at pos; sets
 * *bytes to their length and *rewrite when the bytes hold surrogate halves
 * (CESU-8) that the event must present as 4-byte UTF-8, or overlong forms.
 *
 * Hessian counts UTF-16 units, so the end of a string is only found by
 * walking it. Most text is ASCII, where units are bytes: runs of ASCII are
 * found 16 (SSE2) or 8 bytes at a time and skipped. Well-formed 2- and 3-byte forms are
 * checked in line; anything else (4-byte forms, bad bytes, the end of the
 * body) goes to scan_slow(), which gives the same answers and messages as a
 * character-by-character walk. */
static int scan_units(hessian_decoder *d, size_t pos, size_t units, size_t *bytes, bool *rewrite)
{
    const uint8_t *b = d->body;
    const size_t len = d->len;
    size_t p = pos;
    while (units > 0) {
        size_t left = len - p;
        size_t run = ascii_prefix(b + p, units < left ? units : left, left);
        p += run;
        units -= run;
        left -= run;
        if (units == 0)
            break;
        if (left == 0)
            return truncated(d, p, "string character", 1);
        uint8_t c = b[p]; /* >= 0x80 */
        if (c >= 0xc0 && c <= 0xdf && left >= 2 && (b[p + 1] & 0xc0) == 0x80) {
            if (c < 0xc2)
                *rewrite = true; /* overlong: Java's C0 80 for NUL */
            p += 2;
            units--;
            continue;
        }
        if (c >= 0xe0 && c <= 0xef && left >= 3 && (b[p + 1] & 0xc0) == 0x80 && (b[p + 2] & 0xc0) == 0x80) {
            if ((c == 0xe0 && b[p + 1] < 0xa0) || (c == 0xed && b[p + 1] >= 0xa0))
                *rewrite = true; /* overlong, or a CESU-8 surrogate half */
            p += 3;
            units--;
            continue;
        }
        size_t n, u;
        if (scan_slow(d, p, units, &n, &u, rewrite) < 0)
            return -1;
        p += n;
        units -= u;
    }
    *bytes = p - pos;
    return 0;
}

/* Appends validated UTF-8/CESU-8 as canonical UTF-8: a high surrogate
 * followed by a low one becomes one 4-byte sequence, overlong forms their
 * shortest form; a lone surrogate half is kept as its 3-byte form, as a
 * Java string would hold it. *pending holds a high surrogate waiting for its
 * partner (which may be in the next chunk). Output never exceeds input. */
static void append_cesu(uint8_t *out, size_t *olen, const uint8_t *src, size_t n, uint32_t *pending)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len;
        hmtp_utf8_next(src + i, n - i, &cp, &len); /* validated by scan_units */
        i += len;
        if (*pending && cp >= 0xdc00 && cp <= 0xdfff) {
            *olen += hmtp_utf8_put(out + *olen, 0x10000 + ((*pending - 0xd800) << 10) + (cp - 0xdc00));
            *pending = 0;
            continue;
        }
        if (*pending) {
            *olen += hmtp_utf8_put(out + *olen, *pending);
            *pending = 0;
        }
        if (cp >= 0xd800 && cp <= 0xdbff)
            *pending = cp;
        else
            *olen += hmtp_utf8_put(out + *olen, cp);
    }
}

static void flush_pending(uint8_t *out, size_t *olen, uint32_t *pending)
{
    if (*pending) {
        *olen += hmtp_utf8_put(out + *olen, *pending);
        *pending = 0;
    }
}

typedef struct string_result {
    const char *data;
    size_t len;
    size_t utf16_len;
    uint32_t chunks;
    size_t end; /* body offset after the string */
} string_result;

/* Reads a string (compact, 'S' or 'R' chunks) starting at pos. */
static int read_string(hessian_decoder *d, size_t pos, string_result *r)
{
    size_t p = pos;
    size_t total_bytes = 0, units_total = 0;
    uint32_t chunks = 0;
    bool rewrite = false;
    size_t first_data = 0, first_bytes = 0;
    /* Pass 1: validate every chunk and find the end. */
    for (;;) {
        if (!have(d, p, 1))
            return truncated(d, p, "string", 1);
        uint8_t c = d->body[p];
        size_t units, hdr;
        bool final = true;
        if (c <= 0x1f) {
            units = c;
            hdr = 1;
        } else if (c >= 0x30 && c <= 0x33) {
            if (!have(d, p, 2))
                return truncated(d, p, "string", 2);
            units = ((size_t)(c - 0x30) << 8) | d->body[p + 1];
            hdr = 2;
        } else if (c == 'S' || c == 'R') {
            if (!have(d, p, 3))
                return truncated(d, p, "string", 3);
            units = (size_t)be(d->body + p + 1, 2);
            hdr = 3;
            final = c == 'S';
        } else {
            d->failed = true;
            hmtp_fail(&d->err, HMTP_ERR_BAD_VALUE, p,
                      "string chunk expected at body offset %zu, found code 0x%02x", p, c);
            return -1;
        }
        size_t bytes;
        if (scan_units(d, p + hdr, units, &bytes, &rewrite) < 0)
            return -1;
        if (chunks == 0) {
            first_data = p + hdr;
            first_bytes = bytes;
        }
        chunks++;
        total_bytes += bytes;
        units_total += units;
        p += hdr + bytes;
        if (final)
            break;
    }
    r->end = p;
    r->chunks = chunks;
    r->utf16_len = units_total;
    if (chunks == 1 && !rewrite) {
        r->data = (const char *)d->body + first_data;
        r->len = first_bytes;
        return 0;
    }
    /* Pass 2: concatenate (and convert) into scratch. Output never exceeds
       input: a CESU-8 pair (6 bytes) becomes 4. */
    if (!scratch_reserve(d, total_bytes + 1))
        return fail(d, HMTP_ERR_NOMEM, pos, "out of memory decoding a string");
    size_t olen = 0;
    uint32_t pending = 0;
    p = pos;
    for (uint32_t k = 0; k < chunks; k++) {
        uint8_t c = d->body[p];
        size_t units, hdr;
        if (c <= 0x1f) {
            units = c;
            hdr = 1;
        } else if (c >= 0x30 && c <= 0x33) {
            units = ((size_t)(c - 0x30) << 8) | d->body[p + 1];
            hdr = 2;
        } else {
            units = (size_t)be(d->body + p + 1, 2);
            hdr = 3;
        }
        size_t bytes;
        bool ignored = false;
        scan_units(d, p + hdr, units, &bytes, &ignored); /* validated in pass 1 */
        append_cesu(d->scratch, &olen, d->body + p + hdr, bytes, &pending);
        p += hdr + bytes;
    }
    flush_pending(d->scratch, &olen, &pending);
    d->scratch[olen] = 0;
    r->data = (const char *)d->scratch;
    r->len = olen;
    return 0;
}

/* ---- binaries ---- */

/* Copies the data of `chunks` binary chunks, already checked by
 * read_binary(), that start at p. */
static void join_chunks(const uint8_t *p, uint32_t chunks, uint8_t *out)
{
    for (uint32_t k = 0; k < chunks; k++) {
        uint8_t c = p[0];
        size_t n, hdr;
        if (c >= 0x20 && c <= 0x2f) {
            n = c - 0x20u;
            hdr = 1;
        } else if (c >= 0x34 && c <= 0x37) {
            n = ((size_t)(c - 0x34) << 8) | p[1];
            hdr = 2;
        } else {
            n = (size_t)be(p + 1, 2);
            hdr = 3;
        }
        memcpy(out, p + hdr, n);
        out += n;
        p += hdr + n;
    }
}

void hessian_binary_join(const hessian_decoder *d, const hessian_event *ev, uint8_t *out)
{
    join_chunks(d->body + ev->offset, ev->v.bin.chunks, out);
}

/* join: a binary of several chunks is copied into the scratch buffer so the
 * event points to one run of bytes; without, its data is NULL and the
 * caller copies it where it wants it (the tree reader, into its arena). */
static int read_binary(hessian_decoder *d, size_t pos, hessian_event *ev, bool join)
{
    size_t p = pos, total = 0;
    uint32_t chunks = 0;
    size_t first_data = 0;
    for (;;) {
        if (!have(d, p, 1))
            return truncated(d, p, "binary", 1);
        uint8_t c = d->body[p];
        size_t n, hdr;
        bool final = true;
        if (c >= 0x20 && c <= 0x2f) {
            n = c - 0x20u;
            hdr = 1;
        } else if (c >= 0x34 && c <= 0x37) {
            if (!have(d, p, 2))
                return truncated(d, p, "binary", 2);
            n = ((size_t)(c - 0x34) << 8) | d->body[p + 1];
            hdr = 2;
        } else if (c == 'A' || c == 'B') {
            if (!have(d, p, 3))
                return truncated(d, p, "binary", 3);
            n = (size_t)be(d->body + p + 1, 2);
            hdr = 3;
            final = c == 'B';
        } else {
            d->failed = true;
            hmtp_fail(&d->err, HMTP_ERR_BAD_VALUE, p,
                      "binary chunk expected at body offset %zu, found code 0x%02x", p, c);
            return -1;
        }
        if (!have(d, p + hdr, n))
            return truncated(d, p, "binary chunk", hdr + n);
        if (chunks == 0)
            first_data = p + hdr;
        chunks++;
        total += n;
        p += hdr + n;
        if (final)
            break;
    }
    ev->length = p - pos;
    ev->v.bin.len = total;
    ev->v.bin.chunks = chunks;
    if (chunks == 1) {
        ev->v.bin.data = d->body + first_data;
        return 0;
    }
    if (!join) {
        ev->v.bin.data = NULL; /* the caller joins it: hessian_binary_join() */
        return 0;
    }
    if (!scratch_reserve(d, total + 1))
        return fail(d, HMTP_ERR_NOMEM, pos, "out of memory decoding a binary");
    join_chunks(d->body + pos, chunks, d->scratch);
    ev->v.bin.data = d->scratch;
    return 0;
}

/* ---- types and classes ---- */

/* Reads a list/map type (string or int ref) at *pos into the event. */
static int read_type(hessian_decoder *d, size_t *pos, hessian_event *ev)
{
    size_t p = *pos;
    if (!have(d, p, 1))
        return truncated(d, p, "type", 1);
    uint8_t c = d->body[p];
    if (is_string_code(c)) {
        string_result s;
        if (read_string(d, p, &s) < 0)
            return -1;
        hessian_stream *st = d->stream;
        uint32_t index = d->next_type;
        if (index >= st->limits.max_types)
            return fail(d, HMTP_ERR_LIMIT, p, "too many type names");
        if (index == st->ntypes && hessian_stream_add_type(st, s.data, s.len) < 0)
            return fail(d, HMTP_ERR_NOMEM, p, "out of memory storing a type name");
        d->next_type++;
        ev->v.container.type = st->types[index];
        ev->v.container.type_len = st->type_lens[index];
        ev->v.container.type_index = (int32_t)index;
        *pos = s.end;
        return 0;
    }
    if (is_int_code(c)) {
        int32_t ref;
        if (read_int(d, &p, &ref, "type reference") < 0)
            return -1;
        if (ref < 0)
            return fail(d, HMTP_ERR_BAD_TYPE_REF, *pos, "negative type reference");
        ev->v.container.type_index = ref;
        if ((uint32_t)ref < d->next_type) {
            ev->v.container.type = d->stream->types[ref];
            ev->v.container.type_len = d->stream->type_lens[ref];
        } /* else: defined before the capture started; left NULL */
        *pos = p;
        return 0;
    }
    d->failed = true;
    hmtp_fail(&d->err, HMTP_ERR_BAD_VALUE, p, "type at body offset %zu must be a string or int, found 0x%02x",
              p, c);
    return -1;
}

/* The index of the object header at pos (0x60-0x6f or 'O' int), or -1. */
static int64_t peek_object_index(hessian_decoder *d, size_t pos)
{
    if (!have(d, pos, 1))
        return -1;
    uint8_t c = d->body[pos];
    if (c >= 0x60 && c <= 0x6f)
        return c - 0x60;
    if (c != 'O' || !have(d, pos, 2) || !is_int_code(d->body[pos + 1]))
        return -1;
    hmtp_error saved = d->err;
    size_t p = pos + 1;
    int32_t index;
    int rc = read_int(d, &p, &index, "object class index");
    d->err = saved; /* only a peek: the real read reports problems */
    d->failed = false;
    return rc < 0 ? -1 : index;
}

/* Reads 'C' name count field* at pos. With store, copies the strings into c
 * (which the caller frees on failure). Returns the end offset, or 0 on error. */
static size_t parse_class_def(hessian_decoder *d, size_t pos, hessian_class *c, bool store)
{
    size_t p = pos + 1;
    string_result s;
    if (read_string(d, p, &s) < 0)
        return 0;
    if (store) {
        c->name = hessian_strndup(s.data, s.len);
        c->name_len = s.len;
    }
    p = s.end;
    int32_t n;
    if (read_int(d, &p, &n, "class field count") < 0)
        return 0;
    const hessian_limits *lim = &d->stream->limits;
    if (n < 0 || (uint32_t)n > lim->max_fields) {
        d->failed = true;
        hmtp_fail(&d->err, HMTP_ERR_LIMIT, pos, "class definition at body offset %zu declares %d fields (limit %u)",
                  pos, n, lim->max_fields);
        return 0;
    }
    if (store) {
        c->fields = calloc((size_t)n + 1, sizeof *c->fields);
        c->field_lens = calloc((size_t)n + 1, sizeof *c->field_lens);
        if (!c->name || !c->fields || !c->field_lens)
            return fail(d, HMTP_ERR_NOMEM, pos, "out of memory storing a class definition"), 0;
    }
    for (int32_t i = 0; i < n; i++) {
        if (read_string(d, p, &s) < 0)
            return 0;
        if (store) {
            c->fields[i] = hessian_strndup(s.data, s.len);
            if (!c->fields[i])
                return fail(d, HMTP_ERR_NOMEM, pos, "out of memory storing a class definition"), 0;
            c->field_lens[i] = s.len;
            c->nfields = (uint32_t)i + 1;
        }
        p = s.end;
    }
    return p;
}

static int read_class_def(hessian_decoder *d, size_t pos, hessian_event *ev)
{
    hessian_stream *st = d->stream;
    hessian_class c;
    memset(&c, 0, sizeof c);
    size_t end = parse_class_def(d, pos, &c, false);
    if (end == 0)
        return -1;
    uint32_t index = d->next_class;
    /* Caucho's writer puts a definition right before the first object of its
       class, so that object's header tells the definition's real index. A
       larger index than ours means the capture began after some definitions:
       take the real one and leave holes for those we never saw. */
    int64_t real = peek_object_index(d, end);
    if (real > (int64_t)index && real < (int64_t)st->limits.max_classes)
        index = (uint32_t)real;
    if (index >= st->limits.max_classes)
        return fail(d, HMTP_ERR_LIMIT, pos, "too many class definitions");
    while (st->nclasses < index) {
        hessian_class hole;
        memset(&hole, 0, sizeof hole);
        if (!hessian_stream_add_class(st, &hole))
            return fail(d, HMTP_ERR_NOMEM, pos, "out of memory storing a class definition");
    }
    const hessian_class *cls;
    if (index == st->nclasses) {
        if (parse_class_def(d, pos, &c, true) == 0) {
            hessian_class_discard(&c);
            return -1;
        }
        cls = hessian_stream_add_class(st, &c);
        if (!cls)
            return fail(d, HMTP_ERR_NOMEM, pos, "out of memory storing a class definition");
    } else {
        /* Revisiting a packet decoded before: its definition is already kept. */
        cls = st->classes[index];
    }
    d->next_class = index + 1;
    ev->kind = HESSIAN_CLASS_DEF;
    ev->length = end - pos;
    ev->v.def.cls = cls;
    ev->v.def.class_index = (int32_t)index;
    d->pos = end;
    return 1;
}

/* ---- containers ---- */

static int push(hessian_decoder *d, const hessian_event *ev, bool variable, int64_t remaining,
                const hessian_class *cls, bool unseen)
{
    const hessian_limits *lim = &d->stream->limits;
    if (d->depth >= lim->max_depth) {
        d->failed = true;
        hmtp_fail(&d->err, HMTP_ERR_DEPTH, ev->offset, "nesting deeper than %u at body offset %zu",
                  lim->max_depth, ev->offset);
        return -1;
    }
    if (d->nrefs >= lim->max_refs)
        return fail(d, HMTP_ERR_LIMIT, ev->offset, "too many lists, maps and objects in one packet");
    if (d->depth == d->stack_cap) {
        /* Most packets nest a few levels: start small (one malloc per packet
           that has containers, no zeroing) and double up to the limit. */
        unsigned cap = d->stack_cap ? d->stack_cap * 2 : 8;
        if (cap > lim->max_depth)
            cap = lim->max_depth;
        hessian_container *stack = realloc(d->stack, cap * sizeof *stack);
        if (!stack)
            return fail(d, HMTP_ERR_NOMEM, ev->offset, "out of memory");
        d->stack = stack;
        d->stack_cap = cap;
    }
    hessian_container *c = &d->stack[d->depth++];
    c->kind = ev->kind;
    c->variable = variable;
    c->unseen = unseen;
    c->expect_value = false;
    c->remaining = remaining;
    c->index = 0;
    c->offset = ev->offset;
    c->cls = cls;
    d->nrefs++;
    return 0;
}

/* Gives a value event its place in the parent and advances the parent. */
static void take_slot(hessian_decoder *d, hessian_event *ev)
{
    ev->depth = d->depth;
    ev->top_index = d->top_index;
    ev->field_name = NULL;
    ev->field_name_len = 0;
    if (d->depth == 0) {
        ev->role = HESSIAN_ROLE_TOP;
        ev->index = d->top_index;
        return;
    }
    hessian_container *c = &d->stack[d->depth - 1];
    ev->index = c->index;
    switch (c->kind) {
    case HESSIAN_MAP:
        if (c->expect_value) {
            ev->role = HESSIAN_ROLE_VALUE;
            c->expect_value = false;
            c->index++;
        } else {
            ev->role = HESSIAN_ROLE_KEY;
            c->expect_value = true;
        }
        break;
    case HESSIAN_OBJECT:
        ev->role = HESSIAN_ROLE_FIELD;
        if (c->cls && c->index < c->cls->nfields) {
            ev->field_name = c->cls->fields[c->index];
            ev->field_name_len = c->cls->field_lens[c->index];
        }
        c->index++;
        if (!c->unseen)
            c->remaining--;
        break;
    default:
        ev->role = HESSIAN_ROLE_ELEMENT;
        c->index++;
        if (!c->variable)
            c->remaining--;
        break;
    }
}

/* A scalar (or ref) at depth 0 completes a top-level value. */
static void scalar_done(hessian_decoder *d)
{
    if (d->depth == 0)
        d->top_index++;
}

static int emit_end(hessian_decoder *d, hessian_event *ev, size_t len)
{
    d->depth--;
    ev->kind = HESSIAN_END;
    ev->code = len ? d->body[d->pos] : 0;
    ev->offset = d->pos;
    ev->length = len;
    ev->depth = d->depth;
    ev->role = HESSIAN_ROLE_TOP;
    ev->index = 0;
    ev->top_index = d->top_index;
    ev->field_name = NULL;
    ev->field_name_len = 0;
    d->pos += len;
    if (d->depth == 0)
        d->top_index++;
    return 1;
}

static int start_list(hessian_decoder *d, hessian_event *ev, uint8_t c)
{
    size_t p = d->pos + 1;
    bool typed = c == 0x55 || c == 'V' || (c >= 0x70 && c <= 0x77);
    bool variable = c == 0x55 || c == 0x57;
    int64_t count = -1;
    ev->kind = HESSIAN_LIST;
    ev->v.container.type = NULL;
    ev->v.container.type_len = 0;
    ev->v.container.type_index = -1;
    if (typed && read_type(d, &p, ev) < 0)
        return -1;
    if (c >= 0x70 && c <= 0x77)
        count = c - 0x70;
    else if (c >= 0x78 && c <= 0x7f)
        count = c - 0x78;
    else if (c == 'V' || c == 0x58) {
        int32_t n;
        if (read_int(d, &p, &n, "list length") < 0)
            return -1;
        if (n < 0)
            return fail(d, HMTP_ERR_BAD_VALUE, d->pos, "negative list length");
        count = n;
    }
    ev->v.container.count = count;
    ev->v.container.ref = d->nrefs;
    ev->length = p - d->pos;
    take_slot(d, ev);
    if (push(d, ev, variable, count, NULL, false) < 0)
        return -1;
    d->pos = p;
    return 1;
}

static int start_map(hessian_decoder *d, hessian_event *ev, uint8_t c)
{
    size_t p = d->pos + 1;
    ev->kind = HESSIAN_MAP;
    ev->v.container.type = NULL;
    ev->v.container.type_len = 0;
    ev->v.container.type_index = -1;
    ev->v.container.count = -1;
    if (c == 'M' && read_type(d, &p, ev) < 0)
        return -1;
    ev->v.container.ref = d->nrefs;
    ev->length = p - d->pos;
    take_slot(d, ev);
    if (push(d, ev, true, -1, NULL, false) < 0)
        return -1;
    d->pos = p;
    return 1;
}

static int start_object(hessian_decoder *d, hessian_event *ev, uint8_t c)
{
    size_t p = d->pos + 1;
    int32_t index;
    if (c == 'O') {
        if (read_int(d, &p, &index, "object class index") < 0)
            return -1;
        if (index < 0)
            return fail(d, HMTP_ERR_BAD_VALUE, d->pos, "negative object class index");
    } else {
        index = c - 0x60;
    }
    const hessian_class *cls = NULL;
    if ((uint32_t)index < d->next_class && d->stream->classes[index]->name)
        cls = d->stream->classes[index]; /* else defined before the capture began */
    ev->kind = HESSIAN_OBJECT;
    ev->v.object.cls = cls;
    ev->v.object.class_index = index;
    ev->v.object.ref = d->nrefs;
    ev->length = p - d->pos;
    take_slot(d, ev);
    if (push(d, ev, false, cls ? (int64_t)cls->nfields : -1, cls, cls == NULL) < 0)
        return -1;
    d->pos = p;
    return 1;
}

/* ---- the event loop ---- */

static int read_scalar(hessian_decoder *d, hessian_event *ev, uint8_t c, bool join)
{
    size_t p = d->pos;
    const uint8_t *b = d->body;
    size_t n = 1; /* bytes of the encoding */
    switch (c) {
    case 0x00 ... 0x1f:
    case 0x30 ... 0x33:
    case 'S':
    case 'R': {
        string_result s;
        if (read_string(d, p, &s) < 0)
            return -1;
        ev->kind = HESSIAN_STRING;
        ev->v.str.data = s.data;
        ev->v.str.len = s.len;
        ev->v.str.utf16_len = s.utf16_len;
        ev->v.str.chunks = s.chunks;
        n = s.end - p;
        break;
    }
    case 0x20 ... 0x2f:
    case 0x34 ... 0x37:
    case 'A':
    case 'B':
        ev->kind = HESSIAN_BINARY;
        if (read_binary(d, p, ev, join) < 0)
            return -1;
        n = ev->length;
        break;
    case 0x80 ... 0xd7:
    case 'I': {
        ev->kind = HESSIAN_INT;
        size_t q = p;
        if (read_int(d, &q, &ev->v.i, "int") < 0)
            return -1;
        n = q - p;
        break;
    }
    case 0xd8 ... 0xef:
        ev->kind = HESSIAN_LONG;
        ev->v.l = (int64_t)c - 0xe0;
        break;
    case 0xf0 ... 0xff:
        ev->kind = HESSIAN_LONG;
        n = 2;
        if (!have(d, p, n))
            return truncated(d, p, "long", n);
        ev->v.l = ((int64_t)c - 0xf8) * 256 + b[p + 1];
        break;
    case 0x38 ... 0x3f:
        ev->kind = HESSIAN_LONG;
        n = 3;
        if (!have(d, p, n))
            return truncated(d, p, "long", n);
        ev->v.l = ((int64_t)c - 0x3c) * 65536 + ((int64_t)b[p + 1] << 8) + b[p + 2];
        break;
    case 0x59:
        ev->kind = HESSIAN_LONG;
        n = 5;
        if (!have(d, p, n))
            return truncated(d, p, "long", n);
        ev->v.l = (int32_t)(uint32_t)be(b + p + 1, 4);
        break;
    case 'L':
        ev->kind = HESSIAN_LONG;
        n = 9;
        if (!have(d, p, n))
            return truncated(d, p, "long", n);
        ev->v.l = (int64_t)be(b + p + 1, 8);
        break;
    case 'N':
        ev->kind = HESSIAN_NULL;
        break;
    case 'T':
    case 'F':
        ev->kind = HESSIAN_BOOL;
        ev->v.b = c == 'T';
        break;
    case 0x5b:
    case 0x5c:
        ev->kind = HESSIAN_DOUBLE;
        ev->v.d = c == 0x5b ? 0.0 : 1.0;
        break;
    case 0x5d:
        ev->kind = HESSIAN_DOUBLE;
        n = 2;
        if (!have(d, p, n))
            return truncated(d, p, "double", n);
        ev->v.d = (int8_t)b[p + 1];
        break;
    case 0x5e:
        ev->kind = HESSIAN_DOUBLE;
        n = 3;
        if (!have(d, p, n))
            return truncated(d, p, "double", n);
        ev->v.d = (int16_t)(uint16_t)be(b + p + 1, 2);
        break;
    case 0x5f:
        ev->kind = HESSIAN_DOUBLE;
        n = 5;
        if (!have(d, p, n))
            return truncated(d, p, "double", n);
        /* Java evaluates 0.001 * mills in double precision; so do we. */
        ev->v.d = 0.001 * (double)(int32_t)(uint32_t)be(b + p + 1, 4);
        break;
    case 'D': {
        ev->kind = HESSIAN_DOUBLE;
        n = 9;
        if (!have(d, p, n))
            return truncated(d, p, "double", n);
        uint64_t bits = be(b + p + 1, 8);
        memcpy(&ev->v.d, &bits, sizeof bits);
        break;
    }
    case 0x4a:
        ev->kind = HESSIAN_DATE;
        n = 9;
        if (!have(d, p, n))
            return truncated(d, p, "date", n);
        ev->v.date_ms = (int64_t)be(b + p + 1, 8);
        break;
    case 0x4b:
        ev->kind = HESSIAN_DATE;
        n = 5;
        if (!have(d, p, n))
            return truncated(d, p, "date", n);
        ev->v.date_ms = (int64_t)(int32_t)(uint32_t)be(b + p + 1, 4) * 60000;
        break;
    case 'Q': {
        ev->kind = HESSIAN_REF;
        size_t q = p + 1;
        int32_t ref;
        if (read_int(d, &q, &ref, "ref") < 0)
            return -1;
        if (ref < 0 || (uint32_t)ref >= d->nrefs) {
            d->failed = true;
            hmtp_fail(&d->err, HMTP_ERR_BAD_REF, p,
                      "ref %d at body offset %zu points past the %u lists, maps and objects seen so far", ref,
                      p, d->nrefs);
            return -1;
        }
        ev->v.ref = (uint32_t)ref;
        n = q - p;
        break;
    }
    default:
        d->failed = true;
        hmtp_fail(&d->err, HMTP_ERR_BAD_CODE, p, "unused code 0x%02x at body offset %zu", c, p);
        return -1;
    }
    ev->length = n;
    take_slot(d, ev);
    d->pos = p + n;
    scalar_done(d);
    return 1;
}

/* In line in both readers below, so each has its own copy with join fixed. */
static inline __attribute__((always_inline)) int next_event(hessian_decoder *d, hessian_event *ev, bool join)
{
    if (d->failed)
        return -1;
    /* A copy of a zero event: plain vector stores, where memset of this
       size becomes `rep stos`, whose start-up costs more than the stores. */
    static const hessian_event zero_event;
    memcpy(ev, &zero_event, sizeof *ev);
    hessian_container *top = d->depth ? &d->stack[d->depth - 1] : NULL;
    if (top && !top->variable && !top->unseen && top->remaining <= 0)
        return emit_end(d, ev, 0);
    if (d->pos >= d->len) {
        if (!top)
            return 0;
        if (top->unseen)
            return emit_end(d, ev, 0);
        d->failed = true;
        hmtp_fail(&d->err, HMTP_ERR_TRUNCATED, d->len, "body ends inside the %s started at body offset %zu",
                  hessian_kind_name(top->kind), top->offset);
        return -1;
    }
    uint8_t c = d->body[d->pos];
    ev->code = c;
    ev->offset = d->pos;
    /* One switch on the code byte (a jump table) rather than a chain of
       tests: the code is different from one event to the next, and each
       test of a chain is a branch to mispredict. */
    switch (c) {
    case 'Z':
        if (top && top->unseen)
            return emit_end(d, ev, 0); /* the 'Z' closes the parent */
        if (!top || !top->variable)
            return fail(d, HMTP_ERR_UNEXPECTED_END, d->pos, "'Z' with no open list or map");
        if (top->kind == HESSIAN_MAP && top->expect_value)
            return fail(d, HMTP_ERR_UNEXPECTED_END, d->pos, "map ends after a key with no value");
        return emit_end(d, ev, 1);
    case 'C':
        ev->depth = d->depth;
        ev->top_index = d->top_index;
        return read_class_def(d, d->pos, ev);
    case 0x55:
    case 'V':
    case 0x57:
    case 0x58:
    case 0x70 ... 0x7f: return start_list(d, ev, c);
    case 'H':
    case 'M': return start_map(d, ev, c);
    case 'O':
    case 0x60 ... 0x6f: return start_object(d, ev, c);
    default: return read_scalar(d, ev, c, join);
    }
}

int hessian_next(hessian_decoder *d, hessian_event *ev)
{
    return next_event(d, ev, true);
}

int hessian_next_unjoined(hessian_decoder *d, hessian_event *ev)
{
    return next_event(d, ev, false);
}

int hessian_skip_value(hessian_decoder *d, const hessian_event *start)
{
    if (start->kind != HESSIAN_LIST && start->kind != HESSIAN_MAP && start->kind != HESSIAN_OBJECT)
        return 1;
    hessian_event ev;
    for (;;) {
        int rc = hessian_next(d, &ev);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return fail(d, HMTP_ERR_TRUNCATED, d->len, "body ends inside a container");
        if (ev.kind == HESSIAN_END && ev.depth == start->depth)
            return 1;
    }
}
