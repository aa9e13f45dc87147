/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reads an hmtp-replay JSON report with Wireshark's own JSON tokenizer
 * (wsutil/wsjson.h), so the plugin needs no JSON library of its own, and
 * keeps frame number -> verdict for the open capture file. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/expert.h>
#include <epan/proto_data.h>
#include <wsutil/wsjson.h>

#include "hmtp_plugin.h"
#include "hmtp_replay_report.h"

#define KEY_REPLAY_MARKED 0x7fff0010u

static const char *pref_report = "";

typedef struct {
    const char *result; /* static: matched / different / missing / reordered */
    GPtrArray *diffs;   /* gchar *: one line per difference of this frame */
} verdict;

static struct {
    bool loaded;          /* read (or failed) for this capture file */
    GHashTable *frames;   /* frame number -> verdict * */
    gchar *problem;       /* why the report is not used, or NULL */
    guint32 problem_frame; /* the frame it is shown on (0: not yet) */
} rep;

static void verdict_free(gpointer p)
{
    verdict *v = p;
    if (v->diffs)
        g_ptr_array_free(v->diffs, TRUE);
    g_free(v);
}

/* ---- JSON tokens (jsmn, as wsjson hands them out) ---- */

static jsmntok_t *toks_end; /* one past the last token of the report being read */

/* The token after t's whole subtree: the first one that starts after t ends
 * (a loop, not recursion: a report nested 100000 deep must not overflow the
 * stack). */
static jsmntok_t *tok_next(jsmntok_t *t)
{
    jsmntok_t *c = t + 1;
    while (c < toks_end && c->start < t->end)
        c++;
    return c;
}

/* The value of member name in object obj, or NULL. */
static jsmntok_t *tok_member(const char *buf, jsmntok_t *obj, const char *name)
{
    if (!obj || obj->type != JSMN_OBJECT)
        return NULL;
    jsmntok_t *c = obj + 1;
    size_t len = strlen(name);
    for (int i = 0; i < obj->size && c + 1 < toks_end; i++) {
        if (c->type == JSMN_STRING && (size_t)(c->end - c->start) == len && !memcmp(buf + c->start, name, len))
            return c + 1;
        c = tok_next(c + 1);
    }
    return NULL;
}

/* A copy of the token's text: strings unescaped, anything else as written. */
static gchar *tok_text(const char *buf, jsmntok_t *t)
{
    gchar *s = g_strndup(buf + t->start, (gsize)(t->end - t->start));
    if (t->type == JSMN_STRING && !json_decode_string_inplace(s)) {
        g_free(s);
        return NULL;
    }
    return s;
}

/* A value of expected/actual as the diff line shows it: JSON as written
 * (strings keep their quotes), "(absent)" for {"$absent":true}. */
static gchar *tok_value(const char *buf, jsmntok_t *t)
{
    if (!t)
        return g_strdup("(none)");
    if (t->type == JSMN_OBJECT && tok_member(buf, t, "$absent"))
        return g_strdup("(absent)");
    /* jsmn's string token spans the text between the quotes */
    if (t->type == JSMN_STRING)
        return g_strdup_printf("\"%.*s\"", t->end - t->start, buf + t->start);
    return g_strndup(buf + t->start, (gsize)(t->end - t->start));
}

static bool tok_uint(const char *buf, jsmntok_t *t, guint32 *out)
{
    if (!t || t->type != JSMN_PRIMITIVE)
        return false;
    gchar *s = tok_text(buf, t);
    gchar *end = NULL;
    guint64 v = g_ascii_strtoull(s, &end, 10);
    bool ok = end && end != s && !*end && v > 0 && v <= G_MAXUINT32;
    g_free(s);
    *out = (guint32)v;
    return ok;
}

static verdict *frame_verdict(guint32 frame)
{
    verdict *v = g_hash_table_lookup(rep.frames, GUINT_TO_POINTER(frame));
    if (!v) {
        v = g_new0(verdict, 1);
        v->result = "matched";
        g_hash_table_insert(rep.frames, GUINT_TO_POINTER(frame), v);
    }
    return v;
}

/* One entry of a session's differences list, on the recorded reply frame it
 * is about (an unexpected reply has none in the capture: not shown). */
static void add_difference(const char *buf, jsmntok_t *d)
{
    guint32 frame;
    gchar *kind = tok_member(buf, d, "kind") ? tok_text(buf, tok_member(buf, d, "kind")) : NULL;
    if (!kind || !tok_uint(buf, tok_member(buf, d, "frame"), &frame) || !strcmp(kind, "unexpected")) {
        g_free(kind);
        return;
    }
    jsmntok_t *pt = tok_member(buf, d, "path");
    gchar *path = pt && pt->type == JSMN_STRING ? tok_text(buf, pt) : NULL;
    verdict *v = frame_verdict(frame);
    const char *result = !strcmp(kind, "missing") ? "missing"
                         : path && !strcmp(path, "order") ? "reordered" : "different";
    if (!strcmp(v->result, "matched"))
        v->result = result;
    if (!v->diffs)
        v->diffs = g_ptr_array_new_with_free_func(g_free);
    gchar *line;
    if (!strcmp(result, "missing")) {
        line = g_strdup("no reply received for this recorded reply");
    } else {
        gchar *e = tok_value(buf, tok_member(buf, d, "expected"));
        gchar *a = tok_value(buf, tok_member(buf, d, "actual"));
        line = g_strdup_printf("%s expected %s, got %s", path ? path : "(packet)", e, a);
        g_free(e);
        g_free(a);
    }
    /* copies and loops of a session (--copies, --loop) repeat its differences */
    bool seen = false;
    for (guint i = 0; i < v->diffs->len && !seen; i++)
        seen = !strcmp(g_ptr_array_index(v->diffs, i), line);
    if (seen)
        g_free(line);
    else
        g_ptr_array_add(v->diffs, line);
    g_free(path);
    g_free(kind);
}

/* Whether this process has the report's capture open: a file descriptor on
 * a regular file with capture_id's name (basename) and size. Wireshark keeps
 * the capture open while it dissects, and epan offers dissectors no way to
 * learn its name, so /proc/self/fd it is (Linux). */
static bool capture_is_open(const char *name, guint64 bytes, bool *unknown)
{
    *unknown = false;
    GDir *dir = g_dir_open("/proc/self/fd", 0, NULL);
    if (!dir) {
        *unknown = true;
        return true;
    }
    bool found = false;
    const char *fd;
    while (!found && (fd = g_dir_read_name(dir))) {
        gchar *link = g_build_filename("/proc/self/fd", fd, NULL);
        gchar *target = g_file_read_link(link, NULL);
        struct stat st;
        if (target && stat(link, &st) == 0 && S_ISREG(st.st_mode) && (guint64)st.st_size == bytes) {
            gchar *base = g_path_get_basename(target);
            found = !strcmp(base, name);
            g_free(base);
        }
        g_free(target);
        g_free(link);
    }
    g_dir_close(dir);
    return found;
}

/* Reads the report named by the preference; sets rep.problem when it is
 * not used. */
static void load(void)
{
    rep.loaded = true;
    rep.frames = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, verdict_free);
    gchar *buf = NULL;
    gsize len = 0;
    GError *err = NULL;
    jsmntok_t *toks = NULL;
    if (!g_file_get_contents(pref_report, &buf, &len, &err)) {
        rep.problem = g_strdup_printf("cannot read replay report %s: %s", pref_report, err->message);
        g_error_free(err);
        return;
    }
    /* not json_validate(): it gives up beyond 1024 tokens; json_parse counts
     * them (negative: not JSON) and reads up to the first NUL, so one inside
     * the file makes it not JSON rather than silently shorter */
    int n = strlen(buf) == len ? json_parse(buf, NULL, 0) : -1;
    if (n <= 0) {
        rep.problem = g_strdup_printf("replay report %s is not JSON", pref_report);
        goto out;
    }
    toks = g_new0(jsmntok_t, n);
    toks_end = toks + n;
    if (json_parse(buf, toks, (unsigned)n) != n || toks[0].type != JSMN_OBJECT) {
        rep.problem = g_strdup_printf("replay report %s is not JSON", pref_report);
        goto out;
    }
    jsmntok_t *sessions = tok_member(buf, toks, "sessions");
    if (!sessions || sessions->type != JSMN_ARRAY) {
        rep.problem = g_strdup_printf("replay report %s has no \"sessions\" list", pref_report);
        goto out;
    }
    jsmntok_t *id = tok_member(buf, toks, "capture_id");
    jsmntok_t *name_t = tok_member(buf, id, "name");
    gchar *name = name_t && name_t->type == JSMN_STRING ? tok_text(buf, name_t) : NULL;
    jsmntok_t *bytes_t = tok_member(buf, id, "bytes");
    gchar *bytes_s = bytes_t ? tok_text(buf, bytes_t) : NULL;
    guint64 bytes = bytes_s ? g_ascii_strtoull(bytes_s, NULL, 10) : 0;
    g_free(bytes_s);
    bool unknown = false;
    if (!name) {
        rep.problem = g_strdup_printf("replay report %s has no capture_id", pref_report);
    } else if (!capture_is_open(name, bytes, &unknown)) {
        rep.problem = g_strdup_printf("replay report %s is of another capture (%s): no file of that name "
                                      "and %" G_GUINT64_FORMAT " bytes is open",
                                      pref_report, name, bytes);
    }
    g_free(name);
    if (rep.problem)
        goto out;
    jsmntok_t *s = sessions + 1;
    for (int i = 0; i < sessions->size && s < toks_end; s = tok_next(s), i++) {
        jsmntok_t *frames = tok_member(buf, s, "reply_frames");
        jsmntok_t *f = frames && frames->type == JSMN_ARRAY ? frames + 1 : NULL;
        for (int k = 0; f && k < frames->size && f < toks_end; f = tok_next(f), k++) {
            guint32 num;
            if (tok_uint(buf, f, &num))
                frame_verdict(num);
        }
        jsmntok_t *diffs = tok_member(buf, s, "differences");
        jsmntok_t *d = diffs && diffs->type == JSMN_ARRAY ? diffs + 1 : NULL;
        for (int k = 0; d && k < diffs->size && d < toks_end; d = tok_next(d), k++)
            add_difference(buf, d);
    }
    if (unknown)
        rep.problem = g_strdup_printf("replay report %s used without checking it is of this capture "
                                      "(no /proc/self/fd)", pref_report);
out:
    if (rep.problem)
        g_hash_table_remove_all(rep.frames);
    g_free(toks);
    toks_end = NULL;
    g_free(buf);
}

static void reset(void)
{
    if (rep.frames)
        g_hash_table_destroy(rep.frames);
    g_free(rep.problem);
    memset(&rep, 0, sizeof rep);
}

void hmtp_replay_report_mark(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree)
{
    if (!pref_report || !*pref_report || p_get_proto_data(pinfo->pool, pinfo, proto_hmtp, KEY_REPLAY_MARKED))
        return;
    p_add_proto_data(pinfo->pool, pinfo, proto_hmtp, KEY_REPLAY_MARKED, GUINT_TO_POINTER(1));
    if (!rep.loaded)
        load();
    if (rep.problem && (!rep.problem_frame || rep.problem_frame == pinfo->num)) {
        rep.problem_frame = pinfo->num;
        proto_item *pi = proto_tree_add_string(tree, hf_hmtp_replay_report, tvb, 0, 0, rep.problem);
        proto_item_set_generated(pi);
        expert_add_info_format(pinfo, pi, &ei_hmtp_replay_report, "%s", rep.problem);
    }
    verdict *v = rep.frames ? g_hash_table_lookup(rep.frames, GUINT_TO_POINTER(pinfo->num)) : NULL;
    if (!v)
        return;
    proto_item *pi = proto_tree_add_string(tree, hf_hmtp_replay_result, tvb, 0, 0, v->result);
    proto_item_set_generated(pi);
    for (guint i = 0; v->diffs && i < v->diffs->len; i++) {
        const char *line = g_ptr_array_index(v->diffs, i);
        proto_item *di = proto_tree_add_string(tree, hf_hmtp_replay_diff, tvb, 0, 0, line);
        proto_item_set_generated(di);
        expert_add_info_format(pinfo, di, &ei_hmtp_replay_differs, "Replay: %s", line);
    }
}

void hmtp_replay_report_register(module_t *module)
{
    prefs_register_filename_preference(module, "replay_report", "Replay report file",
                                       "A JSON report of hmtp-replay (--report-json) of this capture: each "
                                       "recorded reply it compared gets hmtp.replay.result (matched, different, "
                                       "missing, reordered) and, when it differs, hmtp.replay.diff",
                                       &pref_report, FALSE);
    register_init_routine(reset);
    register_cleanup_routine(reset);
}
