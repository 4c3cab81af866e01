/* Scoring and explaining with an isolation forest.
 *
 * Score: s(x) = 2^(-E[h(x)] / c(psi)), where h is a tree's path length to
 * x's leaf plus c(leaf's rows) (the depth a full tree would have added
 * below it), as Liu et al. define it and scikit-learn's score_samples
 * returns negated: about 0.5 for an ordinary row, towards 1 for one that
 * isolates fast. Rows are scored in blocks, tree by tree over the block, so
 * a tree's nodes stay in cache while the block's rows pass through it; each
 * row's sum runs over the trees in index order whatever the block, lane or
 * thread, so every thread count and predict_row give the same float.
 *
 * Explanation (path-length attributions). Give each node the potential
 * phi = depth + c(n), n its training rows: the root's is c(n_root) and a
 * leaf's is exactly h. So along x's path in one tree
 *     h - c(n_root) = sum over the cuts passed of (1 + c(n_child) - c(n_parent)),
 * a telescoping sum whose terms say how much each cut shortened (negative)
 * or lengthened the path compared with an average row's. Each term is
 * credited to the column the cut used (an oblique cut splits it among its
 * columns by the share of |normal component| each drew). Averaged over the
 * trees: E[h] = h0 + sum_f D_f, with h0 the trees' mean c(n_root), the
 * same for every row. The score is not linear in E[h], so the difference
 * between the row's score s and the reference score b = 2^(-h0 / c(psi))
 * (0.5 without bootstrap) is shared out in proportion to the D_f:
 * contrib_f = (s - b) D_f / sum D, bias = b; the proportion is the same for
 * every column (the secant of 2^(-h / c) between h0 and E[h]), so a column
 * that shortened paths always adds to the score and one that lengthened
 * them subtracts, and the entries sum to s. */
#include "models/iforest.h"

#include <math.h>
#include <string.h>

#include "models/simd.h"
#include "vigil/parallel.h"


/* Rows per block: a block's path sums stay in L1 beside the tree walked. */
#define SCORE_BLOCK 128

/* ---- the flat layout ----
 * Every tree padded to a perfect binary tree of D levels of cuts (D the
 * forest's deepest leaf): the cuts of node j lead to 2j + 1 and 2j + 2, and
 * a leaf shallower than D is copied into every leaf slot below it, with
 * padding cuts above the copies (any direction reaches the same value). A
 * row then takes exactly D steps per tree, each a compare and an index
 * computed, not loaded: no leaf test, no data-dependent loop exit, so many
 * rows walk a tree in lockstep with their loads overlapping. A cut is two
 * words kept in two arrays (column and flags; threshold or category word),
 * so a level's cuts load as vectors. With psi = 256 (D <= 8) a tree is 255
 * cuts of 8 bytes and 256 floats, 3 KiB. Forests with oblique cuts, or
 * deeper than FLAT_MAX_DEPTH, walk the nodes.
 *
 * The block. Before a block walks the trees, its rows are copied into
 * per-thread scratch column by column (a column's values of the block's
 * rows side by side, so a tree's first cut, one column for every row, reads
 * 16 rows with one load), each categorical value replaced by its code (bits
 * of a uint32 in the float's slot): 0..K-1, K for NaN (the forest's own
 * code for missing), K + 1 for a value that is no category. The flat
 * bitsets carry that extra code's side (the node's MISSING_LEFT), so a
 * category cut is one bit test with no NaN, range or floor test per step;
 * the same rule as goes_left, decided once per row instead of per cut. A
 * column of at most 30 categories (codes 0..31) has its whole bitset in the
 * cut's second word; a larger one's second word points to its words.
 *
 * Kernels. The plain kernel steps FLAT_LANES rows through a tree together.
 * On x86-64 with AVX-512 (checked at run time; VG_NO_SIMD=1 keeps the plain
 * one) the wide kernel steps 16 rows per vector, the whole block's groups
 * of 16 level by level so that independent loads overlap. Gathers are its
 * cost, so it gathers only what it must (KDDTest+ on one thread: 28 ms of
 * CPU with three or four gathers per level, 11 ms with these): the top
 * levels' cuts (1 to 128 per level) are picked from registers by permutes,
 * the root's value is a plain load, and only deeper cuts, the rows' values
 * and the leaves are gathered. Both kernels add the same leaf floats in the
 * same tree order into doubles: the same scores as the node walk, to the
 * bit. */
#define FLAT_MAX_DEPTH 10u
#define FLAT_CATEGORY (1u << 31)  /* second word: the first of the column's bitset words */
#define FLAT_CAT_WORD (1u << 30)  /* second word: the column's whole bitset */
#define FLAT_MISSING_LEFT (1u << 29)
#define FLAT_COL_MASK (FLAT_MISSING_LEFT - 1)
#define FLAT_LANES 16
#define WIDE_LANES 16
/* The wide kernel reads the block with 32-bit element offsets col x SCORE_BLOCK + row. */
#define WIDE_MAX_COLS (1u << 22)

struct vg_iforest_flat {
    uint32_t depth;
    uint32_t stride;  /* words per tree in feat and arg: 2^depth, at least 32 (the permutes read 32 at once) */
    uint32_t *feat;   /* n_trees x stride: column | FLAT_* flags */
    uint32_t *arg;    /* n_trees x stride: threshold bits, a bitset word, or the first word's index */
    float *leaf;      /* n_trees x 2^depth */
    uint32_t *words;  /* the bitsets of the columns of more than 30 categories, over codes 0..K+1 (bit set: left) */
    uint32_t n_words;
};

static uint32_t node_depth(const vg_iforest_node *tree, uint32_t i)
{
    if (!tree[i].left) return 0;
    uint32_t a = node_depth(tree, tree[i].left), b = node_depth(tree, tree[i].left + 1);
    return 1 + (a > b ? a : b);
}

/* Words of a flat bitset over a column of k categories: codes 0..k+1. */
static uint32_t flat_words_of(uint32_t k)
{
    return (k + 2 + 31) / 32;
}

/* Node i of the tree into flat slot j at `level` of D. */
static void flat_fill(const vg_iforest *f, const vg_iforest_node *tree, uint32_t i, uint32_t j, uint32_t level,
                      uint32_t D, uint32_t *feat, uint32_t *arg, float *leaf)
{
    struct vg_iforest_flat *fl = f->flat;
    const vg_iforest_node *nd = &tree[i];
    uint32_t inner = (1u << D) - 1;
    if (level == D) {
        leaf[j - inner] = nd->value;
        return;
    }
    if (!nd->left) {
        feat[j] = arg[j] = 0;  /* padding: both sides hold this leaf */
        flat_fill(f, tree, i, 2 * j + 1, level + 1, D, feat, arg, leaf);
        flat_fill(f, tree, i, 2 * j + 2, level + 1, D, feat, arg, leaf);
        return;
    }
    uint32_t info = nd->info, col = info & VG_IFOREST_INDEX_MASK;
    uint32_t miss = info & VG_IFOREST_MISSING_LEFT ? FLAT_MISSING_LEFT : 0;
    if (info >> VG_IFOREST_KIND_SHIFT == VG_IFOREST_CATEGORY) {
        uint32_t k = f->n_categories[col], n = flat_words_of(k), one[1], *w = n == 1 ? one : fl->words + fl->n_words;
        memset(w, 0, n * sizeof *w);
        memcpy(w, f->words + nd->aux, (k + 1 + 31) / 32 * sizeof *w);
        w[k >> 5] &= (1u << (k & 31)) | ((1u << (k & 31)) - 1u);  /* codes 0..k only from the forest */
        if (miss) w[(k + 1) >> 5] |= 1u << ((k + 1) & 31);
        feat[j] = col | miss | (n == 1 ? FLAT_CAT_WORD : FLAT_CATEGORY);
        arg[j] = n == 1 ? one[0] : fl->n_words;
        if (n > 1) fl->n_words += n;
    } else {
        feat[j] = col | miss;
        memcpy(&arg[j], &nd->value, sizeof arg[j]);
    }
    flat_fill(f, tree, nd->left, 2 * j + 1, level + 1, D, feat, arg, leaf);
    flat_fill(f, tree, nd->left + 1, 2 * j + 2, level + 1, D, feat, arg, leaf);
}

void vg_iforest_flatten(vg_iforest *f)
{
    vg_free(f->flat);
    f->flat = NULL;
    uint32_t D = 0;
    size_t words = 0;
    for (uint32_t i = 0; i < f->n_nodes; i++) {
        const vg_iforest_node *nd = &f->nodes[i];
        if (!nd->left) continue;
        uint32_t kind = nd->info >> VG_IFOREST_KIND_SHIFT;
        if (kind == VG_IFOREST_OBLIQUE) return;
        /* A padded tree repeats no cut: each node fills one slot, so this bounds the words. */
        if (kind == VG_IFOREST_CATEGORY) words += flat_words_of(f->n_categories[nd->info & VG_IFOREST_INDEX_MASK]);
    }
    for (uint32_t t = 0; t < f->n_trees && D <= FLAT_MAX_DEPTH; t++) {
        uint32_t d = node_depth(f->nodes + f->tree_start[t], 0);
        D = d > D ? d : D;
    }
    if (D > FLAT_MAX_DEPTH || words > UINT32_MAX / 2 || f->n_features > FLAT_COL_MASK) return;
    size_t stride = VG_MAX((size_t)1 << D, (size_t)32), leaves = (size_t)1 << D;
    size_t bytes = sizeof(struct vg_iforest_flat) + f->n_trees * (2 * stride * sizeof(uint32_t) + leaves * sizeof(float)) +
                   words * sizeof(uint32_t);
    uint8_t *block = vg_calloc(1, bytes);
    if (!block) return;  /* scoring walks the nodes */
    struct vg_iforest_flat *fl = (struct vg_iforest_flat *)block;
    fl->depth = D;
    fl->stride = (uint32_t)stride;
    fl->feat = (uint32_t *)(block + sizeof *fl);
    fl->arg = fl->feat + f->n_trees * stride;
    fl->leaf = (float *)(fl->arg + f->n_trees * stride);
    fl->words = (uint32_t *)(fl->leaf + f->n_trees * leaves);
    fl->n_words = 0;
    f->flat = fl;
    for (uint32_t t = 0; t < f->n_trees; t++)
        flat_fill(f, f->nodes + f->tree_start[t], 0, 0, 0, D, fl->feat + t * stride, fl->arg + t * stride,
                  fl->leaf + t * leaves);
}

/* Rows [0, n) of X (F columns) into out, column by column (out[c x
 * SCORE_BLOCK + r]), each categorical value replaced by its code's bits
 * (see the flat layout above). */
static void flat_codes(const vg_iforest *f, const float *X, size_t n, size_t F, float *out)
{
    for (uint32_t c = 0; c < f->n_features; c++) {
        uint32_t k = f->n_categories[c];
        float *o = out + (size_t)c * SCORE_BLOCK;
        if (!k) {
            for (size_t r = 0; r < n; r++) o[r] = X[r * F + c];
            continue;
        }
        for (size_t r = 0; r < n; r++) {
            float v = X[r * F + c];
            uint32_t code = v != v ? k : v >= 0.0f && v < (float)k && v == floorf(v) ? (uint32_t)v : k + 1;
            memcpy(&o[r], &code, sizeof code);
        }
    }
}

/* 1 if row r of the coded block X goes right at the cut (fe, ar). */
static inline uint32_t flat_right(const struct vg_iforest_flat *fl, uint32_t fe, uint32_t ar, const float *X, size_t r)
{
    const float *x = X + (size_t)(fe & FLAT_COL_MASK) * SCORE_BLOCK + r;
    if (fe & (FLAT_CATEGORY | FLAT_CAT_WORD)) {
        uint32_t code;
        memcpy(&code, x, sizeof code);
        uint32_t w = fe & FLAT_CAT_WORD ? ar : fl->words[ar + (code >> 5)];
        return !(w >> (code & 31) & 1u);
    }
    float v = *x, thr;
    memcpy(&thr, &ar, sizeof thr);
    return (uint32_t)!(v <= thr) & ~((uint32_t)(v != v) & (fe >> 29 & 1u));
}

/* The coded block's rows [r0, n) through every tree; sum[r] in tree order. */
static void flat_block(const vg_iforest *f, const float *X, size_t r0, size_t n, double *sum)
{
    const struct vg_iforest_flat *fl = f->flat;
    uint32_t D = fl->depth;
    size_t inner = ((size_t)1 << D) - 1, leaves = (size_t)1 << D;
    for (uint32_t t = 0; t < f->n_trees; t++) {
        const uint32_t *feat = fl->feat + (size_t)t * fl->stride, *arg = fl->arg + (size_t)t * fl->stride;
        const float *leaf = fl->leaf + t * leaves;
        size_t r = r0;
        for (; r + FLAT_LANES <= n; r += FLAT_LANES) {
            uint32_t j[FLAT_LANES] = { 0 };
            for (uint32_t level = 0; level < D; level++)
                for (int q = 0; q < FLAT_LANES; q++)
                    j[q] = 2 * j[q] + 1 + flat_right(fl, feat[j[q]], arg[j[q]], X, r + q);
            for (int q = 0; q < FLAT_LANES; q++) sum[r + q] += leaf[j[q] - inner];
        }
        for (; r < n; r++) {
            uint32_t j = 0;
            for (uint32_t level = 0; level < D; level++) j = 2 * j + 1 + flat_right(fl, feat[j], arg[j], X, r);
            sum[r] += leaf[j - inner];
        }
    }
}

#if HAVE_AVX512
#define WIDE __attribute__((target("avx512f"))) static inline

/* The next nodes of 16 rows at nodes j whose cut is (fe, ar) and whose
 * values there are v. */
WIDE __m512i wide_step(__m512i j, __m512i fe, __m512i ar, __m512 v, const uint32_t *words)
{
    const __m512i one = _mm512_set1_epi32(1);
    __mmask16 right = _mm512_cmp_ps_mask(v, _mm512_castsi512_ps(ar), _CMP_NLE_UQ);
    right &= (__mmask16)~(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) &
                          _mm512_test_epi32_mask(fe, _mm512_set1_epi32((int)FLAT_MISSING_LEFT)));
    __mmask16 is_cat = _mm512_test_epi32_mask(fe, _mm512_set1_epi32((int)(FLAT_CATEGORY | FLAT_CAT_WORD)));
    if (is_cat) {
        __m512i code = _mm512_castps_si512(v);
        __mmask16 big = _mm512_test_epi32_mask(fe, _mm512_set1_epi32((int)FLAT_CATEGORY));
        if (big)
            ar = _mm512_mask_i32gather_epi32(ar, big, _mm512_add_epi32(ar, _mm512_srli_epi32(code, 5)),
                                             (const int *)words, 4);
        __m512i bit = _mm512_srlv_epi32(ar, _mm512_and_si512(code, _mm512_set1_epi32(31)));
        __mmask16 left = _mm512_test_epi32_mask(bit, one);
        right = (__mmask16)((right & ~is_cat) | (is_cat & ~left));
    }
    __m512i next = _mm512_add_epi32(_mm512_add_epi32(j, j), one);
    return _mm512_mask_add_epi32(next, right, next, one);
}

/* The values of 16 rows (lane = their rows in the block) at columns fe. */
WIDE __m512 wide_values(const float *X, __m512i fe, __m512i lane)
{
    __m512i col = _mm512_and_si512(fe, _mm512_set1_epi32((int)FLAT_COL_MASK));
    return _mm512_i32gather_ps(_mm512_add_epi32(_mm512_slli_epi32(col, 7), lane), X, 4);
}

/* Words of the cuts at nodes b + idx of level 1 to 7 (idx < 2^level), from
 * w[b ..]: the level's 2^level words are 1 to 8 vectors, and permutes with
 * blends pick from them (on NSL-KDD 4% faster at level 7 than a gather). */
WIDE __m512i wide_pick(const uint32_t *w, uint32_t level, __m512i idx)
{
    const int *p = (const int *)w;
    if (level <= 4) return _mm512_permutexvar_epi32(idx, _mm512_loadu_si512(p));
    __m512i lo = _mm512_permutex2var_epi32(_mm512_loadu_si512(p), idx, _mm512_loadu_si512(p + 16));
    if (level == 5) return lo;
    __m512i hi = _mm512_permutex2var_epi32(_mm512_loadu_si512(p + 32), idx, _mm512_loadu_si512(p + 48));
    __mmask16 b5 = _mm512_test_epi32_mask(idx, _mm512_set1_epi32(32));
    __m512i a = _mm512_mask_blend_epi32(b5, lo, hi);
    if (level == 6) return a;
    lo = _mm512_permutex2var_epi32(_mm512_loadu_si512(p + 64), idx, _mm512_loadu_si512(p + 80));
    hi = _mm512_permutex2var_epi32(_mm512_loadu_si512(p + 96), idx, _mm512_loadu_si512(p + 112));
    return _mm512_mask_blend_epi32(_mm512_test_epi32_mask(idx, _mm512_set1_epi32(64)), a, _mm512_mask_blend_epi32(b5, lo, hi));
}

/* The wide kernel: the coded block's first n16 rows (a multiple of 16). */
__attribute__((target("avx512f"))) static void wide_block(const vg_iforest *f, const float *X, size_t n16, double *sum)
{
    const struct vg_iforest_flat *fl = f->flat;
    uint32_t D = fl->depth;
    size_t inner = ((size_t)1 << D) - 1, leaves = (size_t)1 << D, groups = n16 / WIDE_LANES;
    __m512i lane[SCORE_BLOCK / WIDE_LANES], j[SCORE_BLOCK / WIDE_LANES];
    for (size_t g = 0; g < groups; g++)
        lane[g] = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                   _mm512_set1_epi32((int)(g * WIDE_LANES)));
    for (uint32_t t = 0; t < f->n_trees; t++) {
        const uint32_t *feat = fl->feat + (size_t)t * fl->stride, *arg = fl->arg + (size_t)t * fl->stride;
        const float *leaf = fl->leaf + t * leaves;
        /* The root: one cut, one column for every row (none when every tree is a leaf). */
        __m512i fe = _mm512_set1_epi32((int)feat[0]), ar = _mm512_set1_epi32((int)arg[0]);
        const float *root = X + (size_t)(feat[0] & FLAT_COL_MASK) * SCORE_BLOCK;
        for (size_t g = 0; g < groups; g++)
            j[g] = D ? wide_step(_mm512_setzero_si512(), fe, ar, _mm512_loadu_ps(root + g * WIDE_LANES), fl->words)
                     : _mm512_setzero_si512();
        for (uint32_t level = 1; level < D; level++) {
            uint32_t b = (1u << level) - 1;
            if (level <= 7) {
                __m512i base = _mm512_set1_epi32((int)b);
                for (size_t g = 0; g < groups; g++) {
                    __m512i idx = _mm512_sub_epi32(j[g], base);
                    fe = wide_pick(feat + b, level, idx);
                    ar = wide_pick(arg + b, level, idx);
                    j[g] = wide_step(j[g], fe, ar, wide_values(X, fe, lane[g]), fl->words);
                }
            } else {
                for (size_t g = 0; g < groups; g++) {
                    fe = _mm512_i32gather_epi32(j[g], (const int *)feat, 4);
                    ar = _mm512_i32gather_epi32(j[g], (const int *)arg, 4);
                    j[g] = wide_step(j[g], fe, ar, wide_values(X, fe, lane[g]), fl->words);
                }
            }
        }
        for (size_t g = 0; g < groups; g++) {
            __m512 lv = _mm512_i32gather_ps(_mm512_sub_epi32(j[g], _mm512_set1_epi32((int)inner)), leaf, 4);
            double *s = sum + g * WIDE_LANES;
            _mm512_storeu_pd(s, _mm512_add_pd(_mm512_loadu_pd(s), _mm512_cvtps_pd(_mm512_castps512_ps256(lv))));
            __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(lv), 1));
            _mm512_storeu_pd(s + 8, _mm512_add_pd(_mm512_loadu_pd(s + 8), _mm512_cvtps_pd(hi)));
        }
    }
}
#endif


static inline int goes_left(const vg_iforest *f, const vg_iforest_node *nd, const float *x)
{
    uint32_t info = nd->info, kind = info >> VG_IFOREST_KIND_SHIFT, idx = info & VG_IFOREST_INDEX_MASK;
    if (kind == VG_IFOREST_AXIS) {
        /* Without branches: NaN compares false, and goes left only with the flag. */
        float v = x[idx];
        return (v <= nd->value) | ((v != v) & (int)(info >> 29));
    }
    if (kind == VG_IFOREST_CATEGORY) {
        float v = x[idx];
        uint32_t k = f->n_categories[idx], code;
        if (v != v) code = k;
        else if (v >= 0.0f && v < (float)k && v == floorf(v)) code = (uint32_t)v;
        else return (info & VG_IFOREST_MISSING_LEFT) != 0;
        return (int)(f->words[nd->aux + (code >> 5)] >> (code & 31) & 1u);
    }
    /* Oblique: summed in the same order and precision as the grower's. */
    double p = 0;
    const uint32_t *tf = f->term_feature + nd->aux;
    const float *tw = f->term_weight + nd->aux;
    for (uint32_t q = 0; q < idx; q++) p += (double)tw[q] * (double)x[tf[q]];
    if (p != p) return (info & VG_IFOREST_MISSING_LEFT) != 0;
    return p <= (double)nd->value;
}

static inline float tree_path(const vg_iforest *f, const vg_iforest_node *tree, const float *x)
{
    uint32_t i = 0;
    for (;;) {
        const vg_iforest_node *nd = &tree[i];
        if (!nd->left) return nd->value;
        i = nd->left + (uint32_t)!goes_left(f, nd, x);
    }
}

double vg_iforest_path_sum(const vg_iforest *f, const float *row)
{
    double sum = 0;
    for (uint32_t t = 0; t < f->n_trees; t++) sum += tree_path(f, f->nodes + f->tree_start[t], row);
    return sum;
}

static float score_of(const vg_iforest *f, double path_sum)
{
    return (float)exp2(-(path_sum / f->n_trees) / f->c_psi);
}

float vg_iforest_score_row(const vg_iforest *f, const float *row)
{
    return score_of(f, vg_iforest_path_sum(f, row));
}

typedef struct score_job {
    const vg_iforest *f;
    const vg_matrix *X;
    float *out;
    float *scratch;  /* per worker: SCORE_BLOCK coded rows (the flat layout); NULL: walk the nodes */
    int wide;
} score_job;

static void score_block(void *ctx, size_t block, int worker)
{
    const score_job *j = ctx;
    const vg_iforest *f = j->f;
    size_t r0 = block * SCORE_BLOCK, n = VG_MIN((size_t)SCORE_BLOCK, j->X->rows - r0), F = j->X->cols;
    double sum[SCORE_BLOCK];
    memset(sum, 0, n * sizeof *sum);
    const float *X = j->X->data + r0 * F;
    if (j->scratch) {
        float *coded = j->scratch + (size_t)worker * SCORE_BLOCK * F;
        flat_codes(f, X, n, F, coded);
        size_t done = 0;
#if HAVE_AVX512
        if (j->wide) wide_block(f, coded, done = n / WIDE_LANES * WIDE_LANES, sum);
#endif
        flat_block(f, coded, done, n, sum);
        for (size_t r = 0; r < n; r++) j->out[r0 + r] = score_of(f, sum[r]);
        return;
    }
    for (uint32_t t = 0; t < f->n_trees; t++) {
        const vg_iforest_node *tree = f->nodes + f->tree_start[t];
        size_t r = 0;
        /* Four rows down the tree at once: their steps are independent, so
         * the CPU overlaps one row's node load with another's compare
         * (measured on NSL-KDD: 1.8x faster than one row at a time; eight
         * rows gained nothing more, nor did walking the block level by level). */
        for (; r + 4 <= n; r += 4) {
            const float *x0 = X + r * F, *x1 = x0 + F, *x2 = x1 + F, *x3 = x2 + F;
            uint32_t i0 = 0, i1 = 0, i2 = 0, i3 = 0;
            for (;;) {
                const vg_iforest_node *a = &tree[i0], *b = &tree[i1], *c = &tree[i2], *d = &tree[i3];
                if (!(a->left | b->left | c->left | d->left)) break;
                if (a->left) i0 = a->left + (uint32_t)!goes_left(f, a, x0);
                if (b->left) i1 = b->left + (uint32_t)!goes_left(f, b, x1);
                if (c->left) i2 = c->left + (uint32_t)!goes_left(f, c, x2);
                if (d->left) i3 = d->left + (uint32_t)!goes_left(f, d, x3);
            }
            sum[r] += tree[i0].value;
            sum[r + 1] += tree[i1].value;
            sum[r + 2] += tree[i2].value;
            sum[r + 3] += tree[i3].value;
        }
        for (; r < n; r++) sum[r] += tree_path(f, tree, X + r * F);
    }
    for (size_t r = 0; r < n; r++) j->out[r0 + r] = score_of(f, sum[r]);
}

void vg_iforest_score(const vg_iforest *f, const vg_matrix *X, int threads, float *out)
{
    if (X->rows == 0) return;
    size_t blocks = (X->rows + SCORE_BLOCK - 1) / SCORE_BLOCK;
    int workers = blocks == 1 ? 1 : vg_threads_resolve(threads);
    /* Without room for the coded rows, the nodes are walked: the same scores. */
    float *scratch = f->flat ? vg_malloc((size_t)workers * SCORE_BLOCK * X->cols * sizeof *scratch) : NULL;
    score_job j = { f, X, out, scratch, HAVE_AVX512 && vg_simd_avx512() && X->cols <= WIDE_MAX_COLS };
    if (blocks == 1) score_block(&j, 0, 0);
    else vg_parallel_for(workers, blocks, score_block, &j);
    vg_free(scratch);
}

vg_status vg_iforest_explain(const vg_iforest *f, const float *row, double *contrib)
{
    uint32_t F = f->n_features;
    memset(contrib, 0, ((size_t)F + 1) * sizeof *contrib);
    double path_sum = 0;
    for (uint32_t t = 0; t < f->n_trees; t++) {
        const vg_iforest_node *tree = f->nodes + f->tree_start[t];
        const uint32_t *n = f->n_samples + f->tree_start[t];
        uint32_t i = 0;
        while (tree[i].left) {
            const vg_iforest_node *nd = &tree[i];
            uint32_t child = nd->left + (uint32_t)!goes_left(f, nd, row);
            double delta = 1.0 + vg_iforest_c(n[child]) - vg_iforest_c(n[i]);
            uint32_t info = nd->info, idx = info & VG_IFOREST_INDEX_MASK;
            if ((info >> VG_IFOREST_KIND_SHIFT) == VG_IFOREST_OBLIQUE) {
                double total = 0;
                for (uint32_t q = 0; q < idx; q++) total += f->term_share[nd->aux + q];
                for (uint32_t q = 0; q < idx; q++)
                    contrib[f->term_feature[nd->aux + q]] +=
                        delta * (total > 0 ? f->term_share[nd->aux + q] / total : 1.0 / idx);
            } else {
                contrib[idx] += delta;
            }
            i = child;
        }
        path_sum += tree[i].value;
    }
    double total = 0;
    for (uint32_t c = 0; c < F; c++) {
        contrib[c] /= f->n_trees;
        total += contrib[c];
    }
    double s = score_of(f, path_sum), b = exp2(-f->h0 / f->c_psi), k = 0;
    /* s - b and the sum of D have opposite signs, but for rounding when both
     * are about zero: then nothing is credited and the bias is the score. */
    if (fabs(total) > 1e-12 && (s - b) * total < 0) k = (s - b) / total;
    else b = s;
    for (uint32_t c = 0; c < F; c++) contrib[c] *= k;
    contrib[F] = b;
    return VG_OK;
}
