/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "preflight.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hmtp.h"
#include "jid.h"
#include "login_edit.h"
#include "plan.h"
#include "rewrite.h"
#include "shard.h"

enum { DEPENDENCY_LINES_MAX = 20 };

typedef struct judge {
    const preflight_options *o;
    const replay_capture_stats *capture;
    preflight_report *out;
    GString *needs;    /* "; "-separated: what the verdict names for the file */
    GString *passwords; /* "dave (session 0), erin (session 1)": logins without their password */
    GArray *broken;    /* unsigned: sessions with a gap */
    GArray *no_login;  /* unsigned: mid-stream sessions whose login precedes the capture */
    unsigned needing;  /* sessions that need something */
} judge;

static void add_need(judge *jd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void add_need(judge *jd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (jd->needs->len)
        g_string_append(jd->needs, "; ");
    g_string_append_vprintf(jd->needs, fmt, ap);
    va_end(ap);
}

static const char *session_name(const rec_session *s)
{
    return s->login_jid ? s->login_jid : s->login_uid ? s->login_uid : NULL;
}

/* Where the password of an encrypted login comes from, in login_edit's
 * order (it decided already that there is one). */
static const char *password_source(const engine_config *cfg, const rec_session *s)
{
    if (cfg->passwords && s->login_uid && g_hash_table_lookup(cfg->passwords, s->login_uid))
        return "the password given for its user (--login/--login-file)";
    if (cfg->login_password)
        return "--login-password";
    return "the recorded password, decrypted with --recorded-key";
}

/* The login: plain, encrypted (and whether its password is at hand), none.
 * false when the session cannot be replayed without something more. */
static bool judge_login(judge *jd, rec_session *s)
{
    const engine_config *cfg = jd->o->cfg;
    GString *t = jd->out->text;
    const char *user = s->login_uid ? s->login_uid : "?";
    if (!s->login_frame) {
        if (s->info.upgrade_seen) {
            g_string_append(t, "  login: none recorded (its packets are sent without one, as recorded)\n");
            return true;
        }
        g_string_append(t, "  login: not in the capture (it came before the capture started): the target must accept "
                           "the session's packets without one\n");
        g_array_append_val(jd->no_login, s->info.id);
        return false;
    }
    /* the replay's own decision, in the replay's words */
    login_edit le;
    login_edit_init(&le);
    rewrite_config rw;
    memset(&rw, 0, sizeof rw);
    hmtp_tool_error why = {0};
    /* the login edit reads a login it redoes: the session's packets are
       read back from the spill file for it (not for one sent as recorded:
       reading back every session of a 1 GB capture was a quarter of check) */
    bool plain = login_edit_is_plain(cfg, s);
    bool ok = plain || rec_session_acquire(s, &why);
    if (ok) {
        ok = login_edit_plan(&le, cfg, s, &rw, &why);
        if (!ok)
            g_string_append_printf(jd->out->not_replayable, "hmtp-replay: session %u not replayable: %s\n",
                                   s->info.id, why.msg);
        if (!plain)
            rec_session_release(s);
    }
    login_edit_free(&le);
    if (!s->login_encrypted) {
        g_string_append_printf(t, "  login: plain, user %s (frame %" PRIu64 ")", user, s->login_frame);
        if (!ok)
            g_string_append_printf(t, ": %s\n", why.msg);
        else if (cfg->login_encrypt)
            g_string_append(t, ": upgraded to an encrypted login for the target's key (--login-mode encrypted)\n");
        else
            g_string_append_printf(t, ": %s\n", rw.login_password ? "sent with the password given for it" : "sent as recorded");
    } else {
        g_string_append_printf(t, "  login: encrypted, user %s (frame %" PRIu64 ")", user, s->login_frame);
        if (!ok)
            g_string_append_printf(t, ": %s\n", why.msg);
        else
            g_string_append_printf(t, ": redone for the target's key with %s%s\n", password_source(cfg, s),
                                   cfg->login_plain ? " (sent as a plain string: --login-mode plain)" : "");
    }
    if (!ok)
        g_string_append_printf(jd->passwords, "%s%s (session %u)", jd->passwords->len ? ", " : "", user, s->info.id);
    return ok;
}

/* How the session was found, its size and whether it is whole. Returns
 * whether a replay would start it; *full: in full. */
static bool judge_session(judge *jd, rec_session *s, bool *full)
{
    const rec_info *in = &s->info;
    GString *t = jd->out->text;
    const char *name = session_name(s);
    g_string_append_printf(t, "session %u %s -> %s%s%s%s: ", in->id, in->client, in->server, name ? " (" : "",
                           name ? name : "", name ? ")" : "");
    if (in->upgrade_seen)
        g_string_append_printf(t, "found by its upgrade (%s, frame %" PRIu64 ")", in->path[0] ? in->path : "/",
                               in->first_frame);
    else
        g_string_append_printf(t, "found by --port %u from frame %" PRIu64 " (mid-stream: no upgrade in the capture)",
                               jd->o->port, in->first_frame);
    g_string_append_printf(t, ", %" PRIu64 " client / %" PRIu64 " server packets\n", in->packets[REPLAY_C2S],
                           in->packets[REPLAY_S2C]);
    if (!in->upgrade_seen) {
        /* core/resync: the first packet boundary of each direction */
        g_string_append_printf(t, "  mid-stream start: %" PRIu64 " client and %" PRIu64
                                  " server bytes skipped to the first packet boundary (resync)\n",
                               in->skipped[REPLAY_C2S], in->skipped[REPLAY_S2C]);
    }
    bool runs = true;
    *full = true;
    if (in->incomplete) {
        g_string_append_printf(t, "  incomplete: %s stream broken at frame %" PRIu64 ", byte offset %" PRIu64 ": %s\n",
                               replay_dir_name(in->broken_dir), in->broken_frame, in->broken_offset, in->broken_reason);
        *full = false;
        if (jd->o->cfg->replay_incomplete) {
            g_string_append_printf(t, "  replayed up to frame %" PRIu64 " only (--replay-incomplete)\n", in->broken_frame);
        } else {
            runs = false;
            g_string_append(t, "  skipped by a replay (--replay-incomplete replays it up to the break)\n");
        }
        g_array_append_val(jd->broken, in->id);
    } else if (jd->capture->truncated && in->end == REPLAY_END_CAPTURE) {
        /* the file broke while it was open: what came after is not in it */
        g_string_append(t, "  open where the capture breaks: replayed up to there only\n");
        *full = false;
    } else {
        g_string_append_printf(t, "  complete (%s)\n", replay_end_name(in->end));
    }
    if (runs && !judge_login(jd, s)) {
        *full = false;
        /* an encrypted login without its password is not started at all */
        runs = s->login_frame == 0;
    }
    if (!*full)
        jd->needing++;
    return runs;
}

static void capture_lines(judge *jd, const replay_store *st, unsigned by_upgrade, unsigned by_port)
{
    const replay_capture_stats *cs = &st->stats;
    GString *t = jd->out->text;
    g_string_append_printf(t, "capture: %" PRIu64 " frames, %" PRIu64 " TCP segments, %u HMTP session%s (%u by upgrade",
                           cs->frames, cs->tcp_segments, st->sessions->len, st->sessions->len == 1 ? "" : "s",
                           by_upgrade);
    if (jd->o->port)
        g_string_append_printf(t, ", %u by --port %u", by_port, jd->o->port);
    g_string_append(t, ")\n");
    if (cs->refused)
        g_string_append_printf(t, "capture: %u upgrade%s refused in the recording (not replayed)\n", cs->refused,
                               cs->refused == 1 ? "" : "s");
    if (cs->snaplen_cut_frames)
        g_string_append_printf(t, "capture: %" PRIu64 " frame%s cut by the snapshot length (%d bytes), first at frame %"
                                  PRIu64 ": their bytes are lost to the sessions that carry them\n",
                               cs->snaplen_cut_frames, cs->snaplen_cut_frames == 1 ? "" : "s", cs->snaplen,
                               cs->first_snaplen_cut_frame);
    if (cs->truncated) {
        g_string_append_printf(t, "capture damaged: %s (sessions open there are replayed up to there only)\n",
                               cs->truncated_msg);
        add_need(jd, "an undamaged copy of the capture (%s)", cs->truncated_msg);
    }
    if (cs->malformed_frames) {
        g_string_append_printf(t, "capture damaged: %" PRIu64 " frame(s) could not be parsed, first at frame %" PRIu64
                                  ": %s\n", cs->malformed_frames, cs->first_malformed_frame, cs->first_malformed);
        add_need(jd, "the %" PRIu64 " frame(s) that could not be parsed (first at frame %" PRIu64 ")",
                 cs->malformed_frames, cs->first_malformed_frame);
    }
    /* refusals and packets that do not decode, one line each */
    if (st->notes && st->notes->len) {
        gchar **lines = g_strsplit(st->notes->str, "\n", -1);
        for (gchar **l = lines; *l; l++)
            if (**l)
                g_string_append_printf(t, "note: %s\n", *l);
        g_strfreev(lines);
    }
}

/* "0", "0,2", "0-3" */
static void append_ids(GString *out, const GArray *ids)
{
    for (guint i = 0; i < ids->len;) {
        guint j = i;
        unsigned a = g_array_index(ids, unsigned, i);
        while (j + 1 < ids->len && g_array_index(ids, unsigned, j + 1) == g_array_index(ids, unsigned, j) + 1)
            j++;
        g_string_append_printf(out, "%s%u", i ? "," : "", a);
        if (j > i)
            g_string_append_printf(out, "%s%u", j == i + 1 ? "," : "-", g_array_index(ids, unsigned, j));
        i = j + 1;
    }
}

static void add_id(GHashTable *by_jid, const char *jid, unsigned session)
{
    GArray *a = g_hash_table_lookup(by_jid, jid);
    if (!a) {
        a = g_array_new(FALSE, FALSE, sizeof(unsigned));
        g_hash_table_insert(by_jid, g_strdup(jid), a);
    }
    if (!a->len || g_array_index(a, unsigned, a->len - 1) != session)
        g_array_append_val(a, session);
}

/* Sessions that must run together (shard.c's groups: the same ties that
 * keep them in one shard), and who published what to whom: a JID that
 * sessions sent messages to and other sessions received messages from. */
static void dependency_lines(judge *jd, replay_store *st)
{
    GString *t = jd->out->text;
    unsigned n = st->sessions->len;
    /* with one shard per session, every group of tied sessions has a shard of its own */
    shard_plan *sp = plan_shards(st, n ? n : 1);
    unsigned groups = 0;
    for (const char *const *l = shard_plan_notes(sp); *l; l++) {
        const char *tied = strstr(*l, ": tied by ");
        unsigned first = (unsigned)strtoul(*l + strlen("sessions "), NULL, 10);
        GString *ids = g_string_new(NULL);
        for (unsigned s = first; s < n && tied; s++)
            if (shard_of(sp, s) == shard_of(sp, first))
                g_string_append_printf(ids, "%s%u", ids->len ? "," : "", s);
        if (tied)
            g_string_append_printf(t, "depends: sessions %s run together (in one replay, one shard): tied by %s\n",
                                   ids->str, tied + strlen(": tied by "));
        else
            g_string_append_printf(t, "depends: %s\n", *l);
        g_string_free(ids, TRUE);
        groups++;
    }
    shard_plan_free(sp);
    GHashTable *sent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    GHashTable *got = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    for (unsigned s = 0; s < n; s++) {
        rec_session *rec = g_ptr_array_index(st->sessions, s);
        hmtp_tool_error rerr;
        if (!rec_session_acquire(rec, &rerr)) {
            g_string_append_printf(t, "depends: session %u not read back: %s\n", s, rerr.msg);
            continue;
        }
        for (guint i = 0; i < rec->packets->len; i++) {
            const rec_packet *r = g_ptr_array_index(rec->packets, i);
            if (r->status != HMTP_OK || r->type != HMTP_MESSAGE)
                continue;
            hmtp_packet p;
            hmtp_error err;
            if (rec_packet_decode(rec, r, &p, &err) == HMTP_OK) {
                if (r->dir == REPLAY_C2S && p.to)
                    add_id(sent, p.to, s);
                else if (r->dir == REPLAY_S2C && p.from)
                    add_id(got, p.from, s);
            }
            hmtp_packet_free(&p);
        }
        rec_session_release(rec);
    }
    /* a publisher's messages come back to the subscribers from the JID it sent them to */
    GList *keys = g_list_sort(g_hash_table_get_keys(sent), (GCompareFunc)strcmp);
    unsigned lines = 0, more = 0;
    for (GList *k = keys; k; k = k->next) {
        GArray *from = g_hash_table_lookup(sent, k->data), *to = g_hash_table_lookup(got, k->data);
        if (!to)
            continue;
        bool others = false;
        for (guint a = 0; a < to->len && !others; a++)
            others = from->len > 1 || g_array_index(to, unsigned, a) != g_array_index(from, unsigned, 0);
        if (!others)
            continue;
        if (lines == DEPENDENCY_LINES_MAX) {
            more++;
            continue;
        }
        GString *line = g_string_new("depends: ");
        g_string_append_printf(line, "%s: published by session%s ", (const char *)k->data, from->len == 1 ? "" : "s");
        append_ids(line, from);
        g_string_append_printf(line, ", received by session%s ", to->len == 1 ? "" : "s");
        append_ids(line, to);
        g_string_append(t, line->str);
        g_string_append_c(t, '\n');
        g_string_free(line, TRUE);
        lines++;
    }
    if (more)
        g_string_append_printf(t, "depends: and %u more published JIDs\n", more);
    if (!groups && !lines)
        g_string_append(t, "depends: none: every session can be replayed on its own\n");
    g_list_free(keys);
    g_hash_table_destroy(sent);
    g_hash_table_destroy(got);
}

void preflight_run(replay_store *st, const preflight_options *o, preflight_report *out)
{
    memset(out, 0, sizeof *out);
    out->text = g_string_new(NULL);
    out->not_replayable = g_string_new(NULL);
    judge jd = {o, &st->stats, out, g_string_new(NULL), g_string_new(NULL),
                g_array_new(FALSE, FALSE, sizeof(unsigned)), g_array_new(FALSE, FALSE, sizeof(unsigned)), 0};
    unsigned by_upgrade = 0, by_port = 0;
    for (guint i = 0; i < st->sessions->len; i++) {
        const rec_session *s = g_ptr_array_index(st->sessions, i);
        if (s->info.upgrade_seen)
            by_upgrade++;
        else
            by_port++;
    }
    capture_lines(&jd, st, by_upgrade, by_port);
    for (guint i = 0; i < st->sessions->len; i++) {
        if (o->selected && !o->selected[i])
            continue;
        bool full = false;
        gsize mark = out->text->len;
        out->sessions++;
        out->runnable += judge_session(&jd, g_ptr_array_index(st->sessions, i), &full);
        out->full += full;
        if (full && o->problems_only)
            g_string_truncate(out->text, mark); /* counted in the verdict, not listed */
    }
    if (o->dependencies && st->sessions->len)
        dependency_lines(&jd, st);
    /* the verdict names each need once, with the sessions it is for */
    if (jd.passwords->len)
        add_need(&jd, "the password of %s: --login UID:PASSWORD, --login-file FILE, --login-password PASSWORD or "
                      "--recorded-key PEM", jd.passwords->str);
    if (jd.broken->len) {
        GString *ids = g_string_new(NULL);
        append_ids(ids, jd.broken);
        if (o->cfg->replay_incomplete)
            add_need(&jd, "the bytes the capture lost: session%s %s replayed up to where %s only",
                     jd.broken->len == 1 ? "" : "s", ids->str, jd.broken->len == 1 ? "it breaks" : "they break");
        else
            add_need(&jd, "--replay-incomplete for session%s %s (broken in the capture; skipped without it)",
                     jd.broken->len == 1 ? "" : "s", ids->str);
        g_string_free(ids, TRUE);
    }
    if (jd.no_login->len) {
        GString *ids = g_string_new(NULL);
        append_ids(ids, jd.no_login);
        add_need(&jd, "a target that accepts session%s %s without a login (it came before the capture started)",
                 jd.no_login->len == 1 ? "" : "s", ids->str);
        g_string_free(ids, TRUE);
    }
    if (st->sessions->len == 0) {
        out->verdict = PREFLIGHT_UNUSABLE;
        if (st->stats.refused)
            out->verdict_line = g_strdup_printf("unusable: no HMTP session found: the recorded upgrade%s refused",
                                                st->stats.refused == 1 ? " was" : "s were");
        else
            out->verdict_line = g_strdup_printf("unusable: no HMTP session found%s",
                                                o->port ? "" : " (a capture that starts after the upgrade needs --port)");
    } else if (out->sessions == 0) {
        out->verdict = PREFLIGHT_UNUSABLE;
        out->verdict_line = g_strdup("unusable: no session selected");
    } else if (jd.needs->len) {
        out->verdict = PREFLIGHT_NEEDS;
        out->verdict_line = g_strdup_printf("needs something: %u of %u session%s replayable in full as asked; needs %s",
                                            out->full, out->sessions, out->sessions == 1 ? "" : "s", jd.needs->str);
    } else {
        out->verdict = PREFLIGHT_REPLAYABLE;
        out->verdict_line = g_strdup_printf("replayable: %s%u session%s can be replayed in full",
                                            out->sessions == 1 ? "the " : "all ", out->sessions,
                                            out->sessions == 1 ? "" : "s");
    }
    g_string_append_printf(out->text, "verdict: %s\n", out->verdict_line);
    g_string_free(jd.needs, TRUE);
    g_string_free(jd.passwords, TRUE);
    g_array_free(jd.broken, TRUE);
    g_array_free(jd.no_login, TRUE);
}

void preflight_unreadable(const char *why, preflight_report *out)
{
    memset(out, 0, sizeof *out);
    out->text = g_string_new(NULL);
    out->not_replayable = g_string_new(NULL);
    out->verdict = PREFLIGHT_UNUSABLE;
    out->verdict_line = g_strdup_printf("unusable: %s", why);
    g_string_append_printf(out->text, "verdict: %s\n", out->verdict_line);
}

void preflight_report_free(preflight_report *r)
{
    if (r->text)
        g_string_free(r->text, TRUE);
    if (r->not_replayable)
        g_string_free(r->not_replayable, TRUE);
    g_free(r->verdict_line);
    memset(r, 0, sizeof *r);
}
