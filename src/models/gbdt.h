/* Gradient-boosted trees ("gbdt"), shared by its three files: gbdt.c (the
 * estimator: parameters, the boosting loop, early stopping, the compiled
 * model), gbdt_grow.c (growing one tree on binned data from per-row
 * gradient pairs) and gbdt_objective.c (losses, gradients, base scores).
 *
 * The training data is binned once (models/bins.h) into one-byte codes. A
 * histogram holds a (gradient, hessian) pair of doubles per (feature, bin);
 * feature f's bins sit at hist_off[f], its value bins first and then, when
 * the column holds NaN, its missing bin. */
#ifndef VG_MODELS_GBDT_H
#define VG_MODELS_GBDT_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/estimator.h"
#include "models/bins.h"

/* ---- parameters (XGBoost / LightGBM / scikit-learn names) ---- */

typedef enum vg_gbdt_objective {
    VG_GBDT_AUTO = 0,        /* binary for 2 classes, multiclass for more, regression for 1 */
    VG_GBDT_BINARY = 1,      /* logistic loss, one tree per round */
    VG_GBDT_MULTICLASS = 2,  /* softmax loss, one tree per class per round */
    VG_GBDT_REGRESSION = 3   /* squared error */
} vg_gbdt_objective;

typedef enum vg_gbdt_policy { VG_GBDT_DEPTHWISE = 0, VG_GBDT_LOSSGUIDE = 1 } vg_gbdt_policy;

typedef struct vg_gbdt_params {
    uint32_t n_estimators;        /* boosting rounds */
    double learning_rate;         /* shrinkage of every leaf */
    uint32_t max_depth;           /* 0 = unlimited (lossguide only) */
    uint32_t max_leaves;          /* 0 = no limit */
    vg_gbdt_policy grow_policy;
    double min_child_weight;      /* least hessian sum in a child */
    double reg_lambda, reg_alpha; /* L2 and L1 penalties on leaf weights */
    double gamma;                 /* least gain of a split */
    double subsample;             /* fraction of rows drawn per round */
    double colsample_bytree;      /* fraction of features drawn per tree */
    uint32_t max_bins;            /* 2..256 */
    double scale_pos_weight;      /* binary: weight of the positive class */
    uint32_t early_stopping;      /* rounds without improvement; 0 = off */
    double validation_fraction;   /* held out when early stopping */
    /* categorical splits (LightGBM's names and meaning) */
    uint32_t max_cat_to_onehot;   /* at most this many categories: one against the rest */
    uint32_t max_cat_threshold;   /* most categories on the side a split collects */
    double cat_smooth;            /* least rows of a category to be placed; added to H in its sort key */
    double cat_l2;                /* extra L2 penalty in categorical gains */
    double min_data_per_group;    /* least rows between two split points tried */
    vg_gbdt_objective objective;
    int base_score_auto;          /* 1: from the label prior; else base_score */
    double base_score;            /* binary: a probability; multiclass: a raw score; regression: a value */
} vg_gbdt_params;

/* ---- the binned training problem ---- */

/* Two views of the same codes. Column-major one-byte codes serve
 * partitioning (a split reads one column over a node's ascending rows) and
 * routing. Histograms read sparse rows instead: for each row, the global
 * histogram slots of its codes except each feature's most frequent bin
 * (most of a row in security data: counts and flags that are mostly zero);
 * a histogram recovers those bins as the node's total minus the rest. */
typedef struct vg_gbdt_data {
    uint32_t n_rows, n_features;
    const vg_bins *bins;          /* borrowed */
    const uint8_t *codes;         /* borrowed: n_features x n_rows, column-major */
    uint32_t *hist_off;           /* n_features + 1: feature f's slots */
    uint32_t n_slots;             /* histogram slots over all features */
    uint32_t *dflt;               /* n_features: slot of each feature's most frequent bin */
    uint64_t *row_start;          /* n_rows + 1 into the slots below */
    uint16_t *slot16;             /* row-wise slots when n_slots <= 65536, else NULL */
    uint32_t *slot32;             /* otherwise */
} vg_gbdt_data;

/* Build the sparse rows and offsets for binned codes (n_features x n_rows,
 * column-major, borrowed with bins). Errors: VG_ERR_NOMEM, VG_ERR_LIMIT. */
vg_status vg_gbdt_data_build(const vg_bins *bins, const uint8_t *codes, uint32_t n_rows, int threads,
                             vg_gbdt_data *out);
void vg_gbdt_data_free(vg_gbdt_data *d);

/* ---- a grown tree, in the order its nodes were made ---- */

typedef struct vg_gbdt_node {
    int32_t feature;     /* split feature, or -1 for a leaf */
    uint32_t child;      /* split: left child (right = child + 1) */
    uint32_t route;      /* split: offset of its 256-byte code -> goes-left table in the tree's `left` */
    uint32_t flags;      /* VG_ENS_MISSING_LEFT | VG_ENS_CATEGORICAL (models/ensemble.h) */
    uint32_t bin;        /* numeric split: codes <= bin go left */
    float value;         /* leaf: weight times learning rate */
    float cover;         /* hessian sum */
    float gain;          /* split gain (0 for a leaf) */
    uint32_t begin, end; /* the node's rows in the row list the tree was grown on */
    double G, H;         /* gradient and hessian sums of those rows */
} vg_gbdt_node;

typedef struct vg_gbdt_tree {
    uint32_t n_nodes, nodes_cap;
    vg_gbdt_node *nodes;
    uint8_t *left;       /* per split, 256 entries: 1 if a row with that code goes left */
    uint32_t n_left, left_cap;
} vg_gbdt_tree;

void vg_gbdt_tree_free(vg_gbdt_tree *t);  /* frees the arrays, zeroes *t */

/* Leaf node reached by row r of column-major codes (n_features x n_rows). */
static inline uint32_t vg_gbdt_tree_leaf(const vg_gbdt_tree *t, const uint8_t *codes, size_t n_rows, uint32_t r)
{
    uint32_t j = 0;
    while (t->nodes[j].feature >= 0) {
        const vg_gbdt_node *nd = &t->nodes[j];
        j = nd->child + (t->left[nd->route + codes[(size_t)nd->feature * n_rows + r]] ^ 1u);
    }
    return j;
}

/* ---- the grower ---- */

typedef struct vg_gbdt_grower vg_gbdt_grower;

/* Scratch for growing trees on d with p's limits on `threads` threads.
 * Errors: VG_ERR_NOMEM. */
vg_status vg_gbdt_grower_new(const vg_gbdt_data *d, const vg_gbdt_params *p, int threads, vg_gbdt_grower **out);
void vg_gbdt_grower_free(vg_gbdt_grower *g);

/* Grow one tree on rows[0..n) (ascending row numbers; partitioned in place
 * so that each leaf's rows are rows[begin..end)), from gradient pairs gh
 * (n_rows x 2 floats: gradient, hessian), splitting only on features with
 * use[f] != 0. Leaf values are already multiplied by the learning rate.
 * *out is reset and filled (its arrays are reused between calls).
 * Errors: VG_ERR_NOMEM. */
vg_status vg_gbdt_grow(vg_gbdt_grower *g, const float *gh, uint32_t *rows, uint32_t n, const uint8_t *use,
                       vg_gbdt_tree *out);

/* ---- objectives ---- */

/* Targets of the training rows: classes (binary and multiclass) or numbers
 * (regression), with per-row weights (NULL = 1), scale_pos_weight folded in
 * for the binary loss. K: raw scores per row. */
typedef struct vg_gbdt_labels {
    vg_gbdt_objective objective;  /* never AUTO */
    uint32_t K;
    const int32_t *y;             /* classification */
    const float *target;          /* regression */
    const float *weight;          /* may be NULL */
    double scale_pos_weight;
} vg_gbdt_labels;

/* The constant raw score(s) minimising the weighted loss over rows[0..n)
 * (log-odds of the prior, log class priors, the mean), or the user's
 * base_score mapped to a raw score. base: K floats. Errors: VG_ERR_DATA when
 * the rows carry no weight. */
vg_status vg_gbdt_base_score(const vg_gbdt_labels *lb, const vg_gbdt_params *p, const uint32_t *rows, uint32_t n,
                             float *base);

/* Gradient pairs of the loss at raw (n_rows x K doubles) for rows[0..n):
 * gh is K x n_rows x 2 floats, output k's pairs at gh + k * n_rows * 2.
 * Runs on `threads` threads; each row is computed alone, so the result
 * does not depend on them. */
void vg_gbdt_gradients(const vg_gbdt_labels *lb, const double *raw, const uint32_t *rows, uint32_t n,
                       uint32_t n_rows, int threads, float *gh);

/* Weighted mean loss over rows[0..n) (log loss, multiclass log loss, or
 * squared error), summed in row order. */
double vg_gbdt_loss(const vg_gbdt_labels *lb, const double *raw, const uint32_t *rows, uint32_t n);

/* Name of the loss for describe ("logloss", "mlogloss", "rmse" is reported
 * as its square root by the caller). */
const char *vg_gbdt_objective_name(vg_gbdt_objective o);

#endif
