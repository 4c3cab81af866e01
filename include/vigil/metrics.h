/* Classification metrics from true classes and predicted probabilities:
 * accuracy, precision, recall, F1 (binary: of the positive class, index 1;
 * multiclass: macro), FPR, ROC-AUC (multiclass: one-vs-rest macro), PR-AUC
 * (average precision; multiclass: one-vs-rest macro), log loss, the confusion
 * matrix and a per-class report. Definitions follow scikit-learn's so figures
 * can be compared directly; tests check them against it. */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_class_report {
    /* precision, recall, f1, fpr: 0 where undefined (scikit-learn's
     * zero_division=0); roc_auc, pr_auc: one-vs-rest, NaN when the class has
     * no positive or no negative rows. */
    double precision, recall, f1, fpr, roc_auc, pr_auc;
    size_t support;                        /* true rows of this class */
    size_t predicted;                      /* rows predicted as this class */
} vg_class_report;

typedef struct vg_metrics {
    uint32_t n_classes;
    size_t rows;
    double accuracy;
    /* binary: of the positive class; multiclass: macro. Macro means (and
     * macro_f1) run over the classes present in the truth or the
     * predictions, scikit-learn's default label set. */
    double precision, recall, f1, fpr;
    double macro_f1, weighted_f1;
    double roc_auc, pr_auc, log_loss;      /* NaN where undefined */
    size_t *confusion;                     /* n_classes x n_classes, rows = truth; owned */
    vg_class_report *per_class;            /* n_classes entries; owned */
} vg_metrics;

/* y: true class per row; proba: rows x n_classes row-major. The predicted
 * class is the argmax (lowest index on ties). Fills *out (free with
 * vg_metrics_free). Errors: VG_ERR_INVALID for rows == 0, n_classes < 2 or
 * a class index out of range. */
VG_API vg_status vg_metrics_compute(const int32_t *y, const float *proba, size_t rows,
                             uint32_t n_classes, vg_metrics *out);
/* The same with the predicted class of each row given (decided: rows
 * entries, e.g. from vg_decision_labels, so every count follows the model's
 * decision rule and threshold); NULL = the argmax. The areas and log loss
 * still come from proba. */
VG_API vg_status vg_metrics_compute_decided(const int32_t *y, const float *proba, const int32_t *decided, size_t rows,
                                     uint32_t n_classes, vg_metrics *out);
/* The same for an anomaly model: two classes (0 normal, 1 anomaly), one
 * score per row (higher = more anomalous, any scale) and the decided class of
 * each row; the areas rank by the score, log_loss is NaN. */
VG_API vg_status vg_metrics_compute_scores(const int32_t *y, const float *score, const int32_t *decided, size_t rows,
                                           vg_metrics *out);
VG_API void vg_metrics_free(vg_metrics *m);

/* Binary building blocks. is_pos: 1 for positive rows. Return NaN when only
 * one class is present. */
VG_API double vg_roc_auc(const uint8_t *is_pos, const float *score, size_t n);
VG_API double vg_average_precision(const uint8_t *is_pos, const float *score, size_t n);

/* Readable report: the headline figures, the confusion matrix and the
 * per-class table, appended to `out` as text. */
VG_API void vg_metrics_format(const vg_metrics *m, const char *const *class_names, vg_wbuf *out);


/* Regression: a numeric label predicted as a number. */
typedef struct vg_regression_metrics {
    size_t rows;
    double rmse, mae, r2;       /* r2 is NaN when the targets are constant */
    double mean_target;
} vg_regression_metrics;

/* Errors: VG_ERR_INVALID for rows == 0 or a non-finite value. */
VG_API vg_status vg_regression_metrics_compute(const float *target, const float *prediction, size_t rows,
                                        vg_regression_metrics *out);
VG_API void vg_regression_metrics_format(const vg_regression_metrics *m, vg_wbuf *out);

#ifdef __cplusplus
}
#endif

#endif
