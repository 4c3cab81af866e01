/* The fitted CART model (see cart.h): trees packed into one allocation,
 * prediction, save/load with full validation, and the description. */
#include "models/cart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/parallel.h"

/* Leaf values and bitsets are read as raw little-endian words. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cart_model.c assumes a little-endian host"
#endif

#define CART_FORMAT_VERSION 1u
#define CART_MAX_CLASSES 65536u
#define CART_MAX_CATEGORIES (1u << 30)

/* One block: the struct, then nodes, values, cats, tree_start, n_categories
 * and categorical (all 4-byte aligned after the 8-byte aligned struct). */
static vg_cart_model *model_alloc(uint32_t nf, uint32_t C, uint32_t n_trees, uint32_t n_nodes,
                                  uint32_t n_leaves, uint32_t n_cat_words)
{
    size_t size = sizeof(vg_cart_model) + (size_t)n_nodes * sizeof(vg_cart_node) +
                  (size_t)n_leaves * C * sizeof(float) + (size_t)n_cat_words * sizeof(uint32_t) +
                  ((size_t)n_trees + 1) * sizeof(uint32_t) + (size_t)nf * (sizeof(uint32_t) + 1);
    vg_cart_model *m = vg_calloc(1, size);
    if (!m) return NULL;
    uint8_t *p = (uint8_t *)(m + 1);
    m->nodes = (vg_cart_node *)p;    p += (size_t)n_nodes * sizeof(vg_cart_node);
    m->values = (float *)p;          p += (size_t)n_leaves * C * sizeof(float);
    m->cats = (uint32_t *)p;         p += (size_t)n_cat_words * sizeof(uint32_t);
    m->tree_start = (uint32_t *)p;   p += ((size_t)n_trees + 1) * sizeof(uint32_t);
    m->n_categories = (uint32_t *)p; p += (size_t)nf * sizeof(uint32_t);
    m->categorical = p;
    m->n_features = nf;
    m->n_classes = C;
    m->n_trees = n_trees;
    m->n_nodes = n_nodes;
    m->n_leaves = n_leaves;
    m->n_cat_words = n_cat_words;
    return m;
}

void vg_cart_model_free(vg_cart_model *m)
{
    vg_free(m);
}

vg_status vg_cart_model_pack(const vg_cart_tree *trees, uint32_t n_trees, const vg_feature *features,
                             uint32_t n_features, uint32_t n_classes, vg_cart_model **out)
{
    *out = NULL;
    uint64_t nodes = 0, leaves = 0, words = 0;
    for (uint32_t t = 0; t < n_trees; t++) {
        nodes += trees[t].n_nodes;
        leaves += trees[t].n_leaves;
        words += trees[t].n_cat_words;
    }
    if (nodes >= UINT32_MAX || leaves * n_classes >= UINT32_MAX || words >= UINT32_MAX)
        return vg_fail(VG_ERR_LIMIT, "forest: %llu nodes are too many for one model", (unsigned long long)nodes);
    vg_cart_model *m = model_alloc(n_features, n_classes, n_trees, (uint32_t)nodes, (uint32_t)leaves,
                                   (uint32_t)words);
    if (!m) return vg_fail(VG_ERR_NOMEM, "forest: out of memory packing %llu nodes", (unsigned long long)nodes);
    for (uint32_t f = 0; f < n_features; f++) {
        m->categorical[f] = features[f].kind == VG_FEATURE_CATEGORICAL;
        m->n_categories[f] = m->categorical[f] ? features[f].n_categories : 0;
    }
    uint32_t node_base = 0, leaf_base = 0, cat_base = 0;
    for (uint32_t t = 0; t < n_trees; t++) {
        const vg_cart_tree *tr = &trees[t];
        m->tree_start[t] = node_base;
        for (uint32_t j = 0; j < tr->n_nodes; j++) {
            vg_cart_node nd = tr->nodes[j];
            if (nd.feature < 0) nd.child += leaf_base;
            else if (nd.flags & VG_CART_CATEGORICAL) nd.u.cats += cat_base;
            m->nodes[node_base + j] = nd;
        }
        memcpy(m->values + (size_t)leaf_base * n_classes, tr->values,
               (size_t)tr->n_leaves * n_classes * sizeof(float));
        if (tr->n_cat_words) memcpy(m->cats + cat_base, tr->cats, tr->n_cat_words * sizeof(uint32_t));
        node_base += tr->n_nodes;
        leaf_base += tr->n_leaves;
        cat_base += tr->n_cat_words;
        if (tr->depth > m->max_depth) m->max_depth = tr->depth;
    }
    m->tree_start[n_trees] = node_base;
    *out = m;
    return VG_OK;
}

/* 1 if the row goes to the right child of split node nd. */
static inline uint32_t goes_right(const vg_cart_model *m, const vg_cart_node *nd, const float *row)
{
    float x = row[nd->feature];
    uint32_t missing_right = (nd->flags & VG_CART_MISSING_LEFT) ^ 1u;
    if (!(nd->flags & VG_CART_CATEGORICAL)) {
        uint32_t right = x > nd->u.threshold;  /* written to compile without a branch */
        return isnan(x) ? missing_right : right;
    }
    if (x >= 0.0f && x < (float)m->n_categories[nd->feature] && x == floorf(x)) {
        uint32_t c = (uint32_t)x;
        return ((m->cats[nd->u.cats + (c >> 5)] >> (c & 31)) & 1u) ^ 1u;
    }
    return missing_right;  /* NaN or a category never seen in training */
}

/* Leaf index reached by one row in the tree whose root is `nodes`. */
static uint32_t descend(const vg_cart_model *m, const vg_cart_node *nodes, const float *row)
{
    uint32_t j = 0;
    while (nodes[j].feature >= 0) j = nodes[j].child + goes_right(m, &nodes[j], row);
    return nodes[j].child;
}

/* Leaves of up to LANES rows at once: the rows step down the tree together,
 * so the memory waits and mispredicted turns of one row overlap with the
 * work of the others. */
#define LANES 8

static void descend_lanes(const vg_cart_model *m, const vg_cart_node *nodes, const float *rows, size_t cols,
                          uint32_t n, uint32_t *leaf)
{
    uint32_t j[LANES] = { 0 };
    for (;;) {
        uint32_t moving = 0;
        for (uint32_t k = 0; k < n; k++) {
            const vg_cart_node *nd = &nodes[j[k]];
            if (nd->feature < 0) continue;
            moving = 1;
            j[k] = nd->child + goes_right(m, nd, rows + k * cols);
        }
        if (!moving) break;
    }
    for (uint32_t k = 0; k < n; k++) leaf[k] = nodes[j[k]].child;
}

const float *vg_cart_model_leaf(const vg_cart_model *m, uint32_t t, const float *row)
{
    uint32_t leaf = descend(m, m->nodes + m->tree_start[t], row);
    return m->values + (size_t)leaf * m->n_classes;
}

#define PREDICT_BLOCK 256
#define PREDICT_ACC 4096  /* doubles of accumulator on the stack */

/* One row: the trees' leaf probabilities summed in tree order in double, then
 * divided by the tree count; the block path below computes exactly this. */
void vg_cart_model_predict_row(const vg_cart_model *m, const float *row, float *proba)
{
    const uint32_t C = m->n_classes;
    if (C > PREDICT_ACC) {
        /* Very many classes: accumulate in the output row itself. */
        memset(proba, 0, C * sizeof(float));
        for (uint32_t t = 0; t < m->n_trees; t++) {
            const float *v = vg_cart_model_leaf(m, t, row);
            for (uint32_t k = 0; k < C; k++) proba[k] += v[k] / (float)m->n_trees;
        }
        return;
    }
    double acc[PREDICT_ACC];
    memset(acc, 0, C * sizeof(double));
    for (uint32_t t = 0; t < m->n_trees; t++) {
        const float *v = vg_cart_model_leaf(m, t, row);
        for (uint32_t k = 0; k < C; k++) acc[k] += v[k];
    }
    for (uint32_t k = 0; k < C; k++) proba[k] = (float)(acc[k] / m->n_trees);
}

typedef struct predict_ctx {
    const vg_cart_model *m;
    const vg_matrix *X;
    float *proba;
} predict_ctx;

/* Rows [task * PREDICT_BLOCK, ...): trees outer, rows inner, so a tree stays
 * in cache while a block of rows runs through it; each row still sums its
 * trees in tree order. */
static void predict_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    const predict_ctx *c = ctx;
    const vg_cart_model *m = c->m;
    const uint32_t C = m->n_classes;
    const size_t cols = c->X->cols;
    size_t r0 = task * PREDICT_BLOCK, r1 = VG_MIN(r0 + PREDICT_BLOCK, c->X->rows);
    double acc[PREDICT_ACC];
    size_t step = C <= PREDICT_ACC ? PREDICT_ACC / C : 1;
    for (size_t a = r0; a < r1; a += step) {
        size_t b = VG_MIN(a + step, r1);
        if (C > PREDICT_ACC) {
            for (size_t r = a; r < b; r++) vg_cart_model_predict_row(m, c->X->data + r * cols, c->proba + r * C);
            continue;
        }
        memset(acc, 0, (b - a) * C * sizeof(double));
        for (uint32_t t = 0; t < m->n_trees; t++) {
            const vg_cart_node *nodes = m->nodes + m->tree_start[t];
            for (size_t r = a; r < b; r += LANES) {
                uint32_t n = (uint32_t)VG_MIN((size_t)LANES, b - r), leaf[LANES];
                descend_lanes(m, nodes, c->X->data + r * cols, cols, n, leaf);
                for (uint32_t q = 0; q < n; q++) {
                    const float *v = m->values + (size_t)leaf[q] * C;
                    double *o = acc + (r + q - a) * C;
                    for (uint32_t k = 0; k < C; k++) o[k] += v[k];
                }
            }
        }
        for (size_t r = a; r < b; r++)
            for (uint32_t k = 0; k < C; k++)
                c->proba[r * C + k] = (float)(acc[(r - a) * C + k] / m->n_trees);
    }
}

void vg_cart_model_predict(const vg_cart_model *m, const vg_matrix *X, int threads, float *proba)
{
    VG_ASSERT(X->cols == m->n_features);
    predict_ctx c = { m, X, proba };
    size_t tasks = (X->rows + PREDICT_BLOCK - 1) / PREDICT_BLOCK;
    vg_parallel_for(tasks > 1 ? threads : 1, tasks, predict_task, &c);
}

/* ---- save / load ----
 * u32 version; u32 n_features, n_classes, n_trees, n_nodes, n_leaves,
 * n_cat_words; per feature u8 categorical + u32 n_categories; u32
 * tree_start[n_trees + 1]; per node i32 feature, u32 child, u32 threshold
 * bits or bitset offset, u32 flags; f32 values; u32 cats. */

vg_status vg_cart_model_save(const vg_cart_model *m, vg_wbuf *w)
{
    vg_wbuf_u32(w, CART_FORMAT_VERSION);
    vg_wbuf_u32(w, m->n_features);
    vg_wbuf_u32(w, m->n_classes);
    vg_wbuf_u32(w, m->n_trees);
    vg_wbuf_u32(w, m->n_nodes);
    vg_wbuf_u32(w, m->n_leaves);
    vg_wbuf_u32(w, m->n_cat_words);
    for (uint32_t f = 0; f < m->n_features; f++) {
        vg_wbuf_u8(w, m->categorical[f]);
        vg_wbuf_u32(w, m->n_categories[f]);
    }
    vg_wbuf_u32s(w, m->tree_start, (size_t)m->n_trees + 1);
    for (uint32_t j = 0; j < m->n_nodes; j++) {
        const vg_cart_node *nd = &m->nodes[j];
        vg_wbuf_i32(w, nd->feature);
        vg_wbuf_u32(w, nd->child);
        vg_wbuf_u32(w, nd->u.cats);  /* the threshold's bits for a numeric split */
        vg_wbuf_u32(w, nd->flags);
    }
    vg_wbuf_f32s(w, m->values, (size_t)m->n_leaves * m->n_classes);
    vg_wbuf_u32s(w, m->cats, m->n_cat_words);
    return w->failed ? vg_fail(VG_ERR_NOMEM, "tree model: out of memory saving") : VG_OK;
}

/* Check one tree's links: every split names a real feature with a matching
 * kind and an in-range bitset, its children come after it and inside the
 * tree, every node but the root has exactly one parent, leaves index real
 * leaves. Records the depth. */
static vg_status check_tree(vg_cart_model *m, uint32_t t, uint32_t *depth)
{
    uint32_t base = m->tree_start[t], size = m->tree_start[t + 1] - base;
    const vg_cart_node *nodes = m->nodes + base;
    for (uint32_t j = 0; j < size; j++) depth[j] = j == 0 ? 0 : UINT32_MAX;  /* UINT32_MAX: no parent yet */
    for (uint32_t j = 0; j < size; j++) {
        const vg_cart_node *nd = &nodes[j];
        if (depth[j] == UINT32_MAX)
            return vg_fail(VG_ERR_FORMAT, "tree model: tree %u node %u has no parent", t, j);
        if (depth[j] > m->max_depth) m->max_depth = depth[j];
        if (nd->feature < 0) {
            if (nd->feature != -1 || nd->child >= m->n_leaves || nd->flags != 0)
                return vg_fail(VG_ERR_FORMAT, "tree model: tree %u leaf %u is malformed", t, j);
            continue;
        }
        uint32_t f = (uint32_t)nd->feature;
        if (f >= m->n_features || (nd->flags & ~(VG_CART_MISSING_LEFT | VG_CART_CATEGORICAL)) != 0 ||
            ((nd->flags & VG_CART_CATEGORICAL) != 0) != (m->categorical[f] != 0))
            return vg_fail(VG_ERR_FORMAT, "tree model: tree %u node %u has a bad feature %d or flags %u", t, j,
                           nd->feature, nd->flags);
        if (nd->flags & VG_CART_CATEGORICAL) {
            uint64_t words = ((uint64_t)m->n_categories[f] + 31) / 32;
            if ((uint64_t)nd->u.cats + words > m->n_cat_words)
                return vg_fail(VG_ERR_FORMAT, "tree model: tree %u node %u: category set out of range", t, j);
        }
        if (nd->child <= j || (uint64_t)nd->child + 1 >= size)
            return vg_fail(VG_ERR_FORMAT, "tree model: tree %u node %u: child %u out of range", t, j, nd->child);
        for (uint32_t k = 0; k < 2; k++) {
            if (depth[nd->child + k] != UINT32_MAX)
                return vg_fail(VG_ERR_FORMAT, "tree model: tree %u node %u has two parents", t, nd->child + k);
            depth[nd->child + k] = depth[j] + 1;
        }
    }
    return VG_OK;
}

vg_status vg_cart_model_load(vg_rbuf *r, vg_cart_model **out)
{
    *out = NULL;
    uint32_t version = vg_rbuf_u32(r);
    if (!r->failed && version != CART_FORMAT_VERSION)
        return vg_fail(VG_ERR_FORMAT, "tree model: version %u is not supported (this build reads %u)", version,
                       CART_FORMAT_VERSION);
    uint32_t nf = vg_rbuf_u32(r), C = vg_rbuf_u32(r), n_trees = vg_rbuf_u32(r), n_nodes = vg_rbuf_u32(r),
             n_leaves = vg_rbuf_u32(r), n_words = vg_rbuf_u32(r);
    vg_status st = vg_rbuf_check(r);
    if (st != VG_OK) return st;
    if (C < 2 || C > CART_MAX_CLASSES || n_trees == 0 || n_nodes < n_trees || n_leaves < n_trees ||
        nf >= INT32_MAX)
        return vg_fail(VG_ERR_FORMAT, "tree model: bad header (%u features, %u classes, %u trees, %u nodes, "
                       "%u leaves)", nf, C, n_trees, n_nodes, n_leaves);
    /* Everything must still be in the buffer before anything is allocated. */
    uint64_t need = (uint64_t)nf * 5 + ((uint64_t)n_trees + 1) * 4 + (uint64_t)n_nodes * 16 +
                    (uint64_t)n_leaves * C * 4 + (uint64_t)n_words * 4;
    if (need > r->len - r->pos) return vg_fail(VG_ERR_FORMAT, "tree model: truncated or corrupt");
    vg_cart_model *m = model_alloc(nf, C, n_trees, n_nodes, n_leaves, n_words);
    uint32_t *depth = vg_malloc(((size_t)n_nodes + 1) * sizeof(uint32_t));
    if (!m || !depth) {
        vg_free(depth);
        vg_free(m);
        return vg_fail(VG_ERR_NOMEM, "tree model: out of memory");
    }
    for (uint32_t f = 0; f < nf; f++) {
        m->categorical[f] = vg_rbuf_u8(r);
        m->n_categories[f] = vg_rbuf_u32(r);
        if (m->categorical[f] > 1 || m->n_categories[f] >= CART_MAX_CATEGORIES ||
            (!m->categorical[f] && m->n_categories[f] != 0)) {
            st = vg_fail(VG_ERR_FORMAT, "tree model: feature %u is malformed", f);
            goto err;
        }
    }
    for (uint32_t t = 0; t <= n_trees; t++) m->tree_start[t] = vg_rbuf_u32(r);
    for (uint32_t j = 0; j < n_nodes; j++) {
        vg_cart_node *nd = &m->nodes[j];
        nd->feature = vg_rbuf_i32(r);
        nd->child = vg_rbuf_u32(r);
        nd->u.cats = vg_rbuf_u32(r);
        nd->flags = vg_rbuf_u32(r);
    }
    vg_rbuf_bytes(r, m->values, (size_t)n_leaves * C * sizeof(float));
    vg_rbuf_bytes(r, m->cats, (size_t)n_words * sizeof(uint32_t));
    if ((st = vg_rbuf_check(r)) != VG_OK) goto err;
    if (m->tree_start[0] != 0 || m->tree_start[n_trees] != n_nodes) {
        st = vg_fail(VG_ERR_FORMAT, "tree model: tree offsets do not cover the %u nodes", n_nodes);
        goto err;
    }
    for (uint32_t t = 0; t < n_trees; t++) {
        if (m->tree_start[t + 1] <= m->tree_start[t]) {
            st = vg_fail(VG_ERR_FORMAT, "tree model: tree %u is empty or out of order", t);
            goto err;
        }
    }
    for (uint32_t t = 0; t < n_trees; t++)
        if ((st = check_tree(m, t, depth)) != VG_OK) goto err;
    for (size_t i = 0; i < (size_t)n_leaves * C; i++) {
        if (!(m->values[i] >= 0.0f && m->values[i] <= 1.0f)) {
            st = vg_fail(VG_ERR_FORMAT, "tree model: leaf value %zu is not a probability", i);
            goto err;
        }
    }
    vg_free(depth);
    *out = m;
    return VG_OK;
err:
    vg_free(depth);
    vg_free(m);
    return st;
}

void vg_cart_model_describe(const vg_cart_model *m, vg_wbuf *out)
{
    char line[160];
    int n = snprintf(line, sizeof line, "trees: %u\nnodes: %u\nleaves: %u\nmax_depth: %u\n", m->n_trees,
                     m->n_nodes, m->n_leaves, m->max_depth);
    if (n > 0) vg_wbuf_bytes(out, line, VG_MIN((size_t)n, sizeof line - 1));
}
