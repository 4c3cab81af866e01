/* A compiled tree ensemble: the one flat, cache-friendly layout every tree
 * model (tree, forest, gbdt) is turned into after training, and the code
 * that works on it: batch and single-row prediction, exact TreeSHAP
 * contributions, feature importance, save/load. Written once here so the
 * families only differ in how they grow their trees.
 *
 * Layout. All trees' nodes sit in one array; tree t owns nodes
 * [tree_start[t], tree_start[t+1]) and its root is the first of them. Node
 * indices in `child` are tree-local: a split sends a row to child (left) or
 * child + 1 (right), so children always follow their parent (a loader checks
 * child > own index, which rules out cycles). A numeric split goes left when
 * x <= threshold; a categorical split goes left when bit x of the bitset at
 * cats[u.cats ...] is set (words of 32 bits, ceil(n_categories/32) words). A
 * missing value (NaN, or a category code outside the bitset) goes left when
 * the node has VG_ENS_MISSING_LEFT: the direction learned in training.
 *
 * Outputs. Leaf l holds leaf_width values at leaves[l * leaf_width]. When
 * leaf_width == n_outputs each leaf adds to every output (forest: class
 * probabilities); when leaf_width == 1 tree t adds to output tree_output[t]
 * (gbdt: one tree per class per round). The raw score is
 *     raw[o] = base[o] + scale * sum over trees of their leaf values for o
 * and `link` turns raw scores into class probabilities:
 *     VG_LINK_PROBA    raw scores are already probabilities (n_outputs = n_classes)
 *     VG_LINK_SIGMOID  one output, the log-odds of class 1 (2 classes)
 *     VG_LINK_SOFTMAX  one output per class (log-odds up to a constant)
 *     VG_LINK_IDENTITY regression: one output, the prediction itself
 *
 * Per node the ensemble keeps `cover` (training weight, or hessian sum for
 * gbdt, that reached the node; TreeSHAP needs it) and `gain` (the loss or
 * impurity reduction of the split, weighted; 0 for leaves).
 *
 * The struct and every array live in one allocation (vg_ensemble_alloc). */
#ifndef VG_MODELS_ENSEMBLE_H
#define VG_MODELS_ENSEMBLE_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/buf.h"
#include "vigil/core.h"
#include "vigil/matrix.h"

typedef enum vg_link {
    VG_LINK_PROBA = 0,
    VG_LINK_SIGMOID = 1,
    VG_LINK_SOFTMAX = 2,
    VG_LINK_IDENTITY = 3
} vg_link;

#define VG_ENS_MISSING_LEFT 1u
#define VG_ENS_CATEGORICAL 2u

typedef struct vg_ens_node {
    int32_t feature;          /* split feature, or -1 for a leaf */
    uint32_t child;           /* split: tree-local left child (right = child + 1); leaf: global leaf index */
    union {
        float threshold;      /* numeric split */
        uint32_t cats;        /* categorical split: offset of its bitset in cats[] */
    } u;
    uint32_t flags;           /* VG_ENS_MISSING_LEFT | VG_ENS_CATEGORICAL */
} vg_ens_node;

typedef struct vg_ensemble {
    uint32_t n_features;      /* columns of X */
    uint32_t n_classes;       /* 2+ for classification, 1 for regression */
    uint32_t n_outputs;       /* raw scores per row */
    uint32_t leaf_width;      /* 1 or n_outputs */
    uint32_t n_trees, n_nodes, n_leaves, n_cat_words;
    vg_link link;
    float scale;
    float *base;              /* n_outputs */
    uint32_t *tree_start;     /* n_trees + 1 */
    int32_t *tree_output;     /* n_trees (used when leaf_width == 1) */
    vg_ens_node *nodes;       /* n_nodes */
    float *cover;             /* n_nodes */
    float *gain;              /* n_nodes */
    float *leaves;            /* n_leaves * leaf_width */
    uint32_t *cats;           /* n_cat_words */
    uint32_t *n_categories;   /* n_features: categories of a categorical column (0 = numeric) */
    /* The batch layout (ensemble_predict.c), derived from the arrays above by
     * the first batch prediction and kept until vg_ensemble_free: so an
     * ensemble must not change once it has predicted. Not saved. */
    void *batch;
} vg_ensemble;

/* Allocate an ensemble with every array sized (zeroed; base zero, scale 1,
 * tree_output 0). The producer fills the arrays. */
vg_status vg_ensemble_alloc(uint32_t n_features, uint32_t n_classes, uint32_t n_outputs, uint32_t leaf_width,
                            uint32_t n_trees, uint32_t n_nodes, uint32_t n_leaves, uint32_t n_cat_words,
                            vg_ensemble **out);
void vg_ensemble_free(vg_ensemble *e);
/* Drop the batch layout (vg_ensemble_free does; ensemble_predict.c). */
void vg_ensemble_batch_free(vg_ensemble *e);

/* Check every link, index and count (used by load and by tests of producers):
 * VG_OK or VG_ERR_FORMAT with a message. */
vg_status vg_ensemble_validate(const vg_ensemble *e);

/* Raw scores: raw is rows x n_outputs. Trees are summed in order, so the
 * result is bit-identical whatever the thread count. */
void vg_ensemble_raw(const vg_ensemble *e, const vg_matrix *X, int threads, float *raw);
/* The same for one row (n_features floats): the single-record fast path. */
void vg_ensemble_raw_row(const vg_ensemble *e, const float *row, float *raw);
/* Class probabilities from raw scores (rows x n_classes; regression copies
 * the prediction). */
void vg_ensemble_link(const vg_ensemble *e, const float *raw, size_t rows, float *proba);
/* raw + link in one call: proba is rows x n_classes (regression: rows x 1). */
void vg_ensemble_predict(const vg_ensemble *e, const vg_matrix *X, int threads, float *proba);

/* Exact TreeSHAP: contributions of each feature to each raw output for one
 * row. phi is (n_features + 1) x n_outputs, row-major by feature; the last
 * row is the bias (expected raw score), and for every output o
 *     sum_f phi[f][o] + bias[o] == raw[o]   (to float rounding).
 * Errors: VG_ERR_NOMEM. */
vg_status vg_ensemble_shap(const vg_ensemble *e, const float *row, double *phi);

typedef enum vg_importance_kind {
    VG_IMPORTANCE_GAIN = 0,   /* total gain of the splits on a feature */
    VG_IMPORTANCE_COVER = 1,  /* total cover of the splits on a feature */
    VG_IMPORTANCE_SPLITS = 2  /* number of splits on a feature */
} vg_importance_kind;

/* Per-feature importance (n_features doubles), not normalised. */
void vg_ensemble_importance(const vg_ensemble *e, vg_importance_kind kind, double *out);

vg_status vg_ensemble_save(const vg_ensemble *e, vg_wbuf *w);
vg_status vg_ensemble_load(vg_rbuf *r, vg_ensemble **out);
/* "trees", "nodes", "leaves", "max_depth" lines. */
void vg_ensemble_describe(const vg_ensemble *e, vg_wbuf *out);

#endif
