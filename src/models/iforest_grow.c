/* Growing an isolation forest (Liu, Ting and Zhou 2008), as scikit-learn's
 * IsolationForest does: each tree sees psi = max_samples rows drawn without
 * replacement (with it under bootstrap=true, duplicates merged as
 * scikit-learn's sample weights do) and max_features columns drawn per tree,
 * and is grown to depth ceil(log2 psi) or until a node holds one row or only
 * constant columns. A node cuts a random non-constant column:
 *   numeric      at a threshold drawn uniformly in [min, max) of the node's
 *                rows, rounded down to a float so that x <= threshold means
 *                the same for float rows as the double did;
 *   categorical  natively: each category present at the node goes left or
 *                right by a fair coin (a proper subset, redrawn if all went
 *                one way), so no one-hot column dilutes the draw of columns;
 *                NaN (missing) counts as one more category.
 * With extension_level > 0 (Hariri et al. 2018, extended isolation forest) a
 * numeric cut is a hyperplane over the drawn column and `extension_level`
 * other non-constant numeric columns: normal components drawn from N(0, 1),
 * each divided by its column's range at the node so that no column wins by
 * its units (KDD's byte counts would otherwise decide every cut), and the
 * intercept drawn uniformly between the smallest and largest projection of
 * the node's rows rather than inside their bounding box, so no child is ever
 * empty (a box intercept can miss every row and waste the node).
 *
 * Tree t draws everything from its own generator seeded with (seed, t) and
 * the trees are joined in index order, so a forest is bit-identical for any
 * thread count. Label and weights are ignored (an anomaly family fits on the
 * rows alone). */
#include "models/iforest.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/parallel.h"
#include "vigil/rng.h"

/* Status of a tree not attempted because another one failed. */
#define TREE_SKIPPED ((vg_status)1)
/* Draws of an oblique intercept before falling back to an axis cut. */
#define OBLIQUE_TRIES 4

typedef struct grown_tree {
    vg_iforest_node *nodes;
    uint32_t *n_samples;
    uint32_t n_nodes;
    uint32_t *words;
    uint32_t n_words, cap_words;
    uint32_t *term_feature;
    float *term_weight, *term_share;
    uint32_t n_terms, cap_terms;
} grown_tree;

/* Per-worker scratch, sized once for the largest tree. */
typedef struct scratch {
    uint32_t *row_perm;   /* n_rows: identity between trees (partial Fisher-Yates is undone) */
    uint32_t *feat_perm;  /* n_features: likewise */
    uint32_t *undo;       /* max(psi, n_features) swap partners */
    uint32_t *sample;     /* psi: the tree's rows, ascending */
    uint32_t *tree_feat;  /* max_features: the tree's columns, ascending */
    float *cols;          /* max_features x psi, column-major */
    uint32_t *perm;       /* psi: local rows, partitioned node by node */
    double *proj;         /* psi: oblique projections */
    uint32_t *cand;       /* max_features: candidate columns at a node */
    uint32_t *num;        /* max_features: non-constant numeric columns at a node */
    float *lo, *hi;       /* max_features: column ranges at a node */
    double *g;            /* max_features: oblique normal draws */
    uint32_t *seen;       /* category words of the widest categorical column */
    uint32_t *codes;      /* max categories + 1: the codes present at a node */
    uint32_t *stack;      /* 4 x (2 psi): node id, lo, hi, depth */
} scratch;

typedef struct grow_ctx {
    const vg_iforest_params *p;
    const vg_matrix *X;
    const uint32_t *n_categories;  /* n_features; 0 = numeric */
    uint32_t n_rows, n_features, psi, max_features, max_depth, max_words, max_codes;
    int32_t extra_terms;           /* oblique: columns beside the drawn one (-1 = all) */
    const vg_fit_options *opt;
    scratch *scr;                  /* per worker */
    int *scr_ready;
    grown_tree *trees;
    vg_status *status;
    atomic_size_t done;
    atomic_int failed;
} grow_ctx;

static void scratch_free(scratch *s)
{
    void **a[] = { (void **)&s->row_perm, (void **)&s->feat_perm, (void **)&s->undo, (void **)&s->sample,
                   (void **)&s->tree_feat, (void **)&s->cols, (void **)&s->perm, (void **)&s->proj,
                   (void **)&s->cand, (void **)&s->num, (void **)&s->lo, (void **)&s->hi, (void **)&s->g,
                   (void **)&s->seen, (void **)&s->codes, (void **)&s->stack };
    for (size_t i = 0; i < sizeof a / sizeof *a; i++) {
        vg_free(*a[i]);
        *a[i] = NULL;
    }
}

static vg_status scratch_init(scratch *s, const grow_ctx *c)
{
    size_t m = c->psi, mf = c->max_features;
    s->row_perm = vg_malloc((size_t)c->n_rows * sizeof *s->row_perm);
    s->feat_perm = vg_malloc((size_t)c->n_features * sizeof *s->feat_perm);
    s->undo = vg_malloc(VG_MAX(m, (size_t)c->n_features) * sizeof *s->undo);
    s->sample = vg_malloc(m * sizeof *s->sample);
    s->tree_feat = vg_malloc(mf * sizeof *s->tree_feat);
    s->cols = vg_malloc(mf * m * sizeof *s->cols);
    s->perm = vg_malloc(m * sizeof *s->perm);
    s->proj = vg_malloc(m * sizeof *s->proj);
    s->cand = vg_malloc(mf * sizeof *s->cand);
    s->num = vg_malloc(mf * sizeof *s->num);
    s->lo = vg_malloc(mf * sizeof *s->lo);
    s->hi = vg_malloc(mf * sizeof *s->hi);
    s->g = vg_malloc(mf * sizeof *s->g);
    s->seen = vg_malloc(((size_t)c->max_words + 1) * sizeof *s->seen);
    s->codes = vg_malloc(((size_t)c->max_codes + 1) * sizeof *s->codes);
    s->stack = vg_malloc(4 * 2 * m * sizeof *s->stack);
    if (!s->row_perm || !s->feat_perm || !s->undo || !s->sample || !s->tree_feat || !s->cols || !s->perm ||
        !s->proj || !s->cand || !s->num || !s->lo || !s->hi || !s->g || !s->seen || !s->codes || !s->stack) {
        scratch_free(s);
        return vg_fail(VG_ERR_NOMEM, "iforest: out of memory");
    }
    for (uint32_t i = 0; i < c->n_rows; i++) s->row_perm[i] = i;
    for (uint32_t i = 0; i < c->n_features; i++) s->feat_perm[i] = i;
    return VG_OK;
}

static void tree_free(grown_tree *t)
{
    vg_free(t->nodes);
    vg_free(t->n_samples);
    vg_free(t->words);
    vg_free(t->term_feature);
    vg_free(t->term_weight);
    vg_free(t->term_share);
    memset(t, 0, sizeof *t);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The first k of perm[0..n) after a partial Fisher-Yates shuffle, copied to
 * out ascending; perm is restored to what it was. */
static void draw_without_replacement(vg_rng *rng, uint32_t *perm, uint32_t n, uint32_t k, uint32_t *undo,
                                     uint32_t *out)
{
    for (uint32_t i = 0; i < k; i++) {
        uint32_t j = i + vg_rng_below(rng, n - i);
        undo[i] = j;
        uint32_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    memcpy(out, perm, (size_t)k * sizeof *out);
    for (uint32_t i = k; i-- > 0;) {
        uint32_t j = undo[i], tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    qsort(out, k, sizeof *out, cmp_u32);
}

/* The largest float not above d, so that for any float x, x <= result
 * exactly when x <= d. */
static float float_down(double d)
{
    float f = (float)d;
    if ((double)f > d) f = nextafterf(f, -INFINITY);
    return f;
}

/* Category code of a value (NaN = k); valid training values are checked
 * before growing. */
static uint32_t code_of(float v, uint32_t k)
{
    return v != v ? k : (uint32_t)v;
}

static int add_words(grown_tree *t, uint32_t n)
{
    if (t->n_words + n > t->cap_words) {
        uint32_t cap = VG_MAX(t->cap_words * 2, t->n_words + n + 16);
        uint32_t *w = vg_realloc(t->words, (size_t)cap * sizeof *w);
        if (!w) return 0;
        t->words = w;
        t->cap_words = cap;
    }
    memset(t->words + t->n_words, 0, (size_t)n * sizeof *t->words);
    t->n_words += n;
    return 1;
}

static int add_terms(grown_tree *t, uint32_t n)
{
    if (t->n_terms + n > t->cap_terms) {
        uint32_t cap = VG_MAX(t->cap_terms * 2, t->n_terms + n + 16);
        uint32_t *f = vg_realloc(t->term_feature, (size_t)cap * sizeof *f);
        if (f) t->term_feature = f;
        float *w = vg_realloc(t->term_weight, (size_t)cap * sizeof *w);
        if (w) t->term_weight = w;
        float *s = vg_realloc(t->term_share, (size_t)cap * sizeof *s);
        if (s) t->term_share = s;
        if (!f || !w || !s) return 0;
        t->cap_terms = cap;
    }
    t->n_terms += n;
    return 1;
}

/* Move the rows of perm[lo, hi) whose flag is set to the front; returns the
 * end of the front part. */
static uint32_t partition(uint32_t *perm, uint32_t lo, uint32_t hi, const uint8_t *left_of_row)
{
    uint32_t i = lo, j = hi;
    while (i < j) {
        if (left_of_row[perm[i]]) {
            i++;
        } else {
            j--;
            uint32_t tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
    }
    return i;
}

typedef struct node_job {
    const grow_ctx *c;
    scratch *s;
    grown_tree *t;
    vg_rng *rng;
    uint32_t m, mf;  /* rows and columns of this tree */
    uint8_t *left;   /* m: the side of each local row under the cut being tried */
} node_job;

static const float *col(const node_job *j, uint32_t local_feature)
{
    return j->s->cols + (size_t)local_feature * j->m;
}

static uint32_t global_feature(const node_job *j, uint32_t local_feature)
{
    return j->s->tree_feat[local_feature];
}

static void range_of(const node_job *j, uint32_t lf, uint32_t lo, uint32_t hi, float *mn, float *mx)
{
    const float *x = col(j, lf);
    const uint32_t *perm = j->s->perm;
    float a = x[perm[lo]], b = a;
    for (uint32_t i = lo + 1; i < hi; i++) {
        float v = x[perm[i]];
        a = v < a ? v : a;
        b = v > b ? v : b;
    }
    *mn = a;
    *mx = b;
}

/* The distinct codes of categorical column lf at the node, into s->codes and
 * the bitmap s->seen; returns how many. */
static uint32_t codes_at(const node_job *j, uint32_t lf, uint32_t lo, uint32_t hi)
{
    uint32_t k = j->c->n_categories[global_feature(j, lf)], words = (k + 1 + 31) / 32, n = 0;
    uint32_t *seen = j->s->seen;
    memset(seen, 0, (size_t)words * sizeof *seen);
    const float *x = col(j, lf);
    for (uint32_t i = lo; i < hi; i++) {
        uint32_t code = code_of(x[j->s->perm[i]], k);
        if (!(seen[code >> 5] >> (code & 31) & 1u)) {
            seen[code >> 5] |= 1u << (code & 31);
            j->s->codes[n++] = code;
        }
    }
    return n;
}

/* An axis cut of numeric column lf whose range at the node is [mn, mx), mn < mx. */
static void cut_axis(const node_job *j, uint32_t id, uint32_t lf, float mn, float mx, uint32_t lo, uint32_t hi)
{
    double t = (double)mn + vg_rng_uniform(j->rng) * ((double)mx - (double)mn);
    if (!(t < (double)mx)) t = mn;  /* rounding reached the top: as scikit-learn, cut at the bottom */
    float thr = float_down(t);
    const float *x = col(j, lf);
    for (uint32_t i = lo; i < hi; i++) j->left[j->s->perm[i]] = x[j->s->perm[i]] <= thr;
    j->t->nodes[id] = (vg_iforest_node){ 0, (uint32_t)VG_IFOREST_AXIS << VG_IFOREST_KIND_SHIFT | global_feature(j, lf),
                                         0, thr };
}

/* A categorical cut over the n >= 2 codes present (s->codes, s->seen). */
static vg_status cut_category(const node_job *j, uint32_t id, uint32_t lf, uint32_t n_codes, uint32_t lo,
                              uint32_t hi)
{
    uint32_t f = global_feature(j, lf), k = j->c->n_categories[f], words = (k + 1 + 31) / 32;
    if (!add_words(j->t, words)) return vg_fail(VG_ERR_NOMEM, "iforest: out of memory");
    uint32_t *w = j->t->words + j->t->n_words - words;
    for (;;) {
        uint32_t n_left = 0;
        memset(w, 0, (size_t)words * sizeof *w);
        for (uint32_t i = 0; i < n_codes; i++) {
            uint32_t code = j->s->codes[i];
            if (vg_rng_next(j->rng) >> 63) {
                w[code >> 5] |= 1u << (code & 31);
                n_left++;
            }
        }
        if (n_left > 0 && n_left < n_codes) break;
    }
    const float *x = col(j, lf);
    for (uint32_t i = lo; i < hi; i++) {
        uint32_t code = code_of(x[j->s->perm[i]], k);
        j->left[j->s->perm[i]] = w[code >> 5] >> (code & 31) & 1u;
    }
    j->t->nodes[id] = (vg_iforest_node){ 0, (uint32_t)VG_IFOREST_CATEGORY << VG_IFOREST_KIND_SHIFT | f,
                                         j->t->n_words - words, 0.0f };
    return VG_OK;
}

/* An oblique cut through numeric column lf0 and up to extra_terms other
 * non-constant numeric columns; 0 when it fell back to nothing (the caller
 * then cuts lf0 on its axis), 1 when made, -1 out of memory. */
static int cut_oblique(const node_job *j, uint32_t id, uint32_t lf0, uint32_t lo, uint32_t hi)
{
    scratch *s = j->s;
    const grow_ctx *c = j->c;
    uint32_t n_num = 0, first = 0;
    for (uint32_t lf = 0; lf < j->mf; lf++) {
        if (c->n_categories[global_feature(j, lf)]) continue;
        float mn, mx;
        range_of(j, lf, lo, hi, &mn, &mx);
        if (!(mx > mn)) continue;
        if (lf == lf0) first = n_num;
        s->num[n_num] = lf;
        s->lo[n_num] = mn;
        s->hi[n_num] = mx;
        n_num++;
    }
    uint32_t k = c->extra_terms < 0 ? n_num : VG_MIN(n_num, (uint32_t)c->extra_terms + 1);
    if (k < 2) return 0;
    /* The drawn column first, then k - 1 others by a partial shuffle. */
    uint32_t swap_tmp;
#define SWAP_NUM(a, b)                                                         \
    do {                                                                       \
        swap_tmp = s->num[a], s->num[a] = s->num[b], s->num[b] = swap_tmp;     \
        float ft = s->lo[a]; s->lo[a] = s->lo[b]; s->lo[b] = ft;               \
        ft = s->hi[a]; s->hi[a] = s->hi[b]; s->hi[b] = ft;                     \
    } while (0)
    SWAP_NUM(0, first);
    for (uint32_t i = 1; i < k; i++) {
        uint32_t r = i + vg_rng_below(j->rng, n_num - i);
        SWAP_NUM(i, r);
    }
#undef SWAP_NUM
    double total = 0;
    for (uint32_t i = 0; i < k; i++) {
        s->g[i] = vg_rng_normal(j->rng);
        total += fabs(s->g[i]);
    }
    uint32_t base = j->t->n_terms;
    if (!add_terms(j->t, k)) return -1;
    uint32_t *tf = j->t->term_feature + base;
    float *tw = j->t->term_weight + base, *ts = j->t->term_share + base;
    for (uint32_t i = 0; i < k; i++) {
        tf[i] = global_feature(j, s->num[i]);
        tw[i] = (float)(s->g[i] / ((double)s->hi[i] - (double)s->lo[i]));
        ts[i] = total > 0 ? (float)(fabs(s->g[i]) / total) : 1.0f / (float)k;
    }
    /* The projections, summed exactly as iforest_score.c sums them. */
    double pmin = INFINITY, pmax = -INFINITY;
    for (uint32_t i = lo; i < hi; i++) {
        uint32_t r = s->perm[i];
        double p = 0;
        for (uint32_t q = 0; q < k; q++) p += (double)tw[q] * (double)col(j, s->num[q])[r];
        s->proj[r] = p;
        pmin = p < pmin ? p : pmin;
        pmax = p > pmax ? p : pmax;
    }
    if (pmax > pmin && isfinite(pmax - pmin)) {
        for (int attempt = 0; attempt < OBLIQUE_TRIES; attempt++) {
            float b = float_down(pmin + vg_rng_uniform(j->rng) * (pmax - pmin));
            uint32_t n_left = 0;
            for (uint32_t i = lo; i < hi; i++) {
                uint32_t r = s->perm[i];
                j->left[r] = s->proj[r] <= (double)b;
                n_left += j->left[r];
            }
            if (n_left > 0 && n_left < hi - lo) {
                j->t->nodes[id] = (vg_iforest_node){
                    0, (uint32_t)VG_IFOREST_OBLIQUE << VG_IFOREST_KIND_SHIFT | k, base, b };
                return 1;
            }
        }
    }
    j->t->n_terms = base;  /* give the terms back */
    return 0;
}

/* Cut node id over perm[lo, hi): draw non-constant columns at random, as
 * scikit-learn's random splitter does with max_features=1. Returns 1 when
 * cut (j->left holds each row's side), 0 when every column is constant
 * there (a leaf), -1 on failure. */
static int cut_node(const node_job *j, uint32_t id, uint32_t lo, uint32_t hi)
{
    scratch *s = j->s;
    uint32_t nc = j->mf;
    for (uint32_t i = 0; i < nc; i++) s->cand[i] = i;
    while (nc > 0) {
        uint32_t pick = vg_rng_below(j->rng, nc), lf = s->cand[pick];
        if (j->c->n_categories[global_feature(j, lf)]) {
            uint32_t n_codes = codes_at(j, lf, lo, hi);
            if (n_codes >= 2) return cut_category(j, id, lf, n_codes, lo, hi) == VG_OK ? 1 : -1;
        } else {
            float mn, mx;
            range_of(j, lf, lo, hi, &mn, &mx);
            if (mx > mn) {
                if (j->c->extra_terms != 0) {
                    int made = cut_oblique(j, id, lf, lo, hi);
                    if (made) return made;
                }
                cut_axis(j, id, lf, mn, mx, lo, hi);
                return 1;
            }
        }
        s->cand[pick] = s->cand[--nc];
    }
    return 0;
}

static vg_status grow_tree(const grow_ctx *c, scratch *s, uint32_t t_index, grown_tree *t)
{
    vg_rng rng;
    vg_rng_seed(&rng, c->opt ? c->opt->seed : 0, t_index);
    uint32_t mf = c->max_features, m;
    if (mf < c->n_features) draw_without_replacement(&rng, s->feat_perm, c->n_features, mf, s->undo, s->tree_feat);
    else memcpy(s->tree_feat, s->feat_perm, (size_t)mf * sizeof *s->tree_feat);
    if (c->p->bootstrap) {
        for (uint32_t i = 0; i < c->psi; i++) s->sample[i] = vg_rng_below(&rng, c->n_rows);
        qsort(s->sample, c->psi, sizeof *s->sample, cmp_u32);
        m = 0;
        for (uint32_t i = 0; i < c->psi; i++)
            if (m == 0 || s->sample[i] != s->sample[m - 1]) s->sample[m++] = s->sample[i];
    } else {
        m = c->psi;
        draw_without_replacement(&rng, s->row_perm, c->n_rows, m, s->undo, s->sample);
    }
    /* cols: (mf, m), the tree's columns gathered once so every node scan is
     * over contiguous floats. */
    const float *X = c->X->data;
    size_t F = c->X->cols;
    for (uint32_t i = 0; i < m; i++) {
        const float *row = X + (size_t)s->sample[i] * F;
        for (uint32_t q = 0; q < mf; q++) s->cols[(size_t)q * m + i] = row[s->tree_feat[q]];
    }
    for (uint32_t i = 0; i < m; i++) s->perm[i] = i;

    uint32_t cap = 2 * m - 1;
    t->nodes = vg_calloc(cap, sizeof *t->nodes);
    t->n_samples = vg_calloc(cap, sizeof *t->n_samples);
    uint8_t *left = vg_malloc(m);
    if (!t->nodes || !t->n_samples || !left) {
        vg_free(left);
        return vg_fail(VG_ERR_NOMEM, "iforest: out of memory");
    }
    node_job j = { c, s, t, &rng, m, mf, left };
    t->n_nodes = 1;
    uint32_t *stack = s->stack, top = 0;
    stack[0] = 0, stack[1] = 0, stack[2] = m, stack[3] = 0;
    top = 1;
    vg_status st = VG_OK;
    while (top > 0) {
        top--;
        uint32_t id = stack[4 * top], lo = stack[4 * top + 1], hi = stack[4 * top + 2], depth = stack[4 * top + 3];
        t->n_samples[id] = hi - lo;
        int cut = hi - lo > 1 && depth < c->max_depth ? cut_node(&j, id, lo, hi) : 0;
        if (cut < 0) {
            st = vg_fail(VG_ERR_NOMEM, "iforest: out of memory");
            break;
        }
        if (cut == 0) {
            /* Leaf: its path length is set by vg_iforest_finish. */
            t->nodes[id] = (vg_iforest_node){ 0, (uint32_t)VG_IFOREST_LEAF << VG_IFOREST_KIND_SHIFT, 0, 0.0f };
            continue;
        }
        uint32_t mid = partition(s->perm, lo, hi, left);
        uint32_t l = t->n_nodes;
        t->n_nodes += 2;
        t->nodes[id].left = l;
        /* A value the cut does not describe goes where fewer rows went: a
         * rare value isolates sooner. Unseen categories take that side too. */
        int missing_left = mid - lo < hi - mid;
        if (missing_left) t->nodes[id].info |= VG_IFOREST_MISSING_LEFT;
        if ((t->nodes[id].info >> VG_IFOREST_KIND_SHIFT) == VG_IFOREST_CATEGORY && missing_left) {
            uint32_t f = t->nodes[id].info & VG_IFOREST_INDEX_MASK, k = c->n_categories[f];
            uint32_t words = (k + 1 + 31) / 32, *w = t->words + t->nodes[id].aux;
            /* seen still holds this node's codes (cut_node's last scan). */
            for (uint32_t q = 0; q < words; q++) w[q] |= ~s->seen[q];
            if ((k + 1) & 31) w[words - 1] &= (1u << ((k + 1) & 31)) - 1u;
        }
        stack[4 * top] = l + 1, stack[4 * top + 1] = mid, stack[4 * top + 2] = hi, stack[4 * top + 3] = depth + 1;
        top++;
        stack[4 * top] = l, stack[4 * top + 1] = lo, stack[4 * top + 2] = mid, stack[4 * top + 3] = depth + 1;
        top++;
    }
    vg_free(left);
    return st;
}

static void tree_task(void *ctx, size_t task, int worker)
{
    grow_ctx *c = ctx;
    if (atomic_load(&c->failed)) {
        c->status[task] = TREE_SKIPPED;
        return;
    }
    vg_status st = VG_OK;
    if (!c->scr_ready[worker]) {
        st = scratch_init(&c->scr[worker], c);
        if (st == VG_OK) c->scr_ready[worker] = 1;
    }
    if (st == VG_OK) st = grow_tree(c, &c->scr[worker], (uint32_t)task, &c->trees[task]);
    c->status[task] = st;
    if (st != VG_OK) {
        atomic_store(&c->failed, 1);
        return;
    }
    size_t done = atomic_fetch_add(&c->done, 1) + 1;
    if (c->opt && c->opt->progress) c->opt->progress(c->opt->progress_user, "trees", done, c->p->n_estimators);
}

/* Every numeric value finite, every category a whole code below its count
 * or NaN: checked once, so growing trusts the rows. */
static vg_status check_rows(const vg_train_set *ts, const uint32_t *n_categories)
{
    const vg_matrix *X = ts->X;
    for (size_t r = 0; r < X->rows; r++) {
        const float *row = X->data + r * X->cols;
        for (size_t f = 0; f < X->cols; f++) {
            float v = row[f];
            uint32_t k = n_categories[f];
            const char *name = ts->features[f].name ? ts->features[f].name : "?";
            if (!k && !isfinite(v))
                return vg_fail(VG_ERR_DATA, "iforest: row %zu, numeric column %zu (%s) is %s; numbers must be "
                               "finite (the pipeline imputes missing ones)", r + 1, f + 1, name,
                               v != v ? "missing" : "infinite");
            if (k && v == v && !(v >= 0.0f && v < (float)k && v == floorf(v)))
                return vg_fail(VG_ERR_DATA, "iforest: row %zu, categorical column %zu (%s) holds %g, not a code "
                               "in [0, %u)", r + 1, f + 1, name, (double)v, k);
        }
    }
    return VG_OK;
}

/* Join the trees in index order into one forest. */
static vg_status join_trees(const grow_ctx *c, vg_iforest **out)
{
    uint64_t nodes = 0, words = 0, terms = 0;
    for (uint32_t t = 0; t < c->p->n_estimators; t++) {
        nodes += c->trees[t].n_nodes;
        words += c->trees[t].n_words;
        terms += c->trees[t].n_terms;
    }
    if (nodes > UINT32_MAX / 2 || words > UINT32_MAX / 2 || terms > UINT32_MAX / 2)
        return vg_fail(VG_ERR_INVALID, "iforest: the forest is too large to store");
    vg_iforest *f = vg_iforest_alloc(c->n_features, c->p->n_estimators, (uint32_t)nodes, (uint32_t)words,
                                     (uint32_t)terms);
    if (!f) return vg_fail(VG_ERR_NOMEM, "iforest: out of memory");
    f->psi = c->psi;
    f->extension_level = c->extra_terms;
    memcpy(f->n_categories, c->n_categories, (size_t)c->n_features * sizeof *f->n_categories);
    uint32_t at = 0, wat = 0, tat = 0;
    for (uint32_t t = 0; t < c->p->n_estimators; t++) {
        const grown_tree *g = &c->trees[t];
        f->tree_start[t] = at;
        for (uint32_t i = 0; i < g->n_nodes; i++) {
            vg_iforest_node nd = g->nodes[i];
            uint32_t kind = nd.info >> VG_IFOREST_KIND_SHIFT;
            if (kind == VG_IFOREST_CATEGORY) nd.aux += wat;
            else if (kind == VG_IFOREST_OBLIQUE) nd.aux += tat;
            f->nodes[at + i] = nd;
            f->n_samples[at + i] = g->n_samples[i];
        }
        if (g->n_words) memcpy(f->words + wat, g->words, (size_t)g->n_words * sizeof *f->words);
        if (g->n_terms) {
            memcpy(f->term_feature + tat, g->term_feature, (size_t)g->n_terms * sizeof *f->term_feature);
            memcpy(f->term_weight + tat, g->term_weight, (size_t)g->n_terms * sizeof *f->term_weight);
            memcpy(f->term_share + tat, g->term_share, (size_t)g->n_terms * sizeof *f->term_share);
        }
        at += g->n_nodes;
        wat += g->n_words;
        tat += g->n_terms;
    }
    vg_status st = vg_iforest_finish(f);
    if (st != VG_OK) {
        vg_iforest_free(f);
        return vg_fail(st, "iforest: a grown tree failed its own check (a bug): %s", vg_last_error());
    }
    *out = f;
    return VG_OK;
}

vg_status vg_iforest_grow(const void *params, const vg_train_set *ts, const vg_fit_options *opt, vg_iforest **out)
{
    *out = NULL;
    const vg_iforest_params *p = params;
    if (!ts || !ts->X || !ts->features || !ts->X->data)
        return vg_fail(VG_ERR_INVALID, "iforest: needs dense rows with their feature descriptions");
    const vg_matrix *X = ts->X;
    if (X->rows < 2) return vg_fail(VG_ERR_DATA, "iforest: needs at least 2 training rows (got %zu)", X->rows);
    if (X->rows > UINT32_MAX - 1) return vg_fail(VG_ERR_DATA, "iforest: more than 2^32 training rows");
    if (X->cols < 1 || X->cols > VG_IFOREST_INDEX_MASK)
        return vg_fail(VG_ERR_DATA, "iforest: %zu columns is not a usable number", X->cols);
    grow_ctx c = { .p = p, .X = X, .n_rows = (uint32_t)X->rows, .n_features = (uint32_t)X->cols, .opt = opt };
    uint32_t *n_categories = vg_calloc(X->cols, sizeof *n_categories);
    if (!n_categories) return vg_fail(VG_ERR_NOMEM, "iforest: out of memory");
    c.n_categories = n_categories;
    uint32_t n_numeric = 0;
    int threads = vg_threads_resolve(opt ? opt->threads : 0);
    vg_status st = VG_OK;
    for (size_t f = 0; f < X->cols; f++) {
        if (ts->features[f].kind == VG_FEATURE_CATEGORICAL) {
            uint32_t k = ts->features[f].n_categories;
            if (k < 1 || k > VG_IFOREST_MAX_CATEGORIES) {
                st = vg_fail(VG_ERR_DATA, "iforest: categorical column %zu has %u categories (1 to %u allowed)",
                             f + 1, k, VG_IFOREST_MAX_CATEGORIES);
                goto done;
            }
            n_categories[f] = k;
            c.max_words = VG_MAX(c.max_words, (k + 1 + 31) / 32);
            c.max_codes = VG_MAX(c.max_codes, k + 1);
        } else {
            n_numeric++;
        }
    }
    if ((st = check_rows(ts, n_categories)) != VG_OK) goto done;

    /* psi as scikit-learn: "auto" min(256, n), a count (at most n, with a
     * warning, as scikit-learn warns), or int(fraction * n). */
    double psi = p->max_samples_mode == VG_IFOREST_SAMPLES_AUTO ? VG_MIN(256.0, (double)X->rows)
               : p->max_samples_mode == VG_IFOREST_SAMPLES_COUNT ? p->max_samples
               : floor(p->max_samples * (double)X->rows);
    if (psi > (double)X->rows) {
        vg_log(VG_LOG_WARN, "iforest: max_samples %.0f is more than the %zu training rows; using %zu", psi, X->rows,
               X->rows);
        psi = (double)X->rows;
    }
    if (psi < 2) {
        st = vg_fail(VG_ERR_INVALID, "parameter max_samples: gives %.0f row(s) per tree of %zu; at least 2 are "
                     "needed", psi, X->rows);
        goto done;
    }
    c.psi = (uint32_t)psi;
    c.max_depth = 0;
    while (c.max_depth < 32 && (1ull << c.max_depth) < c.psi) c.max_depth++;
    double mf = p->max_features_count ? p->max_features : floor(p->max_features * (double)X->cols);
    if (mf > (double)X->cols) {
        st = vg_fail(VG_ERR_INVALID, "parameter max_features: %.0f is more than the %zu columns", mf, X->cols);
        goto done;
    }
    c.max_features = mf < 1 ? 1u : (uint32_t)mf;
    c.extra_terms = p->extension_level;
    if (p->extension_level > 0 && (uint32_t)p->extension_level >= VG_MAX(n_numeric, 1u)) {
        st = vg_fail(VG_ERR_INVALID, "parameter extension_level: %d needs more than %d numeric columns (there are "
                     "%u); use at most %d, or full", p->extension_level, p->extension_level, n_numeric,
                     n_numeric > 0 ? (int)n_numeric - 1 : 0);
        goto done;
    }
    if (c.extra_terms < 0 && n_numeric < 2) c.extra_terms = 0;  /* full extension of one column is an axis cut */

    uint32_t T = p->n_estimators;
    atomic_init(&c.done, 0);
    atomic_init(&c.failed, 0);
    c.scr = vg_calloc((size_t)threads, sizeof *c.scr);
    c.scr_ready = vg_calloc((size_t)threads, sizeof *c.scr_ready);
    c.trees = vg_calloc(T, sizeof *c.trees);
    c.status = vg_calloc(T, sizeof *c.status);
    if (!c.scr || !c.scr_ready || !c.trees || !c.status) {
        st = vg_fail(VG_ERR_NOMEM, "iforest: out of memory");
        goto done;
    }
    vg_parallel_for(threads, T, tree_task, &c);
    /* A failure left its message on a worker thread: restate it here. */
    for (uint32_t t = 0; t < T; t++) {
        if (c.status[t] != VG_OK && c.status[t] != TREE_SKIPPED) {
            st = vg_fail(c.status[t], "iforest: growing tree %u failed: %s", t, vg_status_str(c.status[t]));
            goto done;
        }
    }
    st = join_trees(&c, out);
done:
    for (int i = 0; c.scr && i < threads; i++)
        if (c.scr_ready[i]) scratch_free(&c.scr[i]);
    for (uint32_t t = 0; c.trees && t < p->n_estimators; t++) tree_free(&c.trees[t]);
    vg_free(c.scr);
    vg_free(c.scr_ready);
    vg_free(c.trees);
    vg_free(c.status);
    vg_free(n_categories);
    return st;
}
