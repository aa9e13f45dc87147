/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event loop of the broker and the replayer: readiness of file
 * descriptors (epoll) and one-shot timers (a binary heap), nothing else. It
 * exists because GLib's main loop visits every source on every iteration:
 * with 10,000 connections, each with a socket source and a timer, one
 * iteration costs ~20,000 checks, and serving one packet becomes the whole
 * run's bottleneck (measured on GLib's loop: 35% of the replayer's time and
 * 60% of the broker's inside GMainContext at 10,000 connections; the
 * broker's answers to one ping per link took 0.19 s for 2,000 links and
 * 8.9 s for 10,000). Here an iteration costs what is ready plus O(log n) per
 * timer.
 *
 * Single-threaded; callbacks may add, change and remove watches and timers,
 * including their own. Failures are the kernel's: they return false or NULL
 * with errno set, as the system calls below them do (the caller names what
 * it was doing). */
#ifndef HMTP_LOOP_H
#define HMTP_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hmtp_loop hmtp_loop;
typedef struct hmtp_timer hmtp_timer;

enum { HMTP_LOOP_IN = 1u, HMTP_LOOP_OUT = 2u, HMTP_LOOP_HUP = 4u, HMTP_LOOP_ERR = 8u };

/* events: what is ready (HMTP_LOOP_* bits). */
typedef void (*hmtp_loop_fd_fn)(void *ctx, int fd, unsigned events);
typedef void (*hmtp_loop_timer_fn)(void *ctx);

/* NULL (errno set) when the kernel refuses an epoll instance. */
hmtp_loop *hmtp_loop_new(void);
void hmtp_loop_free(hmtp_loop *l);

/* Watches fd for `events` (HMTP_LOOP_IN/OUT; hang-ups and errors are always
 * reported), calling fn(ctx, fd, ready). Watching a watched fd again changes
 * its events and callback. false (errno set) when epoll refuses. */
bool hmtp_loop_watch(hmtp_loop *l, int fd, unsigned events, hmtp_loop_fd_fn fn, void *ctx);
/* Stops watching fd (before it is closed). No callback for it runs after. */
void hmtp_loop_unwatch(hmtp_loop *l, int fd);

/* Calls fn(ctx) once, ms milliseconds from now. The handle is valid until
 * the callback starts or hmtp_loop_cancel; the loop owns it. */
hmtp_timer *hmtp_loop_timer(hmtp_loop *l, uint64_t ms, hmtp_loop_timer_fn fn, void *ctx);
void hmtp_loop_cancel(hmtp_loop *l, hmtp_timer *t);

/* Runs until hmtp_loop_quit, or until nothing is watched and no timer is
 * left. false (errno set) when epoll_wait fails (EINTR is retried). */
bool hmtp_loop_run(hmtp_loop *l);
void hmtp_loop_quit(hmtp_loop *l);

/* The loop's clock: CLOCK_MONOTONIC in milliseconds. */
uint64_t hmtp_loop_now_ms(void);

#endif
