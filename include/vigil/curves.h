/* ROC and precision-recall curves of a binary score, for plots and for
 * choosing a threshold. One point per distinct score, highest threshold
 * first, after a starting point at threshold +inf where nothing is called
 * positive. The points are scikit-learn's roc_curve(drop_intermediate=False)
 * and precision_recall_curve (in reverse order there), except that its first
 * threshold is max(score) + 1 where ours is +inf. */
#ifndef VIGIL_CURVES_H
#define VIGIL_CURVES_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rows with score >= threshold are called positive. */
typedef struct vg_curve_point {
    double threshold;  /* +inf for the first point */
    double x, y;       /* ROC: x = FPR, y = TPR. PR: x = recall, y = precision */
    size_t tp, fp;     /* true and false positives at this threshold */
} vg_curve_point;

typedef struct vg_curve {
    vg_curve_point *points;  /* n_points entries; owned (vg_malloc), free with vg_curve_free */
    size_t n_points;         /* distinct scores + 1 */
    size_t positives, negatives;
} vg_curve;

/* is_pos: 1 for positive rows; score: higher means more likely positive.
 * ROC starts at (0, 0) and ends at (1, 1). Errors: VG_ERR_INVALID for n == 0
 * or a NaN score, VG_ERR_DATA when either class is absent (the rates are
 * undefined), VG_ERR_NOMEM. On error *out is left empty. */
VG_API vg_status vg_roc_curve(const uint8_t *is_pos, const float *score, size_t n, vg_curve *out);

/* Precision-recall: starts at (recall 0, precision 1), then one point per
 * threshold down to the lowest score (recall 1). Errors as vg_roc_curve,
 * VG_ERR_DATA only when there are no positives. */
VG_API vg_status vg_pr_curve(const uint8_t *is_pos, const float *score, size_t n, vg_curve *out);

/* Frees the points and zeroes *c; accepts NULL and an empty curve. */
VG_API void vg_curve_free(vg_curve *c);

#ifdef __cplusplus
}
#endif

#endif
