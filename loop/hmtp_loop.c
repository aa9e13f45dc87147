/* SPDX-License-Identifier: GPL-2.0-or-later */
/* See loop.h. Watches live in an array indexed by descriptor; each carries
 * a generation that travels in the epoll event, so an event for a descriptor
 * that was closed and reused earlier in the same batch reaches nobody.
 * Timers are a min-heap on (due, sequence): equal deadlines fire in the order
 * they were set, and a pass fires only timers set before it began, so a
 * callback that sets a 0 ms timer cannot keep the loop from polling. */
#include "hmtp_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

typedef struct loop_watch {
    hmtp_loop_fd_fn fn;
    void *ctx;
    uint32_t gen;
    bool used;
} loop_watch;

struct hmtp_timer {
    uint64_t due, seq;
    size_t at; /* index in the heap */
    hmtp_loop_timer_fn fn;
    void *ctx;
};

struct hmtp_loop {
    int ep;
    loop_watch *watches;
    size_t watches_cap;
    size_t watched;
    uint32_t next_gen;
    hmtp_timer **heap;
    size_t heap_len, heap_cap;
    uint64_t next_seq;
    bool quit;
};

uint64_t hmtp_loop_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

hmtp_loop *hmtp_loop_new(void)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return NULL;
    hmtp_loop *l = g_new0(hmtp_loop, 1);
    l->ep = ep;
    return l;
}

void hmtp_loop_free(hmtp_loop *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->heap_len; i++)
        g_free(l->heap[i]);
    g_free(l->heap);
    g_free(l->watches);
    close(l->ep);
    g_free(l);
}

static uint32_t to_epoll(unsigned events)
{
    return ((events & HMTP_LOOP_IN) ? EPOLLIN : 0u) | ((events & HMTP_LOOP_OUT) ? EPOLLOUT : 0u);
}

static unsigned from_epoll(uint32_t ev)
{
    return ((ev & EPOLLIN) ? HMTP_LOOP_IN : 0u) | ((ev & EPOLLOUT) ? HMTP_LOOP_OUT : 0u) |
           ((ev & (EPOLLHUP | EPOLLRDHUP)) ? HMTP_LOOP_HUP : 0u) | ((ev & EPOLLERR) ? HMTP_LOOP_ERR : 0u);
}

bool hmtp_loop_watch(hmtp_loop *l, int fd, unsigned events, hmtp_loop_fd_fn fn, void *ctx)
{
    if (fd < 0) {
        errno = EBADF;
        return false;
    }
    if ((size_t)fd >= l->watches_cap) {
        size_t cap = l->watches_cap ? l->watches_cap : 64;
        while (cap <= (size_t)fd)
            cap *= 2;
        l->watches = g_renew(loop_watch, l->watches, cap);
        memset(l->watches + l->watches_cap, 0, (cap - l->watches_cap) * sizeof *l->watches);
        l->watches_cap = cap;
    }
    loop_watch *w = &l->watches[fd];
    bool fresh = !w->used;
    uint32_t gen = fresh ? ++l->next_gen : w->gen;
    struct epoll_event ev = {.events = to_epoll(events), .data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd};
    if (epoll_ctl(l->ep, fresh ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0)
        return false;
    *w = (loop_watch){.fn = fn, .ctx = ctx, .gen = gen, .used = true};
    if (fresh)
        l->watched++;
    return true;
}

void hmtp_loop_unwatch(hmtp_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->watches_cap || !l->watches[fd].used)
        return;
    epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    l->watches[fd].used = false;
    l->watched--;
}

/* ---- the timer heap */

static bool before(const hmtp_timer *a, const hmtp_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(hmtp_loop *l, size_t i, hmtp_timer *t)
{
    l->heap[i] = t;
    t->at = i;
}

static void sift_up(hmtp_loop *l, size_t i)
{
    hmtp_timer *t = l->heap[i];
    while (i > 0 && before(t, l->heap[(i - 1) / 2])) {
        heap_set(l, i, l->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(l, i, t);
}

static void sift_down(hmtp_loop *l, size_t i)
{
    hmtp_timer *t = l->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= l->heap_len)
            break;
        if (c + 1 < l->heap_len && before(l->heap[c + 1], l->heap[c]))
            c++;
        if (!before(l->heap[c], t))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, t);
}

static void heap_remove(hmtp_loop *l, hmtp_timer *t)
{
    size_t i = t->at;
    hmtp_timer *last = l->heap[--l->heap_len];
    if (last == t)
        return;
    heap_set(l, i, last);
    sift_down(l, i);
    sift_up(l, last->at);
}

hmtp_timer *hmtp_loop_timer(hmtp_loop *l, uint64_t ms, hmtp_loop_timer_fn fn, void *ctx)
{
    if (l->heap_len == l->heap_cap) {
        l->heap_cap = l->heap_cap ? l->heap_cap * 2 : 64;
        l->heap = g_renew(hmtp_timer *, l->heap, l->heap_cap);
    }
    hmtp_timer *t = g_new(hmtp_timer, 1);
    *t = (hmtp_timer){.due = hmtp_loop_now_ms() + ms, .seq = l->next_seq++, .fn = fn, .ctx = ctx};
    l->heap_len++;
    heap_set(l, l->heap_len - 1, t);
    sift_up(l, l->heap_len - 1);
    return t;
}

void hmtp_loop_cancel(hmtp_loop *l, hmtp_timer *t)
{
    if (!t)
        return;
    heap_remove(l, t);
    g_free(t);
}

/* Fires the timers that are due and were set before this pass. */
static void fire_due(hmtp_loop *l)
{
    uint64_t now = hmtp_loop_now_ms(), seq_limit = l->next_seq;
    while (!l->quit && l->heap_len && l->heap[0]->due <= now && l->heap[0]->seq < seq_limit) {
        hmtp_timer *t = l->heap[0];
        hmtp_loop_timer_fn fn = t->fn;
        void *ctx = t->ctx;
        heap_remove(l, t);
        g_free(t);
        fn(ctx);
    }
}

bool hmtp_loop_run(hmtp_loop *l)
{
    struct epoll_event evs[256];
    l->quit = false;
    while (!l->quit && (l->watched || l->heap_len)) {
        int timeout = -1;
        if (l->heap_len) {
            uint64_t now = hmtp_loop_now_ms(), due = l->heap[0]->due;
            timeout = due <= now ? 0 : (due - now > INT32_MAX ? INT32_MAX : (int)(due - now));
        }
        int n = epoll_wait(l->ep, evs, (int)G_N_ELEMENTS(evs), timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        for (int i = 0; i < n && !l->quit; i++) {
            int fd = (int)(uint32_t)evs[i].data.u64;
            uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
            if ((size_t)fd >= l->watches_cap)
                continue;
            loop_watch w = l->watches[fd];
            if (!w.used || w.gen != gen) /* unwatched, or closed and reused, earlier in this batch */
                continue;
            w.fn(w.ctx, fd, from_epoll(evs[i].events));
        }
        fire_due(l);
    }
    return true;
}

void hmtp_loop_quit(hmtp_loop *l)
{
    l->quit = true;
}
