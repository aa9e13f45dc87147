/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "replay_cli.h"

#include <stdio.h>

int replay_cli_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "hmtp-replay: replaying is not implemented yet\n");
    return 2;
}
