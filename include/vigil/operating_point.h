/* Operating points: the decision threshold chosen from labelled scores by a
 * goal an analyst can state, instead of the default 0.5:
 *   fpr:F            the most detections with at most a fraction F of normal rows flagged
 *   recall:R         the fewest false alarms that still catch a fraction R of attacks
 *   f1               the best F1 of the positive (non-normal) class
 *   cost:FN=a,FP=b   the least a * missed + b * false alarms
 *   alerts:R         the most detections with at most a fraction R of all rows flagged
 * The scores are the decision module's (vigil/decision.h: a binary model's
 * positive probability, else 1 - P(normal)); a row is flagged when its score
 * is >= the threshold, as on the curves of vigil/curves.h, so the chosen
 * threshold reproduces the chosen point's counts exactly on the scores it
 * was chosen from. Training chooses it on out-of-fold scores of the training
 * rows (vigil/cv.h), never on rows the model is evaluated on. */
#ifndef VIGIL_OPERATING_POINT_H
#define VIGIL_OPERATING_POINT_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_op_goal {
    VG_OP_FPR = 0,
    VG_OP_RECALL = 1,
    VG_OP_F1 = 2,
    VG_OP_COST = 3,
    VG_OP_ALERTS = 4
} vg_op_goal;

typedef struct vg_operating_point {
    vg_op_goal goal;
    double value;              /* fpr, recall, alerts: the fraction */
    double cost_fn, cost_fp;   /* cost: the price of a missed attack and of a false alarm */
} vg_operating_point;

/* What a chosen threshold gives on the scores it was chosen from. */
typedef struct vg_op_result {
    double threshold;          /* flag when score >= threshold; finite */
    size_t tp, fp, positives, negatives;
    double tpr, fpr, precision, f1, alert_rate, cost;
} vg_op_result;

/* Parse "fpr:0.01", "recall:0.95", "f1", "cost:FN=10,FP=1", "alerts:0.02".
 * VG_ERR_INVALID with a message naming the text for anything else or a
 * fraction outside (0, 1) (recall: (0, 1]), a cost not positive. */
VG_API vg_status vg_operating_point_parse(const char *s, vg_operating_point *out);

/* The canonical text of op ("fpr:0.01"), into buf (cap bytes). */
VG_API void vg_operating_point_str(const vg_operating_point *op, char *buf, size_t cap);

/* Choose the threshold for op from n labelled scores (is_pos: 1 for an
 * attack row). Ties between thresholds go to the higher one (fewer alerts).
 * When no threshold meets a bound (fpr:F below the rate of the top score's
 * ties), the threshold is just above the highest score: nothing is flagged.
 * Errors: VG_ERR_INVALID for n == 0 or a NaN score; VG_ERR_DATA when the
 * rows lack either class (there is no rate to hold). */
VG_API vg_status vg_operating_point_choose(const vg_operating_point *op, const uint8_t *is_pos, const float *score,
                                           size_t n, vg_op_result *out);

#ifdef __cplusplus
}
#endif

#endif
