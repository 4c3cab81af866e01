/* L2-regularised logistic regression ("logreg"): binary with a sigmoid,
 * multiclass with a softmax (or one-vs-rest), fitted by L-BFGS.
 *
 * The objective is scikit-learn's LogisticRegression(penalty='l2',
 * solver='lbfgs') scaled the way it hands it to scipy:
 *     F(W) = sum_i s_i * loss_i(W) + 1/(2C) * ||W||^2   (intercepts not penalised)
 * which has the same minimiser as C * sum_i s_i loss_i + ||W||^2 / 2, and on
 * which `tol` bounds max|dF/dW| exactly as scikit-learn's does, so the same C,
 * tol and max_iter stop in the same place.
 *
 * Speed comes from the gradient pass: the matrix is rearranged once into a
 * dense block (columns with no majority value, e.g. continuous numbers) and
 * sparse deviations from each other column's majority value (one-hot
 * indicators, counts that are mostly zero before scaling); rows are scored
 * and their gradient accumulated in one pass over blocks of rows; and fixed
 * chunks of rows run in parallel with their partial sums added in chunk
 * order, so the result is bit-identical whatever the thread count. */
#include "models/logreg.h"
#include "models/lbfgs.h"
#include "models/linear_cd.h"
#include "vigil/parallel.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define LR_LANES 8             /* dense dot products run in 8 independent lanes */
#define LR_BLOCK 64            /* rows scored together before their residuals */
#define LR_CHUNK_ROWS 2048     /* rows per task at least; fixed by the data's shape, never by threads */
#define LR_PARTIAL_BUDGET (8u << 20) /* doubles of per-chunk partial sums before chunks grow */
#define LR_BASE_SHARE 0.5      /* columns with one value in this share of rows go to CSR */
#define LR_VOTE_ROWS 4096      /* rows sampled to find each column's majority value */
#define LR_SAVE_VERSION 1u         /* dense coefficients (L-BFGS on dense rows) */
#define LR_SAVE_VERSION_SPARSE 16u /* (column, value) pairs (coordinate descent on CSR rows); not 2, which
                                      older builds name as a newer dense version */
#define LR_MAX_CLASSES (1u << 20)
/* Bound on a loaded coefficient: |w x| <= 1e250 * FLT_MAX summed over up
 * to 2^32 features stays finite, so no input can turn a score into NaN. */
#define LR_MAX_COEF 1e250

/* Rows per parallel task when each task keeps `per_chunk` doubles of partial
 * sums: LR_CHUNK_ROWS, or more when that many chunks would hold more than
 * LR_PARTIAL_BUDGET doubles (many classes times many features). A multiple
 * of LR_BLOCK, and a function of the data's shape only, so the chunks and
 * therefore the order of every sum are the same for any thread count. */
static size_t chunk_rows_for(size_t rows, size_t per_chunk)
{
    size_t max_chunks = LR_PARTIAL_BUDGET / (per_chunk ? per_chunk : 1);
    if (max_chunks < 1) max_chunks = 1;
    size_t n = (rows + max_chunks - 1) / max_chunks;
    if (n < LR_CHUNK_ROWS) n = LR_CHUNK_ROWS;
    return (n + LR_BLOCK - 1) / LR_BLOCK * LR_BLOCK;
}

/* ---- parameters --------------------------------------------------------- */

static void logreg_params_default(void *params)
{
    vg_logreg_params *p = params;
    p->C = 1.0;
    p->max_iter = 100;
    p->tol = 1e-4;
    p->fit_intercept = 1;
    p->multi_class = VG_LOGREG_AUTO;
    p->ftol = 1e7 * DBL_EPSILON;  /* scipy's factr=1e7 times eps: what scikit-learn gets */
    p->penalty_l1 = 0;
}

static vg_status logreg_params_set(void *params, const char *key, const char *value)
{
    vg_logreg_params *p = params;
    vg_status st;
    double d;
    long l;
    int b;
    if (!key || !value) return vg_fail(VG_ERR_INVALID, "logreg: parameter key and value required");
    if (strcmp(key, "C") == 0) {
        if ((st = vg_param_double(key, value, 0.0, HUGE_VAL, &d))) return st;
        if (!(d > 0.0))
            return vg_fail(VG_ERR_INVALID, "parameter C: %s is out of range: must be > 0", value);
        p->C = d;
    } else if (strcmp(key, "max_iter") == 0) {
        if ((st = vg_param_int(key, value, 1, 1000000000L, &l))) return st;
        p->max_iter = l;
    } else if (strcmp(key, "tol") == 0) {
        if ((st = vg_param_double(key, value, 0.0, HUGE_VAL, &d))) return st;
        if (!(d > 0.0))
            return vg_fail(VG_ERR_INVALID, "parameter tol: %s is out of range: must be > 0", value);
        p->tol = d;
    } else if (strcmp(key, "fit_intercept") == 0) {
        if ((st = vg_param_bool(key, value, &b))) return st;
        p->fit_intercept = b;
    } else if (strcmp(key, "penalty") == 0) {
        if (strcmp(value, "l2") == 0) p->penalty_l1 = 0;
        else if (strcmp(value, "l1") == 0) p->penalty_l1 = 1;
        else return vg_fail(VG_ERR_INVALID, "parameter penalty: '%s' is not one of l2, l1", value);
    } else if (strcmp(key, "multi_class") == 0) {
        if (strcmp(value, "auto") == 0) p->multi_class = VG_LOGREG_AUTO;
        else if (strcmp(value, "multinomial") == 0) p->multi_class = VG_LOGREG_MULTINOMIAL;
        else if (strcmp(value, "ovr") == 0) p->multi_class = VG_LOGREG_OVR;
        else
            return vg_fail(VG_ERR_INVALID,
                           "parameter multi_class: '%s' is not one of auto, multinomial, ovr", value);
    } else {
        return vg_param_unknown("logreg", key);
    }
    return VG_OK;
}

static void logreg_params_describe(const void *params, vg_wbuf *out)
{
    const vg_logreg_params *p = params;
    static const char *const multi[] = { "auto", "multinomial", "ovr" };
    vg_wbuf_printf(out, "C=%.15g, max_iter=%ld, tol=%.15g, fit_intercept=%s, multi_class=%s, penalty=%s", p->C,
                   p->max_iter, p->tol, p->fit_intercept ? "true" : "false", multi[p->multi_class],
                   p->penalty_l1 ? "l1" : "l2");
}

static const char *logreg_params_check(const void *params)
{
    const vg_logreg_params *p = params;
    if (!(p->C > 0.0) || !isfinite(p->C)) return "logreg: C must be a finite number > 0";
    if (p->max_iter < 1 || p->max_iter > 1000000000L) return "logreg: max_iter must be >= 1";
    if (!(p->tol > 0.0) || !isfinite(p->tol)) return "logreg: tol must be a finite number > 0";
    if (!(p->ftol >= 0.0) || !isfinite(p->ftol)) return "logreg: ftol must be >= 0";
    if (p->multi_class < VG_LOGREG_AUTO || p->multi_class > VG_LOGREG_OVR)
        return "logreg: multi_class must be auto, multinomial or ovr";
    return NULL;
}

/* ---- fitted state ------------------------------------------------------- */

typedef struct logreg_state {
    uint32_t n_features;
    uint32_t n_classes;
    uint32_t link;        /* vg_logreg_link */
    uint32_t n_vectors;   /* 1 for the sigmoid, n_classes otherwise */
    uint32_t iterations;  /* L-BFGS iterations (one-vs-rest: the most any class took) */
    uint32_t converged;   /* 1 if every fit met tol or ftol */
    uint32_t solver;      /* 0 L-BFGS (dense rows), 1 dual CD (L2, CSR rows), 2 CDN (L1, CSR rows) */
    double *coef;         /* n_vectors x (n_features + 1): weights, then the intercept */
} logreg_state;

static void logreg_free(void *state)
{
    logreg_state *s = state;
    if (!s) return;
    vg_free(s->coef);
    vg_free(s);
}

static logreg_state *state_new(uint32_t n_features, uint32_t n_classes, uint32_t link)
{
    logreg_state *s = vg_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n_features = n_features;
    s->n_classes = n_classes;
    s->link = link;
    s->n_vectors = link == VG_LOGREG_SIGMOID ? 1 : n_classes;
    s->coef = vg_calloc((size_t)s->n_vectors * ((size_t)n_features + 1), sizeof(double));
    if (!s->coef) {
        vg_free(s);
        return NULL;
    }
    return s;
}

const double *vg_logreg_coef(const void *state, uint32_t *n_vectors, uint32_t *stride,
                             vg_logreg_link *link)
{
    const logreg_state *s = state;
    if (n_vectors) *n_vectors = s->n_vectors;
    if (stride) *stride = s->n_features + 1;
    if (link) *link = (vg_logreg_link)s->link;
    return s->coef;
}

static uint32_t logreg_n_classes(const void *state)
{
    return ((const logreg_state *)state)->n_classes;
}

static uint32_t logreg_n_features(const void *state)
{
    return ((const logreg_state *)state)->n_features;
}

/* ---- the training matrix, rearranged for the gradient pass -------------- */

/* Most columns the pipeline produces take one value in most rows: 0 for a
 * one-hot indicator, the standardised image of 0 for a count or a rate. Such
 * a column is stored as that base value plus a sparse list of the rows that
 * differ (x = base + dev), and the base contributes through the intercept:
 *     z_i  = (b + sum_j base_j w_j) + sum_{dev} w_j dev_ij
 *     g_j  = base_j * sum_i r_i + sum_{dev} r_i dev_ij
 * On NSL-KDD this leaves 6 of 122 columns dense and about 7 deviations per
 * row, against 41 non-zeros per row for plain sparsity. */
typedef struct lr_data {
    size_t rows;
    uint32_t n_features;
    uint32_t nd, nd_pad;   /* dense columns; padded to a multiple of LR_LANES */
    uint32_t *dense_col;   /* nd: original index of each dense column */
    float *dense;          /* rows x nd_pad, zero padding */
    uint8_t *is_base;      /* n_features: 1 if stored as base + deviations */
    double *base;          /* n_features: the base value (0 for dense columns) */
    /* A row's first `ell` deviations sit in fixed-width slots, so the
     * kernels run a loop of constant length (no mispredicted exits); the
     * rest of a long row goes to an overflow list handled per block. */
    uint32_t ell;          /* slots per row */
    uint32_t *ell_col;     /* rows x ell: column, or n_features in an unused slot */
    double *ell_dev;       /* rows x ell: x - base (exact for float x), 0 in an unused slot */
    size_t *ov_start;      /* rows + 1: each row's first overflow entry */
    uint8_t *ov_row;       /* overflow: row within its LR_BLOCK block */
    uint32_t *ov_col;      /* overflow: column */
    double *ov_dev;        /* overflow: x - base */
    const int32_t *y;      /* rows */
    const float *weight;   /* rows, or NULL for all 1 */
} lr_data;

static void lr_data_free(lr_data *d)
{
    vg_free(d->dense_col);
    vg_free(d->dense);
    vg_free(d->is_base);
    vg_free(d->base);
    vg_free(d->ell_col);
    vg_free(d->ell_dev);
    vg_free(d->ov_start);
    vg_free(d->ov_row);
    vg_free(d->ov_col);
    vg_free(d->ov_dev);
    memset(d, 0, sizeof *d);
}

/* Building the layout: two parallel passes over fixed row chunks (scan,
 * then fill), each writing only its own rows or its own chunk's slot, so the
 * result does not depend on the thread count. */
typedef struct lr_build {
    const vg_matrix *X;
    lr_data *d;
    size_t chunk_rows;
    const float *cand;     /* n_features: each column's base value (if is_base) */
    size_t *bad_row;       /* n_chunks: first row with a non-finite value, or SIZE_MAX */
    size_t *row_dev;       /* rows: deviations per row, then (in place) overflow starts */
} lr_build;

/* Check that every value is finite and count each row's deviations. */
static void build_scan(void *ctx, size_t task, int worker)
{
    (void)worker;
    lr_build *B = ctx;
    const lr_data *d = B->d;
    const size_t cols = B->X->cols, r0 = task * B->chunk_rows;
    const size_t r1 = VG_MIN(B->X->rows, r0 + B->chunk_rows);
    B->bad_row[task] = SIZE_MAX;
    for (size_t i = r0; i < r1; i++) {
        const float *xr = B->X->data + i * cols;
        size_t n = 0;
        int finite = 1;
        for (size_t j = 0; j < cols; j++) {
            finite &= fabsf(xr[j]) <= FLT_MAX;
            n += d->is_base[j] & (xr[j] != B->cand[j]);
        }
        B->row_dev[i] = n;
        if (!finite) {
            B->bad_row[task] = i;
            return;
        }
    }
}

static void build_fill(void *ctx, size_t task, int worker)
{
    (void)worker;
    lr_build *B = ctx;
    lr_data *d = B->d;
    const size_t cols = B->X->cols, r0 = task * B->chunk_rows;
    const size_t r1 = VG_MIN(B->X->rows, r0 + B->chunk_rows);
    for (size_t i = r0; i < r1; i++) {
        const float *xr = B->X->data + i * cols;
        float *dr = d->dense + i * d->nd_pad;
        for (uint32_t c = 0; c < d->nd; c++) dr[c] = xr[d->dense_col[c]];
        uint32_t *ec = d->ell_col + i * d->ell;
        double *ev = d->ell_dev + i * d->ell;
        size_t q = 0, o = d->ov_start[i];
        for (size_t j = 0; j < cols; j++) {
            if (d->is_base[j] && xr[j] != B->cand[j]) {
                const double dev = (double)xr[j] - d->base[j];
                if (q < d->ell) {
                    ec[q] = (uint32_t)j;
                    ev[q++] = dev;
                } else {
                    d->ov_row[o] = (uint8_t)(i % LR_BLOCK);
                    d->ov_col[o] = (uint32_t)j;
                    d->ov_dev[o++] = dev;
                }
            }
        }
        for (; q < d->ell; q++) {
            ec[q] = (uint32_t)cols;
            ev[q] = 0.0;
        }
    }
}

/* Slots per row: the width minimising ell + 2 * (overflow entries per row),
 * as an overflow entry costs roughly twice a slot (measured on NSL-KDD,
 * where rows hold 2 to 19 deviations and this picks 7). The minimum is at
 * most the cost of width 0, so the slots never take more than twice the
 * room of the deviations themselves. counts: deviations per row; hist:
 * scratch of cols + 1. */
static uint32_t choose_ell(const size_t *counts, size_t rows, size_t cols, size_t *hist)
{
    memset(hist, 0, (cols + 1) * sizeof(size_t));
    size_t over = 0, longer = rows;  /* overflow entries and rows longer than the width */
    for (size_t i = 0; i < rows; i++) {
        hist[counts[i]]++;
        over += counts[i];
    }
    uint32_t best = 0;
    double best_cost = 2.0 * (double)over;
    for (size_t w = 1; w <= cols; w++) {
        longer -= hist[w - 1];
        over -= longer;
        double cost = (double)w * (double)rows + 2.0 * (double)over;
        if (cost < best_cost) best_cost = cost, best = (uint32_t)w;
        if (longer == 0) break;
    }
    return best;
}

/* Split X into dense and base-plus-deviation columns, checking that every
 * value is finite (the linear pipeline imputes, so NaN here is a caller's
 * bug worth a clear message rather than a NaN model). A column's base is
 * the Boyer-Moore majority vote over at most LR_VOTE_ROWS evenly spaced
 * rows, kept if it holds LR_BASE_SHARE of those rows. Any base gives the
 * same model (up to rounding); a good one only makes the pass faster, so a
 * sample is enough and saves a pass over the data. */
static vg_status lr_data_build(const vg_matrix *X, int threads, lr_data *d)
{
    const size_t rows = X->rows, cols = X->cols;
    const size_t chunk_rows = chunk_rows_for(rows, 1);
    const size_t n_chunks = (rows + chunk_rows - 1) / chunk_rows;
    vg_status st = VG_OK;
    memset(d, 0, sizeof *d);
    d->rows = rows;
    d->n_features = (uint32_t)cols;

    lr_build B = { .X = X, .d = d, .chunk_rows = chunk_rows };
    float *cand = vg_calloc(cols + 1, sizeof(float));
    size_t *tally = vg_calloc(cols + 1, sizeof(size_t));
    B.bad_row = vg_malloc(n_chunks * sizeof(size_t));
    B.row_dev = vg_malloc((rows + 1) * sizeof(size_t));
    d->is_base = vg_calloc(cols + 1, 1);
    d->base = vg_calloc(cols + 1, sizeof(double));
    if (!cand || !tally || !B.bad_row || !B.row_dev || !d->is_base || !d->base) {
        st = vg_fail(VG_ERR_NOMEM, "logreg: out of memory");
        goto out;
    }
    B.cand = cand;
    const size_t step = rows > LR_VOTE_ROWS ? rows / LR_VOTE_ROWS : 1;
    size_t sampled = 0;
    for (size_t i = 0; i < rows; i += step, sampled++) {
        const float *xr = X->data + i * cols;
        for (size_t j = 0; j < cols; j++) {
            if (tally[j] == 0) cand[j] = xr[j], tally[j] = 1;
            else if (xr[j] == cand[j]) tally[j]++;
            else tally[j]--;
        }
    }
    memset(tally, 0, cols * sizeof(size_t));
    for (size_t i = 0; i < rows; i += step) {
        const float *xr = X->data + i * cols;
        for (size_t j = 0; j < cols; j++) tally[j] += xr[j] == cand[j];
    }
    for (size_t j = 0; j < cols; j++) {
        /* a non-finite candidate is never a base: the scan must see it */
        d->is_base[j] = (double)tally[j] >= LR_BASE_SHARE * (double)sampled && isfinite(cand[j]);
        if (d->is_base[j]) d->base[j] = cand[j];
        else d->nd++;
    }
    d->nd_pad = (d->nd + LR_LANES - 1) / LR_LANES * LR_LANES;

    vg_parallel_for(threads, n_chunks, build_scan, &B);
    for (size_t t = 0; t < n_chunks; t++) {
        if (B.bad_row[t] != SIZE_MAX) {
            const float *xr = X->data + B.bad_row[t] * cols;
            size_t j = 0;
            while (j + 1 < cols && fabsf(xr[j]) <= FLT_MAX) j++;
            st = vg_fail(VG_ERR_DATA, "logreg: feature %zu of row %zu is not a finite number "
                         "(the linear pipeline must impute and scale)", j, B.bad_row[t]);
            goto out;
        }
    }
    d->ell = choose_ell(B.row_dev, rows, cols, tally);
    d->ov_start = B.row_dev;  /* counts become overflow starts in place */
    B.row_dev = NULL;
    size_t n_ov = 0;
    for (size_t i = 0; i < rows; i++) {
        size_t n = d->ov_start[i];
        d->ov_start[i] = n_ov;
        n_ov += n > d->ell ? n - d->ell : 0;
    }
    d->ov_start[rows] = n_ov;

    d->dense_col = vg_malloc(((size_t)d->nd + 1) * sizeof(uint32_t));
    d->dense = vg_calloc(rows * d->nd_pad + 1, sizeof(float));
    d->ell_col = vg_malloc((rows * d->ell + 1) * sizeof(uint32_t));
    d->ell_dev = vg_malloc((rows * d->ell + 1) * sizeof(double));
    d->ov_row = vg_malloc(n_ov + 1);
    d->ov_col = vg_malloc((n_ov + 1) * sizeof(uint32_t));
    d->ov_dev = vg_malloc((n_ov + 1) * sizeof(double));
    if (!d->dense_col || !d->dense || !d->ell_col || !d->ell_dev || !d->ov_row || !d->ov_col ||
        !d->ov_dev) {
        st = vg_fail(VG_ERR_NOMEM, "logreg: out of memory copying a %zu x %zu matrix", rows, cols);
        goto out;
    }
    uint32_t k = 0;
    for (size_t j = 0; j < cols; j++)
        if (!d->is_base[j]) d->dense_col[k++] = (uint32_t)j;
    vg_parallel_for(threads, n_chunks, build_fill, &B);

out:
    vg_free(cand);
    vg_free(tally);
    vg_free(B.bad_row);
    vg_free(B.row_dev);
    if (st) lr_data_free(d);
    return st;
}

/* ---- the objective ------------------------------------------------------ */

/* One minimisation: K vectors (K = 1: sigmoid of the rows whose label is
 * `positive`; K > 1: softmax over the labels). The parameter vector x is
 * K x (n_features + 1), the state's coefficient layout. */
typedef struct lr_problem {
    const lr_data *d;
    uint32_t K;
    int32_t positive;     /* sigmoid only */
    double inv_C;
    int fit_intercept;
    int threads;
    size_t chunk_rows, n_chunks;
    /* Weights unpacked for the pass. */
    uint32_t KP;          /* K, or for the softmax K rounded up to LR_LANES (zero lanes) */
    double *wd;           /* K x nd_pad: dense weights in dense-column order, zero padding */
    double *ws;           /* (n_features + 1) x KP: sparse weights, a column's K values
                           * adjacent; the last column (unused slots) stays 0 */
    double *b;            /* K: intercepts plus the base columns' contribution */
    /* Per-chunk results, summed in chunk order. */
    size_t stride;        /* doubles per chunk: 1 loss + K*nd_pad + (n_features+1)*KP + K */
    double *partial;      /* n_chunks x stride */
    double *scratch;      /* threads x (nd_pad + LR_BLOCK*KP): a row as doubles, block scores */
    size_t scratch_stride;
    double *sum;          /* stride */
    /* Progress. */
    const vg_fit_options *opt;
    size_t progress_base, progress_total;
} lr_problem;

/* The three kernels of the gradient pass work on blocks of LR_LANES = 8
 * values written out one statement per lane: the compiler turns each block
 * into vector instructions without reassociating any sum (which strict IEEE
 * rules forbid), and each lane keeps its own accumulator, so the result is
 * the same with or without vector units. n is a multiple of 8. */

/* d (n) = s (n), widened once per row so the K dot products and K gradient
 * updates that follow read doubles. */
static inline void widen_lanes(double *restrict d, const float *restrict s, size_t n)
{
    for (const float *end = s + n; s < end; s += LR_LANES, d += LR_LANES) {
        d[0] = s[0]; d[1] = s[1]; d[2] = s[2]; d[3] = s[3];
        d[4] = s[4]; d[5] = s[5]; d[6] = s[6]; d[7] = s[7];
    }
}

static inline double dot_lanes(const double *x, const double *w, size_t n)
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    for (const double *end = x + n; x < end; x += LR_LANES, w += LR_LANES) {
        a0 += x[0] * w[0]; a1 += x[1] * w[1]; a2 += x[2] * w[2]; a3 += x[3] * w[3];
        a4 += x[4] * w[4]; a5 += x[5] * w[5]; a6 += x[6] * w[6]; a7 += x[7] * w[7];
    }
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}

/* g (n) += r * x (n). */
static inline void axpy_lanes(double *restrict g, double r, const double *restrict x, size_t n)
{
    for (const double *end = x + n; x < end; x += LR_LANES, g += LR_LANES) {
        g[0] += r * x[0]; g[1] += r * x[1]; g[2] += r * x[2]; g[3] += r * x[3];
        g[4] += r * x[4]; g[5] += r * x[5]; g[6] += r * x[6]; g[7] += r * x[7];
    }
}

/* log(1 + exp(z)) and sigmoid(z) from one exp, without overflow. */
static double log1pexp_sigmoid(double z, double *sig)
{
    double e = exp(-fabs(z));
    *sig = (z >= 0.0 ? 1.0 : e) / (1.0 + e);
    return (z > 0.0 ? z : 0.0) + log1p(e);
}

/* Rows are scored a block at a time, then their losses and residuals
 * computed, then their gradient added: the math runs in a tight loop
 * instead of stalling every row's chain. Unweighted rows multiply their
 * 1 + exp(-|z|) (or softmax denominators) into a product with one log per
 * flush: the log is the costliest step of the pass, and the product's
 * rounding (~1e-16 relative per factor) matches that of adding logs. */
#define LR_PRODUCT_FLUSH 1e280

/* Sigmoid loss over rows [r0, r1) and its gradient into gd (nd_pad), gs
 * (n_features, by column) and *gb (intercept). xd: (nd_pad) scratch. */
static double chunk_sigmoid(const lr_problem *P, size_t r0, size_t r1, double *restrict gd,
                            double *restrict gs, double *gb, double *restrict xd)
{
    const lr_data *d = P->d;
    const size_t nd_pad = d->nd_pad, ell = d->ell;
    const double *restrict wd = P->wd, *restrict ws = P->ws;
    const double b = P->b[0];
    double zb[LR_BLOCK], rb[LR_BLOCK];  /* scores, residuals of the block's rows */
    double loss = 0.0, rsum = 0.0, prod = 1.0;
    for (size_t i0 = r0; i0 < r1; i0 += LR_BLOCK) {
        const size_t nb = VG_MIN((size_t)LR_BLOCK, r1 - i0);
        for (size_t t = 0; t < nb; t++) {
            const size_t i = i0 + t;
            const uint32_t *ec = d->ell_col + i * ell;
            const double *ev = d->ell_dev + i * ell;
            widen_lanes(xd, d->dense + i * nd_pad, nd_pad);
            /* two chains, so the adds of a row's deviations overlap */
            double z = b + dot_lanes(xd, wd, nd_pad), z2 = 0.0;
            size_t q = 0;
            for (; q + 2 <= ell; q += 2) {
                z += ev[q] * ws[ec[q]];
                z2 += ev[q + 1] * ws[ec[q + 1]];
            }
            if (q < ell) z += ev[q] * ws[ec[q]];
            zb[t] = z + z2;
        }
        for (size_t o = d->ov_start[i0]; o < d->ov_start[i0 + nb]; o++)
            zb[d->ov_row[o]] += d->ov_dev[o] * ws[d->ov_col[o]];
        for (size_t t = 0; t < nb; t++) {
            const size_t i = i0 + t;
            const double z = zb[t], yi = d->y[i] == P->positive ? 1.0 : 0.0;
            const double e = exp(-fabs(z)), sig = (z >= 0.0 ? 1.0 : e) / (1.0 + e);
            if (d->weight) {
                const double s = d->weight[i];
                loss += s * ((z > 0.0 ? z : 0.0) + log1p(e) - yi * z);
                rb[t] = s * (sig - yi);
            } else {
                loss += (z > 0.0 ? z : 0.0) - yi * z;
                prod *= 1.0 + e;
                rb[t] = sig - yi;
            }
        }
        if (prod > LR_PRODUCT_FLUSH) {
            loss += log(prod);
            prod = 1.0;
        }
        for (size_t t = 0; t < nb; t++) {
            const size_t i = i0 + t;
            const double r = rb[t];
            const uint32_t *ec = d->ell_col + i * ell;
            const double *ev = d->ell_dev + i * ell;
            widen_lanes(xd, d->dense + i * nd_pad, nd_pad);
            axpy_lanes(gd, r, xd, nd_pad);
            rsum += r;
            for (size_t q = 0; q < ell; q++) gs[ec[q]] += r * ev[q];
        }
        for (size_t o = d->ov_start[i0]; o < d->ov_start[i0 + nb]; o++)
            gs[d->ov_col[o]] += rb[d->ov_row[o]] * d->ov_dev[o];
    }
    *gb = rsum;
    return loss + log(prod);
}

/* Softmax loss over rows [r0, r1) and its gradient into gd (K x nd_pad),
 * gs (n_features x KP) and gb (K). xd: (nd_pad) scratch; zb: (LR_BLOCK x KP)
 * scratch for the scores and then the residuals. The classes of a sparse
 * entry are handled LR_LANES at a time in registers (KP is a multiple of
 * LR_LANES, the extra lanes hold zero weights and zero residuals). */
static double chunk_softmax(const lr_problem *P, size_t r0, size_t r1, double *restrict gd,
                            double *restrict gs, double *restrict gb, double *restrict xd,
                            double *restrict zb)
{
    const lr_data *d = P->d;
    const size_t nd_pad = d->nd_pad, K = P->K, KP = P->KP, ell = d->ell;
    const double *restrict wd = P->wd, *restrict ws = P->ws, *restrict b = P->b;
    double loss = 0.0, prod = 1.0;
    for (size_t i0 = r0; i0 < r1; i0 += LR_BLOCK) {
        const size_t nb = VG_MIN((size_t)LR_BLOCK, r1 - i0);
        for (size_t t = 0; t < nb; t++) {
            const size_t i = i0 + t;
            const uint32_t *ec = d->ell_col + i * ell;
            const double *ev = d->ell_dev + i * ell;
            double *z = zb + t * KP;
            widen_lanes(xd, d->dense + i * nd_pad, nd_pad);
            for (size_t k = 0; k < K; k++) z[k] = b[k] + dot_lanes(xd, wd + k * nd_pad, nd_pad);
            for (size_t k = K; k < KP; k++) z[k] = 0.0;
            for (size_t k0 = 0; k0 < KP; k0 += LR_LANES) {
                double a0 = z[k0], a1 = z[k0 + 1], a2 = z[k0 + 2], a3 = z[k0 + 3];
                double a4 = z[k0 + 4], a5 = z[k0 + 5], a6 = z[k0 + 6], a7 = z[k0 + 7];
                for (size_t q = 0; q < ell; q++) {
                    const double v = ev[q], *wc = ws + (size_t)ec[q] * KP + k0;
                    a0 += v * wc[0]; a1 += v * wc[1]; a2 += v * wc[2]; a3 += v * wc[3];
                    a4 += v * wc[4]; a5 += v * wc[5]; a6 += v * wc[6]; a7 += v * wc[7];
                }
                z[k0] = a0; z[k0 + 1] = a1; z[k0 + 2] = a2; z[k0 + 3] = a3;
                z[k0 + 4] = a4; z[k0 + 5] = a5; z[k0 + 6] = a6; z[k0 + 7] = a7;
            }
        }
        for (size_t o = d->ov_start[i0]; o < d->ov_start[i0 + nb]; o++) {
            const double v = d->ov_dev[o], *wc = ws + (size_t)d->ov_col[o] * KP;
            double *z = zb + (size_t)d->ov_row[o] * KP;
            for (size_t k = 0; k < K; k++) z[k] += v * wc[k];
        }
        for (size_t t = 0; t < nb; t++) {
            const size_t i = i0 + t, yi = (size_t)d->y[i];
            double *z = zb + t * KP;  /* scores in, residuals out */
            double m = z[0], total = 0.0;
            for (size_t k = 1; k < K; k++) m = z[k] > m ? z[k] : m;
            const double zy = z[yi];
            for (size_t k = 0; k < K; k++) total += (z[k] = exp(z[k] - m));
            const double s = d->weight ? d->weight[i] : 1.0, scale = s / total;
            if (d->weight) {
                loss += s * (m + log(total) - zy);
            } else {
                loss += m - zy;
                prod *= total;  /* total is in [1, K] */
                if (prod > LR_PRODUCT_FLUSH) {
                    loss += log(prod);
                    prod = 1.0;
                }
            }
            for (size_t k = 0; k < K; k++) z[k] *= scale;
            z[yi] -= s;
        }
        for (size_t t = 0; t < nb; t++) {
            const size_t i = i0 + t;
            const uint32_t *ec = d->ell_col + i * ell;
            const double *ev = d->ell_dev + i * ell;
            const double *r = zb + t * KP;
            widen_lanes(xd, d->dense + i * nd_pad, nd_pad);
            for (size_t k = 0; k < K; k++) {
                axpy_lanes(gd + k * nd_pad, r[k], xd, nd_pad);
                gb[k] += r[k];
            }
            for (size_t k0 = 0; k0 < KP; k0 += LR_LANES) {
                const double q0 = r[k0], q1 = r[k0 + 1], q2 = r[k0 + 2], q3 = r[k0 + 3];
                const double q4 = r[k0 + 4], q5 = r[k0 + 5], q6 = r[k0 + 6], q7 = r[k0 + 7];
                for (size_t q = 0; q < ell; q++) {
                    const double v = ev[q];
                    double *gc = gs + (size_t)ec[q] * KP + k0;
                    gc[0] += q0 * v; gc[1] += q1 * v; gc[2] += q2 * v; gc[3] += q3 * v;
                    gc[4] += q4 * v; gc[5] += q5 * v; gc[6] += q6 * v; gc[7] += q7 * v;
                }
            }
        }
        for (size_t o = d->ov_start[i0]; o < d->ov_start[i0 + nb]; o++) {
            const double v = d->ov_dev[o], *r = zb + (size_t)d->ov_row[o] * KP;
            double *gc = gs + (size_t)d->ov_col[o] * KP;
            for (size_t k = 0; k < K; k++) gc[k] += r[k] * v;
        }
    }
    return loss + log(prod);
}

/* Loss and gradient of one fixed chunk of rows into its slot of `partial`. */
static void lr_chunk(void *ctx, size_t task, int worker)
{
    const lr_problem *P = ctx;
    const lr_data *d = P->d;
    const size_t K = P->K, nd_pad = d->nd_pad, nf = d->n_features;
    size_t r0 = task * P->chunk_rows, r1 = VG_MIN(d->rows, r0 + P->chunk_rows);

    double *part = P->partial + task * P->stride;
    memset(part, 0, P->stride * sizeof(double));
    double *gd = part + 1;     /* K x nd_pad */
    double *gs = gd + K * nd_pad;  /* (nf + 1) x KP */
    double *gb = gs + (nf + 1) * P->KP;  /* K */
    double *xd = P->scratch + (size_t)worker * P->scratch_stride;  /* nd_pad, then LR_BLOCK x KP */
    part[0] = K == 1 ? chunk_sigmoid(P, r0, r1, gd, gs, gb, xd)
                     : chunk_softmax(P, r0, r1, gd, gs, gb, xd, xd + nd_pad);
}

static double lr_objective(void *ctx, const double *x, double *grad)
{
    lr_problem *P = ctx;
    const lr_data *d = P->d;
    const uint32_t K = P->K, nd = d->nd, nd_pad = d->nd_pad, nf = d->n_features;
    const size_t stride_x = (size_t)nf + 1;

    /* Unpack x into the pass's layouts. */
    for (uint32_t k = 0; k < K; k++) {
        const double *xk = x + k * stride_x;
        double *wk = P->wd + (size_t)k * nd_pad;
        for (uint32_t c = 0; c < nd; c++) wk[c] = xk[d->dense_col[c]];
        double b = P->fit_intercept ? xk[nf] : 0.0;
        for (uint32_t j = 0; j < nf; j++) {
            P->ws[(size_t)j * P->KP + k] = xk[j];
            b += d->base[j] * xk[j];
        }
        P->b[k] = b;
    }

    vg_parallel_for(P->threads, P->n_chunks, lr_chunk, P);

    /* Sum the chunks in chunk order: the same additions for any thread count. */
    double *sum = P->sum;
    memcpy(sum, P->partial, P->stride * sizeof(double));
    for (size_t t = 1; t < P->n_chunks; t++) {
        const double *part = P->partial + t * P->stride;
        for (size_t q = 0; q < P->stride; q++) sum[q] += part[q];
    }

    /* Pack the gradient back (the CSR slots of dense columns hold zeros and
     * are overwritten by the dense values), then add the penalty. */
    const double *gd = sum + 1, *gs = gd + (size_t)K * nd_pad, *gb = gs + ((size_t)nf + 1) * P->KP;
    double f = sum[0], penalty = 0.0;
    for (uint32_t k = 0; k < K; k++) {
        const double *xk = x + k * stride_x;
        double *gk = grad + k * stride_x;
        for (uint32_t j = 0; j < nf; j++) gk[j] = d->base[j] * gb[k] + gs[(size_t)j * P->KP + k];
        for (uint32_t c = 0; c < nd; c++) gk[d->dense_col[c]] = gd[(size_t)k * nd_pad + c];
        for (uint32_t j = 0; j < nf; j++) {
            penalty += xk[j] * xk[j];
            gk[j] += P->inv_C * xk[j];
        }
        gk[nf] = P->fit_intercept ? gb[k] : 0.0;
    }
    return f + 0.5 * P->inv_C * penalty;
}

static void lr_on_iter(void *user, int iter, double f, double gmax)
{
    (void)f;
    (void)gmax;
    const lr_problem *P = user;
    if (P->opt && P->opt->progress)
        P->opt->progress(P->opt->progress_user, "iterations", P->progress_base + (size_t)iter,
                         P->progress_total);
}

static void lr_problem_free(lr_problem *P)
{
    vg_free(P->wd);
    vg_free(P->ws);
    vg_free(P->b);
    vg_free(P->partial);
    vg_free(P->scratch);
    vg_free(P->sum);
}

static vg_status lr_problem_init(lr_problem *P, const lr_data *d, uint32_t K,
                                 const vg_logreg_params *p, const vg_fit_options *opt)
{
    memset(P, 0, sizeof *P);
    P->d = d;
    P->K = K;
    P->inv_C = 1.0 / p->C;
    P->fit_intercept = p->fit_intercept;
    P->threads = vg_threads_resolve(opt ? opt->threads : 0);
    P->opt = opt;
    P->KP = K == 1 ? 1 : (K + LR_LANES - 1) / LR_LANES * LR_LANES;
    /* gs has a slot for the dummy column n_features of unused ELL slots */
    P->stride = 1 + (size_t)K * d->nd_pad + ((size_t)d->n_features + 1) * P->KP + K;
    P->chunk_rows = chunk_rows_for(d->rows, P->stride);
    P->n_chunks = (d->rows + P->chunk_rows - 1) / P->chunk_rows;
    P->scratch_stride = d->nd_pad + (size_t)LR_BLOCK * P->KP;
    P->wd = vg_calloc((size_t)K * d->nd_pad + 1, sizeof(double));
    P->ws = vg_calloc(((size_t)d->n_features + 1) * P->KP, sizeof(double));
    P->b = vg_calloc(K, sizeof(double));
    P->partial = vg_malloc(P->n_chunks * P->stride * sizeof(double));
    P->scratch = vg_malloc((size_t)P->threads * P->scratch_stride * sizeof(double));
    P->sum = vg_malloc(P->stride * sizeof(double));
    if (!P->wd || !P->ws || !P->b || !P->partial || !P->scratch || !P->sum) {
        lr_problem_free(P);
        return vg_fail(VG_ERR_NOMEM, "logreg: out of memory for the gradient buffers");
    }
    return VG_OK;
}

/* Minimise one problem from x = 0 into x (K x (n_features + 1)). */
static vg_status lr_minimize(lr_problem *P, const vg_logreg_params *p, double *x,
                             vg_lbfgs_result *res)
{
    vg_lbfgs_params lp = vg_lbfgs_params_default();
    lp.max_iter = (int)VG_MIN(p->max_iter, (long)1 << 30);
    lp.gtol = p->tol;
    lp.ftol = p->ftol;
    lp.on_iter = lr_on_iter;
    lp.user = P;
    size_t n = (size_t)P->K * ((size_t)P->d->n_features + 1);
    memset(x, 0, n * sizeof(double));
    vg_status st = vg_lbfgs_minimize(n, lr_objective, P, &lp, x, res);
    if (st) vg_error_prefix("logreg: ");
    return st;
}

/* The checks fit and vg_logreg_objective share; on success *link is the
 * link the parameters choose for this many classes. */
static vg_status check_fit_input(const vg_logreg_params *p, const vg_train_set *ts, uint32_t *link)
{
    const char *why = logreg_params_check(p);
    if (why) return vg_fail(VG_ERR_INVALID, "%s", why);
    if (!ts || !ts->X || !ts->y || ts->X->rows == 0)
        return vg_fail(VG_ERR_DATA, "logreg: no training rows");
    if (ts->n_classes < 2 || ts->n_classes > LR_MAX_CLASSES)
        return vg_fail(VG_ERR_DATA, "logreg: need between 2 and %u classes, got %u", LR_MAX_CLASSES,
                       ts->n_classes);
    if (ts->X->cols >= UINT32_MAX)
        return vg_fail(VG_ERR_DATA, "logreg: too many features (%zu)", ts->X->cols);
    for (size_t i = 0; i < ts->X->rows; i++) {
        if (ts->y[i] < 0 || (uint32_t)ts->y[i] >= ts->n_classes)
            return vg_fail(VG_ERR_DATA, "logreg: label %d of row %zu is outside [0, %u)", ts->y[i], i,
                           ts->n_classes);
        if (ts->weight && !(ts->weight[i] >= 0.0f && isfinite(ts->weight[i])))
            return vg_fail(VG_ERR_DATA, "logreg: weight of row %zu is not a finite number >= 0", i);
    }
    *link = VG_LOGREG_SOFTMAX;
    if (p->multi_class == VG_LOGREG_OVR) *link = VG_LOGREG_OVR_LINK;
    else if (p->multi_class == VG_LOGREG_AUTO && ts->n_classes == 2) *link = VG_LOGREG_SIGMOID;
    return VG_OK;
}

vg_status vg_logreg_objective(const vg_logreg_params *p, const vg_train_set *ts, int threads,
                              const double *coef, double *grad, double *f)
{
    uint32_t link;
    vg_status st = check_fit_input(p, ts, &link);
    if (st) return st;
    lr_data d;
    if ((st = lr_data_build(ts->X, threads, &d))) return st;
    d.y = ts->y;
    d.weight = ts->weight;
    vg_fit_options opt = { .threads = threads };
    uint32_t K = link == VG_LOGREG_SOFTMAX ? ts->n_classes : 1;
    uint32_t problems = link == VG_LOGREG_OVR_LINK ? ts->n_classes : 1;
    size_t stride = (size_t)K * (ts->X->cols + 1);
    lr_problem P;
    if ((st = lr_problem_init(&P, &d, K, p, &opt)) == VG_OK) {
        *f = 0.0;
        for (uint32_t q = 0; q < problems; q++) {
            P.positive = link == VG_LOGREG_OVR_LINK ? (int32_t)q : 1;
            *f += lr_objective(&P, coef + q * stride, grad + q * stride);
        }
        lr_problem_free(&P);
    }
    lr_data_free(&d);
    return st;
}

/* CSR rows (text n-grams), or penalty=l1 on any rows: LIBLINEAR's solvers
 * (linear_cd.c): dual coordinate descent for L2 (-s 7), CDN for L1 (the
 * problem -s 6 solves). Their intercept is a constant column of value 1
 * regularised with the weights, as LIBLINEAR's -B 1 and scikit-learn's
 * liblinear solver do; the L-BFGS path leaves the intercept unpenalised.
 * Two classes: one sigmoid; more: one-vs-rest (a softmax needs all classes
 * in one problem, which these solvers do not do). */
static vg_status logreg_fit_sparse(const vg_logreg_params *p, const vg_train_set *ts, const vg_fit_options *opt,
                                   void **out_state)
{
    const char *why = logreg_params_check(p);
    if (why) return vg_fail(VG_ERR_INVALID, "%s", why);
    vg_csr from_dense = { 0 };
    const vg_csr *X = ts->Xs;
    vg_status st = VG_OK;
    if (!X && ts->X && (st = vg_csr_from_dense(ts->X, &from_dense)) == VG_OK) X = &from_dense;
    if (st) return st;
    if (!X || !ts->y || X->rows == 0) st = vg_fail(VG_ERR_DATA, "logreg: no training rows");
    else if (ts->n_classes < 2 || ts->n_classes > LR_MAX_CLASSES)
        st = vg_fail(VG_ERR_DATA, "logreg: need between 2 and %u classes, got %u", LR_MAX_CLASSES, ts->n_classes);
    else if (X->cols >= UINT32_MAX) st = vg_fail(VG_ERR_DATA, "logreg: too many features (%zu)", X->cols);
    else if (p->multi_class == VG_LOGREG_MULTINOMIAL)
        st = vg_fail(VG_ERR_INVALID, "logreg: multi_class=multinomial is fitted on dense rows only; sparse rows "
                                     "(--text) and penalty=l1 fit one-vs-rest");
    for (size_t i = 0; !st && i < X->rows; i++)
        if (ts->y[i] < 0 || (uint32_t)ts->y[i] >= ts->n_classes ||
            (ts->weight && !(ts->weight[i] >= 0.0f && isfinite(ts->weight[i]))))
            st = vg_fail(VG_ERR_DATA, "logreg: row %zu has a label outside [0, %u) or a bad weight", i, ts->n_classes);
    for (uint64_t k = 0; !st && k < X->nnz; k++)
        if (!isfinite(X->values[k])) st = vg_fail(VG_ERR_DATA, "logreg: a feature value is not finite");
    logreg_state *s = NULL;
    if (!st) {
        uint32_t link = ts->n_classes == 2 ? VG_LOGREG_SIGMOID : VG_LOGREG_OVR_LINK;
        if (!(s = state_new((uint32_t)X->cols, ts->n_classes, link))) st = vg_fail(VG_ERR_NOMEM, "logreg: out of memory");
    }
    if (!st) {
        vg_lincd_result res;
        s->solver = p->penalty_l1 ? 2 : 1;
        st = vg_lincd_fit_ovr(p->penalty_l1 ? VG_LINCD_LR_L1 : VG_LINCD_LR_DUAL, X, ts->y, ts->n_classes, ts->weight,
                              p->C, p->fit_intercept ? 1.0 : 0.0, p->tol, p->max_iter, opt ? opt->seed : 0,
                              opt ? opt->threads : 0, s->coef, &res);
        s->iterations = (uint32_t)VG_MIN(res.iterations, (long)UINT32_MAX);
        s->converged = (uint32_t)res.converged;
        if (!st && !res.converged)
            vg_log(VG_LOG_INFO, "logreg: not converged after %u passes (raise max_iter or tol)", s->iterations);
    }
    vg_csr_free(&from_dense);
    if (st) {
        logreg_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static vg_status logreg_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt,
                            void **out_state)
{
    const vg_logreg_params *p = params;
    uint32_t link;
    *out_state = NULL;
    if (ts && (ts->Xs || p->penalty_l1)) return logreg_fit_sparse(p, ts, opt, out_state);
    vg_status st = check_fit_input(p, ts, &link);
    if (st) return st;

    lr_data d;
    if ((st = lr_data_build(ts->X, opt ? opt->threads : 0, &d))) return st;
    d.y = ts->y;
    d.weight = ts->weight;

    logreg_state *s = state_new((uint32_t)ts->X->cols, ts->n_classes, link);
    if (!s) {
        lr_data_free(&d);
        return vg_fail(VG_ERR_NOMEM, "logreg: out of memory");
    }
    /* A softmax is one problem over all vectors; the sigmoid and each
     * one-vs-rest class are problems with a single vector. */
    uint32_t K = link == VG_LOGREG_SOFTMAX ? s->n_classes : 1;
    uint32_t problems = link == VG_LOGREG_OVR_LINK ? s->n_classes : 1;
    lr_problem P;
    if ((st = lr_problem_init(&P, &d, K, p, opt))) goto err;
    P.progress_total = (size_t)problems * (size_t)p->max_iter;
    s->converged = 1;
    for (uint32_t q = 0; q < problems; q++) {
        vg_lbfgs_result res;
        P.positive = link == VG_LOGREG_OVR_LINK ? (int32_t)q : 1;
        P.progress_base = (size_t)q * (size_t)p->max_iter;
        double *x = s->coef + (size_t)q * ((size_t)s->n_features + 1);
        if ((st = lr_minimize(&P, p, x, &res))) break;
        if ((uint32_t)res.iterations > s->iterations) s->iterations = (uint32_t)res.iterations;
        if (!res.converged) s->converged = 0;
        if (res.stop == VG_LBFGS_STOP_LINESEARCH)
            vg_log(VG_LOG_DEBUG, "logreg: stopped early: %s (max|g| = %g)",
                   vg_lbfgs_stop_str(res.stop), res.gmax);
    }
    lr_problem_free(&P);
    if (st) goto err;
    if (!s->converged)
        vg_log(VG_LOG_INFO, "logreg: not converged after %u iterations (raise max_iter or tol)",
               s->iterations);
    lr_data_free(&d);
    *out_state = s;
    return VG_OK;

err:
    lr_data_free(&d);
    logreg_free(s);
    return st;
}

/* ---- prediction --------------------------------------------------------- */

typedef struct lr_predict_job {
    const logreg_state *s;
    const vg_matrix *X;
    float *proba;
    double *scores;  /* threads x 2 n_vectors, for more classes than fit on the stack */
} lr_predict_job;

#define LR_PREDICT_ROWS 1024
#define LR_STACK_SCORES 64

/* x: (n) floats, w: (n) doubles; lanes as in training, then the tail. */
static double dot_row(const float *x, const double *w, size_t n)
{
    double acc[LR_LANES] = { 0 };
    size_t j = 0;
    for (; j + LR_LANES <= n; j += LR_LANES)
        for (int l = 0; l < LR_LANES; l++) acc[l] += (double)x[j + l] * w[j + l];
    for (int l = 0; j < n; j++, l++) acc[l] += (double)x[j] * w[j];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* Probabilities of one row xr (n_features) into out (n_classes); z is
 * scratch of 2 n_vectors doubles. predict and predict_row share it, so they
 * agree bit for bit. */
static void link_proba(const logreg_state *s, double *z, float *out);

static void predict_one(const logreg_state *s, const float *xr, double *z, float *out)
{
    const size_t nf = s->n_features, V = s->n_vectors;
    for (size_t k = 0; k < V; k++) {
        const double *w = s->coef + k * (nf + 1);
        z[k] = w[nf] + dot_row(xr, w, nf);
    }
    link_proba(s, z, out);
}

/* Scores z (2 n_vectors doubles, the first n_vectors set) into out. */
static void link_proba(const logreg_state *s, double *z, float *out)
{
    const size_t V = s->n_vectors;
    double *q = z + V;
    if (s->link == VG_LOGREG_SIGMOID) {
        double sig;
        log1pexp_sigmoid(z[0], &sig);
        out[0] = (float)(1.0 - sig);
        out[1] = (float)sig;
    } else if (s->link == VG_LOGREG_SOFTMAX) {
        double m = z[0], total = 0.0;
        for (size_t k = 1; k < V; k++) m = z[k] > m ? z[k] : m;
        for (size_t k = 0; k < V; k++) total += (z[k] = exp(z[k] - m));
        for (size_t k = 0; k < V; k++) out[k] = (float)(z[k] / total);
    } else {
        double total = 0.0;
        for (size_t k = 0; k < V; k++) {
            log1pexp_sigmoid(z[k], &q[k]);
            total += q[k];
        }
        if (total >= DBL_MIN) {
            for (size_t k = 0; k < V; k++) out[k] = (float)(q[k] / total);
        } else {
            /* Every sigmoid underflowed: far below zero sigmoid(z) ~ exp(z),
             * so the normalised sigmoids tend to the softmax. */
            double m = z[0];
            for (size_t k = 1; k < V; k++) m = z[k] > m ? z[k] : m;
            for (size_t k = 0; k < V; k++) total += (q[k] = exp(z[k] - m));
            for (size_t k = 0; k < V; k++) out[k] = (float)(q[k] / total);
        }
    }
}

static void lr_predict_task(void *ctx, size_t task, int worker)
{
    const lr_predict_job *J = ctx;
    const logreg_state *s = J->s;
    const size_t nf = s->n_features, V = s->n_vectors, C = s->n_classes;
    size_t r0 = task * LR_PREDICT_ROWS, r1 = VG_MIN(J->X->rows, r0 + LR_PREDICT_ROWS);
    double zbuf[2 * LR_STACK_SCORES];
    double *z = V <= LR_STACK_SCORES ? zbuf : J->scores + (size_t)worker * 2 * V;
    for (size_t i = r0; i < r1; i++) predict_one(s, J->X->data + i * nf, z, J->proba + i * C);
}

/* predict cannot fail by contract: when scratch for many classes cannot be
 * had, say so and give no preference. */
static void predict_uniform(const logreg_state *s, size_t rows, float *proba)
{
    vg_log(VG_LOG_ERROR, "logreg: out of memory for %u class scores; predicting uniform", s->n_classes);
    for (size_t i = 0; i < rows * s->n_classes; i++) proba[i] = 1.0f / (float)s->n_classes;
}

static void logreg_predict_row(const void *state, const float *row, float *proba)
{
    const logreg_state *s = state;
    double zbuf[2 * LR_STACK_SCORES];
    double *z = s->n_vectors <= LR_STACK_SCORES ? zbuf : vg_malloc(2 * (size_t)s->n_vectors * sizeof(double));
    if (!z) {
        predict_uniform(s, 1, proba);
        return;
    }
    predict_one(s, row, z, proba);
    if (z != zbuf) vg_free(z);
}

static void logreg_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    const logreg_state *s = state;
    VG_ASSERT(s && X && proba && X->cols == s->n_features);
    if (X->rows == 0) return;
    threads = vg_threads_resolve(threads);
    lr_predict_job J = { s, X, proba, NULL };
    if (s->n_vectors > LR_STACK_SCORES) {
        J.scores = vg_malloc((size_t)threads * 2 * s->n_vectors * sizeof(double));
        if (!J.scores) {
            predict_uniform(s, X->rows, proba);
            return;
        }
    }
    vg_parallel_for(threads, (X->rows + LR_PREDICT_ROWS - 1) / LR_PREDICT_ROWS, lr_predict_task, &J);
    vg_free(J.scores);
}

typedef struct lr_sparse_job {
    const logreg_state *s;
    const vg_csr *X;
    float *proba;
    double *scores;
} lr_sparse_job;

static void lr_sparse_task(void *ctx, size_t task, int worker)
{
    const lr_sparse_job *J = ctx;
    const logreg_state *s = J->s;
    size_t r0 = task * LR_PREDICT_ROWS, r1 = VG_MIN(J->X->rows, r0 + LR_PREDICT_ROWS);
    double zbuf[2 * LR_STACK_SCORES];
    double *z = s->n_vectors <= LR_STACK_SCORES ? zbuf : J->scores + (size_t)worker * 2 * s->n_vectors;
    for (size_t i = r0; i < r1; i++) {
        vg_lincd_row_scores(s->coef, s->n_vectors, s->n_features, 1.0, J->X, i, z);
        link_proba(s, z, J->proba + i * s->n_classes);
    }
}

static void logreg_predict_sparse(const void *state, const vg_csr *X, int threads, float *proba)
{
    const logreg_state *s = state;
    VG_ASSERT(s && X && proba && X->cols == s->n_features);
    if (X->rows == 0) return;
    size_t tasks = (X->rows + LR_PREDICT_ROWS - 1) / LR_PREDICT_ROWS;
    threads = tasks > 1 ? vg_threads_resolve(threads) : 1;
    lr_sparse_job J = { s, X, proba, NULL };
    if (s->n_vectors > LR_STACK_SCORES) {
        J.scores = vg_malloc((size_t)threads * 2 * s->n_vectors * sizeof(double));
        if (!J.scores) {
            predict_uniform(s, X->rows, proba);
            return;
        }
    }
    vg_parallel_for(threads, tasks, lr_sparse_task, &J);
    vg_free(J.scores);
}

/* ---- explanations ------------------------------------------------------ */

static uint32_t logreg_n_outputs(const void *state)
{
    return ((const logreg_state *)state)->n_vectors;
}

/* The raw outputs are the scores (log-odds for the sigmoid and one-vs-rest,
 * logits for the softmax), exactly linear: feature f contributes w_kf * x_f
 * to output k and the intercept is the bias row. contrib: (n_features + 1)
 * x n_vectors, row-major by feature. */
static vg_status logreg_explain(const void *state, const float *row, double *contrib)
{
    const logreg_state *s = state;
    const size_t nf = s->n_features, V = s->n_vectors;
    for (size_t k = 0; k < V; k++) {
        const double *w = s->coef + k * (nf + 1);
        for (size_t f = 0; f < nf; f++) contrib[f * V + k] = w[f] * row[f];
        contrib[nf * V + k] = w[nf];
    }
    return VG_OK;
}

/* The same exact terms over CSR row r: contrib is (nnz + 1) x n_vectors. */
static vg_status logreg_explain_sparse(const void *state, const vg_csr *X, size_t r, double *contrib)
{
    const logreg_state *s = state;
    const size_t nf = s->n_features, V = s->n_vectors, n = (size_t)(X->indptr[r + 1] - X->indptr[r]);
    for (size_t k = 0; k < V; k++) {
        const double *w = s->coef + k * (nf + 1);
        for (size_t e = 0; e < n; e++) {
            uint64_t at = X->indptr[r] + e;
            contrib[e * V + k] = w[X->indices[at]] * X->values[at];
        }
        contrib[n * V + k] = w[nf];
    }
    return VG_OK;
}

/* ---- save / load / describe --------------------------------------------- */

/* Layout (little-endian): u32 version, u32 n_features, u32 n_classes,
 * u32 link, u32 n_vectors, u32 iterations, u32 converged, then
 * f64 coef[n_vectors * (n_features + 1)]. */
static vg_status logreg_save(const void *state, vg_wbuf *w)
{
    const logreg_state *s = state;
    if (s->solver) {  /* CSR rows: a million columns of mostly zeros; keep the non-zeros */
        vg_wbuf_u32(w, LR_SAVE_VERSION_SPARSE);
        vg_wbuf_u32(w, s->n_features);
        vg_wbuf_u32(w, s->n_classes);
        vg_wbuf_u32(w, s->link);
        vg_wbuf_u32(w, s->n_vectors);
        vg_wbuf_u32(w, s->iterations);
        vg_wbuf_u32(w, s->converged);
        vg_wbuf_u32(w, s->solver);
        vg_lincd_save_coef(s->coef, s->n_vectors, s->n_features, w);
        return w->failed ? vg_fail(VG_ERR_NOMEM, "logreg: out of memory saving the model") : VG_OK;
    }
    vg_wbuf_u32(w, LR_SAVE_VERSION);
    vg_wbuf_u32(w, s->n_features);
    vg_wbuf_u32(w, s->n_classes);
    vg_wbuf_u32(w, s->link);
    vg_wbuf_u32(w, s->n_vectors);
    vg_wbuf_u32(w, s->iterations);
    vg_wbuf_u32(w, s->converged);
    vg_wbuf_f64s(w, s->coef, (size_t)s->n_vectors * ((size_t)s->n_features + 1));
    if (w->failed) return vg_fail(VG_ERR_NOMEM, "logreg: out of memory saving the model");
    return VG_OK;
}

static vg_status logreg_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    if (!r->failed && version != LR_SAVE_VERSION && version != LR_SAVE_VERSION_SPARSE)
        return vg_fail(VG_ERR_FORMAT, "%s: logreg state version %u is not supported (this build reads %u)",
                       r->what, version, LR_SAVE_VERSION);
    uint32_t nf = vg_rbuf_u32(r), nc = vg_rbuf_u32(r), link = vg_rbuf_u32(r), nv = vg_rbuf_u32(r);
    uint32_t iterations = vg_rbuf_u32(r), converged = vg_rbuf_u32(r);
    uint32_t solver = version == LR_SAVE_VERSION_SPARSE ? vg_rbuf_u32(r) : 0;
    if (r->failed) return vg_rbuf_check(r);
    vg_rbuf_require(r, version == LR_SAVE_VERSION ? solver == 0 : solver == 1 || solver == 2, "logreg solver");
    vg_rbuf_require(r, solver == 0 || link != VG_LOGREG_SOFTMAX, "logreg link of a sparse fit");
    vg_rbuf_require(r, nc >= 2 && nc <= LR_MAX_CLASSES, "logreg class count");
    vg_rbuf_require(r, link <= VG_LOGREG_OVR_LINK, "logreg link");
    vg_rbuf_require(r, link != VG_LOGREG_SIGMOID || nc == 2, "logreg sigmoid needs 2 classes");
    vg_rbuf_require(r, nv == (link == VG_LOGREG_SIGMOID ? 1u : nc), "logreg vector count");
    vg_rbuf_require(r, nf < UINT32_MAX, "logreg feature count");
    vg_rbuf_require(r, converged <= 1, "logreg converged flag");
    uint64_t count = (uint64_t)nv * ((uint64_t)nf + 1);
    if (solver) {
        vg_rbuf_require(r, nf <= (1u << 30) && (uint64_t)nv * 12 <= r->len - r->pos, "logreg vectors exceed the data");
        vg_rbuf_require_alloc(r, count * sizeof(double), "logreg weights");
        if (r->failed) return vg_rbuf_check(r);
        logreg_state *s = state_new(nf, nc, link);
        if (!s) return vg_fail(VG_ERR_NOMEM, "logreg: out of memory loading %u x %u coefficients", nv, nf + 1);
        s->iterations = iterations, s->converged = converged, s->solver = solver;
        vg_status st = vg_lincd_load_coef(r, s->coef, nv, nf, LR_MAX_COEF);
        if (st) {
            logreg_free(s);
            return st;
        }
        *out_state = s;
        return VG_OK;
    }
    vg_rbuf_require(r, count <= (r->len - r->pos) / 8, "logreg coefficient count exceeds the data");
    if (r->failed) return vg_rbuf_check(r);

    logreg_state *s = state_new(nf, nc, link);
    if (!s) return vg_fail(VG_ERR_NOMEM, "logreg: out of memory loading %u x %u coefficients", nv, nf + 1);
    for (uint64_t i = 0; i < count; i++) s->coef[i] = vg_rbuf_f64(r);
    int finite = 1;
    for (uint64_t i = 0; i < count; i++) finite &= fabs(s->coef[i]) <= LR_MAX_COEF;
    vg_rbuf_require(r, finite, "logreg coefficient not finite or beyond 1e250");
    s->iterations = iterations;
    s->converged = converged;
    vg_status st = vg_rbuf_check(r);
    if (st) {
        logreg_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void logreg_describe(const void *state, vg_wbuf *out)
{
    const logreg_state *s = state;
    static const char *links[] = { "sigmoid", "softmax", "one-vs-rest" };
    static const char *solvers[] = { "L-BFGS", "dual coordinate descent (L2, sparse rows)",
                                     "coordinate descent Newton (L1, sparse rows)" };
    char line[256];
    int n = snprintf(line, sizeof line, "link: %s\nsolver: %s\niterations: %u\nconverged: %s\n",
                     links[s->link], solvers[s->solver], s->iterations, s->converged ? "yes" : "no");
    vg_wbuf_bytes(out, line, (size_t)n);
}

const vg_estimator_kind vg_logreg_kind = {
    .name = "logreg",
    .summary = "L2-regularised logistic regression (binary sigmoid or multinomial softmax), L-BFGS",
    .encoding = VG_ENCODING_ONEHOT_SCALED,
    .params_size = sizeof(vg_logreg_params),
    .params_default = logreg_params_default,
    .params_set = logreg_params_set,
    .params_check = logreg_params_check,
    .params_describe = logreg_params_describe,
    .fit = logreg_fit,
    .predict = logreg_predict,
    .n_classes = logreg_n_classes,
    .save = logreg_save,
    .load = logreg_load,
    .free = logreg_free,
    .describe = logreg_describe,
    .n_features = logreg_n_features,
    .predict_row = logreg_predict_row,
    .n_outputs = logreg_n_outputs,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE | VG_ESTIMATOR_IN_SPARSE,
    .predict_sparse = logreg_predict_sparse,
    .explain = logreg_explain,
    .explain_sparse = logreg_explain_sparse,
};
