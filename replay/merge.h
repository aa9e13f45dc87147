/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hmtp-replay merge REPORT.json...: joins the JSON reports of the shards of
 * one replay (--shard K/N) into one report, written by the same writers as a
 * replay's (report.h), with the exit status by the same rules (results.h).
 * It refuses (exit 2) reports of different captures or splits, a shard
 * missing or given twice, and a session in two shards. */
#ifndef REPLAY_MERGE_H
#define REPLAY_MERGE_H

/* argv[0] is "merge"; returns the exit status. */
int replay_merge_main(int argc, char **argv);

#endif
