/* Evaluating a model on labelled data: predictions, timings and metrics in
 * one call, shared by `vigil train --test/--split`, `eval` and `compare`. */
#ifndef VIGIL_EVALUATE_H
#define VIGIL_EVALUATE_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/metrics.h"
#include "vigil/model.h"
#include "vigil/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An anomaly model's alerts among the rows of one raw label value (an
 * attack name, "normal"): the recall per attack kind. */
typedef struct vg_label_alerts {
    char *label;               /* owned */
    size_t rows, alerts;
} vg_label_alerts;

typedef struct vg_evaluation {
    int regression;            /* 1: `regression` is filled, not `metrics` */
    int unlabelled;            /* 1: an anomaly model on data without labels: only rows, alerts */
    size_t alerts;             /* rows decided anomalous (every kind of model) */
    vg_label_alerts *by_label; /* anomaly models on labelled data: per raw label value (owned) */
    size_t n_by_label;
    vg_metrics metrics;        /* over the rows whose label the model knows */
    vg_regression_metrics reg;
    size_t rows;               /* rows in the data */
    size_t excluded;           /* rows whose label is not one of the model's classes */
    double predict_seconds;    /* pipeline + estimator over all rows */
    float *proba;              /* rows x vg_model_n_outputs (owned): probabilities, values or scores */
    int32_t *y;                /* true class per row, -1 if excluded (owned) */
    float *target;             /* regression: the true values (owned) */
    double threshold;          /* the decision rule's threshold the counts were made at (NaN: none) */
} vg_evaluation;

/* The readable report (metrics table, or regression errors) appended to out. */
VG_API void vg_evaluation_format(const vg_model *m, const vg_evaluation *e, vg_wbuf *out);

/* Predict every row of t and score the predictions. Fails if t has no
 * label column (except for an anomaly model, which then counts its alerts)
 * or no row with a known label. Free with vg_evaluation_free. */
/* Predicted classes follow the model's decision rule (vigil/decision.h) at
 * the default threshold; vg_evaluate_at takes another (NaN = default). */
VG_API vg_status vg_evaluate(const vg_model *m, const vg_table *t, int threads, vg_evaluation *out);
VG_API vg_status vg_evaluate_at(const vg_model *m, const vg_table *t, int threads, double threshold, vg_evaluation *out);
VG_API void vg_evaluation_free(vg_evaluation *e);
/* The rows the figures are over: the labelled, known rows; every row of
 * unlabelled data. */
VG_API size_t vg_evaluation_scored_rows(const vg_evaluation *e);

/* The evaluation as JSON text (DESIGN.md's --json keys: model, task, classes,
 * rows, metrics..., train_seconds, predict_seconds), vg_malloc'd. */
VG_API char *vg_evaluation_json(const vg_model *m, const vg_evaluation *e);

/* A table of the `top` fields by gain share, appended to out (nothing when
 * the family has no importance). */
VG_API void vg_importance_format(const vg_model *m, size_t top, vg_wbuf *out);

#ifdef __cplusplus
}
#endif

#endif
