/* The decision rule: one model output row -> {score, label, anomaly}.
 *
 * Every command that decides (predict, eval and the reports, serve, watch and
 * the source summary, the Redis consumer) calls this module, so a record gets
 * the same score, label and anomaly flag whichever way it is scored.
 *
 *   score   binary      the probability of the positive (non-normal) class
 *           multiclass  1 - P(normal class)
 *           value       the predicted value (regression)
 *           score       an anomaly model's score (higher = more unusual; its
 *                       scale is the family's: a path-length score in [0, 1],
 *                       a distance, a reconstruction error)
 *   anomaly score >= threshold (default 0.5; a value output has no default
 *           threshold and is never an anomaly without one; an anomaly model
 *           always carries the threshold training chose from its scores)
 *   label   an anomaly: the most probable class that is not the normal one
 *           (binary: the positive class; ties: the lowest class index);
 *           not an anomaly: the normal class. A value output has no class
 *           label (label -1; callers print the value).
 * An anomaly model has two classes, normal (0) and the anomaly class (1); its
 * label is one or the other.
 * So the label and the anomaly flag never disagree: label != normal exactly
 * when anomaly is set.
 *
 * The normal class is named once, here: the class named at training with
 * --normal (kept in the model's classes); else for a binary task (--task
 * binary) its negative class, class 0 (the task chose the positive one, e.g.
 * with --positive); otherwise a class called "normal" or "benign" (any case)
 * when there is one, else class 0 (the first in the model's order). A
 * two-class model of --task label is binary with that normal class.
 *
 * The operating point: the threshold given to a command (--threshold), else
 * the one saved in the model at training (train --threshold), else 0.5. */
#ifndef VIGIL_DECISION_H
#define VIGIL_DECISION_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/labels.h"
#include "vigil/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VG_DECISION_DEFAULT_THRESHOLD 0.5

/* What an estimator's output row holds. */
typedef enum vg_output_kind {
    VG_OUTPUT_BINARY = 0,      /* two class probabilities */
    VG_OUTPUT_MULTICLASS = 1,  /* three or more class probabilities */
    VG_OUTPUT_VALUE = 2,       /* one predicted value (regression) */
    VG_OUTPUT_SCORE = 3        /* one anomaly score (a model fitted without labels) */
} vg_output_kind;

VG_API const char *vg_output_kind_str(vg_output_kind k);

/* A model's decision rule (plain data; copy freely). */
typedef struct vg_decision_rule {
    vg_output_kind kind;
    uint32_t n_outputs;        /* values per output row: the classes, or 1 (value, score) */
    int32_t normal;            /* class index of the normal class; -1 for a value */
    int32_t positive;          /* binary and score: the other class; -1 otherwise */
    double threshold;          /* anomaly when score >= threshold; NaN: never (value without a threshold) */
} vg_decision_rule;

/* One row's decision. */
typedef struct vg_decision {
    double score;
    int32_t label;             /* class index; -1 for a value output */
    int anomaly;               /* 1: score >= threshold */
} vg_decision;

/* 1 if a class named s is normal by name ("normal" or "benign", any case). */
VG_API int vg_decision_normal_name(const char *s);

/* Index of the normal class of c (rules above). */
VG_API int32_t vg_decision_normal_class(const vg_classes *c);

/* The rule for `kind` over classes c (ignored for VG_OUTPUT_VALUE) at
 * `threshold` (NaN = the default: 0.5 for class probabilities, none for a
 * value). Fails with VG_ERR_INVALID for an infinite threshold, a score rule
 * without a threshold, or a class count that does not fit the kind (binary
 * and score: 2, multiclass: 3 or more). */
VG_API vg_status vg_decision_rule_init(vg_output_kind kind, const vg_classes *c, double threshold, vg_decision_rule *out);

/* The rule of model m (its output kind and classes) at `threshold` (NaN =
 * the model's saved operating point, or the default). Errors as
 * vg_decision_rule_init. */
VG_API vg_status vg_decision_rule_for_model(const vg_model *m, double threshold, vg_decision_rule *out);

/* What model m outputs: a value (regression), an anomaly score (a family
 * with VG_ESTIMATOR_OUT_SCORE), or class probabilities (2 or more). */
VG_API vg_output_kind vg_model_output_kind(const vg_model *m);

/* The threshold at which a share `share` (0 < share <= 1) of the n scores
 * is at or above it: with the scores in descending order s1 >= s2 >= ...,
 * s_k for k = floor(share * n) (ties at s_k count too), or just above the
 * highest score when k is 0. How an anomaly model's operating point follows
 * from its contamination. NaN scores fail with VG_ERR_DATA. */
VG_API vg_status vg_threshold_at_share(const float *scores, size_t n, double share, double *threshold);

/* The decision on one output row (r->n_outputs floats, as vg_model_predict
 * writes them). */
VG_API vg_decision vg_decision_make(const vg_decision_rule *r, const float *outputs);

/* The decided class of each of `rows` output rows (rows x n_outputs) into
 * labels (rows entries). Class outputs only. */
VG_API void vg_decision_labels(const vg_decision_rule *r, const float *outputs, size_t rows, int32_t *labels);

#ifdef __cplusplus
}
#endif

#endif
