/* Quantile binning (see bins.h): sort each numeric column once with a radix
 * sort on the float bits, then cut the distinct values into bins. */
#include "models/bins.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/parallel.h"

float vg_bins_midpoint(float a, float b)
{
    double mid = (double)a / 2.0 + (double)b / 2.0;
    if (isinf(mid)) return a;
    float f = (float)mid;
    /* Round down so that, for any float x, x <= f exactly when x <= mid. */
    if ((double)f > mid) f = nextafterf(f, -INFINITY);
    return f;
}

/* Floats mapped to unsigned keys that sort in the same order. */
static uint32_t float_key(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    return u ^ ((u >> 31) ? 0xFFFFFFFFu : 0x80000000u);
}

static float key_float(uint32_t k)
{
    uint32_t u = k ^ ((k >> 31) ? 0x80000000u : 0xFFFFFFFFu);
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* LSD radix sort of n (key << 32 | row) pairs on the key, 8 bits per pass;
 * passes where every key has the same byte are skipped. tmp: n scratch
 * pairs. Returns the sorted array (either keys or tmp). */
static uint64_t *radix_sort(uint64_t *keys, uint64_t *tmp, size_t n)
{
    for (int shift = 32; shift < 64; shift += 8) {
        size_t count[256] = { 0 };
        for (size_t i = 0; i < n; i++) count[(keys[i] >> shift) & 0xFF]++;
        if (n == 0 || count[(keys[0] >> shift) & 0xFF] == n) continue;
        size_t pos = 0;
        for (int b = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++) tmp[count[(keys[i] >> shift) & 0xFF]++] = keys[i];
        uint64_t *t = keys;
        keys = tmp;
        tmp = t;
    }
    return keys;
}

typedef struct fit_ctx {
    const float *xt;         /* the matrix transposed: column f at xt + f * rows */
    size_t rows;
    const vg_feature *features;
    vg_bins *b;
    uint8_t *codes;          /* column-major codes to fill, or NULL */
    uint64_t **scratch;      /* per worker: 2 * rows pairs */
    atomic_int failed;
} fit_ctx;

/* Numeric column f: sort its non-NaN values and cut them into bins, writing
 * lo/hi/edge at f * VG_BINS_MAX (compacted later) and, when asked, each
 * row's code (the sort carries the row numbers, so no search is needed). */
static void fit_numeric(fit_ctx *c, uint32_t f, uint64_t *keys, uint64_t *tmp)
{
    const float *x = c->xt + (size_t)f * c->rows;
    uint8_t *codes = c->codes ? c->codes + (size_t)f * c->rows : NULL;
    vg_bins *b = c->b;
    size_t n = 0;
    for (size_t r = 0; r < c->rows; r++)
        if (!isnan(x[r])) keys[n++] = (uint64_t)float_key(x[r]) << 32 | r;
    b->has_missing[f] = n < c->rows;
    uint32_t cap = b->max_bins;
    if (b->has_missing[f] && cap > VG_BINS_MAX - 1) cap = VG_BINS_MAX - 1;

    uint64_t *s = radix_sort(keys, tmp, n);
    /* Distinct values: -0 and +0 have different keys but compare equal. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || key_float((uint32_t)(s[i] >> 32)) != key_float((uint32_t)(s[i - 1] >> 32))) k++;

    float *lo = b->lo + (size_t)f * VG_BINS_MAX;
    float *hi = b->hi + (size_t)f * VG_BINS_MAX;
    float *edge = b->edge + (size_t)f * VG_BINS_MAX;
    uint32_t nb = 0;
    size_t cur = 0, assigned = 0, j = 0;  /* j: index of the current distinct value */
    for (size_t i = 0; i < n; j++) {
        float v = key_float((uint32_t)(s[i] >> 32));
        size_t run = 0;
        for (; i < n && key_float((uint32_t)(s[i] >> 32)) == v; i++, run++)
            if (codes) codes[(uint32_t)s[i]] = (uint8_t)nb;
        if (cur == 0) lo[nb] = v;
        hi[nb] = v;
        cur += run;
        int close;
        if (i == n) close = 1;
        else if (k <= cap) close = 1;                         /* exact: one value per bin */
        else if (nb == cap - 1) close = 0;                    /* the last bin takes the rest */
        else if (k - 1 - j <= cap - 1 - nb) close = 1;        /* as many values left as bins */
        /* Aim each bin at an equal share of the rows not yet binned, so a
         * heavy value (say 0 in a count column) does not starve the rest. */
        else close = (double)cur >= (double)(n - assigned) / (double)(cap - nb);
        if (close) {
            assigned += cur;
            cur = 0;
            nb++;
        }
    }
    for (uint32_t i = 0; i + 1 < nb; i++) edge[i] = vg_bins_midpoint(hi[i], lo[i + 1]);
    if (nb > 0) edge[nb - 1] = INFINITY;
    b->n_bins[f] = (uint16_t)nb;
    b->exact[f] = k <= cap;
    b->missing[f] = (uint8_t)VG_MIN(nb, VG_BINS_MAX - 1);
    if (codes && n < c->rows)
        for (size_t r = 0; r < c->rows; r++)
            if (isnan(x[r])) codes[r] = b->missing[f];
}

/* Categorical column f: one bin per code when they fit, else the most
 * frequent codes keep their own bin and the rest share the last one. */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void fit_categorical(fit_ctx *c, uint32_t f, uint32_t *count)
{
    const float *xs = c->xt + (size_t)f * c->rows;
    vg_bins *b = c->b;
    uint32_t ncat = c->features[f].n_categories;
    uint8_t *map = b->cat_bin + b->cat_start[f];
    memset(count, 0, (size_t)ncat * sizeof *count);
    int missing = 0;
    for (size_t r = 0; r < c->rows; r++) {
        float x = xs[r];
        if (!(x >= 0.0f) || x >= (float)ncat || x != floorf(x)) {
            missing = 1;
            continue;
        }
        count[(uint32_t)x]++;
    }
    b->has_missing[f] = (uint8_t)missing;
    /* Categories never seen in training share the missing code with NaN,
     * which is therefore always needed: at most 255 value bins. */
    uint32_t cap = VG_MIN(b->max_bins, VG_BINS_MAX - 1);
    if (ncat <= cap) {
        for (uint32_t i = 0; i < ncat; i++) map[i] = count[i] ? (uint8_t)i : (uint8_t)ncat;
        b->n_bins[f] = (uint16_t)ncat;
        b->exact[f] = 1;
        return;
    }
    /* Rank codes by count (ties: lower code first); the first cap - 1 seen
     * ones keep a bin each, numbered in code order, the other seen ones
     * share bin cap - 1. */
    uint32_t want = cap - 1;
    uint64_t *rank = (uint64_t *)(count + ncat + (ncat & 1));  /* 8-byte aligned */
    for (uint32_t i = 0; i < ncat; i++) rank[i] = ((uint64_t)(UINT32_MAX - count[i]) << 32) | i;
    qsort(rank, ncat, sizeof *rank, cmp_u64);
    memset(map, 0xFF, ncat);
    for (uint32_t i = 0; i < want && count[(uint32_t)rank[i]] > 0; i++) map[(uint32_t)rank[i]] = 0;
    uint32_t next = 0;
    for (uint32_t i = 0; i < ncat; i++)
        map[i] = !count[i] ? (uint8_t)cap : map[i] == 0 ? (uint8_t)next++ : (uint8_t)want;
    b->n_bins[f] = (uint16_t)cap;
}

static void fit_task(void *ctx, size_t task, int worker)
{
    fit_ctx *c = ctx;
    if (atomic_load(&c->failed)) return;
    uint32_t f = (uint32_t)task;
    uint64_t *s = c->scratch[worker];
    if (!s) {
        size_t need = 2 * c->rows;
        for (uint32_t i = 0; i < c->b->n_features; i++)
            if (c->features[i].kind == VG_FEATURE_CATEGORICAL)
                need = VG_MAX(need, 2 * (size_t)c->features[i].n_categories + 2);
        s = c->scratch[worker] = vg_malloc(VG_MAX(need, 1) * sizeof *s);
        if (!s) {
            atomic_store(&c->failed, 1);
            return;
        }
    }
    if (c->b->categorical[f]) {
        fit_categorical(c, f, (uint32_t *)s);
        c->b->missing[f] = (uint8_t)VG_MIN(c->b->n_bins[f], VG_BINS_MAX - 1);
        if (c->codes) {
            const float *x = c->xt + (size_t)f * c->rows;
            uint8_t *out = c->codes + (size_t)f * c->rows;
            for (size_t r = 0; r < c->rows; r++) out[r] = vg_bins_code(c->b, f, x[r]);
        }
    } else {
        fit_numeric(c, f, s, s + c->rows);
    }
}

/* Transposition of the row-major matrix by blocks of rows, so each column is
 * read contiguously afterwards instead of with a stride of a whole row. */
#define TRANSPOSE_BLOCK 2048

typedef struct transpose_ctx {
    const vg_matrix *X;
    float *xt;
} transpose_ctx;

static void transpose_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    const transpose_ctx *c = ctx;
    size_t rows = c->X->rows, cols = c->X->cols;
    size_t r0 = task * TRANSPOSE_BLOCK, r1 = VG_MIN(r0 + TRANSPOSE_BLOCK, rows);
    for (size_t f = 0; f < cols; f++) {
        float *out = c->xt + f * rows;
        const float *in = c->X->data + f;
        for (size_t r = r0; r < r1; r++) out[r] = in[r * cols];
    }
}

void vg_bins_free(vg_bins *b)
{
    if (!b) return;
    vg_free(b->lo);
    vg_free(b);
}

vg_status vg_bins_fit(const vg_matrix *X, const vg_feature *features, uint32_t max_bins,
                      int threads, vg_bins **out)
{
    return vg_bins_fit_codes(X, features, max_bins, threads, out, NULL);
}

vg_status vg_bins_fit_codes(const vg_matrix *X, const vg_feature *features, uint32_t max_bins,
                            int threads, vg_bins **out, uint8_t *codes)
{
    *out = NULL;
    if (max_bins < 2 || max_bins > VG_BINS_MAX)
        return vg_fail(VG_ERR_INVALID, "max_bins: %u is not in [2, %d]", max_bins, VG_BINS_MAX);
    uint32_t nf = (uint32_t)X->cols;
    size_t ncat_total = 0;
    for (uint32_t f = 0; f < nf; f++)
        if (features[f].kind == VG_FEATURE_CATEGORICAL) ncat_total += features[f].n_categories;

    /* One block for the per-feature arrays and the category maps; lo/hi/edge
     * get a second one, sized for 256 bins per feature and shrunk after. */
    size_t sz = sizeof(vg_bins) + (size_t)nf * (4 + sizeof(uint16_t)) +
                2 * ((size_t)nf + 1) * sizeof(uint32_t) + ncat_total + 16;
    vg_bins *b = vg_calloc(1, sz);
    if (!b) return vg_fail(VG_ERR_NOMEM, "bins: out of memory");
    uint8_t *p = (uint8_t *)(b + 1);
    b->start = (uint32_t *)p;      p += ((size_t)nf + 1) * sizeof(uint32_t);
    b->cat_start = (uint32_t *)p;  p += ((size_t)nf + 1) * sizeof(uint32_t);
    b->n_bins = (uint16_t *)p;     p += (size_t)nf * sizeof(uint16_t);
    b->categorical = p;            p += nf;
    b->has_missing = p;            p += nf;
    b->missing = p;                p += nf;
    b->exact = p;                  p += nf;
    b->cat_bin = p;
    b->n_features = nf;
    b->max_bins = max_bins;
    size_t cs = 0;
    for (uint32_t f = 0; f < nf; f++) {
        b->categorical[f] = features[f].kind == VG_FEATURE_CATEGORICAL;
        b->cat_start[f] = (uint32_t)cs;
        if (b->categorical[f]) cs += features[f].n_categories;
    }
    b->cat_start[nf] = (uint32_t)cs;

    size_t cap = (size_t)VG_MAX(nf, 1) * VG_BINS_MAX;
    b->lo = vg_malloc(3 * cap * sizeof(float));
    int nt = vg_threads_resolve(threads);
    uint64_t **scratch = vg_calloc((size_t)nt, sizeof *scratch);
    float *xt = vg_malloc(VG_MAX(X->rows * X->cols, (size_t)1) * sizeof(float));
    if (!b->lo || !scratch || !xt) {
        vg_free(xt);
        vg_free(scratch);
        vg_bins_free(b);
        return vg_fail(VG_ERR_NOMEM, "bins: out of memory");
    }
    b->hi = b->lo + cap;
    b->edge = b->hi + cap;

    transpose_ctx tc = { X, xt };
    vg_parallel_for(nt, (X->rows + TRANSPOSE_BLOCK - 1) / TRANSPOSE_BLOCK, transpose_task, &tc);
    fit_ctx c = { .xt = xt, .rows = X->rows, .features = features, .b = b, .codes = codes,
                  .scratch = scratch };
    atomic_init(&c.failed, 0);
    vg_parallel_for(nt, nf, fit_task, &c);
    for (int i = 0; i < nt; i++) vg_free(scratch[i]);
    vg_free(scratch);
    vg_free(xt);
    if (atomic_load(&c.failed)) {
        vg_bins_free(b);
        return vg_fail(VG_ERR_NOMEM, "bins: out of memory");
    }

    /* Compact: feature f's bins move from f * 256 to start[f]. */
    uint32_t pos = 0;
    for (uint32_t f = 0; f < nf; f++) {
        b->start[f] = pos;
        uint32_t nb = b->categorical[f] ? 0 : b->n_bins[f];
        memmove(b->lo + pos, b->lo + (size_t)f * VG_BINS_MAX, nb * sizeof(float));
        memmove(b->hi + pos, b->hi + (size_t)f * VG_BINS_MAX, nb * sizeof(float));
        memmove(b->edge + pos, b->edge + (size_t)f * VG_BINS_MAX, nb * sizeof(float));
        pos += nb;
    }
    b->start[nf] = pos;
    memmove(b->lo + pos, b->hi, pos * sizeof(float));
    memmove(b->lo + 2 * (size_t)pos, b->edge, pos * sizeof(float));
    b->hi = b->lo + pos;
    b->edge = b->lo + 2 * (size_t)pos;
    float *shrunk = vg_realloc(b->lo, VG_MAX(3 * (size_t)pos, 1) * sizeof(float));
    if (shrunk) {
        b->lo = shrunk;
        b->hi = shrunk + pos;
        b->edge = shrunk + 2 * (size_t)pos;
    }
    *out = b;
    return VG_OK;
}

uint8_t vg_bins_code(const vg_bins *b, uint32_t f, float x)
{
    if (b->categorical[f]) {
        uint32_t ncat = b->cat_start[f + 1] - b->cat_start[f];
        if (!(x >= 0.0f) || x >= (float)ncat || x != floorf(x)) return b->missing[f];
        return b->cat_bin[b->cat_start[f] + (uint32_t)x];
    }
    if (isnan(x) || b->n_bins[f] == 0) return b->missing[f];
    /* first bin whose upper edge is >= x (the last edge is +inf) */
    const float *edge = b->edge + b->start[f];
    uint32_t lo = 0, hi = b->n_bins[f] - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (x <= edge[mid]) hi = mid;
        else lo = mid + 1;
    }
    return (uint8_t)lo;
}

typedef struct apply_ctx {
    const vg_bins *b;
    const vg_matrix *X;
    uint8_t *codes;
} apply_ctx;

static void apply_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    apply_ctx *c = ctx;
    uint32_t f = (uint32_t)task;
    size_t rows = c->X->rows, cols = c->X->cols;
    const float *x = c->X->data + f;
    uint8_t *out = c->codes + (size_t)f * rows;
    for (size_t r = 0; r < rows; r++) out[r] = vg_bins_code(c->b, f, x[r * cols]);
}

void vg_bins_apply(const vg_bins *b, const vg_matrix *X, int threads, uint8_t *codes)
{
    VG_ASSERT(X->cols == b->n_features);
    apply_ctx c = { b, X, codes };
    vg_parallel_for(threads, X->cols, apply_task, &c);
}
