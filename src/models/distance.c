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
 * in the AVX2 build of the scan below, two SSE registers otherwise. */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

#define V8_LOAD(dst, p) memcpy(&(dst), (p), sizeof(v8f))
#define OP_SQ(a, x, y) do { v8f df_ = (x) - (y); (a) += df_ * df_; } while (0)
#define OP_ABS(a, x, y) do { v8f df_ = (x) - (y); (a) += (v8f)((v8i)df_ & 0x7fffffff); } while (0)
#define OP_DOT(a, x, y) ((a) += (x) * (y))

/* q: (4, nd) row-major; t: (nd, TILE); out: (4, TILE). OP folds a
 * broadcast query value and 8 reference values into an accumulator. The
 * eight accumulators are named, not an array, so they stay in registers. */
#define TILE_BODY(OP, q, t, nd, out)                                                         \
    do {                                                                                     \
        const v8f z_ = { 0 };                                                                \
        v8f a00_ = z_, a01_ = z_, a10_ = z_, a11_ = z_, a20_ = z_, a21_ = z_, a30_ = z_, a31_ = z_; \
        const float *q0_ = (q), *q1_ = (q) + (nd), *q2_ = (q) + 2 * (size_t)(nd), *q3_ = (q) + 3 * (size_t)(nd); \
        for (uint32_t c_ = 0; c_ < (nd); c_++) {                                             \
            v8f t0_, t1_;                                                                    \
            V8_LOAD(t0_, (t) + (size_t)c_ * VG_DIST_TILE);                                   \
            V8_LOAD(t1_, (t) + (size_t)c_ * VG_DIST_TILE + 8);                               \
            const v8f b0_ = z_ + q0_[c_], b1_ = z_ + q1_[c_], b2_ = z_ + q2_[c_], b3_ = z_ + q3_[c_]; \
            OP(a00_, b0_, t0_);                                                              \
            OP(a01_, b0_, t1_);                                                              \
            OP(a10_, b1_, t0_);                                                              \
            OP(a11_, b1_, t1_);                                                              \
            OP(a20_, b2_, t0_);                                                              \
            OP(a21_, b2_, t1_);                                                              \
            OP(a30_, b3_, t0_);                                                              \
            OP(a31_, b3_, t1_);                                                              \
        }                                                                                    \
        memcpy((out) + 0, &a00_, 32);                                                        \
        memcpy((out) + 8, &a01_, 32);                                                        \
        memcpy((out) + 16, &a10_, 32);                                                       \
        memcpy((out) + 24, &a11_, 32);                                                       \
        memcpy((out) + 32, &a20_, 32);                                                       \
        memcpy((out) + 40, &a21_, 32);                                                       \
        memcpy((out) + 48, &a30_, 32);                                                       \
        memcpy((out) + 56, &a31_, 32);                                                       \
    } while (0)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(VG_DIST_PLAIN)
#define VG_DIST_AVX2 1
#define ATTR_AVX2 __attribute__((target("avx2,fma,popcnt")))
#endif

static int have_avx2(void)
{
#ifdef VG_DIST_AVX2
    static int have = -1;  /* a race here stores the same value twice */
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt");
    }
    return have;
#else
    return 0;
#endif
}

#ifdef VG_DIST_AVX2
ATTR_AVX2 static void sq4_avx2(const float *q, const float *t, uint32_t nd, float *out)
{
    TILE_BODY(OP_SQ, q, t, nd, out);
}
#endif

static void sq4_plain(const float *q, const float *t, uint32_t nd, float *out)
{
    TILE_BODY(OP_SQ, q, t, nd, out);
}

/* Results may differ in the last bit between the AVX2 build and the plain
 * one (fused multiply-add), never between thread counts on one machine. */
void vg_dist_tile_sq4(const float *q, const float *t, uint32_t nd, float *out)
{
#ifdef VG_DIST_AVX2
    if (have_avx2()) {
        sq4_avx2(q, t, nd, out);
        return;
    }
#endif
    sq4_plain(q, t, nd, out);
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

/* What one block of queries scans the references with. */
typedef struct scan_ctx {
    const vg_dist_index *ix;
    kernel_mode mode;
    int self;
    size_t q0, m;               /* first query, queries in the block */
    uint32_t kk;                /* candidates kept per query */
    const float *qd;            /* m (padded to 4) x nd dense parts */
    const uint64_t *qb;         /* m x words */
    const uint8_t *irregular;   /* m: a one-hot column holds something else than 0/1 */
    const double *base, *delta; /* irregular queries' binary part: base + sum of delta over set bits */
    cand *heap;                 /* m x kk */
    uint32_t *hlen;             /* m */
} scan_ctx;

/* One query's 16 float32 distances o (dense part, from the kernel) to the
 * tile's references r0..r0+rn: add the binary part, then offer to the heap
 * the few below its worst. Inlined into each build of the scan, so the
 * popcounts are single instructions in the AVX2 one. */
static inline __attribute__((always_inline)) void offer(const scan_ctx *S, size_t a, size_t r0, size_t rn, float *o)
{
    const vg_dist_index *ix = S->ix;
    const uint32_t W = ix->words, nb = ix->nb, kk = S->kk;
    if (S->mode == K_DOT) {
        for (size_t j = 0; j < VG_DIST_TILE; j++) o[j] = 1.0f - o[j];
    } else if (!S->irregular[a]) {
        const uint64_t *qa = S->qb + a * W, *rb = ix->bits + r0 * W;
        if (W == 1) {
            for (size_t j = 0; j < rn; j++) o[j] += (float)__builtin_popcountll(qa[0] ^ rb[j]);
        } else {
            for (size_t j = 0; j < rn; j++) {
                uint32_t pc = 0;
                for (uint32_t w = 0; w < W; w++) pc += (uint32_t)__builtin_popcountll(qa[w] ^ rb[j * W + w]);
                o[j] += (float)pc;
            }
        }
    } else {
        for (size_t j = 0; j < rn; j++) {
            const uint64_t *rb = ix->bits + (r0 + j) * W;
            double s = S->base[a];
            for (uint32_t w = 0; w < W; w++)
                for (uint64_t bw = rb[w]; bw; bw &= bw - 1) s += S->delta[a * nb + w * 64 + (uint32_t)__builtin_ctzll(bw)];
            o[j] += (float)s;
        }
    }
    /* NaN never passes a comparison: the padding and the query itself. */
    for (size_t j = rn; j < VG_DIST_TILE; j++) o[j] = NAN;
    const size_t qi = S->q0 + a;
    if (S->self && qi >= r0 && qi < r0 + rn) o[qi - r0] = NAN;
    cand *h = S->heap + a * kk;
    uint32_t *len = S->hlen + a;
    const float thr = *len == kk ? h[0].d : INFINITY;
    uint32_t mask = 0;
    for (uint32_t j = 0; j < VG_DIST_TILE; j++) mask |= (uint32_t)(o[j] <= thr) << j;
    while (mask) {
        uint32_t j = (uint32_t)__builtin_ctz(mask);
        mask &= mask - 1;
        if (*len == kk && !(o[j] <= h[0].d)) continue;
        heap_push(h, len, kk, (cand){ o[j], (uint32_t)(r0 + j) });
    }
}

/* Every reference tile against the block's queries, four at a time. */
#define SCAN_BODY(S)                                                                         \
    do {                                                                                     \
        const vg_dist_index *ix_ = (S)->ix;                                                  \
        const uint32_t nd_ = ix_->nd;                                                        \
        const size_t n_ = ix_->n, n_tiles_ = (n_ + VG_DIST_TILE - 1) / VG_DIST_TILE;         \
        float out_[QGROUP * VG_DIST_TILE];                                                   \
        for (size_t t_ = 0; t_ < n_tiles_; t_++) {                                           \
            const float *tile_ = ix_->tiles + t_ * (size_t)nd_ * VG_DIST_TILE;               \
            const size_t r0_ = t_ * VG_DIST_TILE, rn_ = VG_MIN((size_t)VG_DIST_TILE, n_ - r0_); \
            for (size_t g_ = 0; g_ < (S)->m; g_ += QGROUP) {                                 \
                const float *qg_ = (S)->qd + g_ * nd_;                                       \
                if ((S)->mode == K_SQ) TILE_BODY(OP_SQ, qg_, tile_, nd_, out_);              \
                else if ((S)->mode == K_ABS) TILE_BODY(OP_ABS, qg_, tile_, nd_, out_);       \
                else TILE_BODY(OP_DOT, qg_, tile_, nd_, out_);                               \
                for (size_t a_ = g_; a_ < VG_MIN((S)->m, g_ + QGROUP); a_++)                 \
                    offer((S), a_, r0_, rn_, out_ + (a_ - g_) * VG_DIST_TILE);               \
            }                                                                                \
        }                                                                                    \
    } while (0)

#ifdef VG_DIST_AVX2
ATTR_AVX2 static void scan_avx2(const scan_ctx *S)
{
    SCAN_BODY(S);
}
#endif

static void scan_plain(const scan_ctx *S)
{
    SCAN_BODY(S);
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

    scan_ctx S = { ix, mode, J->self, q0, m, kk, qd, qb, irregular, base, delta, heap, hlen };
#ifdef VG_DIST_AVX2
    if (have_avx2()) scan_avx2(&S);
    else
#endif
        scan_plain(&S);

    /* Re-rank each query's candidates by the exact distance. */
    for (size_t a = 0; a < m; a++) {
        const float *x = J->Q + (q0 + a) * d;
        const cand *h = heap + a * kk;
        for (uint32_t c = 0; c < hlen[a]; c++)
            ex[c] = (exact_cand){ vg_dist_exact(ix->metric, x, ix->X + (size_t)h[c].i * d, d), h[c].i };
        qsort(ex, hlen[a], sizeof *ex, exact_cmp);
        /* Fewer candidates than k only when the query's distances are all
         * NaN (a NaN or infinite value in it): report them as infinitely far. */
        for (uint32_t c = 0; c < J->k; c++) {
            J->idx[(q0 + a) * J->k + c] = c < hlen[a] ? ex[c].i : 0;
            J->dist[(q0 + a) * J->k + c] = c < hlen[a] ? ex[c].d : INFINITY;
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
