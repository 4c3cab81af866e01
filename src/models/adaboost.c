/* "adaboost": scikit-learn's AdaBoostClassifier(algorithm="SAMME") over CART
 * trees (Zhu et al. 2009, "Multi-class AdaBoost"). Starting from the row
 * weights normalised to sum 1, round m grows a tree on the weighted rows,
 * takes its weighted error err_m (share of weight on rows whose leaf's
 * majority class is wrong) and gives it the say
 *     alpha_m = learning_rate * (log((1 - err_m) / err_m) + log(K - 1)),
 * then multiplies the weight of every misclassified row by exp(alpha_m) and
 * renormalises. A perfect tree (err 0) gets alpha 1 and ends the boosting; a
 * tree no better than chance (err >= 1 - 1/K) is dropped and ends it.
 *
 * Prediction follows scikit-learn 1.2: the decision is
 *     s_c(x) = sum_m alpha_m [tree_m(x) = c] / sum_m alpha_m
 * and the probabilities softmax(s / (K - 1)) (for two classes this is the
 * sigmoid of s_1 - s_0, scikit-learn's binary form). So each tree becomes a
 * tree of the shared ensemble whose leaves hold alpha_m times the one-hot of
 * their class, with link SOFTMAX and scale 1 / ((K - 1) sum alpha): the
 * ensemble predicts, explains (TreeSHAP of s / (K - 1)), ranks features and
 * saves it. Golden test: tests/golden/adaboost_samme.py (stumps, a fixed
 * set without tied splits). Rounds are sequential by nature; each tree's
 * growth and scoring are deterministic, so the model is the same whatever
 * the thread count. */
#include "models/cart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/parallel.h"

#define ADABOOST_FORMAT_VERSION 1u

typedef struct adaboost_params {
    vg_cart_params tree;
    uint32_t n_estimators;
    double learning_rate;
} adaboost_params;

typedef struct adaboost_state {
    vg_ensemble *e;
    uint32_t n_trees;
    double *alpha;   /* n_trees */
    double *error;   /* n_trees */
} adaboost_state;

static void adaboost_params_default(void *params)
{
    adaboost_params *p = params;
    memset(p, 0, sizeof *p);
    vg_cart_params_default(&p->tree);
    p->tree.max_depth = 1;  /* scikit-learn's base: a stump */
    p->n_estimators = 50;
    p->learning_rate = 1.0;
}

static vg_status adaboost_params_set(void *params, const char *key, const char *value)
{
    adaboost_params *p = params;
    int known;
    long v;
    vg_status st = vg_cart_params_set(&p->tree, key, value, &known);
    if (st != VG_OK || known) return st;
    if (strcmp(key, "n_estimators") == 0) {
        if ((st = vg_param_int(key, value, 1, 10000, &v))) return st;
        p->n_estimators = (uint32_t)v;
    } else if (strcmp(key, "learning_rate") == 0) {
        if ((st = vg_param_double(key, value, 1e-9, 1e3, &p->learning_rate))) return st;
    } else if (strcmp(key, "algorithm") == 0) {
        if (strcmp(value, "SAMME") != 0)
            return vg_fail(VG_ERR_INVALID, "parameter algorithm: '%s' is not SAMME (the only one vigil has)", value);
    } else {
        return vg_param_unknown("adaboost", key);
    }
    return VG_OK;
}

static const char *adaboost_params_check(const void *params)
{
    const adaboost_params *p = params;
    const char *msg = vg_cart_params_check(&p->tree);
    if (msg) return msg;
    if (p->n_estimators < 1 || p->n_estimators > 10000) return "n_estimators must be in [1, 10000]";
    if (!(p->learning_rate > 0)) return "learning_rate must be > 0";
    return NULL;
}

static void adaboost_params_describe(const void *params, vg_wbuf *out)
{
    const adaboost_params *p = params;
    vg_wbuf_printf(out, "algorithm=SAMME, n_estimators=%u, learning_rate=%.15g, ", p->n_estimators, p->learning_rate);
    vg_cart_params_describe(&p->tree, out);
}

static void adaboost_free(void *state)
{
    adaboost_state *s = state;
    if (!s) return;
    vg_ensemble_free(s->e);
    vg_free(s->alpha), vg_free(s->error);
    vg_free(s);
}

/* The class a leaf predicts: its largest value, the first of ties (numpy's argmax). */
static uint32_t leaf_class(const float *v, uint32_t K)
{
    uint32_t best = 0;
    for (uint32_t c = 1; c < K; c++)
        if (v[c] > v[best]) best = c;
    return best;
}

static vg_status adaboost_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    *out_state = NULL;
    const adaboost_params *p = params;
    const char *msg = adaboost_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "adaboost: %s", msg);
    if (!ts->X) return vg_fail(VG_ERR_INVALID, "adaboost: needs dense rows");
    int threads = vg_threads_resolve(opt ? opt->threads : 0);
    vg_cart_data d;
    vg_status st = vg_cart_data_init(ts, p->tree.max_bins, threads, &d);
    if (st) return st;
    const uint32_t N = d.n_rows, K = d.n_classes, M = p->n_estimators;
    vg_cart_builder *b = NULL;
    vg_cart_tree *trees = vg_calloc(M, sizeof *trees);
    double *w = vg_malloc((size_t)N * sizeof *w), *alpha = vg_calloc(M, sizeof *alpha),
           *error = vg_calloc(M, sizeof *error);
    float *proba = vg_malloc((size_t)N * K * sizeof *proba);
    adaboost_state *s = NULL;
    vg_ensemble *e = NULL;
    uint32_t kept = 0;
    if (!trees || !w || !alpha || !error || !proba) {
        st = vg_fail(VG_ERR_NOMEM, "adaboost: out of memory");
        goto done;
    }
    if ((st = vg_cart_builder_new(&d, &p->tree, &b))) goto done;
    double total = 0;
    for (uint32_t i = 0; i < N; i++) total += w[i] = d.weight ? d.weight[i] : 1.0;
    if (!(total > 0)) {
        st = vg_fail(VG_ERR_DATA, "adaboost: no training row has a positive weight");
        goto done;
    }
    for (uint32_t i = 0; i < N; i++) w[i] /= total;
    for (uint32_t m = 0; m < M; m++) {
        vg_rng rng;
        vg_rng_seed(&rng, opt ? opt->seed : 0, m);
        if ((st = vg_cart_grow(b, w, &rng, NULL, &trees[kept]))) goto done;
        /* The tree's training predictions, through the same compiled form
         * prediction will use. */
        vg_ensemble *one = NULL;
        if ((st = vg_cart_compile(&trees[kept], 1, d.features, d.n_features, K, &one))) goto done;
        vg_ensemble_predict(one, ts->X, threads, proba);
        vg_ensemble_free(one);
        double wrong = 0, sum = 0;
        for (uint32_t i = 0; i < N; i++) {
            sum += w[i];
            if (leaf_class(proba + (size_t)i * K, K) != (uint32_t)d.y[i]) wrong += w[i];
        }
        double err = wrong / sum;
        if (err <= 0) {  /* perfect: scikit-learn keeps it with weight 1 and stops */
            alpha[kept] = 1.0;
            error[kept++] = 0.0;
            break;
        }
        if (err >= 1.0 - 1.0 / K) {  /* no better than chance: dropped, and boosting ends */
            vg_cart_tree_free(&trees[kept]);
            if (kept == 0) {
                st = vg_fail(VG_ERR_DATA, "adaboost: the first tree is no better than chance (weighted error %.4g); "
                             "a deeper base tree (max_depth) may help", err);
                goto done;
            }
            break;
        }
        double a = p->learning_rate * (log((1.0 - err) / err) + log((double)K - 1.0));
        alpha[kept] = a;
        error[kept++] = err;
        if (m + 1 == M) break;
        double ws = 0;
        for (uint32_t i = 0; i < N; i++) {
            if (w[i] > 0 && leaf_class(proba + (size_t)i * K, K) != (uint32_t)d.y[i]) w[i] *= exp(a);
            ws += w[i];
        }
        if (!isfinite(ws) || ws <= 0) break;
        for (uint32_t i = 0; i < N; i++) w[i] /= ws;
        if (opt && opt->progress) opt->progress(opt->progress_user, "trees", m + 1, M);
    }
    if ((st = vg_cart_compile(trees, kept, d.features, d.n_features, K, &e))) goto done;
    double asum = 0;
    uint32_t leaf = 0;
    for (uint32_t t = 0; t < kept; t++) {
        asum += alpha[t];
        for (uint32_t l = 0; l < trees[t].n_leaves; l++, leaf++) {
            float *v = e->leaves + (size_t)leaf * K;
            uint32_t c = leaf_class(v, K);
            for (uint32_t k = 0; k < K; k++) v[k] = k == c ? (float)alpha[t] : 0.0f;
        }
    }
    e->link = VG_LINK_SOFTMAX;
    e->scale = (float)(1.0 / (asum * (double)(K - 1)));
    s = vg_calloc(1, sizeof *s);
    if (!s) {
        st = vg_fail(VG_ERR_NOMEM, "adaboost: out of memory");
        goto done;
    }
    s->e = e;
    e = NULL;
    s->n_trees = kept;
    s->alpha = alpha;
    s->error = error;
    alpha = error = NULL;
    *out_state = s;
    s = NULL;
done:
    vg_ensemble_free(e);
    for (uint32_t t = 0; trees && t < M; t++) vg_cart_tree_free(&trees[t]);
    vg_free(trees), vg_free(w), vg_free(alpha), vg_free(error), vg_free(proba);
    vg_cart_builder_free(b);
    vg_cart_data_free(&d);
    return st;
}

static const vg_ensemble *ens(const void *state)
{
    return ((const adaboost_state *)state)->e;
}

static void adaboost_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    vg_ensemble_predict(ens(state), X, threads, proba);
}

static void adaboost_predict_row(const void *state, const float *row, float *proba)
{
    const vg_ensemble *e = ens(state);
    float raw[256];
    if (e->n_outputs > 256) {
        vg_matrix X = { .rows = 1, .cols = e->n_features, .data = (float *)row };
        vg_ensemble_predict(e, &X, 1, proba);
        return;
    }
    vg_ensemble_raw_row(e, row, raw);
    vg_ensemble_link(e, raw, 1, proba);
}

static uint32_t adaboost_n_classes(const void *state) { return ens(state)->n_classes; }
static uint32_t adaboost_n_features(const void *state) { return ens(state)->n_features; }
static uint32_t adaboost_n_outputs(const void *state) { return ens(state)->n_outputs; }

static vg_status adaboost_explain(const void *state, const float *row, double *contrib)
{
    return vg_ensemble_shap(ens(state), row, contrib);
}

static void adaboost_importance(const void *state, int kind, double *out)
{
    vg_ensemble_importance(ens(state), (vg_importance_kind)kind, out);
}

static vg_status adaboost_save(const void *state, vg_wbuf *w)
{
    const adaboost_state *s = state;
    vg_wbuf_u32(w, ADABOOST_FORMAT_VERSION);
    vg_wbuf_u32(w, s->n_trees);
    vg_wbuf_f64s(w, s->alpha, s->n_trees);
    vg_wbuf_f64s(w, s->error, s->n_trees);
    return vg_ensemble_save(s->e, w);
}

static vg_status adaboost_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    vg_rbuf_require(r, version == ADABOOST_FORMAT_VERSION, "adaboost model version");
    uint32_t n = vg_rbuf_u32(r);
    vg_rbuf_require(r, n >= 1 && n <= 10000, "adaboost tree count");
    vg_status st = vg_rbuf_check(r);
    if (st) return st;
    adaboost_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "out of memory");
    s->n_trees = n;
    s->alpha = vg_rbuf_f64s(r, n);
    if (!r->failed) s->error = vg_rbuf_f64s(r, n);
    for (uint32_t t = 0; !r->failed && t < n; t++)
        vg_rbuf_require(r, isfinite(s->alpha[t]) && isfinite(s->error[t]), "adaboost tree weight");
    if (!(st = vg_rbuf_check(r)) && !(st = vg_ensemble_load(r, &s->e))) {
        const vg_ensemble *e = s->e;
        if (e->link != VG_LINK_SOFTMAX || e->n_classes < 2 || e->n_outputs != e->n_classes ||
            e->leaf_width != e->n_outputs || e->n_trees != n || !isfinite(e->scale))
            st = vg_fail(VG_ERR_FORMAT, "adaboost model: not a SAMME tree ensemble");
    }
    if (st) {
        adaboost_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void adaboost_describe(const void *state, vg_wbuf *out)
{
    const adaboost_state *s = state;
    vg_ensemble_describe(s->e, out);
    double mean_err = 0;
    for (uint32_t t = 0; t < s->n_trees; t++) mean_err += s->error[t];
    vg_wbuf_printf(out, "boosting_rounds: %u\nmean_weighted_error: %.6f\n", s->n_trees, mean_err / s->n_trees);
}

const vg_estimator_kind vg_adaboost_kind = {
    .name = "adaboost",
    .summary = "AdaBoost (SAMME) over CART trees, stumps by default (n_estimators, learning_rate, max_depth)",
    .encoding = VG_ENCODING_NATIVE,
    .params_size = sizeof(adaboost_params),
    .params_default = adaboost_params_default,
    .params_set = adaboost_params_set,
    .params_check = adaboost_params_check,
    .params_describe = adaboost_params_describe,
    .fit = adaboost_fit,
    .predict = adaboost_predict,
    .predict_row = adaboost_predict_row,
    .n_classes = adaboost_n_classes,
    .n_features = adaboost_n_features,
    .save = adaboost_save,
    .load = adaboost_load,
    .free = adaboost_free,
    .describe = adaboost_describe,
    .n_outputs = adaboost_n_outputs,
    .explain = adaboost_explain,
    .importance = adaboost_importance,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
};
