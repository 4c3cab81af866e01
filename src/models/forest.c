/* "forest": a random forest (scikit-learn's RandomForestClassifier): CART
 * trees on bootstrap samples with a random feature subset per split, grown in
 * parallel on one shared binned copy of the data; probabilities are the mean
 * of the trees' leaf probabilities. Tree i draws everything from its own
 * generator seeded with (seed, i), so a forest is bit-identical whatever the
 * thread count. The out-of-bag accuracy is kept and shown by describe. The
 * trees are compiled into one ensemble (link PROBA, scale 1/n_trees) that
 * predicts, explains (TreeSHAP), ranks features and saves them. */
#include "models/cart.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vigil/parallel.h"

/* u32 version, f64 out-of-bag accuracy, then the ensemble. Version 1 was
 * the pre-ensemble layout. */
#define FOREST_FORMAT_VERSION 2u

typedef enum { MAX_SAMPLES_ALL = 0, MAX_SAMPLES_FRACTION, MAX_SAMPLES_COUNT } max_samples_mode;

typedef struct vg_forest_params {
    vg_cart_params tree;
    uint32_t n_estimators;
    int bootstrap;
    max_samples_mode max_samples_mode;
    double max_samples;
    int oob_score;
    int oob_score_set;  /* given explicitly: then bootstrap=false is an error, not a silent skip */
} vg_forest_params;

typedef struct forest_state {
    vg_ensemble *e;
    double oob_accuracy;  /* NaN when not computed */
} forest_state;

static void forest_params_default(void *params)
{
    vg_forest_params *p = params;
    memset(p, 0, sizeof *p);
    vg_cart_params_default(&p->tree);
    p->tree.max_features = VG_CART_MAXF_SQRT;
    p->n_estimators = 100;
    p->bootstrap = 1;
    p->max_samples_mode = MAX_SAMPLES_ALL;
    p->oob_score = 1;
}

static vg_status forest_params_set(void *params, const char *key, const char *value)
{
    vg_forest_params *p = params;
    int known;
    long v;
    double d;
    vg_status st = vg_cart_params_set(&p->tree, key, value, &known);
    if (st != VG_OK || known) return st;
    if (strcmp(key, "n_estimators") == 0) {
        if ((st = vg_param_int(key, value, 1, 10000, &v)) != VG_OK) return st;
        p->n_estimators = (uint32_t)v;
    } else if (strcmp(key, "bootstrap") == 0) {
        return vg_param_bool(key, value, &p->bootstrap);
    } else if (strcmp(key, "oob_score") == 0) {
        if ((st = vg_param_bool(key, value, &p->oob_score)) != VG_OK) return st;
        p->oob_score_set = 1;
    } else if (strcmp(key, "max_samples") == 0) {
        if (strcasecmp(value, "none") == 0) {
            p->max_samples_mode = MAX_SAMPLES_ALL;
        } else if (strpbrk(value, ".eE")) {
            if (vg_param_double(key, value, 0.0, 1.0, &d) != VG_OK || d <= 0.0)
                return vg_fail(VG_ERR_INVALID, "parameter max_samples: '%s' is not none, a count >= 1 or a "
                               "fraction in (0, 1]", value);
            p->max_samples_mode = MAX_SAMPLES_FRACTION;
            p->max_samples = d;
        } else {
            if (vg_param_int(key, value, 1, 1L << 31, &v) != VG_OK)
                return vg_fail(VG_ERR_INVALID, "parameter max_samples: '%s' is not none, a count >= 1 or a "
                               "fraction in (0, 1]", value);
            p->max_samples_mode = MAX_SAMPLES_COUNT;
            p->max_samples = (double)v;
        }
    } else {
        return vg_param_unknown("forest", key);
    }
    return VG_OK;
}

static void forest_params_describe(const void *params, vg_wbuf *out)
{
    const vg_forest_params *p = params;
    vg_wbuf_printf(out, "n_estimators=%u, ", p->n_estimators);
    vg_cart_params_describe(&p->tree, out);
    vg_wbuf_printf(out, ", bootstrap=%s, ", p->bootstrap ? "true" : "false");
    if (p->max_samples_mode == MAX_SAMPLES_ALL) vg_wbuf_printf(out, "max_samples=none");
    else if (p->max_samples_mode == MAX_SAMPLES_FRACTION) vg_wbuf_printf(out, "max_samples=%.15g", p->max_samples);
    else vg_wbuf_printf(out, "max_samples=%.0f", p->max_samples);
    vg_wbuf_printf(out, ", oob_score=%s", p->oob_score ? "true" : "false");
}

static const char *forest_params_check(const void *params)
{
    const vg_forest_params *p = params;
    const char *msg = vg_cart_params_check(&p->tree);
    if (msg) return msg;
    if (p->n_estimators < 1 || p->n_estimators > 10000) return "n_estimators must be in [1, 10000]";
    if (!p->bootstrap && p->max_samples_mode != MAX_SAMPLES_ALL)
        return "max_samples needs bootstrap=true";
    if (!p->bootstrap && p->oob_score && p->oob_score_set)
        return "oob_score needs bootstrap=true (out-of-bag rows exist only with bootstrap samples)";
    return NULL;
}

/* ---- fitting ---- */

/* Status of a tree not attempted because another one failed. */
#define TREE_SKIPPED ((vg_status)1)

typedef struct fit_ctx {
    const vg_forest_params *p;
    const vg_cart_data *d;
    const vg_fit_options *opt;
    uint32_t n_samples;      /* bootstrap draws per tree */
    vg_cart_builder **builders;  /* per worker, made on first use */
    double **weights;        /* per worker: n_rows weights, then n_rows out-of-bag row numbers */
    vg_cart_tree *trees;     /* n_estimators */
    vg_status *status;       /* n_estimators */
    atomic_llong *oob;       /* n_rows x n_classes out-of-bag sums, or NULL */
    atomic_size_t done;
    atomic_int failed;
} fit_ctx;

static void tree_task(void *ctx, size_t task, int worker)
{
    fit_ctx *c = ctx;
    const vg_cart_data *d = c->d;
    if (atomic_load(&c->failed)) {
        c->status[task] = TREE_SKIPPED;
        return;
    }
    vg_status st = VG_OK;
    if (!c->builders[worker]) st = vg_cart_builder_new(d, &c->p->tree, &c->builders[worker]);
    if (st == VG_OK && !c->weights[worker]) {
        c->weights[worker] = vg_malloc((size_t)d->n_rows * (sizeof(double) + sizeof(uint32_t)) + 8);
        if (!c->weights[worker]) st = vg_fail(VG_ERR_NOMEM, "forest: out of memory");
    }
    if (st != VG_OK) {
        c->status[task] = st;
        atomic_store(&c->failed, 1);
        return;
    }
    double *w = c->weights[worker];
    uint32_t *oob_rows = (uint32_t *)(w + d->n_rows);
    vg_cart_oob oob = { oob_rows, 0, c->oob };
    vg_rng rng;
    vg_rng_seed(&rng, c->opt ? c->opt->seed : 0, task);
    if (c->p->bootstrap) {
        /* Bootstrap counts act as integer weights, as in scikit-learn; rows
         * never drawn are this tree's out-of-bag rows. */
        memset(w, 0, (size_t)d->n_rows * sizeof(double));
        for (uint32_t s = 0; s < c->n_samples; s++) w[vg_rng_below(&rng, d->n_rows)] += 1.0;
        for (uint32_t i = 0; i < d->n_rows; i++) {
            if (w[i] == 0.0) oob_rows[oob.n++] = i;
            else if (d->weight) w[i] *= d->weight[i];
        }
    } else {
        for (uint32_t i = 0; i < d->n_rows; i++) w[i] = d->weight ? d->weight[i] : 1.0;
    }
    st = vg_cart_grow(c->builders[worker], w, &rng, c->oob ? &oob : NULL, &c->trees[task]);
    c->status[task] = st;
    if (st != VG_OK) {
        if (st != VG_ERR_DATA) atomic_store(&c->failed, 1);
        return;
    }
    size_t done = atomic_fetch_add(&c->done, 1) + 1;
    if (c->opt && c->opt->progress) c->opt->progress(c->opt->progress_user, "trees", done, c->p->n_estimators);
}

/* Out-of-bag accuracy from the sums the trees left: each row's class is the
 * argmax over the trees that did not see it (lowest class on ties); rows
 * every tree saw are skipped. NaN when there are none. */
static double oob_accuracy(const atomic_llong *acc, const int32_t *y, uint32_t n_rows, uint32_t C)
{
    size_t correct = 0, counted = 0;
    for (uint32_t r = 0; r < n_rows; r++) {
        const atomic_llong *a = acc + (size_t)r * C;
        long long best_v = atomic_load_explicit(&a[0], memory_order_relaxed), sum = best_v;
        uint32_t best = 0;
        for (uint32_t k = 1; k < C; k++) {
            long long v = atomic_load_explicit(&a[k], memory_order_relaxed);
            sum += v;
            if (v > best_v) {
                best_v = v;
                best = k;
            }
        }
        if (sum == 0) continue;
        counted++;
        correct += best == (uint32_t)y[r];
    }
    return counted ? (double)correct / (double)counted : NAN;
}

static vg_status forest_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt,
                            void **out_state)
{
    *out_state = NULL;
    const vg_forest_params *p = params;
    const char *msg = forest_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "forest: %s", msg);
    int threads = vg_threads_resolve(opt ? opt->threads : 0);
    vg_cart_data d;
    vg_status st = vg_cart_data_init(ts, p->tree.max_bins, threads, &d);
    if (st != VG_OK) return st;

    uint32_t n_samples = d.n_rows;
    if (p->max_samples_mode == MAX_SAMPLES_FRACTION) {
        double k = round(p->max_samples * d.n_rows);
        n_samples = k < 1 ? 1 : (uint32_t)k;
    } else if (p->max_samples_mode == MAX_SAMPLES_COUNT) {
        if (p->max_samples > d.n_rows) {
            vg_cart_data_free(&d);
            return vg_fail(VG_ERR_INVALID, "parameter max_samples: %.0f is more than the %u training rows",
                           p->max_samples, d.n_rows);
        }
        n_samples = (uint32_t)p->max_samples;
    }
    int want_oob = p->bootstrap && p->oob_score;
    uint32_t T = p->n_estimators;
    fit_ctx c = { .p = p, .d = &d, .opt = opt, .n_samples = n_samples };
    atomic_init(&c.done, 0);
    atomic_init(&c.failed, 0);
    c.builders = vg_calloc((size_t)threads, sizeof *c.builders);
    c.weights = vg_calloc((size_t)threads, sizeof *c.weights);
    c.trees = vg_calloc(T, sizeof *c.trees);
    c.status = vg_calloc(T, sizeof *c.status);
    if (want_oob) c.oob = vg_calloc((size_t)d.n_rows * d.n_classes, sizeof(atomic_llong));
    vg_ensemble *m = NULL;
    forest_state *s = NULL;
    if (!c.builders || !c.weights || !c.trees || !c.status || (want_oob && !c.oob)) {
        st = vg_fail(VG_ERR_NOMEM, "forest: out of memory");
        goto done;
    }
    vg_parallel_for(threads, T, tree_task, &c);
    /* A failure left its message on a worker thread: restate it here. A
     * tree whose sample held only zero-weight rows is dropped, unless every
     * tree is. */
    uint32_t kept = 0;
    for (uint32_t t = 0; t < T; t++) {
        if (c.status[t] != VG_OK && c.status[t] != VG_ERR_DATA && c.status[t] != TREE_SKIPPED) {
            st = vg_fail(c.status[t], "forest: growing tree %u failed: %s", t, vg_status_str(c.status[t]));
            goto done;
        }
    }
    for (uint32_t t = 0; t < T; t++) {
        if (c.status[t] != VG_OK) continue;
        if (kept != t) {
            c.trees[kept] = c.trees[t];
            memset(&c.trees[t], 0, sizeof c.trees[t]);
        }
        kept++;
    }
    if (kept == 0) {
        st = vg_fail(VG_ERR_DATA, "forest: no training row has a positive weight");
        goto done;
    }
    if ((st = vg_cart_compile(c.trees, kept, d.features, d.n_features, d.n_classes, &m)) != VG_OK) goto done;
    s = vg_calloc(1, sizeof *s);
    if (!s) {
        st = vg_fail(VG_ERR_NOMEM, "forest: out of memory");
        goto done;
    }
    s->oob_accuracy = want_oob ? oob_accuracy(c.oob, d.y, d.n_rows, d.n_classes) : NAN;
    s->e = m;
    m = NULL;
    *out_state = s;
    s = NULL;
done:
    vg_free(s);
    vg_ensemble_free(m);
    for (int i = 0; c.builders && i < threads; i++) vg_cart_builder_free(c.builders[i]);
    for (int i = 0; c.weights && i < threads; i++) vg_free(c.weights[i]);
    for (uint32_t t = 0; c.trees && t < T; t++) vg_cart_tree_free(&c.trees[t]);
    vg_free(c.builders);
    vg_free(c.weights);
    vg_free(c.trees);
    vg_free(c.status);
    vg_free(c.oob);
    vg_cart_data_free(&d);
    return st;
}

/* ---- the rest of the vtable ---- */

static const vg_ensemble *ens(const void *state)
{
    return ((const forest_state *)state)->e;
}

static void forest_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    vg_ensemble_predict(ens(state), X, threads, proba);
}

static void forest_predict_row(const void *state, const float *row, float *proba)
{
    /* PROBA link: the raw scores are the probabilities. */
    vg_ensemble_raw_row(ens(state), row, proba);
}

static uint32_t forest_n_features(const void *state)
{
    return ens(state)->n_features;
}

static uint32_t forest_n_classes(const void *state)
{
    return ens(state)->n_classes;
}

static uint32_t forest_n_outputs(const void *state)
{
    return ens(state)->n_outputs;
}

static vg_status forest_explain(const void *state, const float *row, double *contrib)
{
    return vg_ensemble_shap(ens(state), row, contrib);
}

static void forest_importance(const void *state, int kind, double *out)
{
    vg_ensemble_importance(ens(state), (vg_importance_kind)kind, out);
}

static vg_status forest_save(const void *state, vg_wbuf *w)
{
    const forest_state *s = state;
    vg_wbuf_u32(w, FOREST_FORMAT_VERSION);
    vg_wbuf_f64(w, s->oob_accuracy);
    return vg_ensemble_save(s->e, w);
}

static vg_status forest_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    double oob = vg_rbuf_f64(r);
    vg_status st = vg_rbuf_check(r);
    if (st != VG_OK) return st;
    if (version != FOREST_FORMAT_VERSION)
        return vg_fail(VG_ERR_FORMAT, "forest model: version %u is not supported (this build reads %u)",
                       version, FOREST_FORMAT_VERSION);
    if (!isnan(oob) && !(oob >= 0.0 && oob <= 1.0))
        return vg_fail(VG_ERR_FORMAT, "forest model: out-of-bag accuracy %g is not in [0, 1]", oob);
    forest_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "forest model: out of memory");
    if ((st = vg_ensemble_load(r, &s->e)) == VG_OK) st = vg_cart_check(s->e, 0);
    if (st != VG_OK) {
        vg_ensemble_free(s->e);
        vg_free(s);
        return st;
    }
    s->oob_accuracy = oob;
    *out_state = s;
    return VG_OK;
}

static void forest_free(void *state)
{
    forest_state *s = state;
    if (!s) return;
    vg_ensemble_free(s->e);
    vg_free(s);
}

static void forest_describe(const void *state, vg_wbuf *out)
{
    const forest_state *s = state;
    vg_ensemble_describe(s->e, out);
    char line[64];
    int n = isnan(s->oob_accuracy) ? snprintf(line, sizeof line, "oob_accuracy: none\n")
                                   : snprintf(line, sizeof line, "oob_accuracy: %.6f\n", s->oob_accuracy);
    if (n > 0) vg_wbuf_bytes(out, line, VG_MIN((size_t)n, sizeof line - 1));
}

const vg_estimator_kind vg_forest_kind = {
    .name = "forest",
    .summary = "random forest of CART trees (bootstrap, random features per split), out-of-bag accuracy",
    .encoding = VG_ENCODING_NATIVE,
    .params_size = sizeof(vg_forest_params),
    .params_default = forest_params_default,
    .params_set = forest_params_set,
    .params_check = forest_params_check,
    .params_describe = forest_params_describe,
    .fit = forest_fit,
    .predict = forest_predict,
    .n_classes = forest_n_classes,
    .save = forest_save,
    .load = forest_load,
    .free = forest_free,
    .describe = forest_describe,
    .n_features = forest_n_features,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
    .predict_row = forest_predict_row,
    .n_outputs = forest_n_outputs,
    .explain = forest_explain,
    .importance = forest_importance,
};
