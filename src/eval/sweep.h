/* Internal to eval/: the threshold sweep behind ROC-AUC, average precision and
 * the curve points. The scores are sorted once (radix sort on an order-
 * preserving integer image of the float, label packed in the low bit), then
 * vg_sweep_next walks the distinct thresholds from the highest down, giving
 * the cumulative true and false positives at each, which is all those
 * figures need. Equal scores form one threshold, so ties are handled the
 * way scikit-learn's _binary_clf_curve handles them. */
#ifndef VIGIL_EVAL_SWEEP_H
#define VIGIL_EVAL_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

typedef struct vg_sweep {
    uint64_t *keys;              /* n sorted keys, ascending; owned (vg_malloc) */
    size_t n;
    size_t positives, negatives;
    size_t next;                 /* keys not yet visited: [0, next) */
    size_t tp, fp;               /* running counts */
} vg_sweep;

/* Sort n scores read as score[i * stride] with labels is_pos[i] (non-zero =
 * positive). Errors: VG_ERR_INVALID for n == 0 or a NaN score (message names
 * the row), VG_ERR_NOMEM. On error *s is left empty (vg_sweep_free is safe). */
vg_status vg_sweep_init(const uint8_t *is_pos, const float *score, size_t stride, size_t n,
                        vg_sweep *s);

/* Step to the next distinct threshold, highest first. Sets *threshold and
 * the cumulative *tp, *fp of rows scoring >= it. Returns 0 once all
 * thresholds have been visited. */
int vg_sweep_next(vg_sweep *s, float *threshold, size_t *tp, size_t *fp);

void vg_sweep_free(vg_sweep *s);

#endif
