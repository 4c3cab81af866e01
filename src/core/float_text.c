/* Scores as text: every command prints a score as the shortest decimal that
 * reads back as the same float32 (scores are float32 values: class
 * probabilities and predictions are computed in float, and the decision
 * rule rounds 1 - P(normal) to float). So `predict`'s CSV, `serve`'s JSON
 * and `watch`'s alerts show a record's score as the same text, bit for bit,
 * and as short as it can be ("0.5", not "0.500000"). */
#include "vigil/core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int vg_float_text(double v, char *out, size_t cap)
{
    float f = (float)v;
    if (isnan(f)) return snprintf(out, cap, "nan");
    if (isinf(f)) return snprintf(out, cap, f > 0 ? "inf" : "-inf");
    /* Six digits read back exactly for most scores; nine always do. */
    for (int digits = 6; digits < 9; digits++) {
        int n = snprintf(out, cap, "%.*g", digits, (double)f);
        if (n > 0 && (size_t)n < cap && strtof(out, NULL) == f) return n;
    }
    return snprintf(out, cap, "%.9g", (double)f);
}
