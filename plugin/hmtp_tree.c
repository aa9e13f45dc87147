/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Builds the payload tree from the decoded item list. Containers get a
 * subtree whose label grows a one-line summary as their children arrive, so
 * a collapsed object reads `example.NewsItem { title: "…", score: 0.5 }`. */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <epan/packet.h>
#include <epan/strutil.h>

#include "hmtp.h"
#include "jid.h"
#include "hmtp_plugin.h"
#include "hmtp_tree.h"

#define SUMMARY_BUDGET 160 /* label characters spent on children before "…" */
#define SHORT_STRING 40    /* characters of a string shown in a parent's summary */

typedef struct level {
    proto_tree *tree;  /* where children go */
    proto_item *item;  /* the container's own item (NULL for a top-level wrapper) */
    hessian_kind kind; /* LIST, MAP, OBJECT; or END for a top-level wrapper */
    unsigned children;
    size_t spent;      /* summary characters appended so far */
    bool elided;
} level;

typedef struct walk {
    tvbuff_t *tvb;
    packet_info *pinfo;
    proto_tree *packet_tree;
    proto_tree *error_tree; /* the error wrapper of an error packet, for hmtp.error.* */
    hmtp_field top_field;
    int32_t type;
    bool has_type;
    bool bare; /* values without an HMTP header (hmtp_tree_add_values) */
    bool labels; /* the tree is shown: items need their text, containers their summaries */
    level stack[HESSIAN_DEPTH_CAP + 2];
    unsigned depth; /* stack[0] is the top-level wrapper of the current top value */
} walk;

const char *hmtp_jid_display(wmem_allocator_t *pool, const char *jid)
{
    if (!jid)
        return "null";
    /* printable ASCII without a backslash is shown as it is: no escaped
       copy (every JID in practice, two in every packet's summary) */
    size_t len = strlen(jid);
    if (hmtp_text_printable_ascii(jid, len) && !memchr(jid, '\\', len))
        return jid;
    return hmtp_format_text(pool, jid, len);
}

static const char *date_text(wmem_allocator_t *pool, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    int64_t frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    struct tm tm;
    if (!gmtime_r(&secs, &tm))
        return wmem_strdup_printf(pool, "%" PRId64 " ms", ms);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return wmem_strdup_printf(pool, "%s.%03d UTC", buf, (int)frac);
}

static const char *double_text(wmem_allocator_t *pool, double d)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_dtostr(buf, sizeof buf, d);
    /* Keep doubles visibly apart from ints, as the JSON output does. */
    if (!strpbrk(buf, ".eEnN"))
        g_strlcat(buf, ".0", sizeof buf);
    return wmem_strdup(pool, buf);
}

/* Short text of a value for a parent's summary and for its own label. */
static const char *value_text(wmem_allocator_t *pool, const hmtp_item *it, bool shorten)
{
    switch (it->kind) {
    case HESSIAN_NULL:
        return "null";
    case HESSIAN_BOOL:
        return it->v.b ? "true" : "false";
    case HESSIAN_INT:
        return wmem_strdup_printf(pool, "%" PRId32, it->v.i);
    case HESSIAN_LONG:
        return wmem_strdup_printf(pool, "%" PRId64, it->v.l);
    case HESSIAN_DOUBLE:
        return double_text(pool, it->v.d);
    case HESSIAN_DATE:
        return date_text(pool, it->v.date_ms);
    case HESSIAN_STRING: {
        size_t len = it->v.str.len;
        bool cut = shorten && len > SHORT_STRING;
        if (cut) {
            len = SHORT_STRING;
            while (len > 0 && ((guchar)it->v.str.data[len] & 0xC0) == 0x80)
                len--; /* never cut inside a UTF-8 sequence */
        }
        return wmem_strdup_printf(pool, "\"%s%s\"", hmtp_format_text(pool, it->v.str.data, len),
                                  cut ? "…" : "");
    }
    case HESSIAN_BINARY:
        return wmem_strdup_printf(pool, "binary[%zu]", it->v.bin.len);
    case HESSIAN_REF:
        return wmem_strdup_printf(pool, "ref #%" PRIu32, it->v.ref);
    case HESSIAN_LIST:
        return "[…]";
    case HESSIAN_MAP:
    case HESSIAN_OBJECT:
        return "{…}";
    case HESSIAN_END:
    case HESSIAN_CLASS_DEF:
        break;
    }
    return "";
}

/* The name a value has in its parent: "title: ", "[2]: ", "" at top level. */
static const char *role_label(wmem_allocator_t *pool, const hmtp_item *it)
{
    switch (it->role) {
    case HESSIAN_ROLE_FIELD:
        if (it->field_name)
            return wmem_strdup_printf(pool, "%s: ", hmtp_format_text(pool, it->field_name,
                                                                 strlen(it->field_name)));
        return wmem_strdup_printf(pool, "field[%" PRIu32 "]: ", it->index);
    case HESSIAN_ROLE_ELEMENT:
        return wmem_strdup_printf(pool, "[%" PRIu32 "]: ", it->index);
    case HESSIAN_ROLE_KEY:
        return wmem_strdup_printf(pool, "key[%" PRIu32 "]: ", it->index);
    case HESSIAN_ROLE_VALUE:
        return wmem_strdup_printf(pool, "value[%" PRIu32 "]: ", it->index);
    case HESSIAN_ROLE_TOP:
        break;
    }
    return "";
}

/* Counts a container's child and grows its one-line summary with it. */
static void summarise_child(walk *w, level *parent, const hmtp_item *it)
{
    if (!parent->item)
        return;
    /* every child counts, also those past the summary's budget */
    unsigned n = parent->children++;
    if (!w->labels || parent->elided)
        return;
    wmem_allocator_t *pool = w->pinfo->pool;
    if (parent->kind == HESSIAN_END) {
        /* a top-level wrapper names its single value: "Value: example.NewsItem" */
        if (n > 0)
            return;
        if (it->kind == HESSIAN_OBJECT)
            proto_item_append_text(parent->item, ": %s",
                                   it->v.object.cls ? hmtp_format_text(pool, it->v.object.cls,
                                                                  strlen(it->v.object.cls))
                                                    : "object of an uncaptured class");
        else if (it->kind == HESSIAN_LIST || it->kind == HESSIAN_MAP)
            proto_item_append_text(parent->item, ": %s", it->kind == HESSIAN_LIST ? "list" : "map");
        else
            proto_item_append_text(parent->item, ": %s", value_text(pool, it, true));
        return;
    }
    const char *open = parent->kind == HESSIAN_LIST ? " [ " : " { ";
    const char *sep = n == 0 ? open : ", ";
    const char *name = "";
    if (it->role == HESSIAN_ROLE_FIELD)
        name = it->field_name ? wmem_strdup_printf(pool, "%s: ", it->field_name) : "";
    if (it->role == HESSIAN_ROLE_VALUE)
        sep = ": "; /* a map entry reads "key: value" */
    const char *text = wmem_strdup_printf(pool, "%s%s%s", sep, name, value_text(pool, it, true));
    size_t len = strlen(text);
    if (parent->spent + len > SUMMARY_BUDGET) {
        proto_item_append_text(parent->item, "%s…", n == 0 ? open : ", ");
        parent->elided = true;
    } else {
        proto_item_append_text(parent->item, "%s", text);
        parent->spent += len;
    }
}

static proto_item *add_scalar(walk *w, proto_tree *tree, const hmtp_item *it, const char *label)
{
    tvbuff_t *tvb = w->tvb;
    int off = (int)it->offset, len = (int)it->length;
    wmem_allocator_t *pool = w->pinfo->pool;
    const char *text = w->labels ? value_text(pool, it, false) : "";
    switch (it->kind) {
    case HESSIAN_NULL:
        return proto_tree_add_none_format(tree, hf_hessian_null, tvb, off, len, "%snull", label);
    case HESSIAN_BOOL:
        return proto_tree_add_boolean_format(tree, hf_hessian_bool, tvb, off, len, it->v.b, "%s%s (bool)",
                                             label, text);
    case HESSIAN_INT:
        return proto_tree_add_int_format(tree, hf_hessian_int, tvb, off, len, it->v.i, "%s%s (int)", label, text);
    case HESSIAN_LONG:
        return proto_tree_add_int64_format(tree, hf_hessian_long, tvb, off, len, it->v.l, "%s%s (long)", label,
                                           text);
    case HESSIAN_DOUBLE:
        return proto_tree_add_double_format(tree, hf_hessian_double, tvb, off, len, it->v.d, "%s%s (double)",
                                            label, text);
    case HESSIAN_DATE: {
        nstime_t t;
        t.secs = (time_t)(it->v.date_ms / 1000);
        t.nsecs = (int)((it->v.date_ms % 1000) * 1000000);
        if (t.nsecs < 0) {
            t.secs -= 1;
            t.nsecs += 1000000000;
        }
        return proto_tree_add_time_format(tree, hf_hessian_date, tvb, off, len, &t, "%s%s (date)", label, text);
    }
    case HESSIAN_STRING: {
        proto_item *pi = proto_tree_add_string_format(tree, hf_hessian_string, tvb, off, len, it->v.str.data,
                                                      "%s%s (string, %zu chars%s)", label, text,
                                                      it->v.str.utf16_len, it->v.str.chunks > 1 ? ", chunked" : "");
        return pi;
    }
    case HESSIAN_BINARY: {
        /* the value is the decoded bytes, the highlight the whole encoding */
        proto_item *pi = proto_tree_add_bytes_with_length(tree, hf_hessian_binary, tvb, off, len, it->v.bin.data,
                                                          (gint)it->v.bin.len);
        proto_item_set_text(pi, "%sbinary (%zu bytes%s)", label, it->v.bin.len,
                            it->v.bin.chunks > 1 ? ", chunked" : "");
        return pi;
    }
    case HESSIAN_REF:
        return proto_tree_add_uint_format(tree, hf_hessian_ref, tvb, off, len, it->v.ref,
                                          "%sref #%" PRIu32 " (the %" PRIu32 "th container of this packet)",
                                          label, it->v.ref, it->v.ref);
    default:
        return NULL;
    }
}

static void add_class_def(walk *w, proto_tree *tree, const hmtp_item *it)
{
    tvbuff_t *tvb = w->tvb;
    int off = (int)it->offset, len = (int)it->length;
    const char *name = it->v.def.name ? it->v.def.name : "?";
    proto_item *pi = proto_tree_add_none_format(tree, hf_hessian_class_def, tvb, off, len,
                                                "Class definition #%" PRId32 ": %s (%" PRIu32 " fields)",
                                                it->v.def.class_index, name, it->v.def.nfields);
    proto_tree *sub = proto_item_add_subtree(pi, ett_hessian_class_def);
    proto_tree_add_string(sub, hf_hessian_class_def_name, tvb, off, len, name);
    proto_item_set_generated(proto_tree_add_int(sub, hf_hessian_class_index, tvb, off, len,
                                                it->v.def.class_index));
    for (uint32_t i = 0; i < it->v.def.nfields && it->v.def.fields; i++)
        proto_tree_add_string(sub, hf_hessian_class_def_field, tvb, off, len, it->v.def.fields[i]);
}

static void open_container(walk *w, proto_tree *tree, const hmtp_item *it, const char *label)
{
    tvbuff_t *tvb = w->tvb;
    wmem_allocator_t *pool = w->pinfo->pool;
    int off = (int)it->offset, hdr = (int)it->length;
    proto_item *pi = NULL;
    proto_tree *sub;
    if (it->kind == HESSIAN_OBJECT) {
        const char *cls = !w->labels ? ""
                          : it->v.object.cls
                              ? hmtp_format_text(pool, it->v.object.cls, strlen(it->v.object.cls))
                              : wmem_strdup_printf(pool, "class #%" PRId32 " (definition not captured)",
                                                   it->v.object.class_index);
        pi = proto_tree_add_none_format(tree, hf_hessian_object, tvb, off, hdr, "%s%s", label, cls);
        sub = proto_item_add_subtree(pi, ett_hessian_value);
        if (it->v.object.cls)
            proto_item_set_generated(proto_tree_add_string(sub, hf_hmtp_class, tvb, off, hdr, it->v.object.cls));
        proto_item_set_generated(proto_tree_add_int(sub, hf_hessian_class_index, tvb, off, hdr,
                                                    it->v.object.class_index));
    } else {
        bool list = it->kind == HESSIAN_LIST;
        const char *type = !w->labels ? ""
                           : it->v.container.type
                               ? hmtp_format_text(pool, it->v.container.type,
                                             strlen(it->v.container.type))
                               : (it->v.container.type_index >= 0
                                      ? wmem_strdup_printf(pool, "type #%" PRId32 " (not captured)",
                                                           it->v.container.type_index)
                                      : (list ? "list" : "map"));
        pi = proto_tree_add_none_format(tree, list ? hf_hessian_list : hf_hessian_map, tvb, off, hdr, "%s%s",
                                        label, type);
        sub = proto_item_add_subtree(pi, ett_hessian_value);
        if (it->v.container.type)
            proto_tree_add_string(sub, hf_hessian_type, tvb, off, hdr, it->v.container.type);
    }
    if (w->depth + 1 < array_length(w->stack)) {
        level *l = &w->stack[++w->depth];
        memset(l, 0, sizeof *l);
        l->tree = sub;
        l->item = pi;
        l->kind = it->kind;
    }
}

static void close_container(walk *w, const hmtp_item *it)
{
    if (w->depth == 0)
        return;
    level *l = &w->stack[w->depth--];
    if (!l->item)
        return;
    proto_item_set_end(l->item, w->tvb, (int)(it->offset + it->length));
    if (!w->labels) {
        proto_tree_add_uint(l->tree, hf_hessian_count, w->tvb, (int)it->offset, (int)it->length,
                            l->kind == HESSIAN_MAP ? l->children / 2 : l->children);
        return;
    }
    const char *unit = l->kind == HESSIAN_LIST ? "items" : l->kind == HESSIAN_MAP ? "entries" : "fields";
    if (l->children)
        proto_item_append_text(l->item, l->kind == HESSIAN_LIST ? " ]" : " }");
    else
        proto_item_append_text(l->item, l->kind == HESSIAN_LIST ? " [ ]" : " { }");
    proto_item_append_text(l->item, " (%u %s)", l->kind == HESSIAN_MAP ? l->children / 2 : l->children, unit);
    proto_tree_add_uint(l->tree, hf_hessian_count, w->tvb, (int)it->offset, (int)it->length,
                        l->kind == HESSIAN_MAP ? l->children / 2 : l->children);
}

/* hmtp.error.type/group/text next to the BamError field that carries them. */
static void add_error_field(walk *w, const hmtp_item *it)
{
    if (!w->error_tree || it->depth != 1 || it->kind != HESSIAN_STRING || !it->field_name)
        return;
    int hf = strcmp(it->field_name, "_type") == 0    ? hf_hmtp_error_type
             : strcmp(it->field_name, "_group") == 0 ? hf_hmtp_error_group
             : strcmp(it->field_name, "_text") == 0  ? hf_hmtp_error_text
                                                      : -1;
    if (hf >= 0)
        proto_item_set_generated(proto_tree_add_string(w->error_tree, hf, w->tvb, (int)it->offset,
                                                       (int)it->length, it->v.str.data));
}

static void add_jid(walk *w, const hmtp_item *it, bool to)
{
    int hf = to ? hf_hmtp_to : hf_hmtp_from;
    int off = (int)it->offset, len = (int)it->length;
    if (it->kind == HESSIAN_NULL) {
        proto_tree_add_string_format_value(w->packet_tree, hf, w->tvb, off, len, "", "null");
        return;
    }
    if (it->kind != HESSIAN_STRING) {
        proto_tree_add_string_format_value(w->packet_tree, hf, w->tvb, off, len, "",
                                           "not a JID (%s)", hessian_kind_name(it->kind));
        return;
    }
    proto_item *pi = proto_tree_add_string(w->packet_tree, hf, w->tvb, off, len, it->v.str.data);
    int hf_user = to ? hf_hmtp_to_user : hf_hmtp_from_user;
    int hf_domain = to ? hf_hmtp_to_domain : hf_hmtp_from_domain;
    int hf_resource = to ? hf_hmtp_to_resource : hf_hmtp_from_resource;
    /* a tree nobody sees needs the parts only when a filter names them */
    if (!w->labels && !proto_field_is_referenced(w->packet_tree, hf_user) &&
        !proto_field_is_referenced(w->packet_tree, hf_domain) &&
        !proto_field_is_referenced(w->packet_tree, hf_resource))
        return;
    hmtp_jid jid;
    if (!hmtp_jid_parse(it->v.str.data, it->v.str.len, &jid))
        return;
    proto_tree *sub = proto_item_add_subtree(pi, ett_hmtp_jid);
    wmem_allocator_t *pool = w->pinfo->pool;
    if (jid.user)
        proto_item_set_generated(proto_tree_add_string(sub, hf_user, w->tvb, off, len,
                                                       wmem_strndup(pool, jid.user, jid.user_len)));
    proto_item_set_generated(proto_tree_add_string(sub, hf_domain, w->tvb, off, len,
                                                   wmem_strndup(pool, jid.domain, jid.domain_len)));
    if (jid.resource)
        proto_item_set_generated(proto_tree_add_string(sub, hf_resource, w->tvb, off, len,
                                                       wmem_strndup(pool, jid.resource, jid.resource_len)));
}

/* A top-level event: header fields directly, values in a wrapper subtree. */
static void start_top_value(walk *w, const hmtp_item *it)
{
    if (w->bare) {
        /* no header and no wrapper: the value sits right under the caller's item */
        w->top_field = HMTP_FIELD_VALUE;
        memset(&w->stack[0], 0, sizeof w->stack[0]);
        w->stack[0].kind = HESSIAN_END;
        w->stack[0].tree = w->packet_tree;
        w->depth = 0;
        return;
    }
    w->top_field = it->top_index == 0 ? HMTP_FIELD_TYPE
                                      : (w->has_type ? hmtp_field_at(w->type, it->top_index)
                                                     : (it->top_index < 3 ? hmtp_field_at(-1, it->top_index)
                                                                          : HMTP_FIELD_EXTRA));
    memset(&w->stack[0], 0, sizeof w->stack[0]);
    w->stack[0].kind = HESSIAN_END;
    w->stack[0].tree = w->packet_tree;
    w->depth = 0;
    int hf = w->top_field == HMTP_FIELD_VALUE ? hf_hmtp_value
             : w->top_field == HMTP_FIELD_ERROR ? hf_hmtp_error
             : w->top_field == HMTP_FIELD_EXTRA ? hf_hmtp_extra
                                                : -1;
    if (hf < 0)
        return;
    proto_item *wrapper = proto_tree_add_item(w->packet_tree, hf, w->tvb, (int)it->offset, (int)it->length, ENC_NA);
    w->stack[0].tree = proto_item_add_subtree(wrapper, hf == hf_hmtp_error ? ett_hmtp_error : ett_hmtp_value);
    w->stack[0].item = wrapper;
    w->stack[0].kind = HESSIAN_END; /* marks a wrapper, see summarise_child */
    if (hf == hf_hmtp_error)
        w->error_tree = w->stack[0].tree;
}

static void add_header_value(walk *w, const hmtp_item *it)
{
    int off = (int)it->offset, len = (int)it->length;
    switch (w->top_field) {
    case HMTP_FIELD_TYPE:
        if (it->kind == HESSIAN_INT) {
            w->has_type = true;
            w->type = it->v.i;
            proto_tree_add_int(w->packet_tree, hf_hmtp_type, w->tvb, off, len, it->v.i);
        } else {
            add_scalar(w, w->packet_tree, it, "Type (not an int): ");
        }
        break;
    case HMTP_FIELD_TO:
    case HMTP_FIELD_FROM:
        add_jid(w, it, w->top_field == HMTP_FIELD_TO);
        break;
    case HMTP_FIELD_ID:
        if (it->kind == HESSIAN_LONG || it->kind == HESSIAN_INT)
            proto_tree_add_int64(w->packet_tree, hf_hmtp_id, w->tvb, off, len,
                                 it->kind == HESSIAN_LONG ? it->v.l : it->v.i);
        else
            add_scalar(w, w->packet_tree, it, "Id (not a long): ");
        break;
    default:
        break;
    }
}

static bool is_header(hmtp_field f)
{
    return f == HMTP_FIELD_TYPE || f == HMTP_FIELD_TO || f == HMTP_FIELD_FROM || f == HMTP_FIELD_ID;
}

static void add_item(walk *w, const hmtp_item *it)
{
    if (it->kind == HESSIAN_END) {
        close_container(w, it);
        if (it->depth == 0 && w->stack[0].item)
            proto_item_set_end(w->stack[0].item, w->tvb, (int)(it->offset + it->length));
        return;
    }
    level *parent = &w->stack[w->depth];
    if (it->kind == HESSIAN_CLASS_DEF) {
        add_class_def(w, parent->tree, it);
        return;
    }
    if (it->depth == 0 && is_header(w->top_field)) {
        add_header_value(w, it);
        return;
    }
    const char *label = w->labels ? role_label(w->pinfo->pool, it) : "";
    summarise_child(w, parent, it);
    if (it->kind == HESSIAN_LIST || it->kind == HESSIAN_MAP || it->kind == HESSIAN_OBJECT) {
        open_container(w, parent->tree, it, label);
    } else {
        proto_item *pi = add_scalar(w, parent->tree, it, label);
        if (it->role == HESSIAN_ROLE_FIELD && it->field_name)
            proto_item_set_hidden(proto_tree_add_string(parent->tree, hf_hessian_field_name, w->tvb,
                                                        (int)it->offset, (int)it->length, it->field_name));
        if (w->top_field == HMTP_FIELD_ERROR)
            add_error_field(w, it);
        (void)pi;
    }
    if (it->depth == 0 && w->stack[0].item && w->depth == 0)
        proto_item_set_end(w->stack[0].item, w->tvb, (int)(it->offset + it->length));
}

static void add_all(tvbuff_t *body_tvb, packet_info *pinfo, proto_tree *tree, const hmtp_decoded *dec, bool bare)
{
    if (!tree)
        return;
    /* A tree nobody sees (a display filter, -T fields) needs only the items
     * the filter or the fields refer to, and none of their text. */
    bool labels = PTREE_DATA(tree)->visible;
    if (!labels && !proto_field_is_referenced(tree, proto_hessian) && !proto_field_is_referenced(tree, proto_hmtp))
        return;
    /* Only the fields before the stack are zeroed: a level is cleared when
       it is entered, and zeroing all HESSIAN_DEPTH_CAP of them (10 KB) was
       most of this walk's instructions under a filter. */
    walk *w = wmem_new(pinfo->pool, walk);
    memset(w, 0, offsetof(walk, stack));
    memset(&w->stack[0], 0, sizeof w->stack[0]);
    w->labels = labels;
    w->bare = bare;
    w->tvb = body_tvb;
    w->pinfo = pinfo;
    w->packet_tree = tree;
    w->stack[0].tree = tree;
    uint32_t current_top = UINT32_MAX;
    for (unsigned i = 0; i < dec->nitems; i++) {
        const hmtp_item *it = &dec->items[i];
        if (it->depth == 0 && it->top_index != current_top && it->kind != HESSIAN_END) {
            current_top = it->top_index;
            start_top_value(w, it);
        }
        add_item(w, it);
    }
}

void hmtp_tree_add_body(tvbuff_t *body_tvb, packet_info *pinfo, proto_tree *tree, const hmtp_decoded *dec)
{
    add_all(body_tvb, pinfo, tree, dec, false);
}

void hmtp_tree_add_values(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const hmtp_decoded *dec)
{
    add_all(tvb, pinfo, tree, dec, true);
}
