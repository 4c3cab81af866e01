/* Scoring one JSON record with a served model and writing its result
 * object: {"model","anomaly","score","label","probabilities"?,"warnings"?,
 * "explanation"?}.
 *
 * score, anomaly and label are the model's decision rule's (vigil/decision.h):
 * binary - the probability of the positive class; multiclass - 1 - P(normal
 * class); regression - the prediction (label: its text; an anomaly only when
 * a threshold was configured). anomaly: score >= threshold; label: the most
 * probable non-normal class of an anomaly, else the normal class. */
#ifndef VG_SERVE_DETECT_H
#define VG_SERVE_DETECT_H

#include <stddef.h>

#include "serve/arena.h"
#include "serve/catalog.h"
#include "serve/json_tape.h"
#include "serve/text.h"
#include "vigil/core.h"
#include "vigil/pipeline.h"

typedef struct vg_detect_params {
    double threshold;          /* anomaly when score >= threshold; NaN = the rule's default (0.5, none for regression) */
    size_t max_fields;         /* fields per record */
    size_t max_warnings;       /* warning strings per record */
    int explain;               /* add "explanation" */
    size_t top;                /* fields listed in the explanation */
    int missing;               /* vg_missing_policy (vigil/server.h) of the model */
} vg_detect_params;

typedef struct vg_detect_outcome {
    double score;
    int anomaly;
    const char *label;         /* class name (borrowed from the model) or arena text */
} vg_detect_outcome;

/* Score the record at node obj of t with s and append its result object to
 * out. Errors the client caused: VG_ERR_INVALID / VG_ERR_PARSE (wrong type,
 * text that is not a number), VG_ERR_LIMIT (too many fields),
 * VG_ERR_UNSUPPORTED (explanation asked of a model that cannot explain),
 * VG_ERR_DATA (refused by the reject policy: unknown field names or more than
 * half the inputs missing, all named); the message names the field. On error out is left as it was. */
vg_status vg_detect_record(const vg_served *s, const vg_jtape *t, size_t obj, const vg_detect_params *dp,
                           vg_arena *a, vg_text *out, vg_detect_outcome *res);

/* A batch in three steps, so that its records are scored together as one
 * matrix by the model's batch kernels: encode each record into its row,
 * score the rows (vg_model_predict_rows), then finish each record with its
 * scores. The result and the errors are vg_detect_record's, step by step. */
typedef struct vg_detect_pending {
    vg_field *fields;          /* the record's fields (arena) */
    size_t n;
    vg_record_report rep;
} vg_detect_pending;

/* 1 if s's records can be scored that way: dense rows of one record each
 * (not CSR rows of text n-grams, not event windows). */
int vg_detect_batchable(const vg_served *s);
/* Read the record at node obj and encode it into row (the pipeline's
 * n_features floats). Errors as vg_detect_record's reading and encoding. */
vg_status vg_detect_encode(const vg_served *s, const vg_jtape *t, size_t obj, const vg_detect_params *dp,
                           vg_arena *a, float *row, vg_detect_pending *pd);
/* Decide and append the result object from the record's scores (proba:
 * the model's outputs for it). Errors as vg_detect_record's after scoring
 * (the reject policy, explanations). */
vg_status vg_detect_finish(const vg_served *s, const vg_detect_pending *pd, const float *proba,
                           const vg_detect_params *dp, vg_arena *a, vg_text *out, vg_detect_outcome *res);

#endif
