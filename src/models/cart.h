/* CART classification trees over binned data, shared by the "tree" and
 * "forest" estimators: the parameters both accept, the tree builder (split
 * search on per-node class-weight histograms), and the compilation of grown
 * trees into the shared ensemble layout (models/ensemble.h), which then does
 * all prediction, explanation, importance and save/load.
 *
 * Nodes use the ensemble's layout (vg_ens_node): a split sends a row to
 * `child` (left) or `child + 1` (right); numeric splits go left when
 * x <= threshold, categorical ones when the category's bit is set in a
 * bitset of ceil(n_categories / 32) words at `cats`. NaN, and a category
 * never seen in training (or not a valid code), goes to the child that
 * received more training weight, recorded as VG_ENS_MISSING_LEFT. A category
 * seen in training but absent from the node goes to the child less like the
 * node's majority class (its bit says which). A leaf holds its class
 * probabilities (the weighted class fractions of its training rows).
 *
 * Per node the builder also records `cover`, the training weight that
 * reached it (bootstrap counts included), and `gain`, the weighted impurity
 * decrease of its split, N_t * i(t) - N_left * i(left) - N_right * i(right)
 * (0 for a leaf): scikit-learn's feature_importances_ before normalising. */
#ifndef VG_MODELS_CART_H
#define VG_MODELS_CART_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "vigil/estimator.h"
#include "vigil/rng.h"
#include "models/bins.h"
#include "models/ensemble.h"

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
/* The keys vg_cart_params_set reads, "key=value, ..." (no trailing separator). */
void vg_cart_params_describe(const vg_cart_params *p, vg_wbuf *out);
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

/* ---- grown trees ---- */

/* One grown tree, its arrays in one allocation (`block`, owned). Node
 * indices are tree-local; a leaf's `child` is its index in values, a
 * categorical split's `u.cats` its offset in cats. */
typedef struct vg_cart_tree {
    uint32_t n_nodes, n_leaves, n_cat_words, depth;
    vg_ens_node *nodes;       /* n_nodes */
    float *cover;             /* n_nodes: training weight reaching the node */
    float *gain;              /* n_nodes: weighted impurity decrease (0 for a leaf) */
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

/* ---- the fitted model: a compiled ensemble ---- */

/* Compile grown trees (which stay owned by the caller) into a new ensemble
 * (owned by the caller, vg_ensemble_free): link VG_LINK_PROBA, one output
 * per class, each leaf adding its class probabilities, scale 1 / n_trees,
 * base 0, so the raw score is the mean of the trees' probabilities.
 * Errors: VG_ERR_LIMIT (too many nodes for one model), VG_ERR_NOMEM. */
vg_status vg_cart_compile(const vg_cart_tree *trees, uint32_t n_trees, const vg_feature *features,
                          uint32_t n_features, uint32_t n_classes, vg_ensemble **out);

/* Check that a loaded ensemble has the shape vg_cart_compile gives (the
 * structure itself is checked by vg_ensemble_load): VG_OK or VG_ERR_FORMAT.
 * n_trees: the tree count required, or 0 for any. */
vg_status vg_cart_check(const vg_ensemble *e, uint32_t n_trees);

#endif
