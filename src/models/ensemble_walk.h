/* How a row walks down one tree of a compiled ensemble (models/ensemble.h):
 * the one definition of the routing rules, shared by single-row and batch
 * prediction (ensemble.c, ensemble_predict.c) and by anything else that
 * must follow the same path (explanations).
 *
 * Numeric split: left when x <= threshold; NaN goes the learned way.
 * Categorical split: left when the bit of category x is set; a value that
 * is not a whole number in [0, n_categories) (NaN, negative, fractional,
 * too large: a category never seen in training) goes the learned way. */
#ifndef VG_MODELS_ENSEMBLE_WALK_H
#define VG_MODELS_ENSEMBLE_WALK_H

#include "models/ensemble.h"

/* Up to this many outputs, raw scores are summed in doubles on the stack;
 * past it, in the float output itself. Every path uses the same rule, so
 * they agree to the bit. */
#define VG_ENS_ACC_OUTPUTS 4096

/* 1 if category value x goes right at a categorical split on feature f
 * with its bitset at cats[off] and flags `flags`. The range test comes
 * first so that the conversion to an integer is defined (NaN fails it). */
static inline uint32_t vg_ens_cat_right(const vg_ensemble *e, int32_t f, uint32_t off, uint32_t flags, float x)
{
    uint32_t ncat = e->n_categories[f];
    if (x >= 0.0f && x < (float)ncat) {
        uint32_t c = (uint32_t)x;
        if ((float)c == x && c < ncat) return ((e->cats[off + (c >> 5)] >> (c & 31)) & 1u) ^ 1u;
    }
    return (flags & VG_ENS_MISSING_LEFT) ^ 1u;
}

/* 1 if the row goes to the right child of split nd. Numeric: NaN is the
 * only value for which `x > t` and `!(x <= t)` differ, so the first sends
 * it left and the second right; the missing flag picks one. */
static inline uint32_t vg_ens_goes_right(const vg_ensemble *e, const vg_ens_node *nd, const float *row)
{
    float x = row[nd->feature];
    if (!(nd->flags & VG_ENS_CATEGORICAL)) {
        uint32_t right_if_nan = !(x <= nd->u.threshold), left_if_nan = x > nd->u.threshold;
        return (nd->flags & VG_ENS_MISSING_LEFT) ? left_if_nan : right_if_nan;
    }
    return vg_ens_cat_right(e, nd->feature, nd->u.cats, nd->flags, x);
}

/* Global leaf index reached by one row in the tree whose root is `nodes`. */
static inline uint32_t vg_ens_leaf(const vg_ensemble *e, const vg_ens_node *nodes, const float *row)
{
    uint32_t j = 0;
    while (nodes[j].feature >= 0) j = nodes[j].child + vg_ens_goes_right(e, &nodes[j], row);
    return nodes[j].child;
}

#endif
