/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The subcommands replay, learn and check: options (cli_config.h) to a
 * run and its reports. */
#ifndef REPLAY_CLI_H
#define REPLAY_CLI_H

/* argv[0] is the command name; returns the exit status (0 all matched,
 * 1 differences, 2 bad usage or unreadable capture, 3 target unreachable). */
int replay_cli_main(int argc, char **argv);
/* hmtp-replay learn (argv[0] "learn"): two runs, the fields that differ
 * between them written as an ignore file (learn.h); 0 written. */
int replay_learn_main(int argc, char **argv);
/* hmtp-replay check (argv[0] "check"): the preflight alone (preflight.h);
 * returns 0 replayable, 4 something needed first, 2 unusable or bad usage. */
int replay_check_main(int argc, char **argv);

#endif
