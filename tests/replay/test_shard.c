/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --shard: the K/N parser, and the split: tied sessions in one shard, every
 * session in exactly one shard, the same answer every time, balanced work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hmtp.h"
#include "shard.h"


static void test_parse(void)
{
    shard_spec s;
    hmtp_tool_error why;
    CHECK(shard_spec_parse("2/3", &s, &why) && s.k == 2 && s.n == 3);
    CHECK(shard_spec_parse("0/1", &s, &why) && s.k == 0 && s.n == 1);
    CHECK(!shard_spec_parse("3/3", &s, &why) && strstr(why.msg, "shards are numbered 0 to 2"));
    CHECK(!shard_spec_parse("1/0", &s, &why) && strstr(why.msg, "N must be"));
    CHECK(!shard_spec_parse("x/2", &s, &why) && strstr(why.msg, "K must be"));
    CHECK(!shard_spec_parse("2", &s, &why) && strstr(why.msg, "K/N or auto/N"));
    CHECK(!shard_spec_parse("1/2x", &s, &why));
    unsetenv("JOB_COMPLETION_INDEX");
    CHECK(!shard_spec_parse("auto/4", &s, &why) && strstr(why.msg, "JOB_COMPLETION_INDEX"));
    setenv("JOB_COMPLETION_INDEX", "3", 1);
    CHECK(shard_spec_parse("auto/4", &s, &why) && s.k == 3 && s.n == 4);
    CHECK(!shard_spec_parse("auto/3", &s, &why) && strstr(why.msg, "does not exist"));
    setenv("JOB_COMPLETION_INDEX", "two", 1);
    CHECK(!shard_spec_parse("auto/4", &s, &why) && strstr(why.msg, "not a number"));
    unsetenv("JOB_COMPLETION_INDEX");
}

/* A capture's worth of facts:
 *  0 alice/phone and 1 bob/desk message each other           -> tied
 *  2 carol publishes to news@, 3 dave and 4 erin receive it  -> tied (service)
 *  5 frank and 6 gina only ping service@                     -> free
 *  7 alice/laptop: alice's second session                    -> tied to 0
 *  8 hank subscribes to news@ but receives no message        -> free
 *  9..28 twenty lone pingers                                 -> free */
static shard_plan *sample(void)
{
    shard_plan *p = shard_plan_new(29);
    const char *jids[] = {"alice@localhost/phone", "bob@localhost/desk", "carol@localhost/x", "dave@localhost/x",
                          "erin@localhost/x", "frank@localhost/x", "gina@localhost/x", "alice@localhost/laptop",
                          "hank@localhost/x"};
    for (unsigned i = 0; i < 9; i++)
        shard_plan_jid(p, i, jids[i]);
    shard_plan_packet(p, 0, REPLAY_C2S, HMTP_MESSAGE, "bob@localhost/desk", "alice@localhost/phone");
    shard_plan_packet(p, 1, REPLAY_S2C, HMTP_MESSAGE, "bob@localhost/desk", "alice@localhost/phone");
    shard_plan_packet(p, 2, REPLAY_C2S, HMTP_MESSAGE, "news@localhost", "carol@localhost/x");
    for (unsigned s = 3; s <= 4; s++) {
        shard_plan_packet(p, s, REPLAY_C2S, HMTP_PRESENCE_SUBSCRIBE, "news@localhost", NULL);
        shard_plan_packet(p, s, REPLAY_S2C, HMTP_MESSAGE, jids[s], "news@localhost");
    }
    shard_plan_packet(p, 8, REPLAY_C2S, HMTP_PRESENCE_SUBSCRIBE, "news@localhost", NULL);
    shard_plan_packet(p, 8, REPLAY_S2C, HMTP_PRESENCE_SUBSCRIBED, jids[8], "news@localhost");
    for (unsigned s = 5; s <= 6; s++)
        for (int k = 0; k < 3; k++) {
            shard_plan_packet(p, s, REPLAY_C2S, HMTP_QUERY_GET, "service@localhost", jids[s]);
            shard_plan_packet(p, s, REPLAY_S2C, HMTP_QUERY_RESULT, jids[s], "service@localhost");
        }
    shard_plan_packet(p, 7, REPLAY_C2S, HMTP_PRESENCE, NULL, NULL);
    for (unsigned s = 9; s < 29; s++) {
        char jid[64];
        snprintf(jid, sizeof jid, "lone%u@localhost/x", s);
        shard_plan_jid(p, s, jid);
        shard_plan_packet(p, s, REPLAY_C2S, HMTP_QUERY_GET, "service@localhost", jid);
        shard_plan_packet(p, s, REPLAY_S2C, HMTP_QUERY_RESULT, jid, "service@localhost");
    }
    return p;
}

static void test_split(void)
{
    for (unsigned n = 1; n <= 5; n++) {
        shard_plan *p = sample(), *q = sample();
        shard_plan_split(p, n);
        shard_plan_split(q, n);
        unsigned per[5] = {0};
        for (unsigned s = 0; s < 29; s++) {
            CHECK(shard_of(p, s) < n);
            CHECK(shard_of(p, s) == shard_of(q, s)); /* deterministic */
            per[shard_of(p, s)]++;
        }
        CHECK(shard_of(p, 0) == shard_of(p, 1));
        CHECK(shard_of(p, 0) == shard_of(p, 7));
        CHECK(shard_of(p, 2) == shard_of(p, 3) && shard_of(p, 3) == shard_of(p, 4));
        unsigned total = 0;
        for (unsigned k = 0; k < n; k++) {
            total += per[k];
            CHECK(per[k] > 0); /* 29 sessions, no group larger than 3: every shard gets some */
        }
        CHECK(total == 29);
        if (n == 3) {
            /* free sessions are spread: no shard holds more than half */
            for (unsigned k = 0; k < n; k++)
                CHECK(per[k] <= 15);
            /* 5, 6 and 8 are tied to nobody: a note names only real groups */
            const char *const *notes = shard_plan_notes(p);
            unsigned lines = 0;
            bool alice = false, news = false;
            for (; notes[lines]; lines++) {
                if (strstr(notes[lines], "sessions 0-1,7 ") && strstr(notes[lines], "alice@localhost") &&
                    strstr(notes[lines], "bob@localhost"))
                    alice = true;
                if (strstr(notes[lines], "sessions 2-4 ") && strstr(notes[lines], "news@localhost"))
                    news = true;
                CHECK(!strstr(notes[lines], "service@localhost"));
            }
            CHECK(lines == 2);
            CHECK(alice && news);
        }
        shard_plan_free(p);
        shard_plan_free(q);
    }
}

static void test_everything_tied(void)
{
    /* one publisher, everyone else subscribed: one shard gets all, others none */
    shard_plan *p = shard_plan_new(6);
    for (unsigned s = 0; s < 6; s++) {
        char jid[32];
        snprintf(jid, sizeof jid, "u%u@localhost/r", s);
        shard_plan_jid(p, s, jid);
        if (s == 0)
            shard_plan_packet(p, s, REPLAY_C2S, HMTP_MESSAGE, "news@localhost", jid);
        else
            shard_plan_packet(p, s, REPLAY_S2C, HMTP_MESSAGE, jid, "news@localhost");
    }
    shard_plan_split(p, 3);
    for (unsigned s = 1; s < 6; s++)
        CHECK(shard_of(p, s) == shard_of(p, 0));
    CHECK(shard_of(p, 0) == 0);
    CHECK(shard_plan_notes(p)[0] && strstr(shard_plan_notes(p)[0], "sessions 0-5 replayed together in shard 0"));
    shard_plan_free(p);
}

static void test_many_groups_noted_briefly(void)
{
    shard_plan *p = shard_plan_new(200);
    for (unsigned s = 0; s < 200; s += 2) {
        char a[32], b[32];
        snprintf(a, sizeof a, "a%u@localhost/r", s);
        snprintf(b, sizeof b, "b%u@localhost/r", s);
        shard_plan_jid(p, s, a);
        shard_plan_jid(p, s + 1, b);
        shard_plan_packet(p, s, REPLAY_C2S, HMTP_MESSAGE, b, a);
    }
    shard_plan_split(p, 4);
    unsigned lines = 0;
    const char *const *notes = shard_plan_notes(p);
    while (notes[lines])
        lines++;
    CHECK(lines == 21);
    CHECK(strcmp(notes[20], "and 80 more groups of tied sessions") == 0);
    unsigned per[4] = {0};
    for (unsigned s = 0; s < 200; s += 2) {
        CHECK(shard_of(p, s) == shard_of(p, s + 1));
        per[shard_of(p, s)] += 2;
    }
    for (unsigned k = 0; k < 4; k++)
        CHECK(per[k] == 50); /* equal groups: exactly balanced */
    shard_plan_free(p);
}

int main(void)
{
    test_parse();
    test_split();
    test_everything_tied();
    test_many_groups_noted_briefly();
    return check_summary("replay_shard");
}
