/* Kernel values for the SVM family over compact rows (base + dense block +
 * sparse deviations); the argument for the layout is in svm_kernel.h. */
#include "models/svm_kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define SVMK_VOTE_ROWS 4096   /* rows sampled to find each column's majority value */
#define SVMK_BASE_SHARE 0.5   /* a value in at least this share of rows becomes the base */

void vg_svm_rows_free(vg_svm_rows *r)
{
    if (!r) return;
    vg_free(r->dense_col), vg_free(r->is_dense), vg_free(r->base), vg_free(r->dense);
    vg_free(r->ptr), vg_free(r->idx), vg_free(r->val), vg_free(r->sq), vg_free(r->sb);
    memset(r, 0, sizeof *r);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static const float *row_of(const vg_matrix *X, const uint32_t *sel, size_t i)
{
    return X->data + (sel ? (size_t)sel[i] : i) * X->cols;
}

/* The most frequent value of column c among a sample of the rows, and whether
 * it holds in at least SVMK_BASE_SHARE of all of them. */
static int column_base(const vg_matrix *X, const uint32_t *sel, size_t n, size_t c, float *sample, float *base)
{
    if (n == 0) return 0;
    size_t m = n < SVMK_VOTE_ROWS ? n : SVMK_VOTE_ROWS;
    for (size_t s = 0; s < m; s++) sample[s] = row_of(X, sel, s * n / m)[c];
    qsort(sample, m, sizeof *sample, cmp_float);
    float best = sample[0];
    size_t best_run = 0;
    for (size_t s = 0; s < m;) {
        size_t e = s;
        while (e < m && sample[e] == sample[s]) e++;
        if (e - s > best_run) best_run = e - s, best = sample[s];
        s = e;
    }
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) hits += row_of(X, sel, i)[c] == best;
    *base = best;
    return (double)hits >= SVMK_BASE_SHARE * (double)n;
}

vg_status vg_svm_rows_build(const vg_matrix *X, const uint32_t *sel, size_t n, vg_svm_rows *out)
{
    memset(out, 0, sizeof *out);
    size_t d = X->cols;
    out->n = n;
    out->d = (uint32_t)d;
    out->is_dense = vg_calloc(d ? d : 1, 1);
    out->base = vg_calloc(d ? d : 1, sizeof(float));
    out->dense_col = vg_calloc(d ? d : 1, sizeof(uint32_t));
    float *sample = vg_malloc(SVMK_VOTE_ROWS * sizeof(float));
    if (!out->is_dense || !out->base || !out->dense_col || !sample) goto nomem;
    for (size_t c = 0; c < d; c++) {
        float b;
        if (column_base(X, sel, n, c, sample, &b)) {
            out->base[c] = b;
        } else {
            out->is_dense[c] = 1;
            out->dense_col[out->nd++] = (uint32_t)c;
        }
    }
    vg_free(sample);
    sample = NULL;
    out->nd_pad = (out->nd + VG_SVM_LANES - 1) / VG_SVM_LANES * VG_SVM_LANES;
    out->bb = 0;
    for (size_t c = 0; c < d; c++) out->bb += (double)out->base[c] * out->base[c];

    size_t nnz = 0;
    for (size_t i = 0; i < n; i++) {
        const float *x = row_of(X, sel, i);
        for (size_t c = 0; c < d; c++) nnz += !out->is_dense[c] && x[c] != out->base[c];
    }
    out->dense = vg_calloc((n ? n : 1) * (out->nd_pad ? out->nd_pad : 1), sizeof(float));
    out->ptr = vg_malloc((n + 1) * sizeof(uint64_t));
    out->idx = vg_malloc((nnz ? nnz : 1) * sizeof(uint32_t));
    out->val = vg_malloc((nnz ? nnz : 1) * sizeof(float));
    out->sq = vg_malloc((n ? n : 1) * sizeof(double));
    out->sb = vg_malloc((n ? n : 1) * sizeof(double));
    if (!out->dense || !out->ptr || !out->idx || !out->val || !out->sq || !out->sb) goto nomem;
    size_t e = 0;
    for (size_t i = 0; i < n; i++) {
        const float *x = row_of(X, sel, i);
        float *dr = out->dense + i * out->nd_pad;
        double sq = 0, sb = 0;
        out->ptr[i] = e;
        for (uint32_t k = 0; k < out->nd; k++) {
            dr[k] = x[out->dense_col[k]];
            sq += (double)dr[k] * dr[k];
        }
        for (size_t c = 0; c < d; c++) {
            if (out->is_dense[c] || x[c] == out->base[c]) continue;
            /* The deviation in double, then rounded once. */
            float u = (float)((double)x[c] - (double)out->base[c]);
            out->idx[e] = (uint32_t)c;
            out->val[e++] = u;
            sq += (double)u * u;
            sb += (double)out->base[c] * u;
        }
        out->sq[i] = sq;
        out->sb[i] = sb;
    }
    out->ptr[n] = e;
    return VG_OK;

nomem:
    vg_free(sample);
    vg_svm_rows_free(out);
    return vg_fail(VG_ERR_NOMEM, "svm: out of memory for %zu x %zu kernel rows", n, d);
}

vg_status vg_svm_query_alloc(const vg_svm_rows *r, vg_svm_query *q)
{
    q->u = vg_calloc(r->d ? r->d : 1, sizeof(double));
    q->ud = vg_calloc(r->nd_pad ? r->nd_pad : 1, sizeof(double));
    q->sq = q->sb = 0;
    if (!q->u || !q->ud) {
        vg_svm_query_free(q);
        return vg_fail(VG_ERR_NOMEM, "svm: out of memory");
    }
    return VG_OK;
}

void vg_svm_query_free(vg_svm_query *q)
{
    vg_free(q->u), vg_free(q->ud);
    q->u = q->ud = NULL;
}

void vg_svm_query_from_row(const vg_svm_rows *r, size_t i, vg_svm_query *q)
{
    const float *dr = r->dense + i * r->nd_pad;
    for (uint32_t k = 0; k < r->nd_pad; k++) q->ud[k] = dr[k];
    for (uint64_t e = r->ptr[i]; e < r->ptr[i + 1]; e++) q->u[r->idx[e]] = r->val[e];
    q->sq = r->sq[i];
    q->sb = r->sb[i];
}

void vg_svm_query_clear(const vg_svm_rows *r, size_t i, vg_svm_query *q)
{
    for (uint64_t e = r->ptr[i]; e < r->ptr[i + 1]; e++) q->u[r->idx[e]] = 0;
}

void vg_svm_query_from_dense(const vg_svm_rows *r, const float *x, vg_svm_query *q)
{
    double sq = 0, sb = 0;
    for (uint32_t c = 0; c < r->d; c++) {
        if (r->is_dense[c]) continue;
        double u = (double)(float)((double)x[c] - (double)r->base[c]);
        q->u[c] = u;
        sq += u * u;
        sb += (double)r->base[c] * u;
    }
    for (uint32_t k = 0; k < r->nd; k++) {
        q->ud[k] = x[r->dense_col[k]];
        sq += q->ud[k] * q->ud[k];
    }
    for (uint32_t k = r->nd; k < r->nd_pad; k++) q->ud[k] = 0;
    q->sq = sq;
    q->sb = sb;
}

/* u.v for query q and stored row j: the dense block in VG_SVM_LANES lanes,
 * then the deviations gathered from q->u. */
static inline double dot_compact(const vg_svm_rows *r, const vg_svm_query *q, size_t j)
{
    const float *dr = r->dense + j * r->nd_pad;
    double acc[VG_SVM_LANES] = { 0 };
    for (uint32_t k = 0; k < r->nd_pad; k += VG_SVM_LANES)
        for (int l = 0; l < VG_SVM_LANES; l++) acc[l] += q->ud[k + l] * dr[k + l];
    double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    const uint32_t *idx = r->idx;
    const float *val = r->val;
    double t = 0;
    for (uint64_t e = r->ptr[j], end = r->ptr[j + 1]; e < end; e++) t += q->u[idx[e]] * val[e];
    return s + t;
}

static inline double ipow(double x, int n)
{
    double r = 1;
    while (n > 0) {
        if (n & 1) r *= x;
        x *= x;
        n >>= 1;
    }
    return r;
}

/* exp(x) to about 1e-14 relative for |x| <= 700 (clamped beyond), written
 * so the compiler can vectorise a loop of it: x = k ln2 + r with |r| <=
 * ln2/2, exp(r) by its Taylor series to r^11 (the next term is below 7e-15
 * relative), and 2^k put straight into the exponent bits. The kernel rows
 * end in float anyway; predict uses the same function so a decision value
 * does not depend on which path computed its kernels. */
static inline double exp_fast(double x)
{
    x = x < -700.0 ? -700.0 : x > 700.0 ? 700.0 : x;
    const double shifter = 6755399441055744.0;  /* 1.5 * 2^52: adding it rounds to an integer */
    double t = x * 1.4426950408889634074 + shifter;
    double k = t - shifter;
    double r = x - k * 6.93147180369123816490e-01 - k * 1.90821492927058770002e-10;
    double p = 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023) << 52;  /* the low mantissa bits of t hold k */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

double vg_svm_exp(double x)
{
    return exp_fast(x);
}

#define SVMK_CHUNK 128

/* o = exp(g * max(0, a + z - 2 uv)) over a chunk. SSE2 (every x86-64) runs
 * exp_fast two lanes at a time, step for step the same arithmetic, so both
 * paths give the same bits; elsewhere the plain loop. */
static void rbf_chunk(double g, double a, const double *z, const double *uv, double *o)
{
#if defined(__SSE2__)
    const __m128d va = _mm_set1_pd(a), vg = _mm_set1_pd(g), two = _mm_set1_pd(2.0), zero = _mm_setzero_pd();
    const __m128d lo = _mm_set1_pd(-700.0), hi = _mm_set1_pd(700.0), shifter = _mm_set1_pd(6755399441055744.0);
    const __m128d log2e = _mm_set1_pd(1.4426950408889634074), ln2hi = _mm_set1_pd(6.93147180369123816490e-01);
    const __m128d ln2lo = _mm_set1_pd(1.90821492927058770002e-10);
    static const double c[12] = { 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0,
                                  1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0 };
    const __m128i bias = _mm_set1_epi64x(1023);
    for (size_t t = 0; t < SVMK_CHUNK; t += 2) {
        __m128d d2 = _mm_sub_pd(_mm_add_pd(va, _mm_loadu_pd(z + t)), _mm_mul_pd(two, _mm_loadu_pd(uv + t)));
        d2 = _mm_max_pd(d2, zero);
        __m128d x = _mm_mul_pd(vg, d2);
        x = _mm_min_pd(_mm_max_pd(x, lo), hi);
        __m128d tt = _mm_add_pd(_mm_mul_pd(x, log2e), shifter);
        __m128d kk = _mm_sub_pd(tt, shifter);
        __m128d r = _mm_sub_pd(_mm_sub_pd(x, _mm_mul_pd(kk, ln2hi)), _mm_mul_pd(kk, ln2lo));
        __m128d p = _mm_set1_pd(c[0]);
        for (int i = 1; i < 12; i++) p = _mm_add_pd(_mm_mul_pd(p, r), _mm_set1_pd(c[i]));
        __m128i bits = _mm_slli_epi64(_mm_add_epi64(_mm_castpd_si128(tt), bias), 52);
        _mm_storeu_pd(o + t, _mm_mul_pd(p, _mm_castsi128_pd(bits)));
    }
#else
    for (size_t t = 0; t < SVMK_CHUNK; t++) {
        double d2 = a + z[t] - 2 * uv[t];
        o[t] = exp_fast(g * (d2 > 0 ? d2 : 0));
    }
#endif
}

void vg_svm_kernel_block(const vg_svm_kernel *k, const vg_svm_rows *r, const vg_svm_query *q, const uint32_t *idx,
                         size_t first, size_t n, double *out)
{
    /* The per-chunk loops run over all SVMK_CHUNK entries (a short last chunk
     * computes on zeros), so at -O2 their trip count is a constant and they
     * vectorise. */
    double uv[SVMK_CHUNK], z[SVMK_CHUNK], o[SVMK_CHUNK];
    for (size_t c0 = 0; c0 < n; c0 += SVMK_CHUNK) {
        size_t m = n - c0 < SVMK_CHUNK ? n - c0 : SVMK_CHUNK;
        for (size_t t = 0; t < m; t++) {
            size_t j = idx ? idx[c0 + t] : first + c0 + t;
            uv[t] = dot_compact(r, q, j);
            z[t] = k->type == VG_SVM_RBF ? r->sq[j] : r->sb[j];
        }
        for (size_t t = m; t < SVMK_CHUNK; t++) uv[t] = z[t] = 0;
        const double a = k->type == VG_SVM_RBF ? q->sq : q->sb + r->bb;
        switch (k->type) {
        case VG_SVM_RBF:
            rbf_chunk(-k->gamma, a, z, uv, o);
            break;
        case VG_SVM_LINEAR:
            for (size_t t = 0; t < SVMK_CHUNK; t++) o[t] = uv[t] + a + z[t];
            break;
        case VG_SVM_POLY:
            for (size_t t = 0; t < m; t++) o[t] = ipow(k->gamma * (uv[t] + a + z[t]) + k->coef0, k->degree);
            break;
        case VG_SVM_SIGMOID:
            for (size_t t = 0; t < m; t++) o[t] = tanh(k->gamma * (uv[t] + a + z[t]) + k->coef0);
            break;
        }
        memcpy(out + c0, o, m * sizeof *o);
    }
}

double vg_svm_kernel_eval(const vg_svm_kernel *k, const vg_svm_rows *r, const vg_svm_query *q, size_t j)
{
    double uv = dot_compact(r, q, j);
    switch (k->type) {
    case VG_SVM_RBF: {
        double d2 = q->sq + r->sq[j] - 2 * uv;
        return exp_fast(-k->gamma * (d2 > 0 ? d2 : 0));
    }
    case VG_SVM_LINEAR: return uv + q->sb + r->sb[j] + r->bb;
    case VG_SVM_POLY: return ipow(k->gamma * (uv + q->sb + r->sb[j] + r->bb) + k->coef0, k->degree);
    case VG_SVM_SIGMOID: return tanh(k->gamma * (uv + q->sb + r->sb[j] + r->bb) + k->coef0);
    }
    return 0;
}

double vg_svm_kernel_pair(const vg_svm_kernel *k, const vg_svm_rows *r, size_t i, size_t j, vg_svm_query *scratch)
{
    vg_svm_query_from_row(r, i, scratch);
    double v = vg_svm_kernel_eval(k, r, scratch, j);
    vg_svm_query_clear(r, i, scratch);
    return v;
}

double vg_svm_kernel_dense(const vg_svm_kernel *k, const float *x, const float *z, size_t d)
{
    double dot = 0, d2 = 0;
    for (size_t c = 0; c < d; c++) {
        dot += (double)x[c] * z[c];
        d2 += ((double)x[c] - z[c]) * ((double)x[c] - z[c]);
    }
    switch (k->type) {
    case VG_SVM_RBF: return exp(-k->gamma * d2);
    case VG_SVM_LINEAR: return dot;
    case VG_SVM_POLY: return ipow(k->gamma * dot + k->coef0, k->degree);
    case VG_SVM_SIGMOID: return tanh(k->gamma * dot + k->coef0);
    }
    return 0;
}
