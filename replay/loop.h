/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The replayer's event loop: readiness of file descriptors (epoll) and
 * one-shot timers (a binary heap), nothing else. It exists because GLib's
 * main loop visits every source on every iteration: with 10,000 connections,
 * each with a socket source and a timer, one iteration costs ~20,000 checks
 * and handling a single reply becomes the whole run's bottleneck (measured:
 * 35% of the replayer's time inside GMainContext at 10,000 sessions, every
 * session timed out). Here an iteration costs what is ready plus O(log n)
 * per timer.
 *
 * Single-threaded; callbacks may add, change and remove watches and timers,
 * including their own. Failures are the kernel's: they return false or NULL
 * with errno set, as the system calls below them do (the caller names what
 * it was doing). */
#ifndef REPLAY_LOOP_H
#define REPLAY_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct replay_loop replay_loop;
typedef struct replay_timer replay_timer;

enum { REPLAY_LOOP_IN = 1u, REPLAY_LOOP_OUT = 2u, REPLAY_LOOP_HUP = 4u, REPLAY_LOOP_ERR = 8u };

/* events: what is ready (REPLAY_LOOP_* bits). */
typedef void (*replay_fd_fn)(void *ctx, int fd, unsigned events);
typedef void (*replay_timer_fn)(void *ctx);

/* NULL (errno set) when the kernel refuses an epoll instance. */
replay_loop *replay_loop_new(void);
void replay_loop_free(replay_loop *l);

/* Watches fd for `events` (REPLAY_LOOP_IN/OUT; hang-ups and errors are always
 * reported), calling fn(ctx, fd, ready). Watching a watched fd again changes
 * its events and callback. false (errno set) when epoll refuses. */
bool replay_loop_watch(replay_loop *l, int fd, unsigned events, replay_fd_fn fn, void *ctx);
/* Stops watching fd (before it is closed). No callback for it runs after. */
void replay_loop_unwatch(replay_loop *l, int fd);

/* Calls fn(ctx) once, ms milliseconds from now. The handle is valid until
 * the callback starts or replay_loop_cancel; the loop owns it. */
replay_timer *replay_loop_timer(replay_loop *l, uint64_t ms, replay_timer_fn fn, void *ctx);
void replay_loop_cancel(replay_loop *l, replay_timer *t);

/* Runs until replay_loop_quit, or until nothing is watched and no timer is
 * left. false (errno set) when epoll_wait fails (EINTR is retried). */
bool replay_loop_run(replay_loop *l);
void replay_loop_quit(replay_loop *l);

/* The loop's clock: CLOCK_MONOTONIC in milliseconds. */
uint64_t replay_loop_now_ms(void);

#endif
