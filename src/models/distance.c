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
#include "features/knn.h"
#include "models/simd.h"
#include "vigil/parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QGROUP 4         /* queries per kernel call */
#define QBLOCK 128       /* queries per parallel task */
#define QSTAMPS (QBLOCK / QGROUP)  /* groups per block: the seeds each visited, per tile */

typedef enum { K_SQ, K_ABS, K_DOT } kernel_mode;

/* ---- the tile kernels ---------------------------------------------------- */

/* Eight floats as one value (GCC/clang vector extensions): AVX registers
 * in the AVX2 build of the scan below, two SSE registers otherwise. */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

#define V8_LOAD(dst, p) memcpy(&(dst), (p), sizeof(v8f))
#define OP_SQ(a, x, y) do { __typeof__(a) df_ = (x) - (y); (a) += df_ * df_; } while (0)
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

/* The same with a tile row in one 16-float register (the AVX-512 build):
 * the columns go in two interleaved halves, so eight sums are in flight as
 * in the 8-float body, and the halves are added at the end. */
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

#define OP_ABS16(a, x, y) do { v16f df_ = (x) - (y); (a) += (v16f)((v16i)df_ & 0x7fffffff); } while (0)
#define TILE_STEP16(OP, c, A0, A1, A2, A3)                                                  \
    do {                                                                                     \
        v16f t_;                                                                             \
        memcpy(&t_, (t16_) + (size_t)(c) * VG_DIST_TILE, sizeof t_);                         \
        OP(A0, z_ + q0_[c], t_);                                                             \
        OP(A1, z_ + q1_[c], t_);                                                             \
        OP(A2, z_ + q2_[c], t_);                                                             \
        OP(A3, z_ + q3_[c], t_);                                                             \
    } while (0)
#define TILE_BODY16(OP, q, t, nd, out)                                                       \
    do {                                                                                     \
        const v16f z_ = { 0 };                                                               \
        v16f a0_ = z_, a1_ = z_, a2_ = z_, a3_ = z_, b0_ = z_, b1_ = z_, b2_ = z_, b3_ = z_; \
        const float *q0_ = (q), *q1_ = (q) + (nd), *q2_ = (q) + 2 * (size_t)(nd), *q3_ = (q) + 3 * (size_t)(nd); \
        const float *t16_ = (t);                                                             \
        uint32_t c_ = 0;                                                                     \
        for (; c_ + 2 <= (nd); c_ += 2) {                                                    \
            TILE_STEP16(OP, c_, a0_, a1_, a2_, a3_);                                         \
            TILE_STEP16(OP, c_ + 1, b0_, b1_, b2_, b3_);                                     \
        }                                                                                    \
        if (c_ < (nd)) TILE_STEP16(OP, c_, a0_, a1_, a2_, a3_);                              \
        a0_ += b0_, a1_ += b1_, a2_ += b2_, a3_ += b3_;                                      \
        memcpy((out) + 0, &a0_, 64);                                                         \
        memcpy((out) + 16, &a1_, 64);                                                        \
        memcpy((out) + 32, &a2_, 64);                                                        \
        memcpy((out) + 48, &a3_, 64);                                                        \
    } while (0)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(VG_DIST_PLAIN)
#define VG_DIST_AVX2 1
#define ATTR_AVX2 __attribute__((target("avx2,fma,popcnt")))
#define ATTR_AVX512 __attribute__((target("avx512f,avx2,fma,popcnt")))
#define ATTR_AVX512W __attribute__((target("avx512f,avx512vpopcntdq,avx2,fma,popcnt")))
#include <immintrin.h>
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

/* AVX-512 (vg_simd_avx512: VG_NO_SIMD set keeps the AVX2 kernels) with its
 * vector popcount as well. */
static int have_avx512(void)
{
#ifdef VG_DIST_AVX2
    static int have = -1;
    if (have < 0) have = have_avx2() && __builtin_cpu_supports("avx512vpopcntdq");
    return have && vg_simd_avx512();
#else
    return 0;
#endif
}

#ifdef VG_DIST_AVX2
ATTR_AVX2 static void sq4_avx2(const float *q, const float *t, uint32_t nd, float *out)
{
    TILE_BODY(OP_SQ, q, t, nd, out);
}

ATTR_AVX512 static void sq4_avx512(const float *q, const float *t, uint32_t nd, float *out)
{
    TILE_BODY16(OP_SQ, q, t, nd, out);
}
#endif

static void sq4_plain(const float *q, const float *t, uint32_t nd, float *out)
{
    TILE_BODY(OP_SQ, q, t, nd, out);
}

/* Results may differ in the last bit between the AVX-512, AVX2 and plain
 * builds (fused multiply-add, summation order), never between thread counts
 * on one machine. */
void vg_dist_tile_sq4(const float *q, const float *t, uint32_t nd, float *out)
{
#ifdef VG_DIST_AVX2
    if (have_avx512()) {
        sq4_avx512(q, t, nd, out);
        return;
    }
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
    /* Four partial sums (columns j mod 4), added in a fixed order: one
     * chain of d dependent additions was a sixth of a LOF fit. */
    if (metric == VG_DIST_EUCLIDEAN || metric == VG_DIST_MANHATTAN) {
        double p[4] = { 0.0, 0.0, 0.0, 0.0 };
        uint32_t j = 0;
        int sq = metric == VG_DIST_EUCLIDEAN;
        for (; j + 4 <= d; j += 4)
            for (int q = 0; q < 4; q++) {
                double df = (double)a[j + q] - (double)b[j + q];
                p[q] += sq ? df * df : fabs(df);
            }
        for (; j < d; j++) {
            double df = (double)a[j] - (double)b[j];
            p[0] += sq ? df * df : fabs(df);
        }
        s = (p[0] + p[1]) + (p[2] + p[3]);
        return sq ? sqrt(s) : s;
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
    vg_free(ix->perm);
    vg_free(ix->slot);
    vg_free(ix->center);
    vg_free(ix->ctiles);
    vg_free(ix->radius);
    vg_kdtree_free(ix->tree);
    memset(ix, 0, sizeof *ix);
}

typedef struct keyed {
    float v;
    uint32_t i;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* perm (n): rows in the order of the leaves of a k-d split: each range of
 * more than TILE rows is sorted on its widest column and cut at the median,
 * rounded to whole tiles. Deterministic (ties by row index). */
#define KD_SAMPLE 512

static int kd_order(const float *X, size_t n, uint32_t d, uint32_t *perm)
{
    keyed *tmp = vg_malloc((n + 1) * sizeof *tmp);
    size_t *stack = vg_malloc((2 * 64 + 2) * sizeof(size_t));
    if (!tmp || !stack) {
        vg_free(tmp);
        vg_free(stack);
        return 0;
    }
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    size_t top = 0;
    stack[top++] = 0;
    stack[top++] = n;
    while (top) {
        size_t hi = stack[--top], lo = stack[--top];
        if (hi - lo <= VG_DIST_TILE) continue;
        uint32_t best = 0;
        float spread = -1.0f;
        /* The widest column by variance, over at most KD_SAMPLE evenly spaced rows. */
        size_t step = (hi - lo + KD_SAMPLE - 1) / KD_SAMPLE, cnt = 0;
        for (uint32_t c = 0; c < d; c++) {
            double s1 = 0.0, s2 = 0.0;
            cnt = 0;
            for (size_t i = lo; i < hi; i += step, cnt++) {
                double v = X[(size_t)perm[i] * d + c];
                s1 += v;
                s2 += v * v;
            }
            double var = s2 / (double)cnt - (s1 / (double)cnt) * (s1 / (double)cnt);
            if (var > spread) spread = (float)var, best = c;
        }
        for (size_t i = lo; i < hi; i++) tmp[i - lo] = (keyed){ X[(size_t)perm[i] * d + best], perm[i] };
        qsort(tmp, hi - lo, sizeof *tmp, keyed_cmp);
        for (size_t i = lo; i < hi; i++) perm[i] = tmp[i - lo].i;
        size_t half = (hi - lo) / 2, mid = lo + (half + VG_DIST_TILE - 1) / VG_DIST_TILE * VG_DIST_TILE;
        if (mid >= hi) mid = lo + VG_DIST_TILE;
        /* Depth stays below 64: each cut leaves at most half + TILE rows on a side. */
        stack[top++] = lo;
        stack[top++] = mid;
        stack[top++] = mid;
        stack[top++] = hi;
    }
    vg_free(tmp);
    vg_free(stack);
    return 1;
}

vg_status vg_dist_index_init(vg_dist_index *ix, const float *X, size_t n, uint32_t d, vg_dist_metric metric)
{
    memset(ix, 0, sizeof *ix);
    ix->metric = metric;
    ix->n = n;
    ix->d = d;
    ix->X = X;
    if (metric == VG_DIST_EUCLIDEAN) {
        vg_matrix M = { n, d, (float *)X };
        vg_status st = n ? vg_kdtree_new(&M, NULL, 0.0, NULL, n, &ix->tree) : VG_OK;
        if (st) memset(ix, 0, sizeof *ix);
        return st;
    }
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
    ix->perm = vg_malloc((n + 1) * sizeof(uint32_t));
    ix->slot = vg_malloc((n + 1) * sizeof(uint32_t));
    ix->center = vg_calloc(n_tiles * (size_t)d + 1, sizeof(float));
    ix->radius = vg_calloc(n_tiles + 1, sizeof(double));
    if (!ix->perm || !ix->slot || !ix->center || !ix->radius) goto nomem;
    if (metric == VG_DIST_COSINE) {
        for (size_t i = 0; i < n; i++) ix->perm[i] = (uint32_t)i;
    } else if (!kd_order(X, n, d, ix->perm)) {
        goto nomem;
    }
    for (size_t t = 0; t < n_tiles; t++) {
        size_t s0 = t * VG_DIST_TILE, s1 = VG_MIN(n, s0 + VG_DIST_TILE);
        float *c = ix->center + t * d;
        for (uint32_t f = 0; f < d; f++) {
            double m = 0.0;
            for (size_t sl = s0; sl < s1; sl++) m += X[(size_t)ix->perm[sl] * d + f];
            c[f] = (float)(m / (double)(s1 - s0));
        }
        double r = 0.0;
        for (size_t sl = s0; sl < s1; sl++) {
            double e = vg_dist_exact(VG_DIST_EUCLIDEAN, c, X + (size_t)ix->perm[sl] * d, d);
            r = e > r ? e : r;
        }
        ix->radius[t] = r;
    }
    size_t n_ctiles = (n_tiles + VG_DIST_TILE - 1) / VG_DIST_TILE;
    ix->ctiles = vg_calloc(n_ctiles * (size_t)d * VG_DIST_TILE + 1, sizeof(float));
    if (!ix->ctiles) goto nomem;
    for (size_t t = 0; t < n_tiles; t++)
        for (uint32_t f = 0; f < d; f++)
            ix->ctiles[(t / VG_DIST_TILE) * (size_t)d * VG_DIST_TILE + (size_t)f * VG_DIST_TILE + t % VG_DIST_TILE] =
                ix->center[t * d + f];
    for (size_t sl = 0; sl < n; sl++) {
        const size_t i = ix->perm[sl];
        ix->slot[i] = (uint32_t)sl;
        const float *x = X + i * d;
        double scale = 1.0;
        if (metric == VG_DIST_COSINE) {
            double s = 0.0;
            for (uint32_t c = 0; c < d; c++) s += (double)x[c] * x[c];
            ix->norm[i] = sqrt(s);
            scale = ix->norm[i] > 0.0 ? 1.0 / ix->norm[i] : 0.0;
        }
        float *tile = ix->tiles + (sl / VG_DIST_TILE) * (size_t)ix->nd * VG_DIST_TILE;
        for (uint32_t c = 0; c < ix->nd; c++)
            tile[(size_t)c * VG_DIST_TILE + sl % VG_DIST_TILE] = (float)(x[ix->dense_col[c]] * scale);
        uint64_t *b = ix->bits + sl * ix->words;
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

/* What one block of queries scans the references with. Positions a in
 * [0, m) are the block's queries in the order they are grouped by four. */
typedef struct scan_ctx {
    const vg_dist_index *ix;
    kernel_mode mode;
    uint32_t kk;                /* candidates kept per query */
    size_t m;
    const uint32_t *self_slot;  /* m: the slot a query must not count (self search), else UINT32_MAX */
    const float *qd;            /* m (padded to 4) x nd dense parts */
    const uint64_t *qb;         /* m x words */
    const uint8_t *irregular;   /* m: a one-hot column holds something else than 0/1 */
    const double *base, *delta; /* irregular queries' binary part: base + sum of delta over set bits */
    const float *lb;            /* rows x n_tiles lower bounds on the distance to a tile's rows, or NULL */
    const uint32_t *lbrow;      /* m: the row of lb of each position */
    const uint32_t *seed;       /* m: the tile nearest each query */
    uint32_t *seen;             /* n_tiles x QSTAMPS: group g's stamp where its seeds visited the tile */
    cand *heap;                 /* m x kk */
    uint32_t *hlen;             /* m */
    size_t visits;              /* tiles visited, all groups (out) */
} scan_ctx;

static inline __attribute__((always_inline)) void offer_mask(const scan_ctx *S, size_t a, size_t r0, const float *o,
                                                              uint32_t mask);

/* One query's 16 float32 distances o (dense part, from the kernel) to the
 * tile whose first slot is r0 (rn rows): add the binary part, then offer the
 * heap the few below its worst. Inlined into each build of the scan, so
 * the popcounts are single instructions in the AVX2 one. */
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
    const size_t self = S->self_slot[a];
    if (self >= r0 && self < r0 + rn) o[self - r0] = NAN;
    const cand *h = S->heap + a * kk;
    const float thr = S->hlen[a] == kk ? h[0].d : INFINITY;
    uint32_t mask = 0;
    for (uint32_t j = 0; j < VG_DIST_TILE; j++) mask |= (uint32_t)(o[j] <= thr) << j;
    offer_mask(S, a, r0, o, mask);
}

#ifdef VG_DIST_AVX2
/* offer() for a full tile of a regular query with one word of bits, in
 * AVX-512 (the common case on one-hot rows): the popcounts and the
 * comparison with the heap's worst as vector instructions, the same floats
 * and the same candidates as offer(). Anything else goes to offer(). */
ATTR_AVX512W static inline __attribute__((always_inline)) void offer16(const scan_ctx *S, size_t a, size_t r0,
                                                                         size_t rn, float *o)
{
    const vg_dist_index *ix = S->ix;
    if (S->mode == K_DOT || S->irregular[a] || ix->words != 1 || rn != VG_DIST_TILE) {
        offer(S, a, r0, rn, o);
        return;
    }
    const __m512i q = _mm512_set1_epi64((long long)S->qb[a]);
    const uint64_t *rb = ix->bits + r0;
    __m512i p0 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(rb), q));
    __m512i p1 = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(rb + 8), q));
    __m512i pc = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(p0)), _mm512_cvtepi64_epi32(p1), 1);
    __m512 ov = _mm512_add_ps(_mm512_loadu_ps(o), _mm512_cvtepi32_ps(pc));
    __mmask16 valid = 0xFFFF;
    const size_t self = S->self_slot[a];
    if (self >= r0 && self < r0 + rn) valid &= (__mmask16)~(1u << (self - r0));
    const cand *h = S->heap + a * S->kk;
    const float thr = S->hlen[a] == S->kk ? h[0].d : INFINITY;
    uint32_t mask = _mm512_mask_cmp_ps_mask(valid, ov, _mm512_set1_ps(thr), _CMP_LE_OQ);
    if (!mask) return;
    _mm512_storeu_ps(o, ov);
    offer_mask(S, a, r0, o, mask);
}
#endif

/* The candidates of o that mask selects, to query a's heap. */
static inline __attribute__((always_inline)) void offer_mask(const scan_ctx *S, size_t a, size_t r0, const float *o,
                                                              uint32_t mask)
{
    const vg_dist_index *ix = S->ix;
    const uint32_t kk = S->kk;
    cand *h = S->heap + a * kk;
    uint32_t *len = S->hlen + a;
    while (mask) {
        uint32_t j = (uint32_t)__builtin_ctz(mask);
        mask &= mask - 1;
        if (*len == kk && !(o[j] <= h[0].d)) continue;
        heap_push(h, len, kk, (cand){ o[j], ix->perm[r0 + j] });
    }
}

/* The distances of group g's queries to tile t, offered to their heaps,
 * with the tile body BODY (8 or 16 floats a register), its ABS op and its
 * OFFER. */
#define VISIT_BODY(S, g, t, BODY, ABS, OFFER)                                                \
    do {                                                                                     \
        const vg_dist_index *ix_ = (S)->ix;                                                  \
        (S)->visits++;                                                                       \
        const uint32_t nd_ = ix_->nd;                                                        \
        const float *tile_ = ix_->tiles + (t) * (size_t)nd_ * VG_DIST_TILE, *qg_ = (S)->qd + (g) * nd_; \
        const size_t r0_ = (t) * VG_DIST_TILE, rn_ = VG_MIN((size_t)VG_DIST_TILE, ix_->n - r0_); \
        float out_[QGROUP * VG_DIST_TILE];                                                   \
        if ((S)->mode == K_SQ) BODY(OP_SQ, qg_, tile_, nd_, out_);                           \
        else if ((S)->mode == K_ABS) BODY(ABS, qg_, tile_, nd_, out_);                       \
        else BODY(OP_DOT, qg_, tile_, nd_, out_);                                            \
        for (size_t a_ = (g); a_ < VG_MIN((S)->m, (g) + QGROUP); a_++)                       \
            OFFER((S), a_, r0_, rn_, out_ + (a_ - (g)) * VG_DIST_TILE);                      \
    } while (0)

static inline __attribute__((always_inline)) void visit(scan_ctx *S, size_t g, size_t t)
{
    VISIT_BODY(S, g, t, TILE_BODY, OP_ABS, offer);
}

#ifdef VG_DIST_AVX2
ATTR_AVX512W static inline __attribute__((always_inline)) void visit16(scan_ctx *S, size_t g, size_t t)
{
    VISIT_BODY(S, g, t, TILE_BODY16, OP_ABS16, offer16);
}
#endif

/* Margin on the skip test: float32 distances may sit this much below the
 * exact ones (77 squared terms at 2^-24 each, with room to spare). */
#define SKIP_REL 1e-4f
#define SKIP_ABS 1e-6f

/* Every reference tile against the block's queries, four at a time: first
 * the tiles next to each query's nearest (in k-d order, so nearby in space),
 * which fill the heaps with close candidates, then every other tile whose
 * ball may still hold something nearer than a query's k-th candidate. */
#define SEED_SPAN 2
#define TILE_CHUNK 64  /* tiles (64 x 16 rows x nd floats: ~150 KB) kept in cache across the block's groups */
#define SCAN_BODY(S, VISIT)                                                              \
    do {                                                                                     \
        const size_t n_tiles_ = ((S)->ix->n + VG_DIST_TILE - 1) / VG_DIST_TILE;              \
        if ((S)->lb) {                                                                       \
            for (size_t g_ = 0; g_ < (S)->m; g_ += QGROUP) {                                 \
                const size_t ge_ = VG_MIN((S)->m, g_ + QGROUP);                              \
                const uint32_t stamp_ = (uint32_t)(g_ / QGROUP) + 1;                         \
                for (size_t a_ = g_; a_ < ge_; a_++) {                                       \
                    size_t s0_ = (S)->seed[a_] > SEED_SPAN ? (S)->seed[a_] - SEED_SPAN : 0;  \
                    size_t s1_ = VG_MIN(n_tiles_, (size_t)(S)->seed[a_] + SEED_SPAN + 1);    \
                    for (size_t t_ = s0_; t_ < s1_; t_++) {                                  \
                        if ((S)->seen[t_ * QSTAMPS + g_ / QGROUP % QSTAMPS] == stamp_) continue; \
                        (S)->seen[t_ * QSTAMPS + g_ / QGROUP % QSTAMPS] = stamp_;            \
                        VISIT((S), g_, t_);                                              \
                    }                                                                        \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
        for (size_t c0_ = 0; c0_ < n_tiles_; c0_ += TILE_CHUNK) {                            \
            const size_t c1_ = VG_MIN(n_tiles_, c0_ + TILE_CHUNK);                           \
            for (size_t g_ = 0; g_ < (S)->m; g_ += QGROUP) {                                 \
                const size_t ge_ = VG_MIN((S)->m, g_ + QGROUP);                              \
                const uint32_t stamp_ = (uint32_t)(g_ / QGROUP) + 1;                         \
                for (size_t t_ = c0_; t_ < c1_; t_++) {                                      \
                    if ((S)->lb) {                                                           \
                        if ((S)->seen[t_ * QSTAMPS + g_ / QGROUP % QSTAMPS] == stamp_) continue; \
                        int skip_ = 1;                                                       \
                        for (size_t a_ = g_; a_ < ge_ && skip_; a_++) {                      \
                            const cand *h_ = (S)->heap + a_ * (S)->kk;                       \
                            float l_ = (S)->lb[(size_t)(S)->lbrow[a_] * n_tiles_ + t_];      \
                            l_ = l_ > 0.0f ? l_ : 0.0f; /* inside the ball: no bound */      \
                            if ((S)->mode == K_SQ) l_ *= l_;                                 \
                            skip_ = (S)->hlen[a_] == (S)->kk && l_ > h_[0].d * (1.0f + SKIP_REL) + SKIP_ABS; \
                        }                                                                    \
                        if (skip_) continue;                                                 \
                    }                                                                        \
                    VISIT((S), g_, t_);                                                  \
                }                                                                            \
            }                                                                                \
        }                                                                                    \
    } while (0)

#ifdef VG_DIST_AVX2
ATTR_AVX2 static void scan_avx2(scan_ctx *S)
{
    SCAN_BODY(S, visit);
}

ATTR_AVX512W static void scan_avx512(scan_ctx *S)
{
    SCAN_BODY(S, visit16);
}
#endif

static void scan_plain(scan_ctx *S)
{
    SCAN_BODY(S, visit);
}

typedef struct by_seed {
    uint32_t seed, q;
} by_seed;

/* One worker's buffers, sized for a whole block and kept across blocks. */
typedef struct knn_scratch {
    float *qd, *lb, *qfull, *best;
    uint64_t *qb;
    uint8_t *irregular;
    double *base, *delta;
    cand *heap;
    uint32_t *hlen, *self_slot, *seed, *seen, *lbrow;
    exact_cand *ex;
    by_seed *order;
} knn_scratch;

static void scratch_free(knn_scratch *sc)
{
    vg_free(sc->qd), vg_free(sc->lb), vg_free(sc->qfull), vg_free(sc->best), vg_free(sc->qb);
    vg_free(sc->irregular), vg_free(sc->base), vg_free(sc->delta), vg_free(sc->heap), vg_free(sc->hlen);
    vg_free(sc->self_slot), vg_free(sc->seed), vg_free(sc->seen), vg_free(sc->lbrow), vg_free(sc->ex);
    vg_free(sc->order);
    memset(sc, 0, sizeof *sc);
}

static int scratch_alloc(knn_scratch *sc, const vg_dist_index *ix, uint32_t kk, int prune, size_t m)
{
    const size_t n_tiles = (ix->n + VG_DIST_TILE - 1) / VG_DIST_TILE;
    sc->qd = vg_malloc(m * ix->nd * sizeof(float) + 1);
    sc->lb = prune ? vg_malloc(m * n_tiles * sizeof(float) + 1) : vg_malloc(1);
    sc->qfull = vg_malloc(m * ix->d * sizeof(float) + 1);
    sc->best = vg_malloc(m * sizeof(float));
    sc->qb = vg_malloc(m * ix->words * sizeof(uint64_t) + 1);
    sc->irregular = vg_malloc(m);
    sc->base = vg_malloc(m * sizeof(double));
    sc->delta = vg_malloc(m * ix->nb * sizeof(double) + 1);
    sc->heap = vg_malloc(m * kk * sizeof(cand));
    sc->hlen = vg_malloc(m * sizeof(uint32_t));
    sc->self_slot = vg_malloc(m * sizeof(uint32_t));
    sc->seed = vg_calloc(m, sizeof(uint32_t));
    sc->seen = vg_malloc(n_tiles * QSTAMPS * sizeof(uint32_t) + 1);
    sc->lbrow = vg_malloc(m * sizeof(uint32_t));
    sc->ex = vg_malloc(kk * sizeof(exact_cand));
    sc->order = vg_malloc(m * sizeof(by_seed));
    if (sc->qd && sc->lb && sc->qfull && sc->best && sc->qb && sc->irregular && sc->base && sc->delta && sc->heap &&
        sc->hlen && sc->self_slot && sc->seed && sc->seen && sc->lbrow && sc->ex && sc->order)
        return 1;
    scratch_free(sc);
    return 0;
}

typedef struct knn_job {
    knn_scratch *scratch;  /* one per worker */
    const vg_dist_index *ix;
    const float *Q;
    size_t nq;
    uint32_t k, kk;
    int self;
    uint32_t *idx;
    double *dist;
    int failed;
    int prune;  /* 1 while the tile bounds pay for themselves */
} knn_job;

static int by_seed_cmp(const void *a, const void *b)
{
    const by_seed *x = a, *y = b;
    if (x->seed != y->seed) return x->seed < y->seed ? -1 : 1;
    return x->q < y->q ? -1 : x->q > y->q;
}

static void knn_task(void *ctx, size_t task, int worker)
{
    knn_job *J = ctx;
    const vg_dist_index *ix = J->ix;
    const uint32_t d = ix->d, nd = ix->nd, nb = ix->nb, W = ix->words, kk = J->kk;
    const size_t q0 = task * QBLOCK, m = VG_MIN(J->nq, q0 + QBLOCK) - q0;
    const size_t mpad = (m + QGROUP - 1) / QGROUP * QGROUP, n_tiles = (ix->n + VG_DIST_TILE - 1) / VG_DIST_TILE;
    const kernel_mode mode = ix->metric == VG_DIST_EUCLIDEAN ? K_SQ : ix->metric == VG_DIST_MANHATTAN ? K_ABS : K_DOT;
    /* Bounds cost about a tenth of a full scan; kept only while they pay. */
    const int prune = mode != K_DOT && __atomic_load_n(&J->prune, __ATOMIC_RELAXED);

    knn_scratch *sc = &J->scratch[worker];
    /* Sized for the largest block this search has (one row for the server's predict_row). */
    if (!sc->qd && !scratch_alloc(sc, ix, kk, prune, (VG_MIN(J->nq, QBLOCK) + QGROUP - 1) / QGROUP * QGROUP)) {
        J->failed = 1;
        return;
    }
    float *qd = sc->qd, *lb = sc->lb, *qfull = sc->qfull;
    uint64_t *qb = sc->qb;
    uint8_t *irregular = sc->irregular;
    double *base = sc->base, *delta = sc->delta;
    cand *heap = sc->heap;
    uint32_t *hlen = sc->hlen, *self_slot = sc->self_slot, *seed = sc->seed, *seen = sc->seen, *lbrow = sc->lbrow;
    exact_cand *ex = sc->ex;
    by_seed *order = sc->order;
    memset(qd, 0, mpad * nd * sizeof(float));
    memset(qb, 0, m * W * sizeof(uint64_t));
    memset(irregular, 0, m);
    memset(base, 0, m * sizeof(double));
    memset(hlen, 0, m * sizeof(uint32_t));
    if (prune) memset(seen, 0, n_tiles * QSTAMPS * sizeof(uint32_t));
    if (prune) memset(qfull, 0, mpad * d * sizeof(float));

    /* The block's queries: a self search takes them in slot order (so a
     * group of four is one tile's rows); otherwise they are grouped by the
     * tile nearest each. lb: distance to a tile's center less its radius. */
    for (size_t a = 0; a < m; a++) {
        uint32_t q = J->self ? ix->perm[q0 + a] : (uint32_t)(q0 + a);
        order[a] = (by_seed){ 0, q };
        if (prune) memcpy(qfull + a * d, J->Q + (size_t)q * d, d * sizeof(float));
    }
    if (prune) {
        /* Distances to the centers by the same kernel (float32, so shrunk by
         * a margin before the radius comes off: a bound, never more). */
        float out[QGROUP * VG_DIST_TILE];
        float *best = sc->best;
        for (size_t a = 0; a < mpad; a++) best[a] = INFINITY;
        for (size_t ct = 0; ct * VG_DIST_TILE < n_tiles; ct++) {
            const float *ctile = ix->ctiles + ct * (size_t)d * VG_DIST_TILE;
            for (size_t g = 0; g < m; g += QGROUP) {
                vg_dist_tile_sq4(qfull + g * d, ctile, d, out);
                for (size_t a = g; a < VG_MIN(m, g + QGROUP); a++)
                    for (size_t j = 0; j < VG_DIST_TILE && ct * VG_DIST_TILE + j < n_tiles; j++) {
                        size_t t = ct * VG_DIST_TILE + j;
                        float d2 = out[(a - g) * VG_DIST_TILE + j];
                        lb[a * n_tiles + t] = sqrtf(d2) * (1.0f - SKIP_REL) - (float)ix->radius[t] - SKIP_ABS;
                        if (d2 < best[a]) best[a] = d2, order[a].seed = (uint32_t)t;
                    }
            }
        }
    }
    for (size_t a = 0; a < m; a++) lbrow[a] = (uint32_t)a;
    if (prune && !J->self) {
        for (size_t a = 0; a < m; a++) order[a].q = (uint32_t)a;  /* sort positions, then map back */
        qsort(order, m, sizeof *order, by_seed_cmp);
        for (size_t a = 0; a < m; a++) lbrow[a] = order[a].q, order[a].q = (uint32_t)(q0 + order[a].q);
    }

    /* Gather each query's dense part (cosine: normalised) and bits. */
    for (size_t a = 0; a < m; a++) {
        const float *x = J->Q + (size_t)order[a].q * d;
        seed[a] = order[a].seed;
        self_slot[a] = J->self ? ix->slot[order[a].q] : UINT32_MAX;
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

    scan_ctx S = { ix, mode, kk, m, self_slot, qd, qb, irregular, base, delta, prune ? lb : NULL, lbrow, seed, seen,
                   heap, hlen, 0 };
#ifdef VG_DIST_AVX2
    if (have_avx512()) scan_avx512(&S);
    else if (have_avx2()) scan_avx2(&S);
    else
#endif
        scan_plain(&S);
    /* Where the balls are too loose to skip a quarter of the tiles (wide,
     * scattered data), later blocks scan without them: same answers, less work. */
    if (prune && S.visits * 4 > 3 * ((m + QGROUP - 1) / QGROUP) * n_tiles)
        __atomic_store_n(&J->prune, 0, __ATOMIC_RELAXED);

    /* Re-rank each query's candidates by the exact distance. */
    for (size_t a = 0; a < m; a++) {
        const size_t q = order[a].q;
        const float *x = J->Q + q * d;
        const cand *h = heap + a * kk;
        for (uint32_t c = 0; c < hlen[a]; c++)
            ex[c] = (exact_cand){ vg_dist_exact(ix->metric, x, ix->X + (size_t)h[c].i * d, d), h[c].i };
        qsort(ex, hlen[a], sizeof *ex, exact_cmp);
        /* Fewer candidates than k only when the query's distances are all
         * NaN (a NaN or infinite value in it): report them as infinitely far. */
        for (uint32_t c = 0; c < J->k; c++) {
            J->idx[q * J->k + c] = c < hlen[a] ? ex[c].i : 0;
            J->dist[q * J->k + c] = c < hlen[a] ? ex[c].d : INFINITY;
        }
    }
}

/* ---- euclidean: the k-d tree ------------------------------------------ */

typedef struct tree_job {
    const vg_dist_index *ix;
    const float *Q;
    size_t nq;
    uint32_t k, kk;
    const uint32_t *cidx;  /* nq x kk candidates from the tree, nearest first ... */
    const double *cd2;     /* ... and the tree's squared distances */
    exact_cand *scratch;   /* threads x kk */
    uint32_t *idx;
    double *dist;
} tree_job;

/* The tree's kk best by its own sums (reordered columns, so they may differ
 * in the last bit), re-ranked by vg_dist_exact: the k returned are exactly
 * brute force's, as the tiles' were. Only candidates within TREE_MARGIN of
 * the tree's k-th can be among the exact k (the sums differ by rounding,
 * some 1e-15 relative), so only those are recomputed: about k of the k + 8.
 * A non-finite distance (a NaN or infinite query value) is infinitely far. */
#define TREE_MARGIN 1e-9
static void tree_rerank(void *ctx, size_t task, int worker)
{
    tree_job *J = ctx;
    exact_cand *e = J->scratch + (size_t)worker * J->kk;
    const uint32_t d = J->ix->d;
    for (size_t q = task * QBLOCK; q < VG_MIN(J->nq, (task + 1) * QBLOCK); q++) {
        const uint32_t *c = J->cidx + q * J->kk;
        const double *t = J->cd2 + q * J->kk, thr = t[J->k - 1] * (1.0 + TREE_MARGIN);
        uint32_t m = J->k;
        while (m < J->kk && t[m] <= thr) m++;
        for (uint32_t j = 0; j < m; j++) {
            double v = vg_dist_exact(VG_DIST_EUCLIDEAN, J->Q + q * d, J->ix->X + (size_t)c[j] * d, d);
            e[j] = (exact_cand){ isfinite(v) ? v : INFINITY, c[j] };
        }
        qsort(e, m, sizeof *e, exact_cmp);
        for (uint32_t j = 0; j < J->k; j++) J->idx[q * J->k + j] = e[j].i, J->dist[q * J->k + j] = e[j].d;
    }
}

static vg_status tree_knn(const vg_dist_index *ix, const float *Q, size_t nq, uint32_t k, uint32_t kk, int self,
                          int threads, uint32_t *idx, double *dist)
{
    uint32_t *cidx = vg_malloc(nq * kk * sizeof *cidx);
    double *cd2 = vg_malloc(nq * kk * sizeof *cd2);
    size_t *rows = self ? vg_malloc(nq * sizeof *rows) : NULL;
    exact_cand *scratch = vg_malloc((size_t)threads * kk * sizeof *scratch);
    vg_status st = VG_OK;
    if (!cidx || !cd2 || !scratch || (self && !rows))
        st = vg_fail(VG_ERR_NOMEM, "distance: out of memory searching %zu rows", nq);
    for (size_t i = 0; rows && i < nq; i++) rows[i] = i;
    if (st == VG_OK) st = vg_kdtree_query(ix->tree, Q, rows, nq, kk, threads, cidx, cd2);
    if (st == VG_OK) {
        tree_job J = { ix, Q, nq, k, kk, cidx, cd2, scratch, idx, dist };
        vg_parallel_for(threads, (nq + QBLOCK - 1) / QBLOCK, tree_rerank, &J);
    }
    vg_free(cidx);
    vg_free(cd2);
    vg_free(rows);
    vg_free(scratch);
    return st;
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
    threads = vg_threads_resolve(threads);
    if (ix->tree) return tree_knn(ix, Q, nq, k, (uint32_t)kk, self, threads, idx, dist);
    knn_scratch *scratch = vg_calloc((size_t)threads, sizeof *scratch);
    if (!scratch) return vg_fail(VG_ERR_NOMEM, "distance: out of memory searching %zu rows", nq);
    knn_job J = { scratch, ix, Q, nq, k, (uint32_t)kk, self, idx, dist, 0, 1 };
    vg_parallel_for(threads, (nq + QBLOCK - 1) / QBLOCK, knn_task, &J);
    for (int t = 0; t < threads; t++) scratch_free(&scratch[t]);
    vg_free(scratch);
    if (J.failed) return vg_fail(VG_ERR_NOMEM, "distance: out of memory searching %zu rows", nq);
    return VG_OK;
}

vg_status vg_dist_knn_slices(const vg_dist_index *ix, const float *Q, size_t nq, uint32_t k, size_t slice,
                             int threads, vg_dist_row_fn fn, const void *state, void *out)
{
    size_t m = VG_MIN(nq, slice);
    uint32_t *idx = vg_malloc(m * k * sizeof(uint32_t) + 1);
    double *dist = vg_malloc(m * k * sizeof(double) + 1);
    vg_status st = !idx || !dist ? vg_fail(VG_ERR_NOMEM, "out of memory searching neighbours") : VG_OK;
    for (size_t r0 = 0; r0 < nq && st == VG_OK; r0 += m) {
        size_t c = VG_MIN(m, nq - r0);
        if ((st = vg_dist_knn(ix, Q + r0 * ix->d, c, k, 0, threads, idx, dist))) break;
        for (size_t i = 0; i < c; i++) fn(state, out, r0 + i, idx + i * k, dist + i * k);
    }
    vg_free(idx);
    vg_free(dist);
    return st;
}
