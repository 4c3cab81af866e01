/* k-nearest-neighbours classifier ("knn"), scikit-learn's
 * KNeighborsClassifier with the brute (exact) search: a row's class
 * probabilities are the votes of its n_neighbors nearest training rows,
 * equal (`weights=uniform`) or by inverse distance (`weights=distance`;
 * training rows at distance 0 take all the weight, as scikit-learn), under
 * `metric=euclidean|manhattan|cosine`. The search is the shared one in
 * distance.c (euclidean: a k-d tree; the others: one-hot columns as bits,
 * float32 candidates; both re-ranked in double), so neighbours and ties
 * (the lower training row wins) are exact and the same for any thread
 * count. The model keeps its training rows:
 * rows x features x 4 bytes plus 4 a row for the labels. Per-row weights
 * from the train path are not used (scikit-learn's has none either). */
#include "models/distance.h"
#include "vigil/estimator.h"

#include <math.h>
#include <string.h>

#define KNN_SAVE_VERSION 1u
#define KNN_MAX_NEIGHBORS 10000L
#define KNN_MAX_CLASSES (1u << 16)
#define KNN_PREDICT_ROWS 4096

typedef enum { KNN_UNIFORM = 0, KNN_DISTANCE = 1 } knn_weights;

typedef struct knn_params {
    long n_neighbors;       /* (5) */
    knn_weights weights;    /* (uniform) */
    vg_dist_metric metric;  /* (euclidean) */
} knn_params;

static const char *const metric_names[] = { "euclidean", "manhattan", "cosine" };

static void knn_params_default(void *params)
{
    knn_params *p = params;
    p->n_neighbors = 5;
    p->weights = KNN_UNIFORM;
    p->metric = VG_DIST_EUCLIDEAN;
}

static vg_status knn_params_set(void *params, const char *key, const char *value)
{
    knn_params *p = params;
    long l;
    vg_status st;
    if (!key || !value) return vg_fail(VG_ERR_INVALID, "knn: parameter key and value required");
    if (strcmp(key, "n_neighbors") == 0) {
        if ((st = vg_param_int(key, value, 1, KNN_MAX_NEIGHBORS, &l))) return st;
        p->n_neighbors = l;
    } else if (strcmp(key, "weights") == 0) {
        if (strcmp(value, "uniform") == 0) p->weights = KNN_UNIFORM;
        else if (strcmp(value, "distance") == 0) p->weights = KNN_DISTANCE;
        else return vg_fail(VG_ERR_INVALID, "parameter weights: '%s' is not one of uniform, distance", value);
    } else if (strcmp(key, "metric") == 0) {
        if (strcmp(value, "euclidean") == 0 || strcmp(value, "minkowski") == 0) p->metric = VG_DIST_EUCLIDEAN;
        else if (strcmp(value, "manhattan") == 0) p->metric = VG_DIST_MANHATTAN;
        else if (strcmp(value, "cosine") == 0) p->metric = VG_DIST_COSINE;
        else return vg_fail(VG_ERR_INVALID, "parameter metric: '%s' is not one of euclidean, manhattan, cosine", value);
    } else {
        return vg_param_unknown("knn", key);
    }
    return VG_OK;
}

static const char *knn_params_check(const void *params)
{
    const knn_params *p = params;
    if (p->n_neighbors < 1 || p->n_neighbors > KNN_MAX_NEIGHBORS) return "knn: n_neighbors must be in [1, 10000]";
    if (p->weights != KNN_UNIFORM && p->weights != KNN_DISTANCE) return "knn: weights must be uniform or distance";
    if (p->metric > VG_DIST_COSINE) return "knn: metric must be euclidean, manhattan or cosine";
    return NULL;
}

static void knn_params_describe(const void *params, vg_wbuf *out)
{
    const knn_params *p = params;
    vg_wbuf_printf(out, "n_neighbors=%ld, weights=%s, metric=%s", p->n_neighbors,
                   p->weights == KNN_DISTANCE ? "distance" : "uniform", metric_names[p->metric]);
}

/* ---- state ------------------------------------------------------------- */

typedef struct knn_state {
    uint32_t n_features, n_classes, k, weights, metric;
    size_t n;
    float *X;    /* n x n_features */
    int32_t *y;  /* n */
    vg_dist_index ix;
} knn_state;

static void knn_free(void *state)
{
    knn_state *s = state;
    if (!s) return;
    vg_dist_index_free(&s->ix);
    vg_free(s->X);
    vg_free(s->y);
    vg_free(s);
}

static knn_state *state_new(size_t n, uint32_t nf)
{
    knn_state *s = vg_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n = n;
    s->n_features = nf;
    s->X = vg_malloc(n * nf * sizeof(float) + 1);
    s->y = vg_malloc(n * sizeof(int32_t) + 1);
    if (!s->X || !s->y) {
        knn_free(s);
        return NULL;
    }
    return s;
}

static uint32_t knn_n_classes(const void *state)
{
    return ((const knn_state *)state)->n_classes;
}

static uint32_t knn_n_features(const void *state)
{
    return ((const knn_state *)state)->n_features;
}

static vg_status knn_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    (void)opt;
    *out_state = NULL;
    const knn_params *p = params;
    const char *msg = knn_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "%s", msg);
    if (!ts || !ts->X || !ts->y) return vg_fail(VG_ERR_INVALID, "knn: needs dense rows and their labels");
    const vg_matrix *X = ts->X;
    if (ts->n_classes < 2 || ts->n_classes > KNN_MAX_CLASSES)
        return vg_fail(VG_ERR_DATA, "knn: needs between 2 and %u classes (got %u)", KNN_MAX_CLASSES, ts->n_classes);
    if (X->rows < (size_t)p->n_neighbors)
        return vg_fail(VG_ERR_DATA, "knn: n_neighbors=%ld is more than the %zu training rows", p->n_neighbors, X->rows);
    if (X->rows > UINT32_MAX || X->cols == 0 || X->cols > UINT32_MAX)
        return vg_fail(VG_ERR_DATA, "knn: %zu x %zu training rows are out of range", X->rows, X->cols);
    for (size_t e = 0; e < X->rows * X->cols; e++)
        if (!isfinite(X->data[e]))
            return vg_fail(VG_ERR_DATA, "knn: row %zu has a missing or infinite value (knn needs the one-hot, imputed "
                           "encoding)", e / X->cols);
    for (size_t i = 0; i < X->rows; i++)
        if (ts->y[i] < 0 || (uint32_t)ts->y[i] >= ts->n_classes)
            return vg_fail(VG_ERR_INVALID, "knn: label %d of row %zu is not a class index", ts->y[i], i);
    knn_state *s = state_new(X->rows, (uint32_t)X->cols);
    if (!s) return vg_fail(VG_ERR_NOMEM, "knn: out of memory storing %zu x %zu training rows", X->rows, X->cols);
    s->n_classes = ts->n_classes;
    s->k = (uint32_t)p->n_neighbors;
    s->weights = p->weights;
    s->metric = p->metric;
    memcpy(s->X, X->data, X->rows * X->cols * sizeof(float));
    memcpy(s->y, ts->y, X->rows * sizeof(int32_t));
    vg_status st = vg_dist_index_init(&s->ix, s->X, s->n, s->n_features, (vg_dist_metric)s->metric);
    if (st != VG_OK) {
        knn_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

/* Probabilities of one row from its neighbours. */
static void vote(const knn_state *s, const uint32_t *idx, const double *dist, float *proba)
{
    const uint32_t C = s->n_classes, k = s->k;
    double acc[64], *w = C <= 64 ? acc : NULL;
    double total = 0.0;
    int exact = 0;
    if (s->weights == KNN_DISTANCE)
        for (uint32_t j = 0; j < k; j++) exact |= dist[j] == 0.0;
    if (!w) {
        /* Many classes: accumulate straight into the floats (k votes). */
        memset(proba, 0, C * sizeof(float));
        for (uint32_t j = 0; j < k; j++) {
            double v = s->weights == KNN_UNIFORM ? 1.0 : exact ? (dist[j] == 0.0) : 1.0 / dist[j];
            proba[s->y[idx[j]]] += (float)v;
            total += v;
        }
        for (uint32_t c = 0; c < C; c++)
            proba[c] = total > 0.0 && isfinite(total) ? (float)(proba[c] / total) : 1.0f / (float)C;
        return;
    }
    memset(w, 0, C * sizeof(double));
    for (uint32_t j = 0; j < k; j++) {
        double v = s->weights == KNN_UNIFORM ? 1.0 : exact ? (dist[j] == 0.0) : 1.0 / dist[j];
        w[s->y[idx[j]]] += v;
        total += v;
    }
    if (!(total > 0.0) || !isfinite(total)) {
        /* Every neighbour infinitely far (a query with a NaN or infinity): no vote. */
        for (uint32_t c = 0; c < C; c++) proba[c] = 1.0f / (float)C;
        return;
    }
    for (uint32_t c = 0; c < C; c++) proba[c] = (float)(w[c] / total);
}

static void vote_one(const void *state, void *out, size_t row, const uint32_t *idx, const double *dist)
{
    const knn_state *s = state;
    vote(s, idx, dist, (float *)out + row * s->n_classes);
}

static int predict_rows(const knn_state *s, const float *rows, size_t n, int threads, float *proba)
{
    return vg_dist_knn_slices(&s->ix, rows, n, s->k, KNN_PREDICT_ROWS, threads, vote_one, s, proba) != VG_OK;
}

static void predict_uniform(const knn_state *s, size_t rows, float *proba)
{
    vg_log(VG_LOG_ERROR, "knn: out of memory searching neighbours; predicting uniform");
    for (size_t i = 0; i < rows * s->n_classes; i++) proba[i] = 1.0f / (float)s->n_classes;
}

static void knn_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    const knn_state *s = state;
    VG_ASSERT(s && X && proba && X->cols == s->n_features);
    if (X->rows == 0) return;
    if (predict_rows(s, X->data, X->rows, threads, proba)) predict_uniform(s, X->rows, proba);
}

static void knn_predict_row(const void *state, const float *row, float *proba)
{
    if (predict_rows(state, row, 1, 1, proba)) predict_uniform(state, 1, proba);
}

/* Layout (little-endian): u32 version, u32 n_features, u32 rows,
 * u32 n_classes, u32 k, u32 weights, u32 metric, f32 X[rows * n_features],
 * i32 y[rows]. */
static vg_status knn_save(const void *state, vg_wbuf *w)
{
    const knn_state *s = state;
    vg_wbuf_u32(w, KNN_SAVE_VERSION);
    vg_wbuf_u32(w, s->n_features);
    vg_wbuf_u32(w, (uint32_t)s->n);
    vg_wbuf_u32(w, s->n_classes);
    vg_wbuf_u32(w, s->k);
    vg_wbuf_u32(w, s->weights);
    vg_wbuf_u32(w, s->metric);
    vg_wbuf_f32s(w, s->X, s->n * s->n_features);
    vg_wbuf_i32s(w, s->y, s->n);
    if (w->failed) return vg_fail(VG_ERR_NOMEM, "knn: out of memory saving the model");
    return VG_OK;
}

static vg_status knn_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    if (!r->failed && version != KNN_SAVE_VERSION)
        return vg_fail(VG_ERR_FORMAT, "%s: knn state version %u is not supported (this build reads %u)", r->what,
                       version, KNN_SAVE_VERSION);
    uint32_t nf = vg_rbuf_u32(r), n = vg_rbuf_u32(r), nc = vg_rbuf_u32(r), k = vg_rbuf_u32(r);
    uint32_t weights = vg_rbuf_u32(r), metric = vg_rbuf_u32(r);
    if (r->failed) return vg_rbuf_check(r);
    vg_rbuf_require(r, nf >= 1 && nf < UINT32_MAX, "knn feature count");
    vg_rbuf_require(r, nc >= 2 && nc <= KNN_MAX_CLASSES, "knn class count");
    vg_rbuf_require(r, k >= 1 && k <= n && k <= KNN_MAX_NEIGHBORS, "knn neighbour count");
    vg_rbuf_require(r, weights <= KNN_DISTANCE, "knn weights");
    vg_rbuf_require(r, metric <= VG_DIST_COSINE, "knn metric");
    vg_rbuf_require(r, (uint64_t)n * nf <= (r->len - r->pos) / 4, "knn training rows exceed the data");
    if (r->failed) return vg_rbuf_check(r);
    knn_state *s = state_new(n, nf);
    if (!s) return vg_fail(VG_ERR_NOMEM, "knn: out of memory loading %u x %u rows", n, nf);
    s->n_classes = nc;
    s->k = k;
    s->weights = weights;
    s->metric = metric;
    int ok = 1;
    for (size_t e = 0; e < (size_t)n * nf; e++) ok &= isfinite(s->X[e] = vg_rbuf_f32(r));
    vg_rbuf_require(r, ok, "knn training value not finite");
    for (uint32_t i = 0; i < n; i++) {
        s->y[i] = vg_rbuf_i32(r);
        ok &= s->y[i] >= 0 && (uint32_t)s->y[i] < nc;
    }
    vg_rbuf_require(r, ok, "knn label not a class index");
    vg_status st = vg_rbuf_check(r);
    if (st == VG_OK) st = vg_dist_index_init(&s->ix, s->X, s->n, s->n_features, (vg_dist_metric)s->metric);
    if (st != VG_OK) {
        knn_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void knn_describe(const void *state, vg_wbuf *out)
{
    const knn_state *s = state;
    vg_wbuf_printf(out, "neighbours: %u (%s, %s)\ntraining rows kept: %zu (%.1f MB)\n", s->k,
                   s->weights == KNN_DISTANCE ? "distance-weighted" : "uniform", metric_names[s->metric], s->n,
                   ((double)s->n * s->n_features * 4 + (double)s->n * 4) / 1e6);
    if (s->ix.tree) vg_wbuf_printf(out, "search: exact, k-d tree over %u columns\n", s->n_features);
    else vg_wbuf_printf(out, "search: exact, tiles; columns searched as bits: %u of %u\n", s->ix.nb, s->n_features);
}

const vg_estimator_kind vg_knn_kind = {
    .name = "knn",
    .summary = "k-nearest neighbours (exact; euclidean, manhattan or cosine; uniform or distance votes)",
    .encoding = VG_ENCODING_ONEHOT_SCALED,
    .params_size = sizeof(knn_params),
    .params_default = knn_params_default,
    .params_set = knn_params_set,
    .params_check = knn_params_check,
    .params_describe = knn_params_describe,
    .fit = knn_fit,
    .predict = knn_predict,
    .n_classes = knn_n_classes,
    .save = knn_save,
    .load = knn_load,
    .free = knn_free,
    .describe = knn_describe,
    .n_features = knn_n_features,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
    .predict_row = knn_predict_row,
};
