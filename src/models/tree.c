/* "tree": one CART decision tree (scikit-learn's DecisionTreeClassifier),
 * grown on binned features with native categorical splits, compiled into a
 * one-tree ensemble that predicts, explains (TreeSHAP) and saves it. */
#include "models/cart.h"

#include <string.h>

static void tree_params_default(void *params)
{
    vg_cart_params_default(params);
}

static vg_status tree_params_set(void *params, const char *key, const char *value)
{
    int known;
    vg_status st = vg_cart_params_set(params, key, value, &known);
    if (st != VG_OK) return st;
    return known ? VG_OK : vg_param_unknown("tree", key);
}

static const char *tree_params_check(const void *params)
{
    return vg_cart_params_check(params);
}

static void tree_params_describe(const void *params, vg_wbuf *out)
{
    vg_cart_params_describe(params, out);
}

static vg_status tree_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    *out_state = NULL;
    const vg_cart_params *p = params;
    const char *msg = vg_cart_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "tree: %s", msg);
    vg_cart_data d;
    vg_status st = vg_cart_data_init(ts, p->max_bins, opt ? opt->threads : 1, &d);
    if (st != VG_OK) return st;
    vg_cart_builder *b = NULL;
    vg_cart_tree tree = { 0 };
    vg_ensemble *m = NULL;
    double *w = vg_malloc((size_t)d.n_rows * sizeof *w);
    if (!w) {
        st = vg_fail(VG_ERR_NOMEM, "tree: out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < d.n_rows; i++) w[i] = d.weight ? d.weight[i] : 1.0;
    if ((st = vg_cart_builder_new(&d, p, &b)) != VG_OK) goto done;
    vg_rng rng;
    vg_rng_seed(&rng, opt ? opt->seed : 0, 0);
    if ((st = vg_cart_grow(b, w, &rng, NULL, &tree)) != VG_OK) goto done;
    if ((st = vg_cart_compile(&tree, 1, d.features, d.n_features, d.n_classes, &m)) != VG_OK) goto done;
    if (opt && opt->progress) opt->progress(opt->progress_user, "trees", 1, 1);
    *out_state = m;
done:
    vg_cart_tree_free(&tree);
    vg_cart_builder_free(b);
    vg_free(w);
    vg_cart_data_free(&d);
    return st;
}

/* The state is the compiled ensemble itself (one tree). */

static void tree_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    vg_ensemble_predict(state, X, threads, proba);
}

static void tree_predict_row(const void *state, const float *row, float *proba)
{
    /* PROBA link: the raw scores are the probabilities. */
    vg_ensemble_raw_row(state, row, proba);
}

static uint32_t tree_n_features(const void *state)
{
    return ((const vg_ensemble *)state)->n_features;
}

static uint32_t tree_n_classes(const void *state)
{
    return ((const vg_ensemble *)state)->n_classes;
}

static uint32_t tree_n_outputs(const void *state)
{
    return ((const vg_ensemble *)state)->n_outputs;
}

static vg_status tree_explain(const void *state, const float *row, double *contrib)
{
    return vg_ensemble_shap(state, row, contrib);
}

static void tree_importance(const void *state, int kind, double *out)
{
    vg_ensemble_importance(state, (vg_importance_kind)kind, out);
}

/* u32 version, then the ensemble. Version 1 was the pre-ensemble layout. */
#define TREE_FORMAT_VERSION 2u

static vg_status tree_save(const void *state, vg_wbuf *w)
{
    vg_wbuf_u32(w, TREE_FORMAT_VERSION);
    return vg_ensemble_save(state, w);
}

static vg_status tree_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    vg_status st = vg_rbuf_check(r);
    if (st != VG_OK) return st;
    if (version != TREE_FORMAT_VERSION)
        return vg_fail(VG_ERR_FORMAT, "tree model: version %u is not supported (this build reads %u)", version,
                       TREE_FORMAT_VERSION);
    vg_ensemble *e;
    if ((st = vg_ensemble_load(r, &e)) != VG_OK) return st;
    if ((st = vg_cart_check(e, 1)) != VG_OK) {
        vg_ensemble_free(e);
        return st;
    }
    *out_state = e;
    return VG_OK;
}

static void tree_free(void *state)
{
    vg_ensemble_free(state);
}

static void tree_describe(const void *state, vg_wbuf *out)
{
    vg_ensemble_describe(state, out);
}

const vg_estimator_kind vg_tree_kind = {
    .name = "tree",
    .summary = "CART decision tree (gini/entropy) with native categorical splits",
    .encoding = VG_ENCODING_NATIVE,
    .params_size = sizeof(vg_cart_params),
    .params_default = tree_params_default,
    .params_set = tree_params_set,
    .params_check = tree_params_check,
    .params_describe = tree_params_describe,
    .fit = tree_fit,
    .predict = tree_predict,
    .n_classes = tree_n_classes,
    .save = tree_save,
    .load = tree_load,
    .free = tree_free,
    .describe = tree_describe,
    .n_features = tree_n_features,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
    .predict_row = tree_predict_row,
    .n_outputs = tree_n_outputs,
    .explain = tree_explain,
    .importance = tree_importance,
};
