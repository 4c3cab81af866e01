/* CART classification trees over binned data, shared by the "tree" and
 * "forest" estimators: the parameters both accept, the tree builder (split
 * search on per-node class-weight histograms), and the fitted model: every
 * tree of a model packed into one allocation as flat node arrays, with
 * prediction, save/load and a description.
 *
 * Node layout. A tree is an array of 16-byte nodes; node 0 is the root. A
 * split node sends a row to `child` (left) or `child + 1` (right), so
 * children always follow their parent. A numeric split goes left when
 * x <= threshold; a categorical split goes left when the category's bit is
 * set in a bitset of ceil(n_categories / 32) words at `cats`. NaN, and a
 * category never seen in training (or not a valid code), goes to the child
 * that received more training weight, recorded as VG_CART_MISSING_LEFT. A
 * category seen in training but absent from the node goes to the child less
 * like the node's majority class (its bit says which). A leaf holds its class
 * probabilities (the weighted class fractions of its training rows) at
 * values[leaf * n_classes]. */
#ifndef VG_MODELS_CART_H
#define VG_MODELS_CART_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "vigil/estimator.h"
#include "vigil/rng.h"
#include "models/bins.h"

/* ---- parameters (scikit-learn's names) ---- */

typedef enum vg_cart_criterion { VG_CART_GINI = 0, VG_CART_ENTROPY = 1 } vg_cart_criterion;

typedef enum vg_cart_max_features {
    VG_CART_MAXF_ALL = 0,
    VG_CART_MAXF_SQRT,
    VG_CART_MAXF_LOG2,
    VG_CART_MAXF_COUNT,     /* max_features_value features */
    VG_CART_MAXF_FRACTION   /* max_features_value * n_features, at least 1 */
} vg_cart_max_features;

typedef struct vg_cart_params {
    vg_cart_criterion criterion;
    uint32_t max_depth;              /* 0 = unlimited */
    uint32_t min_samples_split;      /* >= 2 */
    uint32_t min_samples_leaf;       /* >= 1 */
    vg_cart_max_features max_features;
    double max_features_value;
    double min_impurity_decrease;    /* >= 0 */
    uint32_t max_bins;               /* 2..256 */
    /* Internal, not a user parameter: when every feature is examined, large
     * nodes keep full histograms and derive the larger child's by
     * subtraction. 0: where it pays (the default), 1: at every node, -1:
     * never. Tests compare the three. */
    int hist_subtraction;
} vg_cart_params;

void vg_cart_params_default(vg_cart_params *p);
/* Set one of the keys above from text. Returns VG_OK and *known = 1 when
 * set; VG_ERR_INVALID with a message for a bad value; VG_OK with *known = 0
 * (and nothing set) for a key this function does not know. */
vg_status vg_cart_params_set(vg_cart_params *p, const char *key, const char *value, int *known);
const char *vg_cart_params_check(const vg_cart_params *p);
/* Number of features examined per split for n_features columns.
 * VG_ERR_INVALID when an explicit count exceeds n_features. */
vg_status vg_cart_params_max_features(const vg_cart_params *p, uint32_t n_features, uint32_t *out);

/* ---- the training problem: binned columns shared by every tree ---- */

typedef struct vg_cart_data {
    uint32_t n_rows, n_features, n_classes;
    const vg_feature *features;  /* borrowed from the train set */
    const int32_t *y;            /* borrowed: n_rows classes */
    const float *weight;         /* borrowed: n_rows weights, or NULL for all 1 */
    vg_bins *bins;               /* owned */
    uint8_t *codes;              /* owned: n_features x n_rows, column-major */
} vg_cart_data;

/* Validate the train set (classes, weights, category codes) and bin it.
 * Errors: VG_ERR_INVALID (bad train set), VG_ERR_NOMEM. */
vg_status vg_cart_data_init(const vg_train_set *ts, uint32_t max_bins, int threads, vg_cart_data *out);
void vg_cart_data_free(vg_cart_data *d);

/* ---- nodes and trees ---- */

#define VG_CART_MISSING_LEFT 1u
#define VG_CART_CATEGORICAL 2u

typedef struct vg_cart_node {
    int32_t feature;          /* split feature, or -1 for a leaf */
    uint32_t child;           /* split: left child (right = child + 1); leaf: leaf index */
    union {
        float threshold;      /* numeric split: x <= threshold goes left */
        uint32_t cats;        /* categorical split: first word of the left-going bitset */
    } u;
    uint32_t flags;           /* VG_CART_MISSING_LEFT | VG_CART_CATEGORICAL */
} vg_cart_node;

/* One grown tree, its arrays in one allocation (`block`, owned). */
typedef struct vg_cart_tree {
    uint32_t n_nodes, n_leaves, n_cat_words, depth;
    vg_cart_node *nodes;      /* n_nodes */
    float *values;            /* n_leaves x n_classes */
    uint32_t *cats;           /* n_cat_words */
    void *block;
} vg_cart_tree;

void vg_cart_tree_free(vg_cart_tree *t);  /* frees the block, zeroes *t */

/* Per-thread builder: scratch sized for one data set and parameter set,
 * reused for every tree a thread grows. */
typedef struct vg_cart_builder vg_cart_builder;

vg_status vg_cart_builder_new(const vg_cart_data *d, const vg_cart_params *p, vg_cart_builder **out);
void vg_cart_builder_free(vg_cart_builder *b);
/* Rows left out of a tree's sample, carried down the tree while it grows
 * (partitioned by each split exactly as prediction would route them), and
 * the shared sums their leaves add to. Sums are fixed point (units of
 * VG_CART_OOB_ONE) so that atomic adds from many threads give the same total
 * in any order. */
#define VG_CART_OOB_ONE 1099511627776.0  /* 2^40 */
typedef struct vg_cart_oob {
    const uint32_t *rows;   /* ascending; none may have a positive weight */
    uint32_t n;
    atomic_llong *acc;      /* n_rows x n_classes */
} vg_cart_oob;

/* Grow one tree. weight: n_rows per-row weights (0 leaves a row out; a
 * bootstrap count times the row's weight for a forest). rng draws the
 * features examined at each split (unused, and may be NULL, when all are
 * examined). oob may be NULL.
 * *out is owned by the caller (vg_cart_tree_free). Errors: VG_ERR_DATA when
 * no row has a positive weight, VG_ERR_NOMEM. */
vg_status vg_cart_grow(vg_cart_builder *b, const double *weight, vg_rng *rng, const vg_cart_oob *oob,
                       vg_cart_tree *out);

/* ---- the fitted model: one or more trees ---- */

typedef struct vg_cart_model {
    uint32_t n_features, n_classes, n_trees;
    uint32_t n_nodes, n_leaves, n_cat_words;   /* totals over the trees */
    uint32_t max_depth;                        /* deepest leaf of any tree */
    uint32_t *n_categories;  /* n_features: categories of a categorical column */
    uint8_t *categorical;    /* n_features: 1 for a categorical column */
    uint32_t *tree_start;    /* n_trees + 1: tree t is nodes [tree_start[t], tree_start[t+1]) */
    vg_cart_node *nodes;     /* child indices are tree-local; leaf and cats offsets global */
    float *values;           /* n_leaves x n_classes */
    uint32_t *cats;          /* n_cat_words */
} vg_cart_model;             /* the struct and its arrays are one allocation */

/* Pack grown trees into a new model (the trees stay owned by the caller). */
vg_status vg_cart_model_pack(const vg_cart_tree *trees, uint32_t n_trees, const vg_feature *features,
                             uint32_t n_features, uint32_t n_classes, vg_cart_model **out);
void vg_cart_model_free(vg_cart_model *m);

/* Class probabilities of tree t for one row (n_features floats); points into m. */
const float *vg_cart_model_leaf(const vg_cart_model *m, uint32_t t, const float *row);
/* proba (X->rows x n_classes) = mean over the trees of their leaf
 * probabilities, summed in tree order so the result does not depend on threads. */
void vg_cart_model_predict(const vg_cart_model *m, const vg_matrix *X, int threads, float *proba);

/* The same for one row (n_features floats) into proba (n_classes). */
void vg_cart_model_predict_row(const vg_cart_model *m, const float *row, float *proba);

/* Serialise; load validates every count, feature index, child link, leaf
 * index and bitset offset (VG_ERR_FORMAT, never a crash). */
vg_status vg_cart_model_save(const vg_cart_model *m, vg_wbuf *w);
vg_status vg_cart_model_load(vg_rbuf *r, vg_cart_model **out);

/* Append "trees", "nodes", "leaves" and "max_depth" lines. */
void vg_cart_model_describe(const vg_cart_model *m, vg_wbuf *out);

#endif
