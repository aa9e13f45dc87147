/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "http_upgrade.h"
#include "progress.h"

#define READ_SIZE 65536

static void job_schedule(replay_job *j);
static void start_jobs(replay_engine *e);
static void job_connect_when_due(replay_job *j, gint64 now);

/* ---------------------------------------------------------------- building */

static bool type_compared(const engine_config *cfg, int32_t type)
{
    return !cfg->type_filter || (hmtp_type_valid(type) && cfg->types[type]);
}

static bool is_login(const rec_packet *r) { return r->status == HMTP_OK && r->login; }

static double first_send_ts(const replay_job *j)
{
    return j->sends->len ? ((const send_item *)g_ptr_array_index(j->sends, 0))->rec->ts : 0;
}

static void send_item_free(gpointer p)
{
    send_item *s = p;
    hmtp_buf_free(&s->rewritten);
    g_free(s);
}

static void actual_free(gpointer p)
{
    actual_reply *a = p;
    hmtp_packet_free(&a->pkt);
    g_free(a->body);
    g_free(a);
}

static void expected_free(gpointer p)
{
    expected_reply *x = p;
    hmtp_packet_free(&x->pkt);
    g_free(x);
}

/* The recorded password of an encrypted login, decrypted with the recording
 * server's key (--recorded-key); NULL with why filled when that fails. */
static char *recorded_password(const engine_config *cfg, rec_session *rec, char *why, size_t why_len)
{
    for (guint i = 0; i < rec->packets->len; i++) {
        rec_packet *r = g_ptr_array_index(rec->packets, i);
        if (!is_login(r))
            continue;
        hmtp_packet p;
        hmtp_error err;
        char *out = NULL;
        if (rec_packet_decode(rec, r, &p, &err) == HMTP_OK) {
            hmtp_arena a;
            hmtp_arena_init(&a);
            char cerr[HMTP_CRYPTO_ERR] = "";
            char *pw = hmtp_credentials_decrypt_password(cfg->recorded_key, hessian_object_field(p.value, "_credentials"),
                                                         &a, cerr);
            if (pw)
                out = g_strdup(pw);
            else
                snprintf(why, why_len, "--recorded-key does not decrypt the login of frame %" PRIu64 ": %s", r->frame, cerr);
            hmtp_arena_free(&a);
        } else {
            snprintf(why, why_len, "the login of frame %" PRIu64 " does not decode: %s", r->frame, err.msg);
        }
        hmtp_packet_free(&p);
        return out;
    }
    snprintf(why, why_len, "no login packet recorded");
    return NULL;
}

/* The recorded plain password (AuthQuery._credentials a string), or NULL. */
static char *recorded_plain_password(rec_session *rec)
{
    for (guint i = 0; i < rec->packets->len; i++) {
        rec_packet *r = g_ptr_array_index(rec->packets, i);
        if (!is_login(r))
            continue;
        hmtp_packet p;
        hmtp_error err;
        char *out = NULL;
        if (rec_packet_decode(rec, r, &p, &err) == HMTP_OK) {
            const char *pw = hessian_value_string(hessian_object_field(p.value, "_credentials"));
            if (pw)
                out = g_strdup(pw);
        }
        hmtp_packet_free(&p);
        return out;
    }
    return NULL;
}

/* A query id the recorded session never used, in either direction: the
 * target's answer to the inserted key query is then told apart from every
 * recorded exchange by its id alone. */
static int64_t unused_query_id(const rec_session *rec)
{
    bool any = false;
    int64_t lo = 0, hi = 0;
    for (guint i = 0; i < rec->packets->len; i++) {
        const rec_packet *r = g_ptr_array_index(rec->packets, i);
        if (r->status != HMTP_OK || !r->has_id)
            continue;
        if (!any || r->id < lo)
            lo = r->id;
        if (!any || r->id > hi)
            hi = r->id;
        any = true;
    }
    if (!any)
        return 1;
    return hi < INT64_MAX ? hi + 1 : lo - 1; /* lo > INT64_MIN unless every id is used, which cannot be recorded */
}

static void set_not_replayable(replay_engine *e, replay_job *j, const char *why);

/* --login-mode encrypted on a recorded plain login: the session does the
 * encrypted login against the target (key query, EncryptedObject) with the
 * given password, or else the recorded one. */
static void plan_upgrade(replay_engine *e, replay_job *j)
{
    rec_session *rec = j->rec;
    if (!j->password)
        j->password = recorded_plain_password(rec);
    if (!j->password) {
        char why[300];
        snprintf(why, sizeof why,
                 "its login (frame %" PRIu64 ", user %s) carries no password to encrypt for --login-mode encrypted: "
                 "give it with --login UID:PASSWORD, --login-file FILE or --login-password PASSWORD",
                 rec->login_frame, rec->login_uid ? rec->login_uid : "?");
        set_not_replayable(e, j, why);
        return;
    }
    j->upgrade_login = true;
    j->encrypt_login = true; /* the key answer and the credentials as for a recorded encrypted login */
    j->key_query_id = unused_query_id(rec);
    /* the recorded string stays for the byte edits; the tree gets the
       EncryptedObject (prepare_upgraded) */
    j->rewrite.login_password = NULL;
}

static void set_not_replayable(replay_engine *e, replay_job *j, const char *why)
{
    j->outcome = JOB_NOT_REPLAYABLE;
    snprintf(j->reason, sizeof j->reason, "%s", why);
    if (j->copy == 0 && j->loop == 0)
        g_string_append_printf(e->not_replayable, "hmtp-replay: session %u not replayable: %s\n", j->rec->info.id,
                               j->reason);
}

/* Which password the session logs in with, and how. A recorded encrypted
 * login is done again against the target's key (the recorded one was made
 * for the recording server's key); without its password the session cannot
 * be replayed at all. */
static void plan_login(replay_engine *e, replay_job *j)
{
    const engine_config *cfg = e->cfg;
    rec_session *rec = j->rec;
    const char *given = NULL;
    if (cfg->passwords && rec->login_uid)
        given = g_hash_table_lookup(cfg->passwords, rec->login_uid);
    if (!given)
        given = cfg->login_password;
    char why[300] = "";
    if (given)
        j->password = g_strdup(given);
    else if (rec->login_encrypted && cfg->recorded_key)
        j->password = recorded_password(cfg, rec, why, sizeof why);
    if (!rec->login_encrypted && cfg->login_encrypt && rec->login_frame) {
        plan_upgrade(e, j);
        return;
    }
    if (!rec->login_encrypted) {
        j->rewrite.login_password = j->password; /* NULL: the recorded string */
        return;
    }
    if (!j->password) {
        char reason[sizeof j->reason];
        snprintf(reason, sizeof reason,
                 "its login (frame %" PRIu64 ", user %s) is encrypted%s%s: give the password with --login UID:PASSWORD, "
                 "--login-file FILE, --login-password PASSWORD or --recorded-key PEM",
                 rec->login_frame, rec->login_uid ? rec->login_uid : "?", why[0] ? " and " : "", why);
        set_not_replayable(e, j, reason);
        return;
    }
    if (cfg->login_plain)
        j->rewrite.login_password = j->password;
    else
        j->encrypt_login = true;
}

/* A session replayed only in part (a gap with --replay-incomplete, or open
 * where the file itself breaks) passes for nothing more: the report says so. */
static void note_partial(const replay_engine *e, replay_job *j)
{
    const replay_session_info *info = &j->rec->info;
    if (info->incomplete)
        snprintf(j->partial, sizeof j->partial, "replayed up to frame %" PRIu64 " only: %s", info->broken_frame,
                 info->broken_reason);
    else if (e->store->stats.truncated && info->end == REPLAY_END_CAPTURE)
        snprintf(j->partial, sizeof j->partial, "still open where %s: replayed up to there only", e->store->stats.truncated_msg);
}

static replay_job *job_new(replay_engine *e, rec_session *rec, unsigned copy, unsigned loop)
{
    const engine_config *cfg = e->cfg;
    replay_job *j = g_new0(replay_job, 1);
    j->eng = e;
    j->rec = rec;
    j->copy = copy;
    j->loop = loop;
    j->sends = g_ptr_array_new_with_free_func(send_item_free);
    j->expected = g_ptr_array_new();
    j->actual = g_ptr_array_new_with_free_func(actual_free);
    jid_map_init(&j->learned);
    j->server_queries = g_ptr_array_new();
    j->server_ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    hmtp_buf_init(&j->head);
    hmtp_buf_init(&j->outq);
    j->tail_from = UINT64_MAX;
    hessian_stream_init(&j->stream, NULL);
    verify_result_init(&j->result);
    if (copy > 0)
        j->resource = g_strdup_printf("replay-copy-%u", copy);
    hmtp_buf_init(&j->target_spki);
    hmtp_arena_init(&j->cred_arena);
    hmtp_buf_init(&j->written);
    hessian_writer_init(&j->writer, &j->written);
    j->rewrite = (rewrite_config){.map = cfg->map,
                                  .learned = &j->learned,
                                  .login_user = cfg->login_user,
                                  .login_resource = j->resource,
                                  .server_query_ids = j->server_ids};
    if (rec->info.incomplete && !cfg->replay_incomplete) {
        /* never connected, but reported: a run that skips work does not pass */
        j->outcome = JOB_SKIPPED;
        snprintf(j->reason, sizeof j->reason,
                 "incomplete in the capture: %.240s (--replay-incomplete replays it up to there)", rec->info.broken_reason);
        return j;
    }
    note_partial(e, j);
    plan_login(e, j);
    /* Packets recorded after the point where an incomplete session broke
       would only be half a conversation. */
    uint64_t last_frame = rec->info.incomplete ? rec->info.broken_frame : UINT64_MAX;
    uint64_t compared = 0;
    for (guint i = 0; i < rec->packets->len; i++) {
        rec_packet *r = g_ptr_array_index(rec->packets, i);
        if (r->frame >= last_frame)
            break; /* the frame that revealed the hole may already hold answers to lost packets */
        if (r->dir == REPLAY_S2C) {
            if (r->status == HMTP_OK && (r->type == HMTP_QUERY_GET || r->type == HMTP_QUERY_SET))
                g_ptr_array_add(j->server_queries, r);
            if (r->status != HMTP_OK || type_compared(cfg, r->type)) {
                g_ptr_array_add(j->expected, r);
                compared++;
            }
            continue;
        }
        /* The login (and the key query an encrypted one needs) is always
           sent: without it the target refuses the rest. */
        if (r->status == HMTP_OK && !type_compared(cfg, r->type) && !is_login(r) && !r->key_query)
            continue;
        if (j->upgrade_login && is_login(r) && r->frame == rec->login_frame) {
            /* the key query goes just before the login, in its place in the
               recorded order and waiting for what the login waited for */
            send_item *k = g_new0(send_item, 1);
            k->rec = r;
            k->inserted_key_query = true;
            k->wait_for = compared;
            hmtp_buf_init(&k->rewritten);
            g_ptr_array_add(j->sends, k);
        }
        send_item *s = g_new0(send_item, 1);
        s->rec = r;
        s->wire = r->wire;
        s->wire_len = r->wire_len;
        s->wait_for = compared;
        hmtp_buf_init(&s->rewritten);
        g_ptr_array_add(j->sends, s);
    }
    return j;
}

static void job_free(replay_job *j)
{
    g_ptr_array_free(j->sends, TRUE);
    g_ptr_array_free(j->expected, TRUE);
    g_ptr_array_free(j->actual, TRUE);
    jid_map_free(&j->learned);
    g_ptr_array_free(j->server_queries, TRUE);
    g_hash_table_destroy(j->server_ids);
    hmtp_buf_free(&j->head);
    hmtp_buf_free(&j->outq);
    hessian_stream_free(&j->stream);
    verify_result_free(&j->result);
    if (j->reader)
        hmtp_reader_free(j->reader);
    g_free(j->rbuf);
    g_free(j->resource);
    g_free(j->expected_order);
    if (j->password)
        memset(j->password, 0, strlen(j->password)); /* no secrets left in freed memory */
    g_free(j->password);
    hmtp_buf_free(&j->target_spki);
    hmtp_arena_free(&j->cred_arena);
    hessian_writer_free(&j->writer);
    hmtp_buf_free(&j->written);
    g_free(j);
}

/* Copy k of every session in one round is one replay of the capture: they
 * keep the recorded order among themselves. Other copies and rounds are
 * independent replays. */
static void build_groups(replay_engine *e, unsigned loops, unsigned scale)
{
    for (unsigned loop = 0; loop < loops; loop++) {
        for (unsigned copy = 0; copy < scale; copy++) {
            GPtrArray *members = g_ptr_array_new();
            for (guint i = 0; i < e->jobs->len; i++) {
                replay_job *j = g_ptr_array_index(e->jobs, i);
                if (j->loop == loop && j->copy == copy)
                    g_ptr_array_add(members, j);
            }
            if (members->len)
                g_ptr_array_add(e->groups, order_group_new(members, e->cfg->timeout_ms, job_schedule));
            g_ptr_array_free(members, TRUE);
        }
    }
}

void replay_engine_init(replay_engine *e, const engine_config *cfg, replay_store *store, const bool *selected)
{
    memset(e, 0, sizeof *e);
    e->cfg = cfg;
    e->store = store;
    e->jobs = g_ptr_array_new();
    e->groups = g_ptr_array_new();
    e->latency_ms = g_array_new(FALSE, FALSE, sizeof(double));
    e->not_replayable = g_string_new(NULL);
    jid_map_init(&e->learned);
    unsigned loops = cfg->loops ? cfg->loops : 1, scale = cfg->scale ? cfg->scale : 1;
    for (unsigned loop = 0; loop < loops; loop++) {
        for (guint i = 0; i < store->sessions->len; i++) {
            rec_session *rec = g_ptr_array_index(store->sessions, i);
            if (!selected[i])
                continue;
            for (unsigned copy = 0; copy < scale; copy++)
                g_ptr_array_add(e->jobs, job_new(e, rec, copy, loop));
        }
    }
    if (cfg->pace == PACE_CONVERSATION)
        build_groups(e, loops, scale);
}

void replay_engine_free(replay_engine *e)
{
    for (guint i = 0; i < e->groups->len; i++)
        order_group_free(g_ptr_array_index(e->groups, i));
    g_ptr_array_free(e->groups, TRUE);
    for (guint i = 0; i < e->jobs->len; i++)
        job_free(g_ptr_array_index(e->jobs, i));
    g_ptr_array_free(e->jobs, TRUE);
    g_array_free(e->latency_ms, TRUE);
    g_string_free(e->not_replayable, TRUE);
    jid_map_free(&e->learned);
    if (e->client)
        g_object_unref(e->client);
    if (e->loop)
        g_main_loop_unref(e->loop);
}

/* ---------------------------------------------------------------- ending */

static void maybe_quit(replay_engine *e)
{
    if (e->finished_in_round == e->round_end - e->round_first && e->pending_ops == 0)
        g_main_loop_quit(e->loop);
}

static void job_finish(replay_job *j, job_outcome outcome, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void cancel_unconnected(replay_engine *e);
static void watch_stop(replay_job *j);

static void job_finish(replay_job *j, job_outcome outcome, const char *fmt, ...)
{
    if (j->done)
        return;
    j->done = true;
    j->outcome = outcome;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(j->reason, sizeof j->reason, fmt, ap);
        va_end(ap);
    }
    if (j->timer) {
        g_source_remove(j->timer);
        j->timer = 0;
    }
    watch_stop(j);
    g_cancellable_cancel(j->cancel);
    if (j->conn) {
        g_io_stream_close(G_IO_STREAM(j->conn), NULL, NULL);
        g_object_unref(j->conn);
        j->conn = NULL;
    }
    if (!j->reading) {
        g_free(j->rbuf);
        j->rbuf = NULL;
    }
    if (j->reader) {
        hmtp_reader_free(j->reader);
        j->reader = NULL;
    }
    replay_engine *e = j->eng;
    e->running--;
    e->finished_in_round++;
    progress_update(e);
    if (outcome == JOB_UNREACHABLE && !e->target_down[0]) {
        /* Later sessions would only wait for the same deadline again: the
           run ends with the sessions already connected. */
        snprintf(e->target_down, sizeof e->target_down, "session %u: %s", j->rec->info.id, j->reason);
        cancel_unconnected(e);
    }
    start_jobs(e);
    if (j->group)
        order_group_advance(j->group); /* an ended session holds nobody back */
    maybe_quit(e);
}

/* Sessions of the round that wait for their turn to connect, once the
 * target is known to be unreachable. */
static void cancel_unconnected(replay_engine *e)
{
    for (guint i = e->round_first; i < e->round_end; i++) {
        replay_job *j = g_ptr_array_index(e->jobs, i);
        if (j->started && !j->done && !j->connecting)
            job_finish(j, JOB_NOT_RUN, "the target was unreachable (%.270s)", e->target_down);
    }
}

/* ---------------------------------------------------------------- deadlines */

/* Every wait on the target has --timeout. Replies are timed by the pace
 * (job_schedule_once, order.c); this watch times the rest: being connected
 * and answering the upgrade (one deadline for both), and taking the bytes
 * written to it (restarted whenever a write completes). A target that
 * accepts and then says nothing, or stops reading, ends the session. */
static gboolean on_watch(gpointer data)
{
    replay_job *j = data;
    j->watch = 0;
    unsigned ms = j->eng->cfg->timeout_ms;
    if (!j->conn)
        job_finish(j, JOB_UNREACHABLE, "cannot connect to %s within --timeout (%u ms)", j->eng->cfg->target, ms);
    else if (!j->upgraded)
        job_finish(j, JOB_UNREACHABLE,
                   "the target accepted the connection but did not answer the upgrade within --timeout (%u ms)", ms);
    else
        job_finish(j, JOB_FAILED,
                   "the target took none of the bytes sent for --timeout (%u ms), after %u of %u client packets", ms,
                   j->next, j->sends->len);
    return G_SOURCE_REMOVE;
}

static void watch_start(replay_job *j)
{
    watch_stop(j);
    j->watch = g_timeout_add(j->eng->cfg->timeout_ms, on_watch, j);
}

static void watch_stop(replay_job *j)
{
    if (j->watch)
        g_source_remove(j->watch);
    j->watch = 0;
}

/* ---------------------------------------------------------------- writing */

/* A reset or broken pipe is the target hanging up, said plainly. */
static bool is_peer_close(const GError *error)
{
    return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
           g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
}

static void on_written(GObject *src, GAsyncResult *res, gpointer data)
{
    replay_job *j = data;
    GError *error = NULL;
    gssize n = g_output_stream_write_finish(G_OUTPUT_STREAM(src), res, &error);
    j->eng->pending_ops--;
    j->writing = false;
    if (j->done) {
        g_clear_error(&error);
        maybe_quit(j->eng);
        return;
    }
    if (n < 0) {
        if (is_peer_close(error))
            job_finish(j, JOB_FAILED, "the target closed the connection (%s) after %u of %u client packets",
                       error->message, j->next, j->sends->len);
        else
            job_finish(j, JOB_FAILED, "writing to the target failed after %" PRIu64 " client packets: %s",
                       j->packets_sent, error->message);
        g_error_free(error);
        return;
    }
    if (j->upgraded)
        watch_stop(j); /* the target reads: flush_output times the next write */
    j->out_off += (size_t)n;
    j->bytes_sent += (uint64_t)n;
    if (j->out_off == j->outq.len) {
        hmtp_buf_reset(&j->outq);
        j->out_off = 0;
    }
    job_schedule(j);
}

static void flush_output(replay_job *j)
{
    if (j->writing || j->done || !j->conn || j->out_off == j->outq.len)
        return;
    j->writing = true;
    if (j->upgraded)
        watch_start(j); /* before the 101 the upgrade's deadline covers the request */
    j->eng->pending_ops++;
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(j->conn));
    g_output_stream_write_async(out, j->outq.data + j->out_off, j->outq.len - j->out_off, G_PRIORITY_DEFAULT,
                                j->cancel, on_written, j);
}

/* ---------------------------------------------------------------- pacing */

static gboolean on_timer(gpointer data)
{
    replay_job *j = data;
    j->timer = 0;
    job_schedule(j);
    return G_SOURCE_REMOVE;
}

static void arm_timer(replay_job *j, gint64 wait_us)
{
    if (j->timer)
        g_source_remove(j->timer);
    guint ms = wait_us <= 0 ? 0 : (guint)((wait_us + 999) / 1000);
    j->timer = g_timeout_add(ms, on_timer, j);
}

/* A client packet of an upgraded session: the recorded bytes with the usual
 * edits (JIDs, ids, uid, resource) decoded into a tree at the recorded
 * decoder state, the login's password swapped for the EncryptedObject, and
 * the tree written by the session's writer (class indexes by first use).
 * The inserted key query is built from nothing. */
static bool prepare_upgraded(replay_job *j, send_item *s)
{
    const rec_packet *r = s->rec;
    hmtp_packet p;
    hmtp_packet_init(&p);
    hmtp_buf body;
    hmtp_buf_init(&body);
    char why[300] = "";
    bool ok = false;
    if (s->inserted_key_query) {
        p.type = HMTP_QUERY_GET;
        p.has_id = true;
        p.id = j->key_query_id;
        p.value = hmtp_new_public_key_query(&p.arena, NULL, NULL, NULL, 0);
        if (!p.value)
            snprintf(why, sizeof why, "out of memory building the key query");
    } else if (r->status != HMTP_OK) {
        /* its class definitions, if any, cannot be carried over to the new
           numbering */
        snprintf(why, sizeof why, "it does not decode, so it cannot be written again for --login-mode encrypted");
    } else {
        int rw = rewrite_client_body(r, &j->rec->stream[REPLAY_C2S], &j->rewrite, &body, why, sizeof why);
        hmtp_error err;
        hmtp_error_clear(&err);
        if (rw >= 0 && hmtp_packet_decode(&p, &j->rec->stream[REPLAY_C2S], r->mark, rw > 0 ? body.data : r->body,
                                          rw > 0 ? body.len : r->body_len, &err) != HMTP_OK)
            snprintf(why, sizeof why, "the rewritten packet does not decode: %s (body offset %zu)", err.msg, err.offset);
        else if (rw >= 0 && is_login(r) && hessian_value_string(hessian_object_field(p.value, "_credentials")) &&
                 !hessian_object_set(p.value, "_credentials", (hessian_value *)j->rewrite.login_credentials))
            snprintf(why, sizeof why, "cannot put the encrypted credentials into the login");
    }
    if (!why[0]) {
        if (!hessian_value_writable(p.value) || (p.error_value && !hessian_value_writable(p.error_value)))
            snprintf(why, sizeof why,
                     "it holds an object whose class definition was never captured: it cannot be written again for "
                     "--login-mode encrypted");
        else if (!hmtp_packet_write(&j->writer, &p))
            snprintf(why, sizeof why, "writing it again failed (out of memory)");
        else
            ok = true;
    }
    if (ok) {
        /* the writer's output becomes the item's bytes; the buffer is the
           writer's sink, so it is emptied for the next packet */
        hmtp_buf_reset(&s->rewritten);
        ok = hmtp_buf_append(&s->rewritten, j->written.data, j->written.len);
        hmtp_buf_reset(&j->written);
        s->wire = s->rewritten.data;
        s->wire_len = s->rewritten.len;
        if (!ok)
            snprintf(why, sizeof why, "out of memory");
    }
    hmtp_buf_free(&body);
    hmtp_packet_free(&p);
    if (!ok)
        job_finish(j, JOB_FAILED, "client packet of frame %" PRIu64 "%s: %s", r->frame,
                   s->inserted_key_query ? " (the inserted key query)" : "", why);
    return ok;
}

static bool prepare_send(replay_job *j, send_item *s)
{
    if (j->upgrade_login)
        return prepare_upgraded(j, s);
    if (s->rec->status != HMTP_OK)
        return true; /* undecodable when recorded: sent as recorded */
    hmtp_buf_reset(&s->rewritten);
    char why[300];
    int r = rewrite_client_packet(s->rec, &j->rec->stream[REPLAY_C2S], &j->rewrite, &s->rewritten, why, sizeof why);
    if (r < 0) {
        job_finish(j, JOB_FAILED, "client packet of frame %" PRIu64 ": %s", s->rec->frame, why);
        return false;
    }
    if (r > 0) {
        s->wire = s->rewritten.data;
        s->wire_len = s->rewritten.len;
    }
    return true;
}

static void job_schedule_once(replay_job *j);

/* Advancing the group may wake the very job that is scheduling: that turns
 * into one more pass here instead of a nested call. */
static void job_schedule(replay_job *j)
{
    if (j->scheduling) {
        j->reschedule = true;
        return;
    }
    j->scheduling = true;
    do {
        j->reschedule = false;
        job_schedule_once(j);
    } while (j->reschedule && !j->done);
    j->scheduling = false;
}

/* The credentials of an encrypted login, made for the target's key: 1 ready,
 * 0 the key has not come yet (a timer is armed), -1 the job failed. The key
 * is awaited whatever the pace: without it there is nothing to send. */
static int make_credentials(replay_job *j, const send_item *s, gint64 now, gint64 timeout_us)
{
    if (j->key_problem[0]) {
        job_finish(j, JOB_FAILED, "cannot redo the encrypted login of frame %" PRIu64 ": the target refused the key query: %s",
                   s->rec->frame, j->key_problem);
        return -1;
    }
    if (!j->key_seen) {
        if (!j->wait_since_us)
            j->wait_since_us = now;
        if (now - j->wait_since_us < timeout_us) {
            arm_timer(j, j->wait_since_us + timeout_us - now);
            return 0;
        }
        job_finish(j, JOB_FAILED,
                   "cannot redo the encrypted login of frame %" PRIu64 ": no public key from the target within --timeout",
                   s->rec->frame);
        return -1;
    }
    char err[HMTP_CRYPTO_ERR] = "";
    hessian_value *creds = hmtp_credentials_encrypt(&j->cred_arena, j->target_spki.data, j->target_spki.len, j->password, err);
    if (!creds) {
        job_finish(j, JOB_FAILED, "cannot encrypt the login of frame %" PRIu64 " for the target's key: %s", s->rec->frame, err);
        return -1;
    }
    j->rewrite.login_credentials = creds;
    j->creds_ready = true;
    return 1;
}

/* Sends what the pace allows now, and arms a timer for the rest. */
static void job_schedule_once(replay_job *j)
{
    if (j->done)
        return;
    const engine_config *cfg = j->eng->cfg;
    gint64 now = g_get_monotonic_time();
    gint64 timeout_us = (gint64)cfg->timeout_ms * 1000;
    double first_ts = first_send_ts(j);
    if (j->group)
        order_group_advance(j->group); /* sessions that never ran or ended hold nobody back */
    if (j->done)
        return;
    if (!j->upgraded) {
        if (!j->connecting)
            job_connect_when_due(j, now);
        return;
    }
    bool conversation = cfg->pace == PACE_CONVERSATION || cfg->pace == PACE_SESSION;
    guint sent_before = j->next;
    while (j->next < j->sends->len) {
        send_item *s = g_ptr_array_index(j->sends, j->next);
        if (conversation && job_reply_credit(j) < s->wait_for) {
            if (!j->wait_since_us)
                j->wait_since_us = now;
            if (now - j->wait_since_us < timeout_us) {
                arm_timer(j, j->wait_since_us + timeout_us - now);
                flush_output(j);
                return;
            }
            /* The reply never came: go on; verification calls it missing. */
        }
        if (j->group && !order_reached(j->group, s->order)) {
            /* Something recorded earlier, maybe in another session, has not
               happened yet: the group wakes this job when it has (or has
               timed out). */
            j->wait_since_us = 0;
            if (j->timer) {
                g_source_remove(j->timer);
                j->timer = 0;
            }
            flush_output(j);
            return;
        }
        if (cfg->pace == PACE_ORIGINAL) {
            gint64 due = j->origin_us + (gint64)((s->rec->ts - first_ts) / cfg->speed * 1e6);
            if (now < due) {
                arm_timer(j, due - now);
                flush_output(j);
                return;
            }
        }
        if (is_login(s->rec) && !s->inserted_key_query && j->encrypt_login && !j->creds_ready) {
            int k = make_credentials(j, s, now, timeout_us);
            if (k < 0)
                return;
            if (k == 0) {
                flush_output(j);
                return; /* waiting for the target's key */
            }
        }
        if (!prepare_send(j, s))
            return;
        hmtp_buf_append(&j->outq, s->wire, s->wire_len);
        j->next++;
        j->packets_sent++;
        if (j->next == j->sends->len)
            j->tail_from = j->received_all;
        j->wait_since_us = 0;
        j->last_send_us = now;
        if (j->group && j->next != sent_before) {
            /* the next packet, of this session or another, may go now */
            order_group_advance(j->group);
            if (j->done)
                return;
        }
    }
    flush_output(j);
    if (j->writing)
        return; /* the drain clock starts once everything is on its way */
    uint64_t credit = job_reply_credit(j);
    if (credit < j->expected->len && j->group && !order_reached(j->group, j->expected_order[credit])) {
        /* The next reply answers something not yet sent (perhaps by another
           session): its clock starts when the group gets there. */
        j->drain_since_us = 0;
        if (j->timer) {
            g_source_remove(j->timer);
            j->timer = 0;
        }
        return;
    }
    if (!j->drain_since_us)
        j->drain_since_us = now;
    if (credit >= j->expected->len) {
        if (!j->settling) {
            j->settling = true;
            arm_timer(j, (gint64)cfg->settle_ms * 1000);
        } else if (!j->timer) {
            job_finish(j, JOB_DONE, NULL);
        }
        return;
    }
    if (now - j->drain_since_us >= timeout_us)
        job_finish(j, JOB_DONE, NULL);
    else
        arm_timer(j, j->drain_since_us + timeout_us - now);
}

/* ---------------------------------------------------------------- reading */

static void learn_jid(replay_job *j, const hmtp_packet *p)
{
    if (p->type != HMTP_QUERY_RESULT || !p->value || p->value->kind != HESSIAN_OBJECT || !p->value->v.object.cls ||
        strcmp(p->value->v.object.cls, HMTP_AUTH_RESULT_CLASS) != 0 || !j->rec->login_jid)
        return;
    const char *jid = hessian_value_string(hessian_object_field(p->value, "_jid"));
    if (!jid || strcmp(jid, j->rec->login_jid) == 0)
        return;
    /* The target named this link differently (a resource of its own, a
       mapped user): expect that name wherever the recording had the old one. */
    const jid_map *map = j->eng->cfg->map;
    char *mapped = map ? jid_map_apply(map, j->rec->login_jid) : NULL;
    jid_map_add_full(&j->learned, mapped ? mapped : j->rec->login_jid, jid);
    if (j->copy == 0)
        jid_map_add_full(&j->eng->learned, mapped ? mapped : j->rec->login_jid, jid);
    g_free(mapped);
}

/* The n-th query the target sends stands for the n-th one recorded: its id
 * is the one the client's answer must carry. */
static void learn_query_id(replay_job *j, const hmtp_packet *p)
{
    if ((p->type != HMTP_QUERY_GET && p->type != HMTP_QUERY_SET) || !p->has_id)
        return;
    guint n = j->server_queries_seen++;
    if (n >= j->server_queries->len)
        return;
    const rec_packet *r = g_ptr_array_index(j->server_queries, n);
    if (!r->has_id)
        return;
    gint64 *from = g_new(gint64, 1), *to = g_new(gint64, 1);
    *from = r->id;
    *to = p->id;
    g_hash_table_replace(j->server_ids, from, to);
}

/* The target's answer to the key query: its key for the encrypted login,
 * or (a queryError echoing the query) the reason it offers none. */
static void learn_key(replay_job *j, const hmtp_packet *p)
{
    const hessian_value *v = p->value;
    if (!j->encrypt_login || j->key_seen || !v || v->kind != HESSIAN_OBJECT || !v->v.object.cls ||
        strcmp(v->v.object.cls, HMTP_GET_PUBLIC_KEY_QUERY_CLASS) != 0)
        return;
    if (p->type == HMTP_QUERY_ERROR) {
        const char *text = p->error_value ? hessian_value_string(hessian_object_field(p->error_value, "_text")) : NULL;
        const char *group = p->error_value ? hessian_value_string(hessian_object_field(p->error_value, "_group")) : NULL;
        snprintf(j->key_problem, sizeof j->key_problem, "%s%s%s", group ? group : "queryError", text ? ": " : "",
                 text ? text : "");
        return;
    }
    const hessian_value *key = hessian_object_field(v, "_encoded");
    if (p->type != HMTP_QUERY_RESULT || !key || key->kind != HESSIAN_BINARY) {
        snprintf(j->key_problem, sizeof j->key_problem, "its answer carries no _encoded key");
        return;
    }
    hmtp_buf_reset(&j->target_spki);
    hmtp_buf_append(&j->target_spki, key->v.bin.data, key->v.bin.len);
    j->key_seen = true;
}

/* The answer to the key query inserted by --login-mode encrypted, known by
 * its id: a key, or the reason there is none (whatever the error echoes). */
static void take_key_answer(replay_job *j, const hmtp_packet *p)
{
    if (j->key_seen || j->key_problem[0])
        return;
    if (p->type == HMTP_QUERY_ERROR) {
        const char *text = p->error_value ? hessian_value_string(hessian_object_field(p->error_value, "_text")) : NULL;
        const char *group = p->error_value ? hessian_value_string(hessian_object_field(p->error_value, "_group")) : NULL;
        snprintf(j->key_problem, sizeof j->key_problem, "%s%s%s", group ? group : "queryError", text ? ": " : "",
                 text ? text : "");
        return;
    }
    learn_key(j, p);
    if (!j->key_seen && !j->key_problem[0])
        snprintf(j->key_problem, sizeof j->key_problem, "its answer is not a %s", HMTP_GET_PUBLIC_KEY_QUERY_CLASS);
}

static void take_packet(replay_job *j, const hmtp_frame *f)
{
    actual_reply *a = g_new0(actual_reply, 1);
    hmtp_packet_init(&a->pkt);
    hmtp_error_clear(&a->err);
    a->mark = hessian_stream_mark(&j->stream);
    a->status = hmtp_packet_decode(&a->pkt, &j->stream, a->mark, f->body, f->body_len, &a->err);
    a->index = j->received_all++;
    gint64 now = g_get_monotonic_time();
    a->latency_ms = j->last_send_us ? (double)(now - j->last_send_us) / 1000.0 : 0;
    if (a->status != HMTP_OK) {
        job_finish(j, JOB_FAILED, "the target sent a malformed packet (#%" PRIu64 "): %s at body offset %zu", a->index,
                   a->err.msg, a->err.offset);
        actual_free(a);
        return;
    }
    if (j->upgrade_login && a->pkt.has_id && a->pkt.id == j->key_query_id &&
        (a->pkt.type == HMTP_QUERY_RESULT || a->pkt.type == HMTP_QUERY_ERROR)) {
        /* the answer to the inserted key query: the recording has no such
           reply, so it is the login's business only, never compared */
        take_key_answer(j, &a->pkt);
        actual_free(a);
        return;
    }
    learn_jid(j, &a->pkt);
    learn_query_id(j, &a->pkt);
    learn_key(j, &a->pkt);
    if (!type_compared(j->eng->cfg, a->pkt.type)) {
        actual_free(a);
        return;
    }
    g_array_append_val(j->eng->latency_ms, a->latency_ms);
    a->body = g_memdup2(f->body, f->body_len);
    a->body_len = f->body_len;
    hmtp_packet_free(&a->pkt); /* decoded again for the comparison */
    hmtp_packet_init(&a->pkt);
    g_ptr_array_add(j->actual, a);
    j->received_compared++;
    if (j->group)
        order_group_advance(j->group);
}

static void take_hmtp_bytes(replay_job *j, const uint8_t *data, size_t len)
{
    while (len > 0 && !j->done) {
        size_t used = 0;
        hmtp_frame f;
        hmtp_error err;
        hmtp_error_clear(&err);
        int r = hmtp_reader_push(j->reader, data, len, &used, &f, &err);
        data += used;
        len -= used;
        if (r < 0) {
            job_finish(j, JOB_FAILED, "the target sent bytes that are not HMTP framing (stream offset %zu): %s", err.offset,
                       err.msg);
            return;
        }
        if (r == 0)
            break;
        take_packet(j, &f);
    }
}

static void take_upgrade_bytes(replay_job *j, const uint8_t *data, size_t len)
{
    hmtp_buf_append(&j->head, data, len);
    hmtp_upgrade_head h;
    int r = hmtp_upgrade_head_parse(j->head.data, j->head.len, &h, NULL);
    if (r == 0)
        return;
    if (r < 0 || h.kind != HMTP_UPGRADE_RESPONSE) {
        job_finish(j, JOB_UNREACHABLE, "the target's answer to the upgrade is not HTTP");
        return;
    }
    if (h.status != 101) {
        job_finish(j, JOB_UNREACHABLE, "the target refused the upgrade: HTTP %d %s", h.status, h.reason);
        return;
    }
    j->upgraded = true;
    watch_stop(j);
    size_t rest = j->head.len - h.head_len;
    if (rest)
        take_hmtp_bytes(j, j->head.data + h.head_len, rest);
    job_schedule(j);
}

static void read_more(replay_job *j);

static void on_read(GObject *src, GAsyncResult *res, gpointer data)
{
    replay_job *j = data;
    GError *error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &error);
    j->eng->pending_ops--;
    j->reading = false;
    if (j->done) {
        g_clear_error(&error);
        g_free(j->rbuf);
        j->rbuf = NULL;
        maybe_quit(j->eng);
        return;
    }
    if (n < 0) {
        if (j->upgraded && is_peer_close(error))
            job_finish(j, JOB_FAILED, "the target closed the connection (%s) after %u of %u client packets",
                       error->message, j->next, j->sends->len);
        else
            job_finish(j, j->upgraded ? JOB_FAILED : JOB_UNREACHABLE, "reading from the target failed: %s",
                       error->message);
        g_error_free(error);
        return;
    }
    if (n == 0) {
        if (!j->upgraded)
            job_finish(j, JOB_UNREACHABLE, "the target closed the connection during the upgrade");
        else if (j->next < j->sends->len)
            job_finish(j, JOB_FAILED, "the target closed the connection after %u of %u client packets", j->next,
                       j->sends->len);
        else
            job_finish(j, JOB_DONE, NULL);
        return;
    }
    if (j->upgraded)
        take_hmtp_bytes(j, j->rbuf, (size_t)n);
    else
        take_upgrade_bytes(j, j->rbuf, (size_t)n);
    if (j->upgraded)
        job_schedule(j);
    read_more(j);
}

static void read_more(replay_job *j)
{
    if (j->done || !j->conn)
        return;
    j->eng->pending_ops++;
    j->reading = true;
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(j->conn));
    g_input_stream_read_async(in, j->rbuf, READ_SIZE, G_PRIORITY_DEFAULT, j->cancel, on_read, j);
}

/* ---------------------------------------------------------------- starting */

static void on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
    replay_job *j = data;
    GError *error = NULL;
    GSocketConnection *conn = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(src), res, &error);
    j->eng->pending_ops--;
    if (j->done) {
        if (conn)
            g_object_unref(conn);
        g_clear_error(&error);
        maybe_quit(j->eng);
        return;
    }
    if (!conn) {
        job_finish(j, JOB_UNREACHABLE, "cannot connect to %s: %s", j->eng->cfg->target, error->message);
        g_error_free(error);
        return;
    }
    j->conn = conn;
    GSocket *sock = g_socket_connection_get_socket(conn);
    /* The client's timeout was for connecting; replies are timed by --timeout. */
    g_socket_set_timeout(sock, 0);
    g_socket_set_option(sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
    const engine_config *cfg = j->eng->cfg;
    const char *path = cfg->path ? cfg->path : j->rec->info.path[0] ? j->rec->info.path : "/hmtp";
    const char *host = cfg->host_header ? cfg->host_header : cfg->target;
    hmtp_upgrade_write_request(&j->outq, "CONNECT", path, host);
    j->reader = hmtp_reader_new(HMTP_DEFAULT_MAX_PACKET);
    j->rbuf = g_malloc(READ_SIZE);
    flush_output(j);
    read_more(j);
}

/* PACE_ORIGINAL: a session connects this long before its first packet is
 * due, for the upgrade's round trip. */
#define CONNECT_LEAD_US 100000

/* The job's first place in its group's timeline (order.h); 0 (at once)
 * when it has none. */
static guint first_order(const replay_job *j)
{
    guint o = 0;
    if (!j->sends->len && !j->expected->len)
        return o;
    o = G_MAXUINT;
    if (j->sends->len)
        o = ((const send_item *)g_ptr_array_index(j->sends, 0))->order;
    if (j->expected->len && j->expected_order[0] < o)
        o = j->expected_order[0];
    return o;
}

static void job_connect(replay_job *j)
{
    replay_engine *e = j->eng;
    j->connecting = true;
    j->cancel = g_cancellable_new();
    e->pending_ops++;
    watch_start(j);
    g_socket_client_connect_to_host_async(e->client, e->cfg->target, 0, j->cancel, on_connected, j);
}

/* A session connects only shortly before its first packet is due, so that
 * a target which closes connections that do not log in soon (hmtp-broker's
 * login deadline) does not close it while it waits for its turn: with the
 * original pace at its recorded time less CONNECT_LEAD_US, with the
 * conversation pace when the recorded order reaches its first packet, with
 * the others at once. */
static void job_connect_when_due(replay_job *j, gint64 now)
{
    replay_engine *e = j->eng;
    if (e->target_down[0]) {
        job_finish(j, JOB_NOT_RUN, "the target was unreachable (%.270s)", e->target_down);
        return;
    }
    if (e->cfg->pace == PACE_ORIGINAL && now < j->origin_us - CONNECT_LEAD_US) {
        arm_timer(j, j->origin_us - CONNECT_LEAD_US - now);
        return;
    }
    if (j->group && !order_reached(j->group, first_order(j)))
        return; /* the group wakes the job when the order gets there */
    job_connect(j);
}

static void start_job(replay_job *j)
{
    replay_engine *e = j->eng;
    j->started = true;
    e->running++;
    if (e->cfg->pace == PACE_ORIGINAL) {
        /* the recorded offset from the round's first client packet; a job
           that got its connection slot later than that keeps only its own
           gaps, from now */
        gint64 now = g_get_monotonic_time();
        gint64 at = e->round_t0_us + (gint64)((first_send_ts(j) - e->round_ts0) / e->cfg->speed * 1e6);
        j->origin_us = at > now ? at : now;
    }
    job_schedule(j);
}

static void start_jobs(replay_engine *e)
{
    unsigned max_open = e->cfg->max_open ? e->cfg->max_open : 1;
    while (e->next_start < e->round_end && e->running < max_open) {
        replay_job *j = g_ptr_array_index(e->jobs, e->next_start++);
        if (j->outcome == JOB_NOT_REPLAYABLE || j->outcome == JOB_SKIPPED || e->target_down[0]) {
            /* reported, never connected: counts as ended for the round */
            if (j->outcome == JOB_PENDING) {
                j->outcome = JOB_NOT_RUN;
                snprintf(j->reason, sizeof j->reason, "the target was unreachable (%.270s)", e->target_down);
            }
            j->started = j->done = true;
            e->finished_in_round++;
            continue;
        }
        start_job(j);
    }
}

/* The round's clock for PACE_ORIGINAL: its first recorded client packet is
 * due now. */
static void start_round_clock(replay_engine *e)
{
    e->round_t0_us = g_get_monotonic_time();
    bool any = false;
    for (guint i = e->round_first; i < e->round_end; i++) {
        const replay_job *j = g_ptr_array_index(e->jobs, i);
        if (!j->sends->len)
            continue;
        double ts = first_send_ts(j);
        if (!any || ts < e->round_ts0)
            e->round_ts0 = ts;
        any = true;
    }
}

/* ---------------------------------------------------------------- running */

/* A refused login echoes the query: after --login-mode encrypted the echo
 * carries the EncryptedObject sent, not the recorded string, so that is what
 * the recorded echo is compared with (key material by shape, verify.c). */
static void expect_upgraded_echo(hmtp_packet *p, const hessian_value *creds)
{
    hessian_value *v = p->value;
    if (p->type != HMTP_QUERY_ERROR || !v || v->kind != HESSIAN_OBJECT || !v->v.object.cls ||
        strcmp(v->v.object.cls, HMTP_AUTH_QUERY_CLASS) != 0 ||
        !hessian_value_string(hessian_object_field(v, "_credentials")))
        return;
    hessian_object_set(v, "_credentials", (hessian_value *)creds);
}

/* A session replayed in part: the answers to its last packets, and fan-out
 * then, were recorded after the break, so replies that arrive after its
 * last client packet have nothing to be compared with. They are counted in
 * the note, not called unexpected; earlier surprises still are. */
static void excuse_lost_tail(replay_job *j)
{
    if (!j->partial[0])
        return;
    unsigned n = verify_drop_unexpected_from(&j->result, j->tail_from);
    size_t len = strlen(j->partial);
    if (n)
        snprintf(j->partial + len, sizeof j->partial - len, "; %u repl%s after its last client packet not compared", n,
                 n == 1 ? "y" : "ies");
}

void replay_engine_run(replay_engine *e)
{
    e->loop = g_main_loop_new(NULL, FALSE);
    e->client = g_socket_client_new(); /* no timeout of its own: the job's watch has --timeout */
    e->t0_us = g_get_monotonic_time();
    progress_start(e);
    unsigned loops = e->cfg->loops ? e->cfg->loops : 1;
    guint per_round = loops ? e->jobs->len / loops : 0;
    /* Rounds run one after the other: --loop N replays the capture N times. */
    for (unsigned round = 0; round < loops && per_round > 0; round++) {
        e->round_first = e->next_start = round * per_round;
        e->round_end = e->round_first + per_round;
        e->finished_in_round = 0;
        start_round_clock(e);
        start_jobs(e);
        if (e->finished_in_round < e->round_end - e->round_first || e->pending_ops)
            g_main_loop_run(e->loop);
        /* A round whose targets were unreachable will not do better next time. */
        bool unreachable = false;
        for (guint i = e->round_first; i < e->round_end; i++)
            unreachable |= ((replay_job *)g_ptr_array_index(e->jobs, i))->outcome == JOB_UNREACHABLE;
        if (unreachable)
            break;
    }
    progress_stop(e);
    e->t1_us = g_get_monotonic_time();
    for (guint i = 0; i < e->jobs->len; i++) {
        replay_job *j = g_ptr_array_index(e->jobs, i);
        if (j->outcome == JOB_PENDING) { /* rounds after one whose target was unreachable */
            j->outcome = JOB_NOT_RUN;
            snprintf(j->reason, sizeof j->reason, "the target was unreachable in an earlier round (%.255s)",
                     e->target_down);
        }
    }
    for (guint i = 0; i < e->jobs->len; i++) {
        replay_job *j = g_ptr_array_index(e->jobs, i);
        if (j->outcome != JOB_DONE && j->outcome != JOB_FAILED)
            continue;
        /* What other sessions learned matters for fan-out: a message from
           session A seen in session B names A's assigned JID. */
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, e->learned.full);
        while (g_hash_table_iter_next(&it, &k, &v))
            if (!g_hash_table_contains(j->learned.full, k))
                jid_map_add_full(&j->learned, k, v);
        verify_config vc = {e->cfg->ignore, e->cfg->window, {0}};
        for (int t = 0; t < HMTP_TYPE_COUNT; t++)
            vc.types[t] = type_compared(e->cfg, t);
        /* The recorded replies are decoded again only now, one job at a time. */
        GPtrArray *expected = g_ptr_array_new_with_free_func(expected_free);
        for (guint n = 0; n < j->expected->len; n++) {
            const rec_packet *r = g_ptr_array_index(j->expected, n);
            expected_reply *x = g_new0(expected_reply, 1);
            x->frame = r->frame;
            x->status = rec_packet_decode(j->rec, r, &x->pkt, &x->err);
            if (x->status == HMTP_OK && j->upgrade_login && j->rewrite.login_credentials)
                expect_upgraded_echo(&x->pkt, j->rewrite.login_credentials);
            g_ptr_array_add(expected, x);
        }
        for (guint n = 0; n < j->actual->len; n++) {
            actual_reply *a = g_ptr_array_index(j->actual, n);
            a->status = hmtp_packet_decode(&a->pkt, &j->stream, a->mark, a->body, a->body_len, &a->err);
        }
        verify_session(&vc, &j->rewrite, expected, j->actual, &j->result);
        excuse_lost_tail(j);
        g_ptr_array_free(expected, TRUE);
        for (guint n = 0; n < j->actual->len; n++) {
            actual_reply *a = g_ptr_array_index(j->actual, n);
            hmtp_packet_free(&a->pkt);
            hmtp_packet_init(&a->pkt);
        }
    }
}
