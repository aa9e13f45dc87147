/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>

#define BAR_WIDTH 30

static gboolean on_tick(gpointer data)
{
    progress_update(data);
    return G_SOURCE_CONTINUE;
}

void progress_start(replay_progress *p, const replay_results *r, bool on)
{
    p->results = r;
    p->on = on;
    p->timer = 0;
    if (!on)
        return;
    p->timer = g_timeout_add(200, on_tick, p);
    progress_update(p);
}

void progress_update(const replay_progress *p)
{
    if (!p->on)
        return;
    /* the settled runs: a run counts once its verdict is given */
    const replay_results *r = p->results;
    guint total = r->planned, done = r->sum.jobs;
    uint64_t sent = r->sum.sent, replies = r->sum.received;
    int filled = total ? (int)((uint64_t)done * BAR_WIDTH / total) : BAR_WIDTH;
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r[%s] %u/%u sessions, %" PRIu64 " packets sent, %" PRIu64 " replies ", bar, done, total, sent,
            replies);
    fflush(stderr);
}

void progress_stop(replay_progress *p)
{
    if (!p->on)
        return;
    if (p->timer)
        g_source_remove(p->timer);
    p->timer = 0;
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
}
