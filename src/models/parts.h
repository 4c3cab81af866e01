/* The parts of an ensemble over other families (vote, stack, bagging): which
 * families it holds and their parameters, and each fitted part behind the
 * same estimator vtable as any model, so a wrapper never knows which family
 * a part is.
 *
 * Parameters. A wrapper's parameter block has a fixed size (the vtable has
 * no params_free), so the parts are kept as text: their names and the
 * "part.key=value" strings given for them, each checked when given by
 * applying it to a fresh parameter block of that family. A key "gbdt.x"
 * goes to every part named gbdt.
 *
 * Encoding. The wrapper's pipeline gives native rows (numbers imputed,
 * categories as codes: what the tree families read). A part whose family
 * wants one-hot, standardised rows (logreg, svm, mlp, knn) gets them from a
 * small encoder fitted on the wrapper's training rows only and saved with
 * the part, so a vote of gbdt and logreg gives each the rows it was made
 * for; its explanations are folded back onto the native columns.
 *
 * Explanations in probability units. Families explain different raw scores
 * (forest: probabilities; gbdt and logreg: log-odds). To add parts up, each
 * part's contributions to a class are rescaled so that they sum to the
 * change from the probability at the bias (the link applied to the bias
 * scores) to the row's probability; the bias becomes that probability. For
 * a part that already explains probabilities this is the identity. */
#ifndef VG_MODELS_PARTS_H
#define VG_MODELS_PARTS_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/estimator.h"

#define VG_PARTS_MAX 16       /* parts per wrapper */
#define VG_PARTS_MAX_KV 32    /* part parameters per wrapper */
#define VG_PARTS_KV_LEN 128   /* "part.key=value" bytes, with the terminator */
#define VG_PARTS_NAME_LEN 32

/* What an encoder part does to a numeric column before standardising it
 * (the wrapper's `transform` parameter). log1p: sign(x) log(1 + |x|), for
 * byte and packet counts whose spread over orders of magnitude would leave
 * all but a few rows at one point of a standardised column (see parts.c). */
enum { VG_PART_TRANSFORM_NONE = 0, VG_PART_TRANSFORM_LOG1P = 1 };

typedef struct vg_parts_spec {
    uint32_t n;
    uint32_t transform;  /* VG_PART_TRANSFORM_*, for the encoder parts */
    char names[VG_PARTS_MAX][VG_PARTS_NAME_LEN];
    uint32_t n_kv;
    char kv[VG_PARTS_MAX_KV][VG_PARTS_KV_LEN];
} vg_parts_spec;

/* Set the parts from "a,b,c" or "a+b+c" (wrapper: its name, for messages). Each must be
 * a registered family of dense single rows (not a window family, and not a
 * wrapper of parts itself) that classifies with labels or scores anomalies
 * (the wrapper decides whether it takes anomaly parts: vg_parts_n_anomaly).
 * Replaces the parts and drops the part parameters given so far. */
vg_status vg_parts_set_list(vg_parts_spec *s, const char *wrapper, const char *list);
/* A "part.key" parameter, or "transform" (none|log1p): *known = 0 (and VG_OK)
 * when key is neither of them; else it is checked (against each part of that
 * name) and kept. */
vg_status vg_parts_set_param(vg_parts_spec *s, const char *wrapper, const char *key, const char *value, int *known);
/* The anomaly families among the parts (vote with voting=rank takes them). */
int vg_parts_n_anomaly(const vg_parts_spec *s);
/* "a,b,c" and then ", a.key=value" for each part parameter. */
void vg_parts_describe(const vg_parts_spec *s, vg_wbuf *out);
/* Part i's parameter block: defaults, then its "name.key=value"s, checked.
 * *params is new (vg_free). */
vg_status vg_parts_params(const vg_parts_spec *s, uint32_t i, void **params);

/* A fitted part. */
typedef struct vg_part {
    const vg_estimator_kind *kind;
    void *state;
    /* One-hot + standardise encoder for ONEHOT_SCALED families, or all zero
     * (encode == 0) when the part reads the native rows as they are. */
    uint32_t n_in, n_out;       /* native columns, columns the family reads */
    uint32_t *sel, n_sel;       /* the native columns used (bagging's max_features), or NULL: all */
    int encode;                 /* 1: one-hot + standardise the used columns */
    uint32_t transform;         /* VG_PART_TRANSFORM_*, before standardising (encoder parts only) */
    uint32_t *n_cats;           /* n_in: categories of a categorical column (0 numeric) */
    double *mean, *scale;       /* n_in (numeric columns only) */
} vg_part;

/* Fit `kind` with `params` on ts (native rows); ts->X must be set. An
 * anomaly family is fitted on the rows of class 0 only (a binary task's
 * normal class), without labels, and predicts one score per row. An
 * encoder part applies `transform` (VG_PART_TRANSFORM_*) to its numeric
 * columns; a part reading native rows ignores it. With
 * rows != NULL only those n_rows rows are used (a fold, a bootstrap sample;
 * repeats allowed) and with cols != NULL only those n_cols columns (bagging's
 * max_features), in that order. The part is left zeroed on error. */
vg_status vg_part_fit(const vg_estimator_kind *kind, const void *params, uint32_t transform, const vg_train_set *ts,
                      const size_t *rows, size_t n_rows, const uint32_t *cols, uint32_t n_cols,
                      const vg_fit_options *opt, vg_part *out);
/* 1 if the part is an anomaly family (one score per row, higher = more unusual). */
int vg_part_is_anomaly(const vg_part *p);
/* Class probabilities (X->rows x n_classes; an anomaly part: X->rows scores)
 * of native rows X (the columns the part was fitted on). */
vg_status vg_part_predict(const vg_part *p, const vg_matrix *X, int threads, float *proba);
/* The same for one row. */
vg_status vg_part_predict_row(const vg_part *p, const float *row, float *proba);
/* 1 if the part can explain itself. */
int vg_part_can_explain(const vg_part *p);
/* Contributions in probability units: contrib is (n_in + 1) x n_classes,
 * row-major by feature with the bias last; for each class they sum to the
 * part's probability of it (see the opening comment). */
vg_status vg_part_explain(const vg_part *p, const float *row, uint32_t n_in, uint32_t n_classes, double *contrib);
/* The parts' contributions summed with weights w (NULL: 1/n each), as a
 * vote or a bag explains: the same layout as vg_part_explain. */
vg_status vg_parts_explain_sum(const vg_part *parts, uint32_t n, const double *w, const float *row, uint32_t n_in,
                               uint32_t n_classes, double *contrib);
/* The encoded row of a native one (width n_out); encoder parts only. */
void vg_part_encode_row(const vg_part *p, const float *row, float *out);

/* The part's own describe lines, each prefixed with `prefix` ("part 1 ")
 * so they read as the part's in `vigil inspect`. */
void vg_part_describe(const vg_part *p, const char *prefix, vg_wbuf *out);

/* Family name, encoder, the family's own bytes (length-prefixed). */
vg_status vg_part_save(const vg_part *p, vg_wbuf *w);
/* Restore a part and check it reads n_in columns and has n_classes classes;
 * an anomaly part (one score) is refused unless allow_anomaly. */
vg_status vg_part_load(vg_rbuf *r, uint32_t n_in, uint32_t n_classes, int allow_anomaly, vg_part *out);
void vg_part_free(vg_part *p);  /* zeroes *p; accepts a zeroed part */

#endif
