/* Exact k nearest neighbours for the samplers (see vg_knn in vigil/sampler.h).
 *
 * Why a k-d tree and not blocked brute force: SMOTE's cost is the neighbour
 * search, and on security data the brute-force distance matrix is the whole
 * bill (NSL-KDD's 58,630 attack rows are 3.4e9 pairs; imbalanced-learn pays
 * about 20 s for it with BLAS). Those rows are tightly clustered (floods of
 * near-identical records), so a tree over the numeric columns finds the k
 * nearest after visiting a few leaves and proves the rest farther by their
 * bounding boxes. The answer is exact, not approximate: a box is skipped only
 * when its lower bound is strictly greater than the current k-th distance,
 * and equal distances are ordered by row index, so the result is the one
 * brute force gives and the same on any number of threads (each query is
 * answered alone, into its own slots).
 *
 * Categorical columns (SMOTE-NC) add cat_cost per mismatch; the boxes bound
 * only the numeric part, which is still a lower bound of the full distance. */
#include "vigil/sampler.h"
#include "vigil/parallel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LEAF 24

typedef struct kd_node {
    uint32_t start, end;   /* points perm[start..end) */
    int32_t left, right;   /* children, -1 for a leaf */
} kd_node;

typedef struct kd_tree {
    const vg_matrix *X;
    const uint8_t *is_cat;
    double cat_cost;
    const size_t *ref;     /* positions -> rows of X */
    uint32_t *perm;        /* positions, grouped by node */
    uint32_t *num;         /* the numeric columns */
    size_t n_num;
    kd_node *nodes;
    float *lo, *hi;        /* per node: the box over the numeric columns (n_nodes x n_num) */
    size_t n_nodes, cap;
    int nomem;
} kd_tree;

/* Room for one more node; the tree's size depends on the data (midpoint
 * splits can peel off few points), so the arrays grow. */
static int grow(kd_tree *t)
{
    if (t->n_nodes < t->cap) return 1;
    size_t cap = t->cap * 2, nn = t->n_num ? t->n_num : 1;
    kd_node *nodes = vg_realloc(t->nodes, cap * sizeof *nodes);
    if (nodes) t->nodes = nodes;
    float *lo = nodes ? vg_realloc(t->lo, cap * nn * sizeof *lo) : NULL;
    if (lo) t->lo = lo;
    float *hi = lo ? vg_realloc(t->hi, cap * nn * sizeof *hi) : NULL;
    if (hi) t->hi = hi;
    if (!hi) {
        t->nomem = 1;
        return 0;
    }
    t->cap = cap;
    return 1;
}

static double dist2(const kd_tree *t, const float *a, const float *b)
{
    const size_t cols = t->X->cols;
    double s = 0;
    if (!t->is_cat) {
        for (size_t j = 0; j < cols; j++) {
            double d = (double)a[j] - (double)b[j];
            s += d * d;
        }
        return s;
    }
    for (size_t j = 0; j < cols; j++) {
        if (t->is_cat[j]) {
            /* NaN (missing or unseen) is a category of its own */
            int same = a[j] == b[j] || (isnan(a[j]) && isnan(b[j]));
            if (!same) s += t->cat_cost;
        } else {
            double d = (double)a[j] - (double)b[j];
            s += d * d;
        }
    }
    return s;
}

static const float *row_of(const kd_tree *t, uint32_t pos) { return t->X->data + t->ref[pos] * t->X->cols; }

static int32_t build(kd_tree *t, uint32_t start, uint32_t end)
{
    if (!grow(t)) return -1;
    int32_t id = (int32_t)t->n_nodes++;
    kd_node *nd = &t->nodes[id];
    nd->start = start, nd->end = end, nd->left = nd->right = -1;
    float *lo = t->lo + (size_t)id * t->n_num, *hi = t->hi + (size_t)id * t->n_num;
    for (size_t d = 0; d < t->n_num; d++) lo[d] = INFINITY, hi[d] = -INFINITY;
    for (uint32_t i = start; i < end; i++) {
        const float *x = row_of(t, t->perm[i]);
        for (size_t d = 0; d < t->n_num; d++) {
            float v = x[t->num[d]];
            if (v < lo[d]) lo[d] = v;
            if (v > hi[d]) hi[d] = v;
        }
    }
    if (end - start <= LEAF || t->n_num == 0) return id;
    size_t best = 0;
    float spread = -1;
    for (size_t d = 0; d < t->n_num; d++)
        if (hi[d] - lo[d] > spread) spread = hi[d] - lo[d], best = d;
    if (!(spread > 0)) return id;  /* all points equal on the numeric columns */
    /* Split at the middle of the widest side, not the median: clustered data
     * then separates its clusters, and one pass partitions in place. */
    float mid = lo[best] + spread / 2;
    size_t col = t->num[best];
    uint32_t i = start, j = end;
    while (i < j) {
        if (row_of(t, t->perm[i])[col] < mid) i++;
        else {
            uint32_t tmp = t->perm[i];
            t->perm[i] = t->perm[--j];
            t->perm[j] = tmp;
        }
    }
    if (i == start || i == end) i = start + (end - start) / 2;  /* float rounding: split by count */
    int32_t l = build(t, start, i), r = l < 0 ? -1 : build(t, i, end);
    if (l < 0 || r < 0) return -1;
    t->nodes[id].left = l, t->nodes[id].right = r;
    return id;
}

/* The k best so far, sorted by (distance, position). */
typedef struct best_k {
    uint32_t k, n;
    double *d;
    uint32_t *pos;
} best_k;

static int better(double d, uint32_t p, double bd, uint32_t bp) { return d < bd || (d == bd && p < bp); }

static void offer(best_k *b, double d, uint32_t p)
{
    if (b->n == b->k && !better(d, p, b->d[b->n - 1], b->pos[b->n - 1])) return;
    uint32_t i = b->n < b->k ? b->n++ : b->k - 1;
    while (i > 0 && better(d, p, b->d[i - 1], b->pos[i - 1])) {
        b->d[i] = b->d[i - 1], b->pos[i] = b->pos[i - 1];
        i--;
    }
    b->d[i] = d, b->pos[i] = p;
}

static double box_bound(const kd_tree *t, int32_t id, const float *q)
{
    const float *lo = t->lo + (size_t)id * t->n_num, *hi = t->hi + (size_t)id * t->n_num;
    double s = 0;
    for (size_t d = 0; d < t->n_num; d++) {
        float v = q[t->num[d]];
        double e = v < lo[d] ? (double)lo[d] - v : v > hi[d] ? (double)v - hi[d] : 0.0;
        s += e * e;
    }
    return s;
}

static void search(const kd_tree *t, int32_t id, const float *q, size_t self_row, best_k *b)
{
    const kd_node *nd = &t->nodes[id];
    if (nd->left < 0) {
        for (uint32_t i = nd->start; i < nd->end; i++) {
            uint32_t p = t->perm[i];
            if (t->ref[p] == self_row) continue;
            offer(b, dist2(t, q, row_of(t, p)), p);
        }
        return;
    }
    double bl = box_bound(t, nd->left, q), br = box_bound(t, nd->right, q);
    int32_t first = bl <= br ? nd->left : nd->right, second = bl <= br ? nd->right : nd->left;
    double b1 = bl <= br ? bl : br, b2 = bl <= br ? br : bl;
    if (b->n < b->k || b1 <= b->d[b->n - 1]) search(t, first, q, self_row, b);
    if (b->n < b->k || b2 <= b->d[b->n - 1]) search(t, second, q, self_row, b);
}

typedef struct query_ctx {
    const kd_tree *t;
    const size_t *query;
    size_t nq;
    uint32_t k;
    uint32_t *out;
    double *dist;
    double *scratch_d;     /* threads x k */
    uint32_t *scratch_p;
} query_ctx;

enum { QUERY_BLOCK = 64 };

static void query_block(void *vctx, size_t task, int worker)
{
    query_ctx *c = vctx;
    best_k b = { .k = c->k, .d = c->scratch_d + (size_t)worker * c->k, .pos = c->scratch_p + (size_t)worker * c->k };
    size_t end = (task + 1) * QUERY_BLOCK < c->nq ? (task + 1) * QUERY_BLOCK : c->nq;
    for (size_t i = task * QUERY_BLOCK; i < end; i++) {
        size_t row = c->query[i];
        b.n = 0;
        search(c->t, 0, c->t->X->data + row * c->t->X->cols, row, &b);
        for (uint32_t j = 0; j < c->k; j++) {
            c->out[i * c->k + j] = j < b.n ? b.pos[j] : b.pos[b.n ? b.n - 1 : 0];
            if (c->dist) c->dist[i * c->k + j] = j < b.n ? b.d[j] : INFINITY;
        }
    }
}

vg_status vg_knn(const vg_matrix *X, const uint8_t *is_categorical, double cat_cost, const size_t *ref, size_t nr,
                 const size_t *query, size_t nq, uint32_t k, int threads, uint32_t *out, double *dist)
{
    if (k == 0 || nr == 0 || nr > UINT32_MAX) return vg_fail(VG_ERR_INVALID, "neighbours: k %u among %zu rows", k, nr);
    kd_tree t = { .X = X, .is_cat = is_categorical, .cat_cost = cat_cost, .ref = ref };
    int nt = vg_threads_resolve(threads);
    t.perm = vg_malloc(nr * sizeof *t.perm);
    t.num = vg_malloc((X->cols ? X->cols : 1) * sizeof *t.num);
    t.cap = 2 * (nr / LEAF + 1) + 1;
    t.nodes = vg_malloc(t.cap * sizeof *t.nodes);
    for (size_t j = 0; t.num && j < X->cols; j++)
        if (!is_categorical || !is_categorical[j]) t.num[t.n_num++] = (uint32_t)j;
    t.lo = vg_malloc(t.cap * (t.n_num ? t.n_num : 1) * sizeof *t.lo);
    t.hi = vg_malloc(t.cap * (t.n_num ? t.n_num : 1) * sizeof *t.hi);
    query_ctx c = { .t = &t, .query = query, .nq = nq, .k = k, .out = out, .dist = dist };
    c.scratch_d = vg_malloc((size_t)nt * k * sizeof *c.scratch_d);
    c.scratch_p = vg_malloc((size_t)nt * k * sizeof *c.scratch_p);
    vg_status st = VG_OK;
    if (!t.perm || !t.num || !t.nodes || !t.lo || !t.hi || !c.scratch_d || !c.scratch_p) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < nr; i++) t.perm[i] = i;
    if (build(&t, 0, (uint32_t)nr) < 0 || t.nomem) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto done;
    }
    vg_parallel_for(nt, (nq + QUERY_BLOCK - 1) / QUERY_BLOCK, query_block, &c);
done:
    vg_free(t.perm), vg_free(t.num), vg_free(t.nodes), vg_free(t.lo), vg_free(t.hi);
    vg_free(c.scratch_d), vg_free(c.scratch_p);
    return st;
}
