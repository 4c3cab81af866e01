/* Local outlier factor in novelty mode ("lof"): fitted on the training rows,
 * it scores new rows by how much sparser their neighbourhood is than their
 * neighbours' own (Breunig et al. 2000). The score is scikit-learn's
 * LocalOutlierFactor(novelty=True).score_samples negated:
 *     k = min(n_neighbors, n - 1)
 *     kdist(o)  = distance of training row o to its k-th neighbour (itself excluded)
 *     reach(x, o) = max(d(x, o), kdist(o))
 *     lrd(x)    = 1 / (mean over x's k neighbours o of reach(x, o) + 1e-10)
 *     score(x)  = mean over x's k neighbours o of lrd(o) / lrd(x)
 * about 1 inside a cluster, well above 1 for an outlier. The training rows'
 * kdist and lrd are computed once at fit; scoring is one exact k-nearest
 * search (distance.c: a k-d tree) per row against the stored training rows,
 * which is the memory cost: twice rows x features x 4 bytes (the rows and
 * the tree's copy in its own order), plus 16 bytes a row. */
#include "models/distance.h"
#include "vigil/estimator.h"
#include "vigil/parallel.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define LOF_SAVE_VERSION 1u
#define LOF_MAX_NEIGHBORS 10000L
#define LOF_PREDICT_ROWS 4096  /* rows searched at once; bounds the neighbour scratch */

typedef struct lof_params {
    long n_neighbors;  /* (20) */
} lof_params;

static void lof_params_default(void *params)
{
    ((lof_params *)params)->n_neighbors = 20;
}

static vg_status lof_params_set(void *params, const char *key, const char *value)
{
    lof_params *p = params;
    long l;
    vg_status st;
    if (!key || !value) return vg_fail(VG_ERR_INVALID, "lof: parameter key and value required");
    if (strcmp(key, "n_neighbors") == 0) {
        if ((st = vg_param_int(key, value, 1, LOF_MAX_NEIGHBORS, &l))) return st;
        p->n_neighbors = l;
    } else if (strcmp(key, "metric") == 0) {
        /* scikit-learn's default; accepted so a carried-over setting reads, others refused. */
        if (strcmp(value, "euclidean") != 0 && strcmp(value, "minkowski") != 0)
            return vg_fail(VG_ERR_INVALID, "parameter metric: '%s': lof measures euclidean distance only", value);
    } else {
        return vg_param_unknown("lof", key);
    }
    return VG_OK;
}

static const char *lof_params_check(const void *params)
{
    const lof_params *p = params;
    if (p->n_neighbors < 1 || p->n_neighbors > LOF_MAX_NEIGHBORS) return "lof: n_neighbors must be in [1, 10000]";
    return NULL;
}

static void lof_params_describe(const void *params, vg_wbuf *out)
{
    vg_wbuf_printf(out, "n_neighbors=%ld", ((const lof_params *)params)->n_neighbors);
}

/* ---- state ------------------------------------------------------------- */

typedef struct lof_state {
    uint32_t n_features, k;
    size_t n;
    float *X;       /* n x n_features: the training rows */
    double *kdist;  /* n */
    double *lrd;    /* n */
    float *fit_scores;  /* n: predict's scores of the training rows, after a fit (not saved) */
    vg_dist_index ix;
} lof_state;

static void lof_free(void *state)
{
    lof_state *s = state;
    if (!s) return;
    vg_dist_index_free(&s->ix);
    vg_free(s->X);
    vg_free(s->kdist);
    vg_free(s->lrd);
    vg_free(s->fit_scores);
    vg_free(s);
}

static lof_state *state_new(size_t n, uint32_t nf, uint32_t k)
{
    lof_state *s = vg_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n = n;
    s->n_features = nf;
    s->k = k;
    s->X = vg_malloc(n * nf * sizeof(float) + 1);
    s->kdist = vg_malloc(n * sizeof(double) + 1);
    s->lrd = vg_malloc(n * sizeof(double) + 1);
    if (!s->X || !s->kdist || !s->lrd) {
        lof_free(s);
        return NULL;
    }
    return s;
}

static uint32_t lof_n_classes(const void *state)
{
    (void)state;
    return 1;
}

static uint32_t lof_n_features(const void *state)
{
    return ((const lof_state *)state)->n_features;
}

/* lrd of a row from its k neighbours (idx, dist). */
static double lrd_of(const lof_state *s, const uint32_t *idx, const double *dist)
{
    double sum = 0.0;
    for (uint32_t j = 0; j < s->k; j++) sum += dist[j] > s->kdist[idx[j]] ? dist[j] : s->kdist[idx[j]];
    return 1.0 / (sum / s->k + 1e-10);
}

static float score_of(const lof_state *s, const uint32_t *idx, const double *dist)
{
    double lrd = lrd_of(s, idx, dist), sum = 0.0;
    for (uint32_t j = 0; j < s->k; j++) sum += s->lrd[idx[j]];
    double v = sum / s->k / lrd;
    return isfinite(v) ? (float)v : FLT_MAX;
}

/* What predict gives the training rows, from fit's neighbours: predict
 * finds a training row itself at distance 0, placed among its own list by
 * (distance, index) as the search orders ties, and the list's last drops
 * out. The train path's threshold then costs no second search. */
static vg_status keep_fit_scores(lof_state *s, const uint32_t *idx, const double *dist)
{
    const uint32_t k = s->k;
    uint32_t *ni = vg_malloc(((size_t)k + 1) * sizeof *ni);
    double *nd = vg_malloc(((size_t)k + 1) * sizeof *nd);
    s->fit_scores = vg_malloc(s->n * sizeof(float) + 1);
    vg_status st = VG_OK;
    if (!ni || !nd || !s->fit_scores) st = vg_fail(VG_ERR_NOMEM, "lof: out of memory scoring %zu rows", s->n);
    for (size_t i = 0; st == VG_OK && i < s->n; i++) {
        const uint32_t *ii = idx + i * k;
        const double *dd = dist + i * k;
        uint32_t at = 0;
        while (at < k && dd[at] == 0.0 && ii[at] < i) at++;
        memcpy(ni, ii, at * sizeof *ni), memcpy(nd, dd, at * sizeof *nd);
        ni[at] = (uint32_t)i, nd[at] = 0.0;
        memcpy(ni + at + 1, ii + at, (k - at) * sizeof *ni), memcpy(nd + at + 1, dd + at, (k - at) * sizeof *nd);
        s->fit_scores[i] = score_of(s, ni, nd);
    }
    vg_free(ni);
    vg_free(nd);
    return st;
}

static const float *lof_fit_scores(const void *state, size_t rows)
{
    const lof_state *s = state;
    return s->fit_scores && rows == s->n ? s->fit_scores : NULL;
}

static vg_status lof_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    *out_state = NULL;
    const lof_params *p = params;
    const char *msg = lof_params_check(p);
    if (msg) return vg_fail(VG_ERR_INVALID, "%s", msg);
    if (!ts || !ts->X) return vg_fail(VG_ERR_INVALID, "lof: reads dense rows");
    const vg_matrix *X = ts->X;
    int threads = vg_threads_resolve(opt ? opt->threads : 1);
    if (X->rows < 2) return vg_fail(VG_ERR_DATA, "lof: needs at least 2 training rows (got %zu)", X->rows);
    if (X->rows > UINT32_MAX || X->cols == 0 || X->cols > UINT32_MAX)
        return vg_fail(VG_ERR_DATA, "lof: %zu x %zu training rows are out of range", X->rows, X->cols);
    for (size_t e = 0; e < X->rows * X->cols; e++)
        if (!isfinite(X->data[e]))
            return vg_fail(VG_ERR_DATA, "lof: row %zu has a missing or infinite value (lof needs the one-hot, imputed "
                           "encoding)", e / X->cols);
    /* As scikit-learn: at most n - 1 neighbours (with a warning there, silently here: describe says k). */
    uint32_t k = (uint32_t)VG_MIN((size_t)p->n_neighbors, X->rows - 1);
    lof_state *s = state_new(X->rows, (uint32_t)X->cols, k);
    if (!s) return vg_fail(VG_ERR_NOMEM, "lof: out of memory storing %zu x %zu training rows", X->rows, X->cols);
    memcpy(s->X, X->data, X->rows * X->cols * sizeof(float));
    vg_status st = vg_dist_index_init(&s->ix, s->X, s->n, s->n_features, VG_DIST_EUCLIDEAN);
    uint32_t *idx = vg_malloc(s->n * k * sizeof(uint32_t));
    double *dist = vg_malloc(s->n * k * sizeof(double));
    if (st == VG_OK && (!idx || !dist)) st = vg_fail(VG_ERR_NOMEM, "lof: out of memory for %zu x %u neighbours", s->n, k);
    if (st == VG_OK) st = vg_dist_knn(&s->ix, s->X, s->n, k, 1, threads, idx, dist);
    if (st == VG_OK) {
        for (size_t i = 0; i < s->n; i++) s->kdist[i] = dist[i * k + k - 1];
        for (size_t i = 0; i < s->n; i++) s->lrd[i] = lrd_of(s, idx + i * k, dist + i * k);
        st = keep_fit_scores(s, idx, dist);
    }
    vg_free(idx);
    vg_free(dist);
    if (st != VG_OK) {
        lof_free(s);
        return st;
    }
    if (opt && opt->progress) opt->progress(opt->progress_user, "neighbours", 1, 1);
    *out_state = s;
    return VG_OK;
}

static void score_one(const void *state, void *out, size_t row, const uint32_t *idx, const double *dist)
{
    ((float *)out)[row] = score_of(state, idx, dist);
}

/* Scores of rows (rows x n_features). Returns non-zero when memory ran out. */
static int score_rows(const lof_state *s, const float *rows, size_t n, int threads, float *out)
{
    return vg_dist_knn_slices(&s->ix, rows, n, s->k, LOF_PREDICT_ROWS, threads, score_one, s, out) != VG_OK;
}

/* predict cannot fail by contract: out of memory, say so and score nothing as unusual. */
static void lof_predict(const void *state, const vg_matrix *X, int threads, float *out)
{
    const lof_state *s = state;
    VG_ASSERT(s && X && out && X->cols == s->n_features);
    if (X->rows == 0) return;
    if (score_rows(s, X->data, X->rows, threads, out)) {
        vg_log(VG_LOG_ERROR, "lof: out of memory scoring %zu rows; scoring them 0", X->rows);
        memset(out, 0, X->rows * sizeof(float));
    }
}

static void lof_predict_row(const void *state, const float *row, float *out)
{
    if (score_rows(state, row, 1, 1, out)) {
        vg_log(VG_LOG_ERROR, "lof: out of memory scoring a row; scoring it 0");
        out[0] = 0.0f;
    }
}

static uint32_t lof_n_outputs(const void *state)
{
    (void)state;
    return 1;
}

/* Feature f's share of the summed distance to the k neighbours,
 *     share_f = sum_o (x_f - o_f)^2 / d(x, o)  /  sum_o d(x, o),
 * times the score, so the shares sum to the score (bias 0); a row that sits
 * on all its neighbours puts the score in the bias. */
static vg_status lof_explain(const void *state, const float *row, double *contrib)
{
    const lof_state *s = state;
    const uint32_t k = s->k, d = s->n_features;
    uint32_t *idx = vg_malloc(k * sizeof(uint32_t));
    double *dist = vg_malloc(k * sizeof(double));
    vg_status st = VG_OK;
    if (!idx || !dist) st = vg_fail(VG_ERR_NOMEM, "lof: out of memory explaining a row");
    if (st == VG_OK) st = vg_dist_knn(&s->ix, row, 1, k, 0, 1, idx, dist);
    if (st == VG_OK) {
        double score = score_of(s, idx, dist), total = 0.0;
        memset(contrib, 0, ((size_t)d + 1) * sizeof(double));
        for (uint32_t j = 0; j < k; j++) {
            if (!(dist[j] > 0.0)) continue;
            const float *o = s->X + (size_t)idx[j] * d;
            for (uint32_t f = 0; f < d; f++) {
                double df = (double)row[f] - o[f];
                contrib[f] += df * df / dist[j];
            }
            total += dist[j];
        }
        if (total > 0.0)
            for (uint32_t f = 0; f < d; f++) contrib[f] *= score / total;
        else
            contrib[d] = score;
    }
    vg_free(idx);
    vg_free(dist);
    return st;
}

/* Layout (little-endian): u32 version, u32 n_features, u32 rows, u32 k,
 * f32 X[rows * n_features], f64 kdist[rows], f64 lrd[rows]. */
static vg_status lof_save(const void *state, vg_wbuf *w)
{
    const lof_state *s = state;
    vg_wbuf_u32(w, LOF_SAVE_VERSION);
    vg_wbuf_u32(w, s->n_features);
    vg_wbuf_u32(w, (uint32_t)s->n);
    vg_wbuf_u32(w, s->k);
    vg_wbuf_f32s(w, s->X, s->n * s->n_features);
    vg_wbuf_f64s(w, s->kdist, s->n);
    vg_wbuf_f64s(w, s->lrd, s->n);
    if (w->failed) return vg_fail(VG_ERR_NOMEM, "lof: out of memory saving the model");
    return VG_OK;
}

static vg_status lof_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    if (!r->failed && version != LOF_SAVE_VERSION)
        return vg_fail(VG_ERR_FORMAT, "%s: lof state version %u is not supported (this build reads %u)", r->what,
                       version, LOF_SAVE_VERSION);
    uint32_t nf = vg_rbuf_u32(r), n = vg_rbuf_u32(r), k = vg_rbuf_u32(r);
    if (r->failed) return vg_rbuf_check(r);
    vg_rbuf_require(r, nf >= 1 && nf < UINT32_MAX, "lof feature count");
    vg_rbuf_require(r, n >= 2, "lof training row count");
    vg_rbuf_require(r, k >= 1 && k < n && k <= LOF_MAX_NEIGHBORS, "lof neighbour count");
    vg_rbuf_require(r, (uint64_t)n * nf <= (r->len - r->pos) / 4, "lof training rows exceed the data");
    if (r->failed) return vg_rbuf_check(r);
    lof_state *s = state_new(n, nf, k);
    if (!s) return vg_fail(VG_ERR_NOMEM, "lof: out of memory loading %u x %u rows", n, nf);
    int ok = 1;
    for (size_t e = 0; e < (size_t)n * nf; e++) ok &= isfinite(s->X[e] = vg_rbuf_f32(r));
    vg_rbuf_require(r, ok, "lof training value not finite");
    for (uint32_t i = 0; i < n; i++) ok &= isfinite(s->kdist[i] = vg_rbuf_f64(r)) && s->kdist[i] >= 0.0;
    vg_rbuf_require(r, ok, "lof k-distance not finite and >= 0");
    for (uint32_t i = 0; i < n; i++) ok &= isfinite(s->lrd[i] = vg_rbuf_f64(r)) && s->lrd[i] > 0.0;
    vg_rbuf_require(r, ok, "lof local reachability density not finite and > 0");
    vg_status st = vg_rbuf_check(r);
    if (st == VG_OK) st = vg_dist_index_init(&s->ix, s->X, s->n, s->n_features, VG_DIST_EUCLIDEAN);
    if (st != VG_OK) {
        lof_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void lof_describe(const void *state, vg_wbuf *out)
{
    const lof_state *s = state;
    double mb = ((double)s->n * s->n_features * 4 + (double)s->n * 16) / 1e6;
    vg_wbuf_printf(out, "neighbours: %u\ntraining rows kept: %zu (%.1f MB: the rows, their k-distances and densities)\n"
                   "search: exact, k-d tree over %u columns\nscore: local outlier factor (novelty), about 1 inside a "
                   "cluster\n", s->k, s->n, mb, s->n_features);
}

const vg_estimator_kind vg_lof_kind = {
    .name = "lof",
    .summary = "local outlier factor (novelty mode): exact k nearest training rows, blocked and threaded",
    .encoding = VG_ENCODING_ONEHOT_SCALED,
    .params_size = sizeof(lof_params),
    .params_default = lof_params_default,
    .params_set = lof_params_set,
    .params_check = lof_params_check,
    .params_describe = lof_params_describe,
    .fit = lof_fit,
    .predict = lof_predict,
    .n_classes = lof_n_classes,
    .save = lof_save,
    .load = lof_load,
    .free = lof_free,
    .describe = lof_describe,
    .n_features = lof_n_features,
    .outputs = VG_ESTIMATOR_OUT_SCORE,
    .needs_labels = 0,
    .inputs = VG_ESTIMATOR_IN_DENSE,
    .predict_row = lof_predict_row,
    .n_outputs = lof_n_outputs,
    .explain = lof_explain,
    .fit_scores = lof_fit_scores,
};
