/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "scn_position.h"

void scn_position(const char *text, size_t len, size_t offset, unsigned *line, unsigned *column)
{
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *column = c;
}
