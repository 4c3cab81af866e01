/* "bagging": scikit-learn's BaggingClassifier over any classifier family
 * (`--param estimator=tree`, the default, or logreg, knn, svm, gbdt, ...).
 * Each of n_estimators parts is fitted on its own sample of the training
 * rows (max_samples of them, drawn with replacement when bootstrap, else
 * without) and its own subset of max_features columns (drawn without
 * replacement); the model's probabilities are the mean of the parts'.
 * Part b draws rows and columns from a generator seeded with (seed, b) and
 * is fitted single-threaded on a worker of the pool, so the parts, and the
 * mean taken in part order, are the same whatever the thread count.
 * Parameters of the base family are given as `--param tree.max_depth=3`
 * (the base's name, a dot, its parameter), after `estimator=` if it is
 * given. Explanations: the mean of the parts' contributions in probability
 * units (parts.h), each part's columns mapped back to the model's. */
#include "models/parts.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vigil/parallel.h"
#include "vigil/rng.h"

#define BAGGING_FORMAT_VERSION 1u
#define BAGGING_MAX_ESTIMATORS 5000

typedef struct bagging_params {
    vg_parts_spec base;   /* one part: the base family */
    uint32_t n_estimators;
    double max_samples, max_features;  /* <= 1 with a dot: fraction; else a count */
    int samples_is_count, features_is_count;
    int bootstrap;
} bagging_params;

typedef struct bagging_state {
    uint32_t n, n_features, n_classes;
    vg_part *parts;  /* n */
} bagging_state;

static void bagging_params_default(void *params)
{
    bagging_params *p = params;
    memset(p, 0, sizeof *p);
    vg_parts_set_list(&p->base, "bagging", "tree");
    p->n_estimators = 10;
    p->max_samples = 1.0;
    p->max_features = 1.0;
    p->bootstrap = 1;
}

/* A fraction in (0, 1] when it has a dot or exponent, else a count >= 1. */
static vg_status size_param(const char *key, const char *value, double *v, int *is_count)
{
    long n;
    if (strpbrk(value, ".eE")) {
        vg_status st = vg_param_double(key, value, 0.0, 1.0, v);
        if (st || *v <= 0)
            return vg_fail(VG_ERR_INVALID, "parameter %s: '%s' is not a fraction in (0, 1] or a count >= 1", key, value);
        *is_count = 0;
        return VG_OK;
    }
    if (vg_param_int(key, value, 1, 1L << 31, &n))
        return vg_fail(VG_ERR_INVALID, "parameter %s: '%s' is not a fraction in (0, 1] or a count >= 1", key, value);
    *v = (double)n;
    *is_count = 1;
    return VG_OK;
}

static vg_status bagging_params_set(void *params, const char *key, const char *value)
{
    bagging_params *p = params;
    long v;
    int known;
    vg_status st;
    if (strcmp(key, "estimator") == 0 || strcmp(key, "base_estimator") == 0) {
        if (strchr(value, ',')) return vg_fail(VG_ERR_INVALID, "parameter %s: one family, not '%s'", key, value);
        return vg_parts_set_list(&p->base, "bagging", value);
    }
    if (strcmp(key, "n_estimators") == 0) {
        if ((st = vg_param_int(key, value, 1, BAGGING_MAX_ESTIMATORS, &v))) return st;
        p->n_estimators = (uint32_t)v;
        return VG_OK;
    }
    if (strcmp(key, "max_samples") == 0) return size_param(key, value, &p->max_samples, &p->samples_is_count);
    if (strcmp(key, "max_features") == 0) return size_param(key, value, &p->max_features, &p->features_is_count);
    if (strcmp(key, "bootstrap") == 0) return vg_param_bool(key, value, &p->bootstrap);
    if ((st = vg_parts_set_param(&p->base, "bagging", key, value, &known)) || known) return st;
    return vg_param_unknown("bagging", key);
}

static const char *bagging_params_check(const void *params)
{
    const bagging_params *p = params;
    if (p->base.n != 1) return "estimator must name one base family";
    if (vg_parts_n_anomaly(&p->base)) return "estimator must be a classifier, not an anomaly model";
    if (p->n_estimators < 1 || p->n_estimators > BAGGING_MAX_ESTIMATORS) return "n_estimators must be in [1, 5000]";
    return NULL;
}

static void bagging_params_describe(const void *params, vg_wbuf *out)
{
    const bagging_params *p = params;
    vg_wbuf_printf(out, "estimator=");
    vg_parts_describe(&p->base, out);
    vg_wbuf_printf(out, ", n_estimators=%u, max_samples=%.15g%s, max_features=%.15g%s, bootstrap=%s", p->n_estimators,
                   p->max_samples, p->samples_is_count ? "" : " (fraction)", p->max_features,
                   p->features_is_count ? "" : " (fraction)", p->bootstrap ? "true" : "false");
}

static void bagging_free(void *state)
{
    bagging_state *s = state;
    if (!s) return;
    for (uint32_t i = 0; s->parts && i < s->n; i++) vg_part_free(&s->parts[i]);
    vg_free(s->parts);
    vg_free(s);
}

typedef struct bag_ctx {
    const bagging_params *p;
    const vg_estimator_kind *kind;
    const void *base_params;
    const vg_train_set *ts;
    const vg_fit_options *opt;
    size_t n_samples;
    uint32_t n_cols;
    vg_part *parts;
    vg_status *status;
    char (*errors)[256];
    atomic_int failed;
} bag_ctx;

static void bag_task(void *ctx, size_t b, int worker)
{
    (void)worker;
    bag_ctx *c = ctx;
    if (atomic_load(&c->failed)) return;
    const size_t N = c->ts->X->rows, F = c->ts->X->cols;
    vg_rng rng;
    vg_rng_seed(&rng, c->opt ? c->opt->seed : 0, b);
    size_t *rows = vg_malloc(c->n_samples * sizeof *rows);
    uint32_t *perm = vg_malloc((N > F ? N : F) * sizeof *perm);
    vg_status st = rows && perm ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory");
    if (!st) {
        if (c->p->bootstrap) {
            for (size_t i = 0; i < c->n_samples; i++) rows[i] = vg_rng_below(&rng, (uint32_t)N);
        } else {
            for (uint32_t i = 0; i < N; i++) perm[i] = i;
            vg_rng_shuffle_u32(&rng, perm, N);
            for (size_t i = 0; i < c->n_samples; i++) rows[i] = perm[i];
        }
        uint32_t *cols = NULL;
        if (c->n_cols < F) {
            for (uint32_t j = 0; j < F; j++) perm[j] = j;
            vg_rng_shuffle_u32(&rng, perm, F);
            /* ascending, so a part reads its columns in the model's order */
            for (uint32_t a = 1; a < c->n_cols; a++)
                for (uint32_t k = a; k > 0 && perm[k - 1] > perm[k]; k--) {
                    uint32_t t = perm[k];
                    perm[k] = perm[k - 1];
                    perm[k - 1] = t;
                }
            cols = perm;
        }
        vg_fit_options o = c->opt ? *c->opt : (vg_fit_options){ 0 };
        o.threads = 1;
        o.progress = NULL;
        o.seed = (c->opt ? c->opt->seed : 0) + 1000003ull * (b + 1);
        st = vg_part_fit(c->kind, c->base_params, c->p->base.transform, c->ts, rows, c->n_samples, cols, c->n_cols, &o,
                         &c->parts[b]);
    }
    vg_free(rows), vg_free(perm);
    c->status[b] = st;
    if (st) {
        snprintf(c->errors[b], sizeof c->errors[b], "%s", vg_last_error());
        atomic_store(&c->failed, 1);
    }
}

static vg_status bagging_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    *out_state = NULL;
    const bagging_params *p = params;
    const char *msg = bagging_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "bagging: %s", msg);
    if (!ts->X || !ts->y || ts->n_classes < 2) return vg_fail(VG_ERR_INVALID, "bagging: needs dense rows and class labels");
    const size_t N = ts->X->rows, F = ts->X->cols;
    size_t n_samples = p->samples_is_count ? (size_t)p->max_samples : (size_t)llround(p->max_samples * (double)N);
    size_t n_cols = p->features_is_count ? (size_t)p->max_features : (size_t)llround(p->max_features * (double)F);
    if (n_samples < 1) n_samples = 1;
    if (n_cols < 1) n_cols = 1;
    if (n_samples > N && (p->samples_is_count || !p->bootstrap))
        return vg_fail(VG_ERR_INVALID, "parameter max_samples: %zu is more than the %zu training rows", n_samples, N);
    if (n_cols > F)
        return vg_fail(VG_ERR_INVALID, "parameter max_features: %zu is more than the %zu columns", n_cols, F);
    void *bp = NULL;
    vg_status st = vg_parts_params(&p->base, 0, &bp);
    if (st) return st;
    const uint32_t B = p->n_estimators;
    bagging_state *s = vg_calloc(1, sizeof *s);
    bag_ctx c = { .p = p, .kind = vg_estimator_find(p->base.names[0]), .base_params = bp, .ts = ts, .opt = opt,
                  .n_samples = n_samples, .n_cols = (uint32_t)n_cols };
    atomic_init(&c.failed, 0);
    c.parts = vg_calloc(B, sizeof *c.parts);
    c.status = vg_calloc(B, sizeof *c.status);
    c.errors = vg_calloc(B, sizeof *c.errors);
    if (!s || !c.parts || !c.status || !c.errors) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
    } else {
        vg_parallel_for(vg_threads_resolve(opt ? opt->threads : 0), B, bag_task, &c);
        for (uint32_t b = 0; b < B && !st; b++)
            if (c.status[b]) st = vg_fail(c.status[b], "bagging: part %u (%s): %s", b + 1, c.kind->name, c.errors[b]);
    }
    vg_free(bp), vg_free(c.status), vg_free(c.errors);
    if (s) {
        s->parts = c.parts;
        s->n = c.parts ? B : 0;
        s->n_features = (uint32_t)F;
        s->n_classes = ts->n_classes;
    } else {
        for (uint32_t b = 0; c.parts && b < B; b++) vg_part_free(&c.parts[b]);
        vg_free(c.parts);
    }
    if (st) {
        bagging_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void bagging_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    const bagging_state *s = state;
    const uint32_t C = s->n_classes;
    size_t n = X->rows * C;
    double *acc = vg_calloc(n ? n : 1, sizeof *acc);
    float *pr = vg_malloc((n ? n : 1) * sizeof *pr);
    int ok = acc && pr;
    for (uint32_t i = 0; ok && i < s->n; i++) {
        if (vg_part_predict(&s->parts[i], X, threads, pr)) ok = 0;
        for (size_t k = 0; ok && k < n; k++) acc[k] += pr[k];
    }
    for (size_t k = 0; k < n; k++) proba[k] = ok ? (float)(acc[k] / s->n) : 1.0f / (float)C;  /* see vote.c */
    vg_free(acc), vg_free(pr);
}

static void bagging_predict_row(const void *state, const float *row, float *proba)
{
    const bagging_state *s = state;
    const uint32_t C = s->n_classes;
    double acc[256] = { 0 };
    float pr[256];
    for (uint32_t i = 0; i < s->n; i++) {
        if (C > 256 || vg_part_predict_row(&s->parts[i], row, pr)) {
            for (uint32_t c = 0; c < C; c++) proba[c] = 1.0f / (float)C;
            return;
        }
        for (uint32_t c = 0; c < C; c++) acc[c] += pr[c];
    }
    for (uint32_t c = 0; c < C; c++) proba[c] = (float)(acc[c] / s->n);
}

static uint32_t bagging_n_classes(const void *state) { return ((const bagging_state *)state)->n_classes; }
static uint32_t bagging_n_features(const void *state) { return ((const bagging_state *)state)->n_features; }

static uint32_t bagging_n_outputs(const void *state)
{
    const bagging_state *s = state;
    if (s->n_classes > 256) return 0;
    for (uint32_t i = 0; i < s->n; i++)
        if (!vg_part_can_explain(&s->parts[i])) return 0;
    return s->n_classes;
}

static vg_status bagging_explain(const void *state, const float *row, double *contrib)
{
    const bagging_state *s = state;
    if (!bagging_n_outputs(s)) return vg_fail(VG_ERR_UNSUPPORTED, "bagging: the base family cannot explain");
    return vg_parts_explain_sum(s->parts, s->n, NULL, row, s->n_features, s->n_classes, contrib);
}

static vg_status bagging_save(const void *state, vg_wbuf *w)
{
    const bagging_state *s = state;
    vg_wbuf_u32(w, BAGGING_FORMAT_VERSION);
    vg_wbuf_u32(w, s->n_features);
    vg_wbuf_u32(w, s->n_classes);
    vg_wbuf_u32(w, s->n);
    vg_status st = VG_OK;
    for (uint32_t i = 0; i < s->n && !st; i++) st = vg_part_save(&s->parts[i], w);
    return st;
}

static vg_status bagging_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    vg_rbuf_require(r, version == BAGGING_FORMAT_VERSION, "bagging model version");
    uint32_t F = vg_rbuf_u32(r), C = vg_rbuf_u32(r), n = vg_rbuf_u32(r);
    vg_rbuf_require(r, F >= 1 && C >= 2 && C <= 65536 && n >= 1 && n <= BAGGING_MAX_ESTIMATORS, "bagging model header");
    vg_status st = vg_rbuf_check(r);
    if (st) return st;
    bagging_state *s = vg_calloc(1, sizeof *s);
    if (!s || !(s->parts = vg_calloc(n, sizeof *s->parts))) {
        vg_free(s);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    s->n_features = F;
    s->n_classes = C;
    for (uint32_t i = 0; !st && i < n; i++) {
        if ((st = vg_part_load(r, F, C, 0, &s->parts[i]))) break;
        s->n = i + 1;
    }
    if (st) {
        bagging_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void bagging_describe(const void *state, vg_wbuf *out)
{
    const bagging_state *s = state;
    vg_wbuf_printf(out, "parts: %u x %s\n", s->n, s->n ? s->parts[0].kind->name : "-");
    if (s->n && s->parts[0].sel) vg_wbuf_printf(out, "columns_per_part: %u of %u\n", s->parts[0].n_sel, s->n_features);
}

const vg_estimator_kind vg_bagging_kind = {
    .name = "bagging",
    .summary = "bagging over any classifier (estimator=tree; n_estimators, max_samples, max_features, bootstrap)",
    .encoding = VG_ENCODING_NATIVE,
    .params_size = sizeof(bagging_params),
    .params_default = bagging_params_default,
    .params_set = bagging_params_set,
    .params_check = bagging_params_check,
    .params_describe = bagging_params_describe,
    .fit = bagging_fit,
    .predict = bagging_predict,
    .predict_row = bagging_predict_row,
    .n_classes = bagging_n_classes,
    .n_features = bagging_n_features,
    .save = bagging_save,
    .load = bagging_load,
    .free = bagging_free,
    .describe = bagging_describe,
    .n_outputs = bagging_n_outputs,
    .explain = bagging_explain,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
};
