/* The distance kernel shared by kmeans, lof and knn (see distance.h for the
 * binary-column packing and the float32-then-double scheme).
 *
 * Layout: reference rows are packed in tiles of VG_DIST_TILE rows, each tile
 * transposed (nd x TILE), and queries are taken four at a time, so the inner
 * loop broadcasts one query value against TILE contiguous reference values:
 * 4 x 16 accumulators that stay in registers. The kernels are compiled twice
 * (AVX2+FMA and the baseline build's own SIMD) and the CPU picks at first
 * use; both are the same plain loop over 8-float vectors. Threads take fixed blocks of
 * queries and each query scans the references in index order, so results do
 * not depend on the thread count. */
#include "models/distance.h"
#include "vigil/parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QGROUP 4         /* queries per kernel call */
#define QBLOCK 128       /* queries per parallel task */

typedef enum { K_SQ, K_ABS, K_DOT } kernel_mode;

/* ---- the tile kernels ---------------------------------------------------- */

/* Eight floats as one value (GCC/clang vector extensions): AVX registers
 * where the clone below may use them, two SSE registers otherwise. */
typedef float v8f __attribute__((vector_size(32)));

static inline v8f v8_load(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

typedef int32_t v8i __attribute__((vector_size(32)));

static inline v8f v8_abs(v8f v)
{
    return (v8f)((v8i)v & 0x7fffffff);  /* clear the sign bits */
}

/* q: (4, nd) row-major; t: (nd, TILE); out: (4, TILE). OP combines a
 * broadcast query value and 8 reference values into the accumulator. */
#define TILE_KERNEL(name, attr, OP)                                                          \
    attr static void name(const float *q, const float *t, uint32_t nd, float *out)           \
    {                                                                                        \
        v8f acc[QGROUP][2] = { { { 0 } } };                                                  \
        for (uint32_t c = 0; c < nd; c++) {                                                  \
            const v8f t0 = v8_load(t + (size_t)c * VG_DIST_TILE);                            \
            const v8f t1 = v8_load(t + (size_t)c * VG_DIST_TILE + 8);                        \
            for (int r = 0; r < QGROUP; r++) {                                               \
                const float qs = q[(size_t)r * nd + c];                                      \
                const v8f qv = { qs, qs, qs, qs, qs, qs, qs, qs };                           \
                OP(acc[r][0], qv, t0);                                                       \
                OP(acc[r][1], qv, t1);                                                       \
            }                                                                                \
        }                                                                                    \
        memcpy(out, acc, sizeof acc);                                                        \
    }

#define OP_SQ(a, x, y) do { v8f df_ = (x) - (y); (a) += df_ * df_; } while (0)
#define OP_ABS(a, x, y) ((a) += v8_abs((x) - (y)))
#define OP_DOT(a, x, y) ((a) += (x) * (y))

#if defined(__x86_64__) && defined(__GNUC__) && !defined(VG_DIST_PLAIN)
#define VG_DIST_AVX2 1
#define ATTR_AVX2 __attribute__((target("avx2,fma")))
TILE_KERNEL(sq4_avx2, ATTR_AVX2, OP_SQ)
TILE_KERNEL(abs4_avx2, ATTR_AVX2, OP_ABS)
TILE_KERNEL(dot4_avx2, ATTR_AVX2, OP_DOT)
#endif
TILE_KERNEL(sq4_plain, , OP_SQ)
TILE_KERNEL(abs4_plain, , OP_ABS)
TILE_KERNEL(dot4_plain, , OP_DOT)

typedef void (*tile_fn)(const float *, const float *, uint32_t, float *);

/* The kernels for this CPU, chosen once (a race here only stores the same
 * pointers twice). Results may differ in the last bit between the two
 * (fused multiply-add), never between thread counts on one machine. */
static tile_fn pick(kernel_mode mode)
{
#ifdef VG_DIST_AVX2
    static int have = -1;
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    if (have) return mode == K_SQ ? sq4_avx2 : mode == K_ABS ? abs4_avx2 : dot4_avx2;
#endif
    return mode == K_SQ ? sq4_plain : mode == K_ABS ? abs4_plain : dot4_plain;
}

void vg_dist_tile_sq4(const float *q, const float *t, uint32_t nd, float *out)
{
    static tile_fn fn;
    if (!fn) fn = pick(K_SQ);
    fn(q, t, nd, out);
}

/* ---- exact distances ----------------------------------------------------- */

double vg_dist_exact(vg_dist_metric metric, const float *a, const float *b, uint32_t d)
{
    double s = 0.0;
    if (metric == VG_DIST_EUCLIDEAN) {
        for (uint32_t j = 0; j < d; j++) {
            double df = (double)a[j] - (double)b[j];
            s += df * df;
        }
        return sqrt(s);
    }
    if (metric == VG_DIST_MANHATTAN) {
        for (uint32_t j = 0; j < d; j++) s += fabs((double)a[j] - (double)b[j]);
        return s;
    }
    double na = 0.0, nb = 0.0;
    for (uint32_t j = 0; j < d; j++) {
        s += (double)a[j] * b[j];
        na += (double)a[j] * a[j];
        nb += (double)b[j] * b[j];
    }
    double sim = na > 0.0 && nb > 0.0 ? s / (sqrt(na) * sqrt(nb)) : 0.0;
    double dist = 1.0 - sim;
    return dist < 0.0 ? 0.0 : dist > 2.0 ? 2.0 : dist;
}

/* ---- the prepared reference set ----------------------------------------- */

void vg_dist_index_free(vg_dist_index *ix)
{
    if (!ix) return;
    vg_free(ix->dense_col);
    vg_free(ix->bin_col);
    vg_free(ix->tiles);
    vg_free(ix->bits);
    vg_free(ix->norm);
    memset(ix, 0, sizeof *ix);
}

vg_status vg_dist_index_init(vg_dist_index *ix, const float *X, size_t n, uint32_t d, vg_dist_metric metric)
{
    memset(ix, 0, sizeof *ix);
    ix->metric = metric;
    ix->n = n;
    ix->d = d;
    ix->X = X;
    ix->dense_col = vg_malloc(((size_t)d + 1) * sizeof(uint32_t));
    ix->bin_col = vg_malloc(((size_t)d + 1) * sizeof(uint32_t));
    if (!ix->dense_col || !ix->bin_col) goto nomem;
    /* Binary columns: 0/1 in every reference row. Cosine normalises rows, so
     * nothing stays 0/1 there. */
    for (uint32_t c = 0; c < d; c++) {
        int binary = metric != VG_DIST_COSINE;
        for (size_t i = 0; i < n && binary; i++) {
            float v = X[i * d + c];
            binary = v == 0.0f || v == 1.0f;
        }
        if (binary) ix->bin_col[ix->nb++] = c;
        else ix->dense_col[ix->nd++] = c;
    }
    ix->words = (ix->nb + 63) / 64;
    size_t n_tiles = (n + VG_DIST_TILE - 1) / VG_DIST_TILE;
    ix->tiles = vg_calloc(n_tiles * (size_t)ix->nd * VG_DIST_TILE + 1, sizeof(float));
    ix->bits = vg_calloc(n * ix->words + 1, sizeof(uint64_t));
    if (!ix->tiles || !ix->bits) goto nomem;
    if (metric == VG_DIST_COSINE) {
        ix->norm = vg_malloc((n + 1) * sizeof(double));
        if (!ix->norm) goto nomem;
    }
    for (size_t i = 0; i < n; i++) {
        const float *x = X + i * d;
        double scale = 1.0;
        if (metric == VG_DIST_COSINE) {
            double s = 0.0;
            for (uint32_t c = 0; c < d; c++) s += (double)x[c] * x[c];
            ix->norm[i] = sqrt(s);
            scale = ix->norm[i] > 0.0 ? 1.0 / ix->norm[i] : 0.0;
        }
        float *tile = ix->tiles + (i / VG_DIST_TILE) * (size_t)ix->nd * VG_DIST_TILE;
        for (uint32_t c = 0; c < ix->nd; c++)
            tile[(size_t)c * VG_DIST_TILE + i % VG_DIST_TILE] = (float)(x[ix->dense_col[c]] * scale);
        uint64_t *b = ix->bits + i * ix->words;
        for (uint32_t c = 0; c < ix->nb; c++)
            if (x[ix->bin_col[c]] == 1.0f) b[c / 64] |= 1ull << (c % 64);
    }
    return VG_OK;
nomem:
    vg_dist_index_free(ix);
    return vg_fail(VG_ERR_NOMEM, "distance: out of memory preparing %zu x %u reference rows", n, d);
}

/* ---- search ----------------------------------------------------------- */

typedef struct cand {
    float d;
    uint32_t i;
} cand;

typedef struct exact_cand {
    double d;
    uint32_t i;
} exact_cand;

static int cand_less(cand a, cand b)
{
    return a.d < b.d || (a.d == b.d && a.i < b.i);
}

/* Max-heap of at most cap candidates (the worst on top). */
static void heap_push(cand *h, uint32_t *len, uint32_t cap, cand c)
{
    uint32_t n = *len;
    if (n < cap) {
        uint32_t k = n++;
        while (k > 0) {
            uint32_t p = (k - 1) / 2;
            if (!cand_less(h[p], c)) break;
            h[k] = h[p];
            k = p;
        }
        h[k] = c;
        *len = n;
        return;
    }
    if (!cand_less(c, h[0])) return;
    uint32_t k = 0;
    for (;;) {
        uint32_t l = 2 * k + 1, r = l + 1, m = k;
        cand big = c;
        if (l < n && cand_less(big, h[l])) m = l, big = h[l];
        if (r < n && cand_less(big, h[r])) m = r;
        if (m == k) break;
        h[k] = h[m];
        k = m;
    }
    h[k] = c;
}

static int exact_cmp(const void *a, const void *b)
{
    const exact_cand *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

typedef struct knn_job {
    const vg_dist_index *ix;
    const float *Q;
    size_t nq;
    uint32_t k, kk;
    int self;
    uint32_t *idx;
    double *dist;
    int failed;
} knn_job;

static void knn_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    knn_job *J = ctx;
    const vg_dist_index *ix = J->ix;
    const uint32_t d = ix->d, nd = ix->nd, nb = ix->nb, W = ix->words, kk = J->kk;
    const size_t q0 = task * QBLOCK, q1 = VG_MIN(J->nq, q0 + QBLOCK), m = q1 - q0;
    const size_t mpad = (m + QGROUP - 1) / QGROUP * QGROUP;
    const kernel_mode mode = ix->metric == VG_DIST_EUCLIDEAN ? K_SQ : ix->metric == VG_DIST_MANHATTAN ? K_ABS : K_DOT;

    float *qd = vg_calloc(mpad * nd + 1, sizeof(float));
    uint64_t *qb = vg_calloc(m * W + 1, sizeof(uint64_t));
    uint8_t *irregular = vg_calloc(m, 1);
    double *base = vg_calloc(m, sizeof(double));
    double *delta = vg_calloc(m * nb + 1, sizeof(double));
    cand *heap = vg_malloc(m * kk * sizeof(cand));
    uint32_t *hlen = vg_calloc(m, sizeof(uint32_t));
    exact_cand *ex = vg_malloc(kk * sizeof(exact_cand));
    if (!qd || !qb || !irregular || !base || !delta || !heap || !hlen || !ex) {
        J->failed = 1;
        goto done;
    }

    /* Gather each query's dense part (cosine: normalised) and bits. */
    for (size_t a = 0; a < m; a++) {
        const float *x = J->Q + (q0 + a) * d;
        double scale = 1.0;
        if (mode == K_DOT) {
            double s = 0.0;
            for (uint32_t c = 0; c < d; c++) s += (double)x[c] * x[c];
            scale = s > 0.0 ? 1.0 / sqrt(s) : 0.0;
        }
        for (uint32_t c = 0; c < nd; c++) qd[a * nd + c] = (float)(x[ix->dense_col[c]] * scale);
        for (uint32_t c = 0; c < nb; c++) {
            float v = x[ix->bin_col[c]];
            if (v == 1.0f) qb[a * W + c / 64] |= 1ull << (c % 64);
            else if (v != 0.0f) irregular[a] = 1;
        }
        if (irregular[a]) {
            /* sum_c f(v_c - r_c) = sum_c f(v_c) + sum_{c: r_c = 1} (f(v_c - 1) - f(v_c)) */
            for (uint32_t c = 0; c < nb; c++) {
                double v = x[ix->bin_col[c]];
                double f0 = mode == K_SQ ? v * v : fabs(v), f1 = mode == K_SQ ? (v - 1) * (v - 1) : fabs(v - 1);
                base[a] += f0;
                delta[a * nb + c] = f1 - f0;
            }
        }
    }

    float out[QGROUP * VG_DIST_TILE];
    const tile_fn kernel = pick(mode);
    const size_t n = ix->n, n_tiles = (n + VG_DIST_TILE - 1) / VG_DIST_TILE;
    for (size_t t = 0; t < n_tiles; t++) {
        const float *tile = ix->tiles + t * (size_t)nd * VG_DIST_TILE;
        const size_t r0 = t * VG_DIST_TILE, rn = VG_MIN((size_t)VG_DIST_TILE, n - r0);
        for (size_t g = 0; g < m; g += QGROUP) {
            const float *qg = qd + g * nd;
            kernel(qg, tile, nd, out);
            for (size_t a = g; a < VG_MIN(m, g + QGROUP); a++) {
                const float *o = out + (a - g) * VG_DIST_TILE;
                cand *h = heap + a * kk;
                const size_t qi = q0 + a;
                for (size_t j = 0; j < rn; j++) {
                    const size_t r = r0 + j;
                    if (J->self && r == qi) continue;
                    float v;
                    if (mode == K_DOT) {
                        v = 1.0f - o[j];
                    } else {
                        const uint64_t *rb = ix->bits + r * W;
                        if (!irregular[a]) {
                            uint32_t pc = 0;
                            for (uint32_t w = 0; w < W; w++) pc += (uint32_t)__builtin_popcountll(qb[a * W + w] ^ rb[w]);
                            v = o[j] + (float)pc;
                        } else {
                            double s = base[a];
                            for (uint32_t w = 0; w < W; w++)
                                for (uint64_t bw = rb[w]; bw; bw &= bw - 1)
                                    s += delta[a * nb + w * 64 + (uint32_t)__builtin_ctzll(bw)];
                            v = o[j] + (float)s;
                        }
                    }
                    if (hlen[a] == kk && !(v <= h[0].d)) continue;
                    heap_push(h, &hlen[a], kk, (cand){ v, (uint32_t)r });
                }
            }
        }
    }

    /* Re-rank each query's candidates by the exact distance. */
    for (size_t a = 0; a < m; a++) {
        const float *x = J->Q + (q0 + a) * d;
        const cand *h = heap + a * kk;
        for (uint32_t c = 0; c < hlen[a]; c++)
            ex[c] = (exact_cand){ vg_dist_exact(ix->metric, x, ix->X + (size_t)h[c].i * d, d), h[c].i };
        qsort(ex, hlen[a], sizeof *ex, exact_cmp);
        for (uint32_t c = 0; c < J->k; c++) {
            J->idx[(q0 + a) * J->k + c] = ex[c].i;
            J->dist[(q0 + a) * J->k + c] = ex[c].d;
        }
    }
done:
    vg_free(qd);
    vg_free(qb);
    vg_free(irregular);
    vg_free(base);
    vg_free(delta);
    vg_free(heap);
    vg_free(hlen);
    vg_free(ex);
}

vg_status vg_dist_knn(const vg_dist_index *ix, const float *Q, size_t nq, uint32_t k, int self, int threads,
                      uint32_t *idx, double *dist)
{
    size_t avail = self ? (ix->n ? ix->n - 1 : 0) : ix->n;
    if (k == 0 || k > avail)
        return vg_fail(VG_ERR_INVALID, "distance: %u neighbours asked of %zu reference rows", k, avail);
    if (self && nq != ix->n) return vg_fail(VG_ERR_INVALID, "distance: a self search queries every reference row");
    if (nq == 0) return VG_OK;
    size_t kk = (size_t)k + VG_DIST_SLACK;
    if (kk > avail) kk = avail;
    knn_job J = { ix, Q, nq, k, (uint32_t)kk, self, idx, dist, 0 };
    vg_parallel_for(vg_threads_resolve(threads), (nq + QBLOCK - 1) / QBLOCK, knn_task, &J);
    if (J.failed) return vg_fail(VG_ERR_NOMEM, "distance: out of memory searching %zu rows", nq);
    return VG_OK;
}
