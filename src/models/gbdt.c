/* "gbdt": gradient-boosted trees of the XGBoost / LightGBM class. Each round
 * fits one tree (one per class for the softmax) to the gradient and hessian
 * of the loss at the current scores, on histograms of binned features
 * (gbdt_grow.c); the trees are compiled into a models/ensemble.h ensemble,
 * which predicts, saves and explains them.
 *
 * Defaults follow XGBoost's (max_depth 6, min_child_weight 1, reg_lambda 1,
 * 256 bins) except learning_rate: 0.1, the value scikit-learn's
 * HistGradientBoosting and LightGBM use, rather than XGBoost's 0.3, because
 * with the default 100 rounds it generalises better on the data this
 * library sees (and the benchmarks pass it explicitly on both sides).
 * Categorical splits take LightGBM's parameters and defaults (one against
 * the rest up to 4 categories, max_cat_threshold 32, cat_smooth 10, cat_l2
 * 10, min_data_per_group 100). 32 is also what 3-fold cross-validation on
 * NSL-KDD's training set picks (bench/gbdt_cat_cv.py); a smaller value such
 * as 4 scores better on its shifted test set, but choosing a default by
 * looking at a test set is leakage, so that is left to users' own tuning.
 * max_cat_to_onehot stays 4 for the same reason: one category against the
 * rest for every column (256, what trees on one-hot columns do) is nearer
 * XGBoost-on-one-hot on NSL-KDD's test set, but neither stratified folds of
 * its training set nor folds that hold whole attack names out prefer it
 * (bench/gbdt_auc_gap.py; XGBoost's own categorical splits lose the same).
 *
 * Early stopping holds out validation_fraction of the training rows
 * (stratified by class, seeded), watches their loss after every round and
 * keeps the trees of the best round. The bins are learned from all rows,
 * held-out ones included (quantiles only: no label is used).
 *
 * Determinism: every random draw comes from the seed and the round number,
 * and every sum runs in a fixed order, so a model is bit-identical for any
 * thread count. */
#include "models/gbdt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "models/ensemble.h"
#include "models/train_set.h"
#include "vigil/parallel.h"
#include "vigil/rng.h"
#include "vigil/split.h"

#define GBDT_FORMAT_VERSION 1u
#define GBDT_MAX_ROUNDS 100000
#define GBDT_MAX_CLASSES 65536u
#define NO_BEST UINT32_MAX

/* ---- parameters ---- */

static void gbdt_params_default(void *params)
{
    vg_gbdt_params *p = params;
    *p = (vg_gbdt_params){
        .n_estimators = 100,
        .learning_rate = 0.1,
        .max_depth = 6,
        .max_leaves = 0,
        .grow_policy = VG_GBDT_DEPTHWISE,
        .min_child_weight = 1.0,
        .reg_lambda = 1.0,
        .reg_alpha = 0.0,
        .gamma = 0.0,
        .subsample = 1.0,
        .colsample_bytree = 1.0,
        .max_bins = 256,
        .scale_pos_weight = 1.0,
        .early_stopping = 0,
        .validation_fraction = 0.1,
        .max_cat_to_onehot = 4,
        .max_cat_threshold = 32,
        .cat_smooth = 10.0,
        .cat_l2 = 10.0,
        .min_data_per_group = 100.0,
        .objective = VG_GBDT_AUTO,
        .base_score_auto = 1,
        .base_score = 0.0,
    };
}

static int key_is(const char *key, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(key, names[i]) == 0) return 1;
    return 0;
}

/* A fraction in (0, 1] (hi_open: (0, 1)). */
static vg_status param_fraction(const char *key, const char *value, int hi_open, double *out)
{
    double d;
    vg_status st = vg_param_double(key, value, 0.0, 1.0, &d);
    if (st != VG_OK) return st;
    if (!(d > 0.0) || (hi_open && d >= 1.0))
        return vg_fail(VG_ERR_INVALID, "parameter %s: %s is out of range %s", key, value,
                       hi_open ? "(0, 1)" : "(0, 1]");
    *out = d;
    return VG_OK;
}

static vg_status gbdt_params_set(void *params, const char *key, const char *value)
{
    vg_gbdt_params *p = params;
    vg_status st;
    long v;
    double d;
    if (!key || !value) return vg_fail(VG_ERR_INVALID, "gbdt: parameter key and value required");
    if (key_is(key, (const char *[]){ "n_estimators", "num_boost_round", "num_iterations", "max_iter", NULL })) {
        if ((st = vg_param_int(key, value, 1, GBDT_MAX_ROUNDS, &v)) != VG_OK) return st;
        p->n_estimators = (uint32_t)v;
    } else if (key_is(key, (const char *[]){ "learning_rate", "eta", NULL })) {
        if ((st = vg_param_double(key, value, 0.0, 1.0, &d)) != VG_OK) return st;
        if (!(d > 0.0)) return vg_fail(VG_ERR_INVALID, "parameter %s: %s is out of range (0, 1]", key, value);
        p->learning_rate = d;
    } else if (strcmp(key, "max_depth") == 0) {
        if (strcasecmp(value, "none") == 0) {
            p->max_depth = 0;
        } else {
            if ((st = vg_param_int(key, value, 0, 1000, &v)) != VG_OK) return st;
            p->max_depth = (uint32_t)v;
        }
    } else if (key_is(key, (const char *[]){ "max_leaves", "num_leaves", "max_leaf_nodes", NULL })) {
        if (strcasecmp(value, "none") == 0) {
            p->max_leaves = 0;
        } else {
            if ((st = vg_param_int(key, value, 0, 1L << 24, &v)) != VG_OK) return st;
            if (v == 1)
                return vg_fail(VG_ERR_INVALID, "parameter %s: 1 is out of range: 0 (no limit) or at least 2", key);
            p->max_leaves = (uint32_t)v;
        }
    } else if (strcmp(key, "grow_policy") == 0) {
        if (strcasecmp(value, "depthwise") == 0) p->grow_policy = VG_GBDT_DEPTHWISE;
        else if (strcasecmp(value, "lossguide") == 0) p->grow_policy = VG_GBDT_LOSSGUIDE;
        else return vg_fail(VG_ERR_INVALID, "parameter grow_policy: '%s' is not one of depthwise, lossguide", value);
    } else if (key_is(key, (const char *[]){ "min_child_weight", "min_sum_hessian_in_leaf", NULL })) {
        if ((st = vg_param_double(key, value, 0.0, 1e30, &p->min_child_weight)) != VG_OK) return st;
    } else if (key_is(key, (const char *[]){ "reg_lambda", "lambda", "lambda_l2", "l2_regularization", NULL })) {
        if ((st = vg_param_double(key, value, 0.0, 1e30, &p->reg_lambda)) != VG_OK) return st;
    } else if (key_is(key, (const char *[]){ "reg_alpha", "alpha", "lambda_l1", NULL })) {
        if ((st = vg_param_double(key, value, 0.0, 1e30, &p->reg_alpha)) != VG_OK) return st;
    } else if (key_is(key, (const char *[]){ "gamma", "min_split_loss", "min_gain_to_split", NULL })) {
        if ((st = vg_param_double(key, value, 0.0, 1e30, &p->gamma)) != VG_OK) return st;
    } else if (key_is(key, (const char *[]){ "subsample", "bagging_fraction", NULL })) {
        return param_fraction(key, value, 0, &p->subsample);
    } else if (key_is(key, (const char *[]){ "colsample_bytree", "feature_fraction", NULL })) {
        return param_fraction(key, value, 0, &p->colsample_bytree);
    } else if (key_is(key, (const char *[]){ "max_bins", "max_bin", NULL })) {
        if ((st = vg_param_int(key, value, 2, VG_BINS_MAX, &v)) != VG_OK) return st;
        p->max_bins = (uint32_t)v;
    } else if (strcmp(key, "scale_pos_weight") == 0) {
        if ((st = vg_param_double(key, value, 0.0, 1e30, &d)) != VG_OK) return st;
        if (!(d > 0.0)) return vg_fail(VG_ERR_INVALID, "parameter %s: %s is out of range (0, 1e30]", key, value);
        p->scale_pos_weight = d;
    } else if (key_is(key, (const char *[]){ "early_stopping", "early_stopping_rounds", "n_iter_no_change", NULL })) {
        if ((st = vg_param_int(key, value, 0, GBDT_MAX_ROUNDS, &v)) != VG_OK) return st;
        p->early_stopping = (uint32_t)v;
    } else if (strcmp(key, "validation_fraction") == 0) {
        return param_fraction(key, value, 1, &p->validation_fraction);
    } else if (strcmp(key, "max_cat_to_onehot") == 0) {
        if ((st = vg_param_int(key, value, 0, VG_BINS_MAX, &v)) != VG_OK) return st;
        p->max_cat_to_onehot = (uint32_t)v;
    } else if (strcmp(key, "max_cat_threshold") == 0) {
        if ((st = vg_param_int(key, value, 1, VG_BINS_MAX, &v)) != VG_OK) return st;
        p->max_cat_threshold = (uint32_t)v;
    } else if (strcmp(key, "cat_smooth") == 0) {
        if ((st = vg_param_double(key, value, 0.0, 1e30, &p->cat_smooth)) != VG_OK) return st;
    } else if (strcmp(key, "cat_l2") == 0) {
        if ((st = vg_param_double(key, value, 0.0, 1e30, &p->cat_l2)) != VG_OK) return st;
    } else if (strcmp(key, "min_data_per_group") == 0) {
        if ((st = vg_param_double(key, value, 0.0, 1e30, &p->min_data_per_group)) != VG_OK) return st;
    } else if (strcmp(key, "objective") == 0) {
        if (strcasecmp(value, "auto") == 0) p->objective = VG_GBDT_AUTO;
        else if (strcasecmp(value, "binary") == 0 || strcmp(value, "binary:logistic") == 0)
            p->objective = VG_GBDT_BINARY;
        else if (strcasecmp(value, "multiclass") == 0 || strcmp(value, "multi:softprob") == 0 ||
                 strcmp(value, "multi:softmax") == 0)
            p->objective = VG_GBDT_MULTICLASS;
        else if (strcasecmp(value, "regression") == 0 || strcmp(value, "reg:squarederror") == 0)
            p->objective = VG_GBDT_REGRESSION;
        else
            return vg_fail(VG_ERR_INVALID, "parameter objective: '%s' is not one of auto, binary, multiclass, "
                           "regression", value);
    } else if (strcmp(key, "base_score") == 0) {
        if (strcasecmp(value, "auto") == 0) {
            p->base_score_auto = 1;
        } else {
            if ((st = vg_param_double(key, value, -1e30, 1e30, &d)) != VG_OK) return st;
            p->base_score_auto = 0;
            p->base_score = d;
        }
    } else {
        return vg_param_unknown("gbdt", key);
    }
    return VG_OK;
}

static void gbdt_params_describe(const void *params, vg_wbuf *out)
{
    const vg_gbdt_params *p = params;
    static const char *const objective[] = { "auto", "binary", "multiclass", "regression" };
    vg_wbuf_printf(out, "n_estimators=%u, learning_rate=%.15g, ", p->n_estimators, p->learning_rate);
    if (p->max_depth) vg_wbuf_printf(out, "max_depth=%u, ", p->max_depth);
    else vg_wbuf_printf(out, "max_depth=none, ");
    vg_wbuf_printf(out, "max_leaves=%u, grow_policy=%s, min_child_weight=%.15g, reg_lambda=%.15g, "
                   "reg_alpha=%.15g, gamma=%.15g, subsample=%.15g, colsample_bytree=%.15g, max_bins=%u, "
                   "scale_pos_weight=%.15g, early_stopping=%u, validation_fraction=%.15g, max_cat_to_onehot=%u, "
                   "max_cat_threshold=%u, cat_smooth=%.15g, cat_l2=%.15g, min_data_per_group=%.15g, objective=%s, ",
                   p->max_leaves, p->grow_policy == VG_GBDT_LOSSGUIDE ? "lossguide" : "depthwise",
                   p->min_child_weight, p->reg_lambda, p->reg_alpha, p->gamma, p->subsample, p->colsample_bytree,
                   p->max_bins, p->scale_pos_weight, p->early_stopping, p->validation_fraction,
                   p->max_cat_to_onehot, p->max_cat_threshold, p->cat_smooth, p->cat_l2, p->min_data_per_group,
                   objective[p->objective]);
    if (p->base_score_auto) vg_wbuf_printf(out, "base_score=auto");
    else vg_wbuf_printf(out, "base_score=%.15g", p->base_score);
}

static const char *gbdt_params_check(const void *params)
{
    const vg_gbdt_params *p = params;
    if (p->n_estimators < 1 || p->n_estimators > GBDT_MAX_ROUNDS) return "n_estimators must be in [1, 100000]";
    if (!(p->learning_rate > 0.0 && p->learning_rate <= 1.0)) return "learning_rate must be in (0, 1]";
    if (p->max_depth > 1000) return "max_depth must be in [0, 1000]";
    if (p->max_leaves == 1) return "max_leaves must be 0 (no limit) or at least 2";
    if (p->grow_policy != VG_GBDT_DEPTHWISE && p->grow_policy != VG_GBDT_LOSSGUIDE)
        return "grow_policy must be depthwise or lossguide";
    if (p->max_depth == 0 && p->grow_policy != VG_GBDT_LOSSGUIDE)
        return "max_depth=0 (unlimited) needs grow_policy=lossguide, as in XGBoost";
    if (!(p->min_child_weight >= 0.0) || !(p->reg_lambda >= 0.0) || !(p->reg_alpha >= 0.0) || !(p->gamma >= 0.0))
        return "min_child_weight, reg_lambda, reg_alpha and gamma must be >= 0";
    if (!(p->subsample > 0.0 && p->subsample <= 1.0)) return "subsample must be in (0, 1]";
    if (!(p->colsample_bytree > 0.0 && p->colsample_bytree <= 1.0)) return "colsample_bytree must be in (0, 1]";
    if (p->max_bins < 2 || p->max_bins > VG_BINS_MAX) return "max_bins must be in [2, 256]";
    if (!(p->scale_pos_weight > 0.0) || !isfinite(p->scale_pos_weight)) return "scale_pos_weight must be > 0";
    if (!(p->validation_fraction > 0.0 && p->validation_fraction < 1.0))
        return "validation_fraction must be in (0, 1)";
    if (p->max_cat_to_onehot > VG_BINS_MAX || p->max_cat_threshold < 1 || p->max_cat_threshold > VG_BINS_MAX)
        return "max_cat_to_onehot must be in [0, 256] and max_cat_threshold in [1, 256]";
    if (!(p->cat_smooth >= 0.0) || !(p->cat_l2 >= 0.0) || !(p->min_data_per_group >= 0.0))
        return "cat_smooth, cat_l2 and min_data_per_group must be >= 0";
    if (p->objective < VG_GBDT_AUTO || p->objective > VG_GBDT_REGRESSION)
        return "objective must be auto, binary, multiclass or regression";
    if (!p->base_score_auto && !isfinite(p->base_score)) return "base_score must be auto or a finite number";
    return NULL;
}

/* ---- the fitted state ---- */

typedef struct gbdt_state {
    vg_ensemble *e;
    vg_gbdt_objective objective;
    uint32_t rounds;          /* rounds trained */
    uint32_t best_iteration;  /* 0-based round kept last (early stopping), or NO_BEST */
    double best_score;        /* its validation loss, or NaN */
} gbdt_state;

/* ---- the training problem ---- */

static vg_status check_train_set(const vg_train_set *ts)
{
    if (!ts || !ts->X || (ts->X->cols > 0 && (!ts->features || !ts->X->data)))
        return vg_fail(VG_ERR_INVALID, "train set: missing matrix or features");
    const vg_matrix *X = ts->X;
    if (X->rows == 0) return vg_fail(VG_ERR_INVALID, "train set: no rows");
    if (X->rows >= UINT32_MAX / 2 || X->cols >= INT32_MAX)
        return vg_fail(VG_ERR_INVALID, "train set: %zu x %zu is too large for gbdt", X->rows, X->cols);
    if (ts->n_classes == 1) {
        if (!ts->target) return vg_fail(VG_ERR_INVALID, "train set: regression without targets");
        for (size_t r = 0; r < X->rows; r++)
            if (!isfinite(ts->target[r]))
                return vg_fail(VG_ERR_INVALID, "train set: row %zu has target %g", r, (double)ts->target[r]);
    } else {
        if (!ts->y) return vg_fail(VG_ERR_INVALID, "train set: no labels");
        if (ts->n_classes < 2 || ts->n_classes > GBDT_MAX_CLASSES)
            return vg_fail(VG_ERR_INVALID, "train set: %u classes (need 2..%u)", ts->n_classes, GBDT_MAX_CLASSES);
    }
    return vg_train_set_check_rows(ts);
}

/* ---- one boosting run ---- */

/* The trees kept so far, already in the ensemble's layout (tree-local
 * children, global leaf numbers, category bitsets over category codes). */
typedef struct forest_buf {
    vg_ens_node *nodes;
    float *cover, *gain, *leaves;
    uint32_t *cats, *tree_start;
    int32_t *tree_output;
    uint32_t n_nodes, n_leaves, n_cats, n_trees;
    uint32_t nodes_cap, leaves_cap, cats_cap, trees_cap;
} forest_buf;

static void forest_buf_free(forest_buf *b)
{
    vg_free(b->nodes), vg_free(b->cover), vg_free(b->gain), vg_free(b->leaves);
    vg_free(b->cats), vg_free(b->tree_start), vg_free(b->tree_output);
    memset(b, 0, sizeof *b);
}

/* Grow *arr (elements of `size` bytes) to hold `need`. */
static int reserve(void **arr, uint32_t *cap, uint64_t need, size_t size)
{
    if (need <= *cap) return 1;
    if (need >= UINT32_MAX / 2) return 0;
    uint64_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    void *p = vg_realloc(*arr, (size_t)c * size);
    if (!p) return 0;
    *arr = p;
    *cap = (uint32_t)c;
    return 1;
}

/* Append a grown tree, adding to output k. */
static vg_status forest_add(forest_buf *b, const vg_gbdt_tree *t, uint32_t k, const vg_bins *bins,
                            const vg_feature *features)
{
    uint32_t words = 0, leaves = 0;
    for (uint32_t j = 0; j < t->n_nodes; j++) {
        const vg_gbdt_node *nd = &t->nodes[j];
        if (nd->feature < 0) leaves++;
        else if (nd->flags & VG_ENS_CATEGORICAL) words += (features[nd->feature].n_categories + 31) / 32;
    }
    uint64_t need = (uint64_t)b->n_nodes + t->n_nodes;
    if (need > b->nodes_cap) {
        if (need >= UINT32_MAX / 2) return vg_fail(VG_ERR_LIMIT, "gbdt: too many tree nodes for one model");
        uint64_t c = b->nodes_cap ? b->nodes_cap : 1024;
        while (c < need) c *= 2;
        /* each pointer is kept as soon as it moves; the capacity only once all have */
        vg_ens_node *nn = vg_realloc(b->nodes, (size_t)c * sizeof *nn);
        if (nn) b->nodes = nn;
        float *nc = nn ? vg_realloc(b->cover, (size_t)c * sizeof *nc) : NULL;
        if (nc) b->cover = nc;
        float *ng = nc ? vg_realloc(b->gain, (size_t)c * sizeof *ng) : NULL;
        if (ng) b->gain = ng;
        if (!ng) return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory keeping trees");
        b->nodes_cap = (uint32_t)c;
    }
    uint32_t tc = b->trees_cap;
    if (!reserve((void **)&b->leaves, &b->leaves_cap, (uint64_t)b->n_leaves + leaves, sizeof *b->leaves) ||
        !reserve((void **)&b->cats, &b->cats_cap, (uint64_t)b->n_cats + words + 1, sizeof *b->cats) ||
        !reserve((void **)&b->tree_start, &tc, (uint64_t)b->n_trees + 2, sizeof *b->tree_start) ||
        !reserve((void **)&b->tree_output, &b->trees_cap, (uint64_t)b->n_trees + 2, sizeof *b->tree_output))
        return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory keeping trees");
    b->tree_start[b->n_trees] = b->n_nodes;
    b->tree_output[b->n_trees] = (int32_t)k;
    for (uint32_t j = 0; j < t->n_nodes; j++) {
        const vg_gbdt_node *nd = &t->nodes[j];
        vg_ens_node *en = &b->nodes[b->n_nodes + j];
        b->cover[b->n_nodes + j] = nd->cover;
        b->gain[b->n_nodes + j] = nd->feature >= 0 ? nd->gain : 0.0f;
        if (nd->feature < 0) {
            *en = (vg_ens_node){ .feature = -1, .child = b->n_leaves };
            b->leaves[b->n_leaves++] = nd->value;
            continue;
        }
        uint32_t f = (uint32_t)nd->feature;
        *en = (vg_ens_node){ .feature = nd->feature, .child = nd->child, .flags = nd->flags };
        const uint8_t *left = t->left + nd->route;
        if (!(nd->flags & VG_ENS_CATEGORICAL)) {
            en->u.threshold = bins->edge[bins->start[f] + nd->bin];
            continue;
        }
        /* Category c goes where its bin went; categories the binner never
         * saw share the missing code and so follow the missing direction. */
        uint32_t ncat = features[f].n_categories, nw = (ncat + 31) / 32;
        en->u.cats = b->n_cats;
        uint32_t *bits = b->cats + b->n_cats;
        memset(bits, 0, (size_t)nw * sizeof *bits);
        const uint8_t *map = bins->cat_bin + bins->cat_start[f];
        for (uint32_t c = 0; c < ncat; c++)
            if (left[map[c]]) bits[c >> 5] |= 1u << (c & 31);
        b->n_cats += nw;
    }
    b->n_nodes += t->n_nodes;
    b->n_trees++;
    b->tree_start[b->n_trees] = b->n_nodes;
    return VG_OK;
}

/* The first n_trees trees of b as an ensemble. */
static vg_status forest_compile(const forest_buf *b, uint32_t n_trees, const vg_train_set *ts, uint32_t K,
                                vg_gbdt_objective obj, const float *base, vg_ensemble **out)
{
    uint32_t n_nodes = b->tree_start[n_trees];
    uint32_t n_leaves = 0, n_cats = 0;
    for (uint32_t j = 0; j < n_nodes; j++) {
        const vg_ens_node *nd = &b->nodes[j];
        if (nd->feature < 0) n_leaves = VG_MAX(n_leaves, nd->child + 1);
        else if (nd->flags & VG_ENS_CATEGORICAL)
            n_cats = VG_MAX(n_cats, nd->u.cats + (ts->features[nd->feature].n_categories + 31) / 32);
    }
    uint32_t nf = (uint32_t)ts->X->cols;
    uint32_t C = obj == VG_GBDT_REGRESSION ? 1 : ts->n_classes;
    vg_ensemble *e;
    vg_status st = vg_ensemble_alloc(nf, C, K, 1, n_trees, n_nodes, n_leaves, n_cats, &e);
    if (st != VG_OK) return st;
    e->link = obj == VG_GBDT_BINARY ? VG_LINK_SIGMOID : obj == VG_GBDT_MULTICLASS ? VG_LINK_SOFTMAX
                                                                                   : VG_LINK_IDENTITY;
    e->scale = 1.0f;
    memcpy(e->base, base, (size_t)K * sizeof *base);
    for (uint32_t f = 0; f < nf; f++)
        e->n_categories[f] = ts->features[f].kind == VG_FEATURE_CATEGORICAL ? ts->features[f].n_categories : 0;
    memcpy(e->tree_start, b->tree_start, ((size_t)n_trees + 1) * sizeof *e->tree_start);
    memcpy(e->tree_output, b->tree_output, (size_t)n_trees * sizeof *e->tree_output);
    memcpy(e->nodes, b->nodes, (size_t)n_nodes * sizeof *e->nodes);
    memcpy(e->cover, b->cover, (size_t)n_nodes * sizeof *e->cover);
    memcpy(e->gain, b->gain, (size_t)n_nodes * sizeof *e->gain);
    memcpy(e->leaves, b->leaves, (size_t)n_leaves * sizeof *e->leaves);
    if (n_cats) memcpy(e->cats, b->cats, (size_t)n_cats * sizeof *e->cats);
    if ((st = vg_ensemble_validate(e)) != VG_OK) {
        /* a bug, or numbers past float range (huge regression targets) */
        char why[256];
        snprintf(why, sizeof why, "%s", vg_last_error());
        vg_ensemble_free(e);
        return vg_fail(st, "gbdt: the trained trees do not form a valid model: %s", why);
    }
    *out = e;
    return VG_OK;
}

/* Rows held out for early stopping: stratified by class, or a seeded
 * shuffle for regression. Both lists ascending. */
static vg_status holdout(const vg_train_set *ts, const vg_gbdt_params *p, uint64_t seed, uint32_t **train,
                         uint32_t *n_train, uint32_t **valid, uint32_t *n_valid)
{
    size_t rows = ts->X->rows;
    *train = vg_malloc(rows * sizeof **train);
    *valid = vg_malloc(rows * sizeof **valid);
    if (!*train || !*valid) return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
    *n_train = *n_valid = 0;
    if (ts->n_classes >= 2) {
        size_t *tr, *te, ntr, nte;
        vg_status st = vg_split_holdout(ts->y, rows, ts->n_classes, p->validation_fraction, seed ^ 0x9b1d, &tr, &ntr,
                                        &te, &nte);
        if (st != VG_OK) return st;
        for (size_t i = 0; i < ntr; i++) (*train)[i] = (uint32_t)tr[i];
        for (size_t i = 0; i < nte; i++) (*valid)[i] = (uint32_t)te[i];
        *n_train = (uint32_t)ntr;
        *n_valid = (uint32_t)nte;
        vg_free(tr);
        vg_free(te);
    } else {
        uint32_t *perm = *valid;
        for (size_t r = 0; r < rows; r++) perm[r] = (uint32_t)r;
        vg_rng rng;
        vg_rng_seed(&rng, seed ^ 0x9b1d, 0);
        vg_rng_shuffle_u32(&rng, perm, rows);
        size_t take = (size_t)llround(p->validation_fraction * (double)rows);
        uint8_t *in = vg_calloc(rows, 1);
        if (!in) return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
        for (size_t i = 0; i < take; i++) in[perm[i]] = 1;
        for (size_t r = 0; r < rows; r++) {
            if (in[r]) (*valid)[(*n_valid)++] = (uint32_t)r;
            else (*train)[(*n_train)++] = (uint32_t)r;
        }
        vg_free(in);
    }
    if (*n_train == 0 || *n_valid == 0)
        return vg_fail(VG_ERR_DATA, "gbdt: %zu rows are too few to hold out validation_fraction=%g for early "
                       "stopping", rows, p->validation_fraction);
    return VG_OK;
}

typedef struct fit_run {
    const vg_gbdt_params *p;
    const vg_train_set *ts;
    int threads;
    uint64_t seed;
    vg_gbdt_labels lb;
    uint32_t K, nf, n_rows;
    vg_bins *bins;
    uint8_t *codes;            /* nf x n_rows, column-major */
    vg_gbdt_data data;
    uint32_t *train, n_train;  /* rows trained on, ascending */
    uint32_t *valid, n_valid;  /* rows held out (early stopping) */
    uint32_t *sample, *work;   /* n_rows: this round's rows; a copy each tree partitions */
    uint8_t *in_sample;        /* n_rows: subsample < 1 */
    uint8_t *use;              /* nf: features of this tree */
    uint32_t *perm;            /* nf */
    uint32_t *leaf_ids;        /* n_rows: a tree's leaf nodes (at most one per row, plus one) */
    uint32_t *walk;            /* n_rows: rows a tree is walked for */
    double *raw;               /* n_rows x K */
    float *gh;                 /* K x n_rows x 2 */
} fit_run;

static void fit_run_free(fit_run *f)
{
    vg_bins_free(f->bins);
    vg_gbdt_data_free(&f->data);
    vg_free(f->codes), vg_free(f->train), vg_free(f->valid);
    vg_free(f->sample), vg_free(f->work), vg_free(f->in_sample), vg_free(f->use), vg_free(f->perm);
    vg_free(f->leaf_ids), vg_free(f->walk);
    vg_free(f->raw), vg_free(f->gh);
}

/* Bin X (column-major codes) and build the histogram layout. */
static vg_status bin_data(fit_run *f)
{
    const vg_matrix *X = f->ts->X;
    f->codes = vg_malloc(VG_MAX(X->rows * X->cols, (size_t)1));
    if (!f->codes) return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory binning %zu x %zu values", X->rows, X->cols);
    vg_status st = vg_bins_fit_codes(X, f->ts->features, f->p->max_bins, f->threads, &f->bins, f->codes);
    if (st != VG_OK) return st;
    return vg_gbdt_data_build(f->bins, f->codes, f->n_rows, f->threads, &f->data);
}

/* This round's rows: all training rows (f->train itself, not copied), or
 * a Bernoulli(subsample) draw into f->sample. */
static const uint32_t *draw_rows(fit_run *f, uint32_t round, uint32_t *n_out)
{
    if (f->p->subsample >= 1.0) {
        *n_out = f->n_train;
        return f->train;
    }
    vg_rng rng;
    vg_rng_seed(&rng, f->seed, 2 * (uint64_t)round);
    uint32_t n = 0;
    memset(f->in_sample, 0, f->n_rows);
    for (uint32_t i = 0; i < f->n_train; i++) {
        if (vg_rng_uniform(&rng) < f->p->subsample) {
            f->sample[n++] = f->train[i];
            f->in_sample[f->train[i]] = 1;
        }
    }
    *n_out = n;
    return f->sample;
}

/* Features of tree (round, k): all, or colsample_bytree of them. */
static void draw_features(fit_run *f, uint32_t round, uint32_t k)
{
    if (f->p->colsample_bytree >= 1.0) {
        memset(f->use, 1, f->nf);
        return;
    }
    uint32_t want = (uint32_t)llround(f->p->colsample_bytree * f->nf);
    want = VG_MAX(VG_MIN(want, f->nf), 1u);
    vg_rng rng;
    vg_rng_seed(&rng, f->seed, 2 * ((uint64_t)round * f->K + k) + 1);
    for (uint32_t j = 0; j < f->nf; j++) f->perm[j] = j;
    memset(f->use, 0, f->nf);
    for (uint32_t j = 0; j < want; j++) {
        uint32_t s = j + vg_rng_below(&rng, f->nf - j);
        uint32_t t = f->perm[j];
        f->perm[j] = f->perm[s];
        f->perm[s] = t;
        f->use[f->perm[j]] = 1;
    }
}

/* Adding a tree to the raw scores: the rows it was grown on through its
 * leaves' ranges, the others (held out, or left out of this round's
 * sample) by walking it over their codes. Every score is touched by one
 * task, so the order of tasks changes nothing. */
#define ADD_ROWS 8192       /* rows walked per task */
#define PAR_ADD_ROWS 32768  /* fewer rows than this: no threads (they cost ~60 us to start) */

typedef struct add_ctx {
    fit_run *f;
    const vg_gbdt_tree *t;
    uint32_t k;
    const uint32_t *rows;     /* the tree's row list */
    const uint32_t *leaves;   /* leaf nodes */
    uint32_t n_leaves;
    const uint32_t *walk;     /* rows to walk */
    uint32_t n_walk;
} add_ctx;

static void add_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    const add_ctx *c = ctx;
    const uint32_t K = c->f->K, k = c->k;
    double *raw = c->f->raw;
    if (task < c->n_leaves) {
        const vg_gbdt_node *nd = &c->t->nodes[c->leaves[task]];
        double v = nd->value;
        for (uint32_t i = nd->begin; i < nd->end; i++) raw[(size_t)c->rows[i] * K + k] += v;
        return;
    }
    uint32_t i0 = (uint32_t)(task - c->n_leaves) * ADD_ROWS, i1 = VG_MIN(i0 + ADD_ROWS, c->n_walk);
    for (uint32_t i = i0; i < i1; i++) {
        uint32_t r = c->walk[i];
        raw[(size_t)r * K + k] += c->t->nodes[vg_gbdt_tree_leaf(c->t, c->f->codes, c->f->n_rows, r)].value;
    }
}

static void add_tree(fit_run *f, const vg_gbdt_tree *t, uint32_t k, const uint32_t *rows, uint32_t n)
{
    add_ctx c = { .f = f, .t = t, .k = k, .rows = rows, .leaves = f->leaf_ids, .walk = f->walk };
    for (uint32_t j = 0; j < t->n_nodes; j++)
        if (t->nodes[j].feature < 0) f->leaf_ids[c.n_leaves++] = j;
    c.n_walk = f->n_valid;
    if (f->n_valid) memcpy(f->walk, f->valid, (size_t)f->n_valid * sizeof *f->walk);
    if (f->p->subsample < 1.0)
        for (uint32_t i = 0; i < f->n_train; i++)
            if (!f->in_sample[f->train[i]]) f->walk[c.n_walk++] = f->train[i];
    size_t tasks = c.n_leaves + ((size_t)c.n_walk + ADD_ROWS - 1) / ADD_ROWS;
    vg_parallel_for((size_t)n + c.n_walk >= PAR_ADD_ROWS ? f->threads : 1, tasks, add_task, &c);
}

static vg_status gbdt_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    *out_state = NULL;
    const vg_gbdt_params *p = params;
    const char *msg = gbdt_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "gbdt: %s", msg);
    vg_status st = check_train_set(ts);
    if (st != VG_OK) return st;
    vg_gbdt_objective obj = p->objective;
    if (obj == VG_GBDT_AUTO)
        obj = ts->n_classes == 1 ? VG_GBDT_REGRESSION : ts->n_classes == 2 ? VG_GBDT_BINARY : VG_GBDT_MULTICLASS;
    if ((obj == VG_GBDT_REGRESSION) != (ts->n_classes == 1) || (obj == VG_GBDT_BINARY && ts->n_classes != 2))
        return vg_fail(VG_ERR_INVALID, "gbdt: objective %s does not fit a task with %u classes",
                       vg_gbdt_objective_name(obj), ts->n_classes);
    if (obj == VG_GBDT_BINARY && !p->base_score_auto && !(p->base_score > 0.0 && p->base_score < 1.0))
        return vg_fail(VG_ERR_INVALID, "parameter base_score: %g is not a probability in (0, 1) (binary objective)",
                       p->base_score);
    if (obj != VG_GBDT_BINARY && p->scale_pos_weight != 1.0)
        return vg_fail(VG_ERR_INVALID, "parameter scale_pos_weight: only the binary objective has a positive class");

    fit_run f = { .p = p, .ts = ts, .threads = vg_threads_resolve(opt ? opt->threads : 0),
                  .seed = opt ? opt->seed : 0 };
    f.K = obj == VG_GBDT_MULTICLASS ? ts->n_classes : 1;
    f.nf = (uint32_t)ts->X->cols;
    f.n_rows = (uint32_t)ts->X->rows;
    f.lb = (vg_gbdt_labels){ .objective = obj, .K = f.K, .y = ts->y, .target = ts->target, .weight = ts->weight,
                             .scale_pos_weight = p->scale_pos_weight };
    const uint32_t K = f.K, N = f.n_rows;
    forest_buf fb = { 0 };
    vg_gbdt_grower *grower = NULL;
    vg_gbdt_tree tree = { 0 };
    gbdt_state *s = NULL;
    float *base = vg_malloc((size_t)K * sizeof *base);
    f.sample = vg_malloc((size_t)N * sizeof *f.sample);
    f.work = vg_malloc((size_t)N * sizeof *f.work);
    f.use = vg_malloc(VG_MAX(f.nf, 1u));
    f.perm = vg_malloc(VG_MAX(f.nf, 1u) * sizeof *f.perm);
    f.raw = vg_malloc((size_t)N * K * sizeof *f.raw);
    f.leaf_ids = vg_malloc(((size_t)N + 1) * sizeof *f.leaf_ids);
    f.walk = vg_malloc(((size_t)N + 1) * sizeof *f.walk);
    f.gh = vg_malloc((size_t)N * K * 2 * sizeof *f.gh);
    if (p->subsample < 1.0) f.in_sample = vg_malloc(N);
    if (!base || !f.sample || !f.work || !f.use || !f.perm || !f.raw || !f.gh || !f.leaf_ids || !f.walk ||
        (p->subsample < 1.0 && !f.in_sample)) {
        st = vg_fail(VG_ERR_NOMEM, "gbdt: out of memory for %u rows x %u outputs", N, K);
        goto done;
    }
    if (p->early_stopping > 0) {
        if ((st = holdout(ts, p, f.seed, &f.train, &f.n_train, &f.valid, &f.n_valid)) != VG_OK) goto done;
    } else {
        f.train = vg_malloc((size_t)N * sizeof *f.train);
        if (!f.train) {
            st = vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
            goto done;
        }
        for (uint32_t r = 0; r < N; r++) f.train[r] = r;
        f.n_train = N;
    }
    if ((st = vg_gbdt_base_score(&f.lb, p, f.train, f.n_train, base)) != VG_OK) goto done;
    if ((st = bin_data(&f)) != VG_OK) goto done;
    if ((st = vg_gbdt_grower_new(&f.data, p, f.threads, &grower)) != VG_OK) goto done;
    for (size_t r = 0; r < N; r++)
        for (uint32_t k = 0; k < K; k++) f.raw[r * K + k] = base[k];

    uint32_t rounds = 0, best = NO_BEST, since_best = 0;
    double best_loss = INFINITY;
    for (uint32_t round = 0; round < p->n_estimators; round++) {
        vg_gbdt_gradients(&f.lb, f.raw, f.train, f.n_train, N, f.threads, f.gh);
        uint32_t n;
        const uint32_t *sample = draw_rows(&f, round, &n);
        for (uint32_t k = 0; k < K; k++) {
            draw_features(&f, round, k);
            memcpy(f.work, sample, (size_t)n * sizeof *f.work);
            if ((st = vg_gbdt_grow(grower, f.gh + (size_t)k * N * 2, f.work, n, f.use, &tree)) != VG_OK) goto done;
            add_tree(&f, &tree, k, f.work, n);
            if ((st = forest_add(&fb, &tree, k, f.bins, ts->features)) != VG_OK) goto done;
        }
        rounds = round + 1;
        if (opt && opt->progress) opt->progress(opt->progress_user, "rounds", rounds, p->n_estimators);
        if (p->early_stopping > 0) {
            double loss = vg_gbdt_loss(&f.lb, f.raw, f.valid, f.n_valid);
            if (loss < best_loss) {
                best_loss = loss;
                best = round;
                since_best = 0;
            } else if (++since_best >= p->early_stopping) {
                break;
            }
        }
    }
    uint32_t kept = best != NO_BEST ? best + 1 : rounds;
    s = vg_calloc(1, sizeof *s);
    if (!s) {
        st = vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
        goto done;
    }
    if ((st = forest_compile(&fb, kept * K, ts, K, obj, base, &s->e)) != VG_OK) goto done;
    s->objective = obj;
    s->rounds = rounds;
    s->best_iteration = best;
    s->best_score = best != NO_BEST ? best_loss : NAN;
    *out_state = s;
    s = NULL;
done:
    vg_free(s);
    vg_free(base);
    vg_gbdt_tree_free(&tree);
    vg_gbdt_grower_free(grower);
    forest_buf_free(&fb);
    fit_run_free(&f);
    return st;
}

/* ---- the rest of the vtable ---- */

static void gbdt_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    vg_ensemble_predict(((const gbdt_state *)state)->e, X, threads, proba);
}

static void gbdt_predict_row(const void *state, const float *row, float *proba)
{
    const vg_ensemble *e = ((const gbdt_state *)state)->e;
    float raw_small[64];
    float *raw = e->n_outputs <= 64 ? raw_small : proba;  /* softmax: in place is allowed */
    vg_ensemble_raw_row(e, row, raw);
    vg_ensemble_link(e, raw, 1, proba);
}

static uint32_t gbdt_n_classes(const void *state)
{
    return ((const gbdt_state *)state)->e->n_classes;
}

static uint32_t gbdt_n_features(const void *state)
{
    return ((const gbdt_state *)state)->e->n_features;
}

static uint32_t gbdt_n_outputs(const void *state)
{
    return ((const gbdt_state *)state)->e->n_outputs;
}

/* Exact TreeSHAP of the raw scores (log-odds, per-class margins or the
 * regression value), from the compiled ensemble. */
static vg_status gbdt_explain(const void *state, const float *row, double *contrib)
{
    return vg_ensemble_shap(((const gbdt_state *)state)->e, row, contrib);
}

static void gbdt_importance(const void *state, int kind, double *out)
{
    vg_ensemble_importance(((const gbdt_state *)state)->e, (vg_importance_kind)kind, out);
}

/* u32 version, objective, rounds, best_iteration (UINT32_MAX: none); f64
 * best_score; then the ensemble. */
static vg_status gbdt_save(const void *state, vg_wbuf *w)
{
    const gbdt_state *s = state;
    vg_wbuf_u32(w, GBDT_FORMAT_VERSION);
    vg_wbuf_u32(w, (uint32_t)s->objective);
    vg_wbuf_u32(w, s->rounds);
    vg_wbuf_u32(w, s->best_iteration);
    vg_wbuf_f64(w, s->best_score);
    return vg_ensemble_save(s->e, w);
}

static vg_status gbdt_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    uint32_t obj = vg_rbuf_u32(r), rounds = vg_rbuf_u32(r), best = vg_rbuf_u32(r);
    double best_score = vg_rbuf_f64(r);
    vg_status st = vg_rbuf_check(r);
    if (st != VG_OK) return st;
    if (version != GBDT_FORMAT_VERSION)
        return vg_fail(VG_ERR_FORMAT, "gbdt model: version %u is not supported (this build reads %u)", version,
                       GBDT_FORMAT_VERSION);
    if (obj < VG_GBDT_BINARY || obj > VG_GBDT_REGRESSION || rounds == 0 || rounds > GBDT_MAX_ROUNDS ||
        (best != NO_BEST && best >= rounds) || (best != NO_BEST && !(best_score >= 0.0)))
        return vg_fail(VG_ERR_FORMAT, "gbdt model: bad header (objective %u, %u rounds, best round %u)", obj, rounds,
                       best);
    vg_ensemble *e;
    if ((st = vg_ensemble_load(r, &e)) != VG_OK) return st;
    vg_link want = obj == VG_GBDT_BINARY ? VG_LINK_SIGMOID : obj == VG_GBDT_MULTICLASS ? VG_LINK_SOFTMAX
                                                                                        : VG_LINK_IDENTITY;
    uint32_t kept = best != NO_BEST ? best + 1 : rounds;
    if (e->link != want || e->leaf_width != 1 || e->scale != 1.0f || (uint64_t)kept * e->n_outputs != e->n_trees) {
        uint32_t n_trees = e->n_trees;
        vg_ensemble_free(e);
        return vg_fail(VG_ERR_FORMAT, "gbdt model: the ensemble does not match its header (%u trees for %u rounds)",
                       n_trees, kept);
    }
    gbdt_state *s = vg_calloc(1, sizeof *s);
    if (!s) {
        vg_ensemble_free(e);
        return vg_fail(VG_ERR_NOMEM, "gbdt model: out of memory");
    }
    s->e = e;
    s->objective = (vg_gbdt_objective)obj;
    s->rounds = rounds;
    s->best_iteration = best;
    s->best_score = best != NO_BEST ? best_score : NAN;
    *out_state = s;
    return VG_OK;
}

static void gbdt_free(void *state)
{
    gbdt_state *s = state;
    if (!s) return;
    vg_ensemble_free(s->e);
    vg_free(s);
}

static void gbdt_describe(const void *state, vg_wbuf *out)
{
    const gbdt_state *s = state;
    vg_ensemble_describe(s->e, out);
    char line[200];
    int n;
    if (s->best_iteration != NO_BEST)
        n = snprintf(line, sizeof line, "objective: %s\nrounds: %u\nbest_iteration: %u\nbest_validation_loss: %.6g\n",
                     vg_gbdt_objective_name(s->objective), s->rounds, s->best_iteration, s->best_score);
    else
        n = snprintf(line, sizeof line, "objective: %s\nrounds: %u\nbest_iteration: none\n",
                     vg_gbdt_objective_name(s->objective), s->rounds);
    if (n > 0) vg_wbuf_bytes(out, line, VG_MIN((size_t)n, sizeof line - 1));
}

const vg_estimator_kind vg_gbdt_kind = {
    .name = "gbdt",
    .summary = "gradient-boosted trees (histograms, second-order gains, native categories and missing values)",
    .encoding = VG_ENCODING_NATIVE,
    .params_size = sizeof(vg_gbdt_params),
    .params_default = gbdt_params_default,
    .params_set = gbdt_params_set,
    .params_check = gbdt_params_check,
    .params_describe = gbdt_params_describe,
    .fit = gbdt_fit,
    .predict = gbdt_predict,
    .n_classes = gbdt_n_classes,
    .save = gbdt_save,
    .load = gbdt_load,
    .free = gbdt_free,
    .describe = gbdt_describe,
    .n_features = gbdt_n_features,
    .outputs = VG_ESTIMATOR_OUT_PROBA | VG_ESTIMATOR_OUT_VALUE,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
    .predict_row = gbdt_predict_row,
    .n_outputs = gbdt_n_outputs,
    .explain = gbdt_explain,
    .importance = gbdt_importance,
};
