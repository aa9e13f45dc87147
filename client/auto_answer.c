/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "auto_answer.h"

#include <stdlib.h>

bool auto_answer_set(auto_answer **list, size_t *n, int32_t trigger, const struct scn_stmt *stmt)
{
    for (size_t i = 0; i < *n; i++)
        if ((*list)[i].trigger == trigger) {
            (*list)[i] = (*list)[--*n];
            break;
        }
    if (!stmt)
        return true;
    auto_answer *a = realloc(*list, (*n + 1) * sizeof *a);
    if (!a)
        return false;
    *list = a;
    a[*n].trigger = trigger;
    a[*n].stmt = stmt;
    ++*n;
    return true;
}

void auto_answers_free(auto_answer *a, size_t n)
{
    (void)n; /* the statements belong to the scenario */
    free(a);
}
