/* Batch prediction of a compiled ensemble (see ensemble.h): blocks of rows
 * in parallel, trees outer and rows inner inside a block so a tree stays in
 * cache, trees summed in order into doubles so the result is bit-identical
 * to vg_ensemble_raw_row and to any thread count.
 *
 * The batch layout. For a batch, each shallow tree is laid out complete to
 * its depth D: internal node i (breadth first, 2^D - 1 of them) has children
 * 2i + 1 and 2i + 2, and a leaf shallower than D is copied into every slot
 * below it. A row then takes exactly D steps with no test for leaves and no
 * branch on the direction: `x > t` and `!(x <= t)` differ only for NaN,
 * where the node's missing direction picks. A categorical split becomes a
 * numeric one on a column of its own: before a group of rows walks a tree,
 * each of its categorical splits is decided for every row of the group (1 =
 * right, 0 = left) into a side column, which the node compares with 0.5.
 * Trees deeper than FAST_MAX_DEPTH, or with many categorical splits, walk
 * the ensemble's own nodes (ensemble_walk.h). The layout is made by the
 * first batch prediction and kept beside the ensemble (vg_ensemble.batch,
 * never saved), so the model file stays the one flat block and a small
 * batch (a server request, a watch block) does not pay for it again.
 *
 * Kernels. The plain kernel steps FAST_LANES rows through a tree together
 * so their loads overlap. On x86-64 with AVX-512 (checked at run time) a
 * second kernel steps 16 rows at once: a level of at most 32 nodes sits in
 * two vector registers, so finding each row's node is a permute, and only
 * the feature values are gathered from memory. It walks WIDE_GROUPS groups
 * of 16 through each tree level by level: their gathers do not depend on
 * one another, so they overlap (a gather's latency, not its work, bounds
 * one group; four groups took 26% fewer cycles than two on KDDTest+). Both give the same leaves;
 * the plain kernel is the reference (tests compare the batch path with
 * vg_ensemble_raw_row, which walks the nodes). Setting VG_NO_SIMD=1 in the
 * environment keeps to the plain kernels. */
#include "models/ensemble.h"
#include "models/ensemble_walk.h"
#include "models/simd.h"

#include <stdlib.h>
#include <string.h>

#include "vigil/parallel.h"


#define BLOCK_ROWS 256          /* rows per task */
#define PASS_ROWS 64            /* rows that pass through a tree together */
#define FAST_MAX_DEPTH 8
#define FAST_MIN_ROWS 8         /* smaller batches walk the nodes directly */
#define FAST_LANES 8
#define WIDE_LANES 16           /* the AVX-512 kernel */
#define WIDE_MAX_DEPTH 6        /* levels of at most 32 nodes */
#define WIDE_GROUPS 4           /* groups of 16 rows walked together: independent gathers in flight */
#define FAST_RIGHT 0x80000000u  /* in fi: missing values go right */
#define FAST_CAT 0x40000000u    /* in fi: a categorical split, reading side column (fi & FAST_FEATURE) */
#define FAST_FEATURE 0x3FFFFFFFu
#define FAST_MAX_CATS 16        /* categorical splits in one tree of the layout */
#define PAD 32                  /* slack after the node arrays: the wide kernel loads 16 past a level */

typedef struct fast_cat {
    uint32_t feature, cats, flags;  /* the ensemble node's feature, bitset offset and flags */
} fast_cat;

typedef struct fast_tree {
    uint32_t depth;            /* UINT32_MAX: walk the ensemble's nodes */
    uint32_t n_cat, cat0;      /* its categorical splits, in fast_model.cats */
    uint32_t cat_levels;       /* bit d: level d has a categorical split */
    uint32_t node0, leaf0;     /* its nodes and leaf slots in the arrays below */
} fast_tree;

typedef struct fast_model {
    fast_tree *trees;          /* n_trees */
    uint32_t *fi;              /* per node: feature | flags */
    float *thr;                /* per node: threshold */
    uint32_t *leaf;            /* per leaf slot: the value's bits (leaf width 1) or the leaf index */
    fast_cat *cats;
    uint32_t n_cats;
} fast_model;

/* ---- building the layout ---- */

/* Fill the complete layout of tree ft below slot pos (depth d) from node j;
 * a leaf above the tree's depth fills its whole subtree. */
static void fast_fill(const vg_ensemble *e, fast_model *m, fast_tree *ft, const vg_ens_node *nodes, uint32_t j,
                      uint32_t pos, uint32_t d)
{
    const vg_ens_node *nd = &nodes[j];
    uint32_t *fi = m->fi + ft->node0;
    float *thr = m->thr + ft->node0;
    if (d == ft->depth) {
        /* a leaf: the depth is the deepest leaf's */
        uint32_t *slot = &m->leaf[ft->leaf0 + pos - ((1u << ft->depth) - 1)];
        if (e->leaf_width == 1) memcpy(slot, &e->leaves[nd->child], sizeof *slot);
        else *slot = nd->child;
        return;
    }
    if (nd->feature < 0) {
        fi[pos] = 0;  /* either way, the same leaf */
        thr[pos] = 0.0f;
        fast_fill(e, m, ft, nodes, j, 2 * pos + 1, d + 1);
        fast_fill(e, m, ft, nodes, j, 2 * pos + 2, d + 1);
        return;
    }
    if (nd->flags & VG_ENS_CATEGORICAL) {
        fi[pos] = (m->n_cats - ft->cat0) | FAST_CAT;
        thr[pos] = 0.5f;
        m->cats[m->n_cats++] = (fast_cat){ (uint32_t)nd->feature, nd->u.cats, nd->flags };
        ft->cat_levels |= 1u << d;
    } else {
        fi[pos] = (uint32_t)nd->feature | ((nd->flags & VG_ENS_MISSING_LEFT) ? 0u : FAST_RIGHT);
        thr[pos] = nd->u.threshold;
    }
    fast_fill(e, m, ft, nodes, nd->child, 2 * pos + 1, d + 1);
    fast_fill(e, m, ft, nodes, nd->child + 1, 2 * pos + 2, d + 1);
}

/* Whether to use the AVX-512 kernel: the CPU has it and VG_NO_SIMD is not
 * set in the environment (which selects the plain reference kernels, for
 * tests and for comparing). */
static int use_wide(void)
{
    return HAVE_AVX512 && vg_simd_avx512();
}

/* The batch layout of e, or NULL (out of memory: callers walk the nodes). */
static fast_model *fast_make(const vg_ensemble *e)
{
    uint32_t largest = 0;
    for (uint32_t t = 0; t < e->n_trees; t++) largest = VG_MAX(largest, e->tree_start[t + 1] - e->tree_start[t]);
    uint32_t *depth = vg_malloc(((size_t)largest + 1) * sizeof *depth);
    fast_tree *trees = vg_malloc(((size_t)e->n_trees + 1) * sizeof *trees);
    if (!depth || !trees) {
        vg_free(depth);
        vg_free(trees);
        return NULL;
    }
    uint64_t n_nodes = 0, n_leaves = 0, n_cats = 0;
    for (uint32_t t = 0; t < e->n_trees; t++) {
        const vg_ens_node *nodes = e->nodes + e->tree_start[t];
        uint32_t size = e->tree_start[t + 1] - e->tree_start[t], D = 0, cat = 0;
        depth[0] = 0;
        for (uint32_t j = 0; j < size; j++) {  /* children follow their parent */
            if (nodes[j].feature < 0) {
                D = VG_MAX(D, depth[j]);
                continue;
            }
            cat += (nodes[j].flags & VG_ENS_CATEGORICAL) != 0;
            depth[nodes[j].child] = depth[nodes[j].child + 1] = depth[j] + 1;
        }
        int fast = D <= FAST_MAX_DEPTH && cat <= FAST_MAX_CATS;
        trees[t] = (fast_tree){ .depth = fast ? D : UINT32_MAX, .n_cat = cat, .cat0 = (uint32_t)n_cats,
                                .node0 = (uint32_t)n_nodes, .leaf0 = (uint32_t)n_leaves };
        if (fast) {
            n_nodes += (1u << D) - 1;
            n_leaves += 1u << D;
            n_cats += cat;
        }
    }
    vg_free(depth);
    size_t size = sizeof(fast_model) + (size_t)(n_nodes + PAD) * (sizeof(uint32_t) + sizeof(float)) +
                  (size_t)(n_leaves + PAD) * sizeof(uint32_t) + (size_t)n_cats * sizeof(fast_cat);
    fast_model *m = vg_calloc(1, size);
    if (!m) {
        vg_free(trees);
        return NULL;
    }
    m->trees = trees;
    m->cats = (fast_cat *)(m + 1);
    m->fi = (uint32_t *)(m->cats + n_cats);
    m->thr = (float *)(m->fi + n_nodes + PAD);
    m->leaf = (uint32_t *)(m->thr + n_nodes + PAD);
    for (uint32_t t = 0; t < e->n_trees; t++)
        if (trees[t].depth != UINT32_MAX) fast_fill(e, m, &trees[t], e->nodes + e->tree_start[t], 0, 0, 0);
    return m;
}

static void fast_free(fast_model *m)
{
    if (!m) return;
    vg_free(m->trees);
    vg_free(m);
}

/* ---- kernels ---- */

/* Leaves of up to FAST_LANES rows walking the ensemble's nodes together. */
static void walk_leaves(const vg_ensemble *e, const vg_ens_node *nodes, const float *rows, size_t cols, uint32_t n,
                        uint32_t *leaf)
{
    uint32_t j[FAST_LANES] = { 0 };
    for (;;) {
        uint32_t moving = 0;
        for (uint32_t k = 0; k < n; k++) {
            const vg_ens_node *nd = &nodes[j[k]];
            if (nd->feature < 0) continue;
            moving = 1;
            j[k] = nd->child + vg_ens_goes_right(e, nd, rows + k * cols);
        }
        if (!moving) break;
    }
    for (uint32_t k = 0; k < n; k++) leaf[k] = nodes[j[k]].child;
}

/* Leaf slots of FAST_LANES rows in a complete tree of depth D; categorical
 * splits read side[lane][column]. */
static void fast_slots(const uint32_t *fi, const float *thr, uint32_t D, const float *const *row,
                       const float (*side)[FAST_MAX_CATS], uint32_t *slot)
{
    uint32_t j[FAST_LANES] = { 0 };
    for (uint32_t d = 0; d < D; d++) {
#pragma GCC unroll 8
        for (uint32_t k = 0; k < FAST_LANES; k++) {
            uint32_t f = fi[j[k]];
            float t = thr[j[k]];
            const float *src = (f & FAST_CAT) ? side[k] : row[k];
            float x = src[f & FAST_FEATURE];
            uint32_t right = (uint32_t)(x > t) | ((uint32_t)!(x <= t) & (f >> 31));
            j[k] = 2 * j[k] + 1 + right;
        }
    }
    for (uint32_t k = 0; k < FAST_LANES; k++) slot[k] = j[k] - ((1u << D) - 1);
}

/* Add tree t's leaf values for rows [r, r + n) (n <= FAST_LANES) to acc
 * (rows x K, from row r) with the plain kernels. */
static void plain_group(const vg_ensemble *e, const fast_model *fm, uint32_t t, const float *rows, size_t cols,
                        uint32_t n, double *acc)
{
    const uint32_t K = e->n_outputs, W = e->leaf_width, o = (uint32_t)e->tree_output[t];
    const fast_tree *ft = fm ? &fm->trees[t] : NULL;
    uint32_t leaf[FAST_LANES];
    if (ft && ft->depth != UINT32_MAX) {
        /* a short group repeats its first row in the spare lanes */
        const float *row[FAST_LANES];
        for (uint32_t k = 0; k < FAST_LANES; k++) row[k] = rows + (k < n ? k : 0) * cols;
        float side[FAST_LANES][FAST_MAX_CATS];
        for (uint32_t c = 0; c < ft->n_cat; c++) {
            const fast_cat *fc = &fm->cats[ft->cat0 + c];
            for (uint32_t k = 0; k < FAST_LANES; k++)
                side[k][c] = (float)vg_ens_cat_right(e, (int32_t)fc->feature, fc->cats, fc->flags, row[k][fc->feature]);
        }
        uint32_t slot[FAST_LANES];
        fast_slots(fm->fi + ft->node0, fm->thr + ft->node0, ft->depth, row, (const float (*)[FAST_MAX_CATS])side,
                   slot);
        const uint32_t *fl = fm->leaf + ft->leaf0;
        if (W == 1) {
            for (uint32_t q = 0; q < n; q++) {
                float v;
                memcpy(&v, &fl[slot[q]], sizeof v);
                acc[q * K + o] += v;
            }
            return;
        }
        for (uint32_t q = 0; q < n; q++) leaf[q] = fl[slot[q]];
    } else {
        walk_leaves(e, e->nodes + e->tree_start[t], rows, cols, n, leaf);
    }
    if (W == 1) {
        for (uint32_t q = 0; q < n; q++) acc[q * K + o] += e->leaves[leaf[q]];
    } else {
        for (uint32_t q = 0; q < n; q++) {
            const float *v = e->leaves + (size_t)leaf[q] * W;
            for (uint32_t k = 0; k < K; k++) acc[q * K + k] += v[k];
        }
    }
}

#if HAVE_AVX512
/* The wide kernel works on a group of 16 rows transposed into a column
 * buffer: col[f * 16 + lane] for the F features, then one column per
 * categorical split of the current tree (its decisions, 0 or 1). Levels 0
 * to 2 read whole columns (at most four distinct nodes), deeper levels
 * gather from the buffer, which stays in L1. */
#define WIDE_MAX_COLS 256  /* features; wider data gathers from the rows */

/* Decide the categorical splits of tree ft for the group into columns
 * F + c of buf, as vg_ens_cat_right decides them. */
__attribute__((target("avx512f"))) static void wide_side(const vg_ensemble *e, const fast_model *fm,
                                                        const fast_tree *ft, uint32_t F, float *buf)
{
    for (uint32_t c = 0; c < ft->n_cat; c++) {
        const fast_cat *fc = &fm->cats[ft->cat0 + c];
        uint32_t ncat = e->n_categories[fc->feature];
        __m512 x = _mm512_loadu_ps(buf + (size_t)fc->feature * 16);
        __mmask16 valid = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ) &
                          _mm512_cmp_ps_mask(x, _mm512_set1_ps((float)ncat), _CMP_LT_OQ);
        __m512i ci = _mm512_maskz_cvttps_epi32(valid, x);
        valid &= _mm512_cmp_ps_mask(_mm512_cvtepi32_ps(ci), x, _CMP_EQ_OQ);
        __m512i wi = _mm512_srli_epi32(ci, 5), word;
        if (ncat <= 32 * 16)  /* the whole bitset in one register */
            word = _mm512_permutexvar_epi32(wi, _mm512_maskz_loadu_epi32((__mmask16)((1u << ((ncat + 31) / 32)) - 1),
                                                                         (const int *)(e->cats + fc->cats)));
        else
            word = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, wi, (const int *)(e->cats + fc->cats), 4);
        __m512i bit = _mm512_and_si512(_mm512_srlv_epi32(word, _mm512_and_si512(ci, _mm512_set1_epi32(31))),
                                       _mm512_set1_epi32(1));
        __mmask16 left = _mm512_mask_test_epi32_mask(valid, bit, bit);
        __mmask16 miss_right = (fc->flags & VG_ENS_MISSING_LEFT) ? 0 : 0xFFFF;
        __mmask16 right = (__mmask16)((valid & ~left) | (~valid & miss_right));
        _mm512_storeu_ps(buf + (size_t)(F + c) * 16, _mm512_maskz_mov_ps(right, _mm512_set1_ps(1.0f)));
    }
}

/* Column of node value f (feature, or categorical split) in the buffer. */
static inline uint32_t wide_col(uint32_t f, uint32_t F)
{
    return (f & FAST_FEATURE) + ((f & FAST_CAT) ? F : 0u);
}

/* One level's step: the direction of every lane given its node's value f,
 * threshold t and feature value x. */
__attribute__((target("avx512f"))) static inline __m512i wide_step(__m512i loc, __m512i f, __m512 t, __m512 x)
{
    __mmask16 right = _mm512_cmp_ps_mask(x, t, _CMP_GT_OQ) |
                      (_mm512_cmp_ps_mask(x, t, _CMP_UNORD_Q) &
                       _mm512_test_epi32_mask(f, _mm512_set1_epi32((int)FAST_RIGHT)));
    __m512i twice = _mm512_slli_epi32(loc, 1);
    return _mm512_mask_add_epi32(twice, right, twice, _mm512_set1_epi32(1));
}

/* Leaf slots of n groups (up to WIDE_GROUPS: independent chains hide the latency
 * of the gathers) in a complete tree of depth D <= WIDE_MAX_DEPTH whose
 * nodes are fi/thr. loc is each row's node within its level: level d's
 * nodes are the 2^d entries from 2^d - 1. */
__attribute__((target("avx512f"), always_inline)) static inline void wide_slots(const uint32_t *fi, const float *thr,
                                                                               uint32_t D, uint32_t F,
                                                                               float *const *buf, int n, __m512i *loc)
{
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int g = 0; g < n; g++) loc[g] = _mm512_setzero_si512();
    for (uint32_t d = 0; d < D; d++) {
        uint32_t first = (1u << d) - 1;
        __m512i tf0 = _mm512_loadu_si512(fi + first), tf1 = _mm512_loadu_si512(fi + first + 16);
        __m512 tt0 = _mm512_loadu_ps(thr + first), tt1 = _mm512_loadu_ps(thr + first + 16);
        for (int g = 0; g < n; g++) {
            __m512i f;
            __m512 t, x;
            if (d < 5) {
                f = _mm512_permutexvar_epi32(loc[g], tf0);
                t = _mm512_permutexvar_ps(loc[g], tt0);
            } else {
                f = _mm512_permutex2var_epi32(tf0, loc[g], tf1);
                t = _mm512_permutex2var_ps(tt0, loc[g], tt1);
            }
            const float *b = buf[g];
            if (d == 0) {
                x = _mm512_loadu_ps(b + (size_t)wide_col(fi[0], F) * 16);
            } else if (d == 1) {
                __mmask16 b0 = _mm512_test_epi32_mask(loc[g], _mm512_set1_epi32(1));
                x = _mm512_mask_blend_ps(b0, _mm512_loadu_ps(b + (size_t)wide_col(fi[1], F) * 16),
                                         _mm512_loadu_ps(b + (size_t)wide_col(fi[2], F) * 16));
            } else if (d == 2) {
                __mmask16 b0 = _mm512_test_epi32_mask(loc[g], _mm512_set1_epi32(1));
                __mmask16 b1 = _mm512_test_epi32_mask(loc[g], _mm512_set1_epi32(2));
                __m512 lo = _mm512_mask_blend_ps(b0, _mm512_loadu_ps(b + (size_t)wide_col(fi[3], F) * 16),
                                                 _mm512_loadu_ps(b + (size_t)wide_col(fi[4], F) * 16));
                __m512 hi = _mm512_mask_blend_ps(b0, _mm512_loadu_ps(b + (size_t)wide_col(fi[5], F) * 16),
                                                 _mm512_loadu_ps(b + (size_t)wide_col(fi[6], F) * 16));
                x = _mm512_mask_blend_ps(b1, lo, hi);
            } else if (d == 3) {
                /* eight columns, chosen by the three bits of loc */
                __mmask16 b0 = _mm512_test_epi32_mask(loc[g], _mm512_set1_epi32(1));
                __mmask16 b1 = _mm512_test_epi32_mask(loc[g], _mm512_set1_epi32(2));
                __mmask16 b2 = _mm512_test_epi32_mask(loc[g], _mm512_set1_epi32(4));
                __m512 q[4];
                for (int i = 0; i < 4; i++)
                    q[i] = _mm512_mask_blend_ps(b0, _mm512_loadu_ps(b + (size_t)wide_col(fi[7 + 2 * i], F) * 16),
                                                _mm512_loadu_ps(b + (size_t)wide_col(fi[8 + 2 * i], F) * 16));
                x = _mm512_mask_blend_ps(b2, _mm512_mask_blend_ps(b1, q[0], q[1]), _mm512_mask_blend_ps(b1, q[2], q[3]));
            } else {
                __m512i col = _mm512_and_si512(f, _mm512_set1_epi32((int)FAST_FEATURE));
                col = _mm512_mask_add_epi32(col, _mm512_test_epi32_mask(f, _mm512_set1_epi32((int)FAST_CAT)), col,
                                            _mm512_set1_epi32((int)F));
                x = _mm512_i32gather_ps(_mm512_add_epi32(_mm512_slli_epi32(col, 4), lane), b, 4);
            }
            loc[g] = wide_step(loc[g], f, t, x);
        }
    }
}

/* Leaf values of the group (leaf width 1) from a tree of depth D, picked
 * from the tree's leaf slots by permutes. */
__attribute__((target("avx512f"))) static inline __m512 wide_values(const float *lv, uint32_t D, __m512i loc)
{
    if (D <= 4) return _mm512_permutexvar_ps(loc, _mm512_loadu_ps(lv));
    if (D == 5) return _mm512_permutex2var_ps(_mm512_loadu_ps(lv), loc, _mm512_loadu_ps(lv + 16));
    __m512 lo = _mm512_permutex2var_ps(_mm512_loadu_ps(lv), loc, _mm512_loadu_ps(lv + 16));
    __m512 hi = _mm512_permutex2var_ps(_mm512_loadu_ps(lv + 32), loc, _mm512_loadu_ps(lv + 48));
    return _mm512_mask_blend_ps(_mm512_test_epi32_mask(loc, _mm512_set1_epi32(32)), lo, hi);
}

/* r[k] (row k's 16 values) into r[j] (value j of the 16 rows): pairs, then
 * quads within 128-bit lanes, then the lanes themselves. */
__attribute__((target("avx512f"), always_inline)) static inline void wide_transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) {
            t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
            t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
        }
    for (int j = 0; j < 8; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
    }
}

/* The group's 16 rows gb[k * cols + f] into the column buffer buf[f * 16 +
 * k], a 16 x 16 tile at a time in registers (a scalar loop was a fifth of
 * the kernel's time on 108 features; a gather per feature, slower still).
 * The last tile's loads are masked, so nothing past a row is read. */
__attribute__((target("avx512f"), always_inline)) static inline void wide_columns(const float *gb, size_t cols,
                                                                                 float *buf)
{
    for (size_t f0 = 0; f0 < cols; f0 += WIDE_LANES) {
        uint32_t w = (uint32_t)VG_MIN((size_t)WIDE_LANES, cols - f0);
        __mmask16 m = (__mmask16)((1u << w) - 1);
        __m512 r[WIDE_LANES];
        for (uint32_t k = 0; k < WIDE_LANES; k++) r[k] = _mm512_maskz_loadu_ps(m, gb + k * cols + f0);
        wide_transpose16(r);
        for (uint32_t j = 0; j < w; j++) _mm512_storeu_ps(buf + (f0 + j) * WIDE_LANES, r[j]);
    }
}

#define WIDE_MAX_OUTPUTS 16  /* outputs summed in registers' layout; more: per lane */

/* Sum every tree into acc for n groups of 16 whole rows from `base` (acc:
 * 16n x K), tree after tree. With leaf width 1 the sums are kept
 * output-major (sum[g][o][lane]) so a tree's 16 values are added as two
 * vectors; each row's sums still take the trees in order. */
__attribute__((target("avx512f"), always_inline)) static inline void wide_groups(const vg_ensemble *e,
                                                                                const fast_model *fm,
                                                                                const float *base, size_t cols,
                                                                                double *acc, int n)
{
    const uint32_t K = e->n_outputs, F = (uint32_t)cols;
    const int vec = e->leaf_width == 1 && K <= WIDE_MAX_OUTPUTS;
    float bufs[WIDE_GROUPS][(WIDE_MAX_COLS + FAST_MAX_CATS) * WIDE_LANES];
    double sum[WIDE_GROUPS][WIDE_MAX_OUTPUTS * WIDE_LANES];
    float *buf[WIDE_GROUPS];
    for (int g = 0; g < WIDE_GROUPS; g++) buf[g] = bufs[g];
    __m512i loc[WIDE_GROUPS];
    for (int g = 0; g < n; g++) {
        const float *gb = base + (size_t)g * WIDE_LANES * cols;
        wide_columns(gb, cols, buf[g]);
        if (vec)
            for (uint32_t o = 0; o < K; o++)
                for (uint32_t k = 0; k < WIDE_LANES; k++) sum[g][o * WIDE_LANES + k] = acc[(g * WIDE_LANES + k) * K + o];
    }
    for (uint32_t t = 0; t < e->n_trees; t++) {
        const fast_tree *ft = &fm->trees[t];
        const uint32_t o = (uint32_t)e->tree_output[t];
        if (ft->depth > WIDE_MAX_DEPTH) {
            /* deep trees: the plain kernels, groups of 8 */
            for (int g = 0; g < n && vec; g++)
                for (uint32_t q = 0; q < K; q++)
                    for (uint32_t k = 0; k < WIDE_LANES; k++) acc[(g * WIDE_LANES + k) * K + q] = sum[g][q * WIDE_LANES + k];
            for (uint32_t h = 0; h < (uint32_t)n * WIDE_LANES; h += FAST_LANES)
                plain_group(e, fm, t, base + h * cols, cols, FAST_LANES, acc + h * K);
            for (int g = 0; g < n && vec; g++)
                for (uint32_t q = 0; q < K; q++)
                    for (uint32_t k = 0; k < WIDE_LANES; k++) sum[g][q * WIDE_LANES + k] = acc[(g * WIDE_LANES + k) * K + q];
            continue;
        }
        for (int g = 0; g < n && ft->n_cat; g++) wide_side(e, fm, ft, F, buf[g]);
        wide_slots(fm->fi + ft->node0, fm->thr + ft->node0, ft->depth, F, buf, n, loc);
        const uint32_t *fl = fm->leaf + ft->leaf0;
        for (int g = 0; g < n; g++) {
            if (vec) {
                __m512 v = wide_values((const float *)fl, ft->depth, loc[g]);
                double *s = sum[g] + o * WIDE_LANES;
                _mm512_storeu_pd(s, _mm512_add_pd(_mm512_loadu_pd(s), _mm512_cvtps_pd(_mm512_castps512_ps256(v))));
                __m256 v_hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
                _mm512_storeu_pd(s + 8, _mm512_add_pd(_mm512_loadu_pd(s + 8), _mm512_cvtps_pd(v_hi)));
                continue;
            }
            uint32_t slot[WIDE_LANES];
            _mm512_storeu_si512(slot, loc[g]);
            double *ga = acc + (size_t)g * WIDE_LANES * K;
            for (uint32_t k = 0; k < WIDE_LANES; k++) {
                const float *v = e->leaves + (size_t)fl[slot[k]] * e->leaf_width;
                if (e->leaf_width == 1) ga[k * K + o] += v[0];
                else for (uint32_t q = 0; q < K; q++) ga[k * K + q] += v[q];
            }
        }
    }
    for (int g = 0; g < n && vec; g++)
        for (uint32_t q = 0; q < K; q++)
            for (uint32_t k = 0; k < WIDE_LANES; k++) acc[(g * WIDE_LANES + k) * K + q] = sum[g][q * WIDE_LANES + k];
}

__attribute__((target("avx512f"))) static void wide_group4(const vg_ensemble *e, const fast_model *fm,
                                                          const float *base, size_t cols, double *acc)
{
    wide_groups(e, fm, base, cols, acc, 4);
}

__attribute__((target("avx512f"))) static void wide_group2(const vg_ensemble *e, const fast_model *fm,
                                                          const float *base, size_t cols, double *acc)
{
    wide_groups(e, fm, base, cols, acc, 2);
}

__attribute__((target("avx512f"))) static void wide_group1(const vg_ensemble *e, const fast_model *fm,
                                                          const float *base, size_t cols, double *acc)
{
    wide_groups(e, fm, base, cols, acc, 1);
}
#endif

/* Raw scores of rows [r0, r1) of X into out ((r1 - r0) x n_outputs). */
static void raw_block(const vg_ensemble *e, const fast_model *fm, int wide, const vg_matrix *X, size_t r0,
                      size_t r1, float *out)
{
    const uint32_t K = e->n_outputs;
    const size_t cols = X->cols;
    double acc[VG_ENS_ACC_OUTPUTS];
    if (K > VG_ENS_ACC_OUTPUTS) {
        for (size_t r = r0; r < r1; r++) vg_ensemble_raw_row(e, X->data + r * cols, out + (r - r0) * K);
        return;
    }
    size_t step = VG_MIN((size_t)VG_ENS_ACC_OUTPUTS / K, (size_t)PASS_ROWS);
    for (size_t a = r0; a < r1; a += step) {
        size_t b = VG_MIN(a + step, r1);
        memset(acc, 0, (b - a) * K * sizeof(double));
        size_t r = a;
#if !HAVE_AVX512
        (void)wide;
#else
        /* Whole groups of 16 rows take the wide kernel, all trees at once. */
        if (fm && wide && cols <= WIDE_MAX_COLS) {
            for (; r + WIDE_GROUPS * WIDE_LANES <= b; r += WIDE_GROUPS * WIDE_LANES)
                wide_group4(e, fm, X->data + r * cols, cols, acc + (r - a) * K);
            for (; r + 2 * WIDE_LANES <= b; r += 2 * WIDE_LANES)
                wide_group2(e, fm, X->data + r * cols, cols, acc + (r - a) * K);
            for (; r + WIDE_LANES <= b; r += WIDE_LANES) wide_group1(e, fm, X->data + r * cols, cols, acc + (r - a) * K);
        }
#endif
        for (uint32_t t = 0; t < e->n_trees && r < b; t++)
            for (size_t q = r; q < b; q += FAST_LANES)
                plain_group(e, fm, t, X->data + q * cols, cols, (uint32_t)VG_MIN((size_t)FAST_LANES, b - q),
                            acc + (q - a) * K);
        for (size_t q = a; q < b; q++)
            for (uint32_t k = 0; k < K; k++)
                out[(q - r0) * K + k] = (float)((double)e->base[k] + (double)e->scale * acc[(q - a) * K + k]);
    }
}

typedef struct raw_ctx {
    const vg_ensemble *e;
    const fast_model *fm;
    int wide;   /* use the AVX-512 kernel */
    const vg_matrix *X;
    float *out;
    int link;   /* 1: write probabilities (n_classes per row), 0: raw scores */
} raw_ctx;

static void raw_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    const raw_ctx *c = ctx;
    const vg_ensemble *e = c->e;
    size_t r0 = task * BLOCK_ROWS, r1 = VG_MIN(r0 + BLOCK_ROWS, c->X->rows);
    if (!c->link) {
        raw_block(e, c->fm, c->wide, c->X, r0, r1, c->out + r0 * e->n_outputs);
        return;
    }
    float *proba = c->out + r0 * e->n_classes;
    if (e->n_outputs == e->n_classes) {
        raw_block(e, c->fm, c->wide, c->X, r0, r1, proba);
        vg_ensemble_link(e, proba, r1 - r0, proba);
    } else {
        float raw[BLOCK_ROWS];  /* the sigmoid: one raw value per row */
        raw_block(e, c->fm, c->wide, c->X, r0, r1, raw);
        vg_ensemble_link(e, raw, r1 - r0, proba);
    }
}

/* The batch layout of e, made by the first batch prediction that needs it
 * and kept in the ensemble (a cache: e is otherwise read-only here, and a
 * fitted ensemble never changes). Threads that race to make it keep the
 * first one installed. NULL: out of memory (callers walk the nodes). */
static const fast_model *fast_get(const vg_ensemble *e)
{
    void **slot = (void **)&((vg_ensemble *)e)->batch;
    fast_model *m = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (m) return m;
    fast_model *made = fast_make(e);
    if (!made) return NULL;
    void *expected = NULL;
    if (__atomic_compare_exchange_n(slot, &expected, made, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return made;
    fast_free(made);
    return expected;
}

void vg_ensemble_batch_free(vg_ensemble *e)
{
    fast_free(e->batch);
    e->batch = NULL;
}

static void run_blocks(const vg_ensemble *e, const vg_matrix *X, int threads, float *out, int link)
{
    VG_ASSERT(X->cols == e->n_features);
    VG_ASSERT(e->n_outputs == e->n_classes || e->n_outputs == 1);
    const fast_model *fm = X->rows >= FAST_MIN_ROWS ? fast_get(e) : NULL;
    raw_ctx c = { e, fm, use_wide(), X, out, link };
    size_t tasks = (X->rows + BLOCK_ROWS - 1) / BLOCK_ROWS;
    vg_parallel_for(tasks > 1 ? threads : 1, tasks, raw_task, &c);
}

void vg_ensemble_raw(const vg_ensemble *e, const vg_matrix *X, int threads, float *raw)
{
    run_blocks(e, X, threads, raw, 0);
}

void vg_ensemble_predict(const vg_ensemble *e, const vg_matrix *X, int threads, float *proba)
{
    run_blocks(e, X, threads, proba, 1);
}
