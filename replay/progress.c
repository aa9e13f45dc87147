/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>

#include "engine.h"

#define BAR_WIDTH 30

static gboolean on_tick(gpointer data)
{
    progress_update(data);
    return G_SOURCE_CONTINUE;
}

void progress_start(replay_engine *e)
{
    if (!e->cfg->progress)
        return;
    e->progress_timer = g_timeout_add(200, on_tick, e);
    progress_update(e);
}

void progress_update(replay_engine *e)
{
    if (!e->cfg->progress)
        return;
    guint total = e->jobs->len, done = 0;
    uint64_t sent = 0, replies = 0;
    for (guint i = 0; i < total; i++) {
        replay_job *j = g_ptr_array_index(e->jobs, i);
        done += j->done;
        sent += j->packets_sent;
        replies += j->received_all;
    }
    int filled = total ? (int)((uint64_t)done * BAR_WIDTH / total) : BAR_WIDTH;
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r[%s] %u/%u sessions, %" PRIu64 " packets sent, %" PRIu64 " replies ", bar, done, total, sent,
            replies);
    fflush(stderr);
}

void progress_stop(replay_engine *e)
{
    if (!e->cfg->progress)
        return;
    if (e->progress_timer)
        g_source_remove(e->progress_timer);
    e->progress_timer = 0;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}
