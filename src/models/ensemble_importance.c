/* Feature importance of a compiled ensemble (see ensemble.h): per feature,
 * the total gain, the total cover, or the number of the splits that use
 * it, summed over every tree. Unnormalised, so callers choose how to show
 * them (eval shows each feature's share of the total). */
#include "models/ensemble.h"

#include <string.h>

void vg_ensemble_importance(const vg_ensemble *e, vg_importance_kind kind, double *out)
{
    memset(out, 0, (size_t)e->n_features * sizeof *out);
    /* A kind this build does not know gives zeros rather than a guess. */
    if (kind != VG_IMPORTANCE_GAIN && kind != VG_IMPORTANCE_COVER && kind != VG_IMPORTANCE_SPLITS) return;
    for (uint32_t j = 0; j < e->n_nodes; j++) {
        const int32_t f = e->nodes[j].feature;
        if (f < 0) continue;
        out[f] += kind == VG_IMPORTANCE_GAIN ? (double)e->gain[j]
                  : kind == VG_IMPORTANCE_COVER ? (double)e->cover[j] : 1.0;
    }
}
