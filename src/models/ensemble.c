/* The compiled tree ensemble (see ensemble.h): allocation, validation,
 * batch and single-row raw scores, link functions, save/load and the
 * description. TreeSHAP and importance live in ensemble_shap.c and
 * ensemble_importance.c.
 *
 * Every path that produces a raw score sums the trees' leaf values in tree
 * order into a double and ends with the same expression,
 *     raw = (float)(base + scale * sum),
 * so the batch path, the single-row path and any thread count agree to the
 * bit. */
#include "models/ensemble.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/parallel.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ensemble.c assumes a little-endian host"
#endif

#define ENS_FORMAT_VERSION 1u
#define ENS_MAX_OUTPUTS 65536u
#define ENS_MAX_CATEGORIES (1u << 30)

/* ---- allocation ---- */

vg_status vg_ensemble_alloc(uint32_t n_features, uint32_t n_classes, uint32_t n_outputs, uint32_t leaf_width,
                            uint32_t n_trees, uint32_t n_nodes, uint32_t n_leaves, uint32_t n_cat_words,
                            vg_ensemble **out)
{
    *out = NULL;
    /* Sizes in 64 bits: every count is a u32 from a producer or a file, and
     * their products must not wrap before the allocator sees them. Every
     * array holds 4-byte items, nodes first (16 bytes each) right after the
     * 8-byte aligned struct. */
    uint64_t size = sizeof(vg_ensemble) + (uint64_t)n_nodes * sizeof(vg_ens_node) +
                    (uint64_t)n_outputs * 4 + ((uint64_t)n_trees + 1) * 4 + (uint64_t)n_trees * 4 +
                    (uint64_t)n_nodes * 8 + (uint64_t)n_leaves * leaf_width * 4 + (uint64_t)n_cat_words * 4 +
                    (uint64_t)n_features * 4;
    if (size > (uint64_t)SIZE_MAX / 2)
        return vg_fail(VG_ERR_LIMIT, "ensemble: %u trees, %u nodes, %u leaves are too large", n_trees, n_nodes,
                       n_leaves);
    vg_ensemble *e = vg_calloc(1, (size_t)size);
    if (!e) return vg_fail(VG_ERR_NOMEM, "ensemble: out of memory for %u nodes", n_nodes);
    uint8_t *p = (uint8_t *)(e + 1);
    e->nodes = (vg_ens_node *)p;      p += (size_t)n_nodes * sizeof(vg_ens_node);
    e->base = (float *)p;             p += (size_t)n_outputs * 4;
    e->tree_start = (uint32_t *)p;    p += ((size_t)n_trees + 1) * 4;
    e->tree_output = (int32_t *)p;    p += (size_t)n_trees * 4;
    e->cover = (float *)p;            p += (size_t)n_nodes * 4;
    e->gain = (float *)p;             p += (size_t)n_nodes * 4;
    e->leaves = (float *)p;           p += (size_t)n_leaves * leaf_width * 4;
    e->cats = (uint32_t *)p;          p += (size_t)n_cat_words * 4;
    e->n_categories = (uint32_t *)p;
    e->n_features = n_features;
    e->n_classes = n_classes;
    e->n_outputs = n_outputs;
    e->leaf_width = leaf_width;
    e->n_trees = n_trees;
    e->n_nodes = n_nodes;
    e->n_leaves = n_leaves;
    e->n_cat_words = n_cat_words;
    e->link = VG_LINK_PROBA;
    e->scale = 1.0f;
    *out = e;
    return VG_OK;
}

void vg_ensemble_free(vg_ensemble *e)
{
    vg_free(e);
}

/* ---- validation ---- */

/* The shape of the outputs for each link (see ensemble.h). */
static const char *check_link(const vg_ensemble *e)
{
    if (e->leaf_width != 1 && e->leaf_width != e->n_outputs) return "leaf width is neither 1 nor the output count";
    switch (e->link) {
    case VG_LINK_PROBA:
        if (e->n_classes < 2 || e->n_outputs != e->n_classes) return "probability link needs one output per class";
        return NULL;
    case VG_LINK_SIGMOID:
        if (e->n_classes != 2 || e->n_outputs != 1) return "sigmoid link needs 2 classes and 1 output";
        return NULL;
    case VG_LINK_SOFTMAX:
        if (e->n_classes < 2 || e->n_outputs != e->n_classes) return "softmax link needs one output per class";
        return NULL;
    case VG_LINK_IDENTITY:
        if (e->n_classes != 1 || e->n_outputs != 1) return "identity link needs 1 class and 1 output";
        return NULL;
    }
    return "unknown link";
}

/* One tree: every split names a real feature of the matching kind with an
 * in-range bitset, its children follow it inside the tree, every node but
 * the root has exactly one parent (so the nodes form one tree), leaves
 * index real leaves. has_parent: scratch of the tree's size. Sets *depth to
 * the deepest leaf's depth when depth_of is given (scratch of the tree's size). */
static vg_status check_tree(const vg_ensemble *e, uint32_t t, uint32_t *depth_of, uint32_t *depth)
{
    uint32_t base = e->tree_start[t], size = e->tree_start[t + 1] - base;
    const vg_ens_node *nodes = e->nodes + base;
    uint32_t deepest = 0;
    for (uint32_t j = 0; j < size; j++) depth_of[j] = j == 0 ? 0 : UINT32_MAX;  /* UINT32_MAX: no parent yet */
    for (uint32_t j = 0; j < size; j++) {
        const vg_ens_node *nd = &nodes[j];
        if (depth_of[j] == UINT32_MAX)
            return vg_fail(VG_ERR_FORMAT, "ensemble: tree %u node %u has no parent", t, j);
        if (!isfinite(e->cover[base + j]) || e->cover[base + j] < 0.0f || !isfinite(e->gain[base + j]))
            return vg_fail(VG_ERR_FORMAT, "ensemble: tree %u node %u has a bad cover or gain", t, j);
        if (nd->feature < 0) {
            if (nd->feature != -1 || nd->child >= e->n_leaves || nd->flags != 0)
                return vg_fail(VG_ERR_FORMAT, "ensemble: tree %u leaf %u is malformed", t, j);
            if (depth_of[j] > deepest) deepest = depth_of[j];
            continue;
        }
        uint32_t f = (uint32_t)nd->feature;
        if (f >= e->n_features || (nd->flags & ~(VG_ENS_MISSING_LEFT | VG_ENS_CATEGORICAL)) != 0 ||
            ((nd->flags & VG_ENS_CATEGORICAL) != 0) != (e->n_categories[f] != 0))
            return vg_fail(VG_ERR_FORMAT, "ensemble: tree %u node %u has a bad feature %d or flags %u", t, j,
                           nd->feature, nd->flags);
        if (nd->flags & VG_ENS_CATEGORICAL) {
            uint64_t words = ((uint64_t)e->n_categories[f] + 31) / 32;
            if ((uint64_t)nd->u.cats + words > e->n_cat_words)
                return vg_fail(VG_ERR_FORMAT, "ensemble: tree %u node %u: category set out of range", t, j);
        } else if (isnan(nd->u.threshold)) {
            return vg_fail(VG_ERR_FORMAT, "ensemble: tree %u node %u: threshold is NaN", t, j);
        }
        if (nd->child <= j || (uint64_t)nd->child + 1 >= size)
            return vg_fail(VG_ERR_FORMAT, "ensemble: tree %u node %u: child %u out of range", t, j, nd->child);
        for (uint32_t k = 0; k < 2; k++) {
            if (depth_of[nd->child + k] != UINT32_MAX)
                return vg_fail(VG_ERR_FORMAT, "ensemble: tree %u node %u has two parents", t, nd->child + k);
            depth_of[nd->child + k] = depth_of[j] + 1;
        }
    }
    *depth = deepest;
    return VG_OK;
}

/* Validate, and report the deepest leaf over all trees. */
static vg_status validate(const vg_ensemble *e, uint32_t *max_depth)
{
    *max_depth = 0;
    const char *msg = check_link(e);
    if (msg) return vg_fail(VG_ERR_FORMAT, "ensemble: %s (link %d, %u classes, %u outputs, leaf width %u)", msg,
                            (int)e->link, e->n_classes, e->n_outputs, e->leaf_width);
    if (e->n_outputs > ENS_MAX_OUTPUTS || e->n_features >= INT32_MAX)
        return vg_fail(VG_ERR_FORMAT, "ensemble: %u outputs, %u features are too many", e->n_outputs,
                       e->n_features);
    if (!isfinite(e->scale)) return vg_fail(VG_ERR_FORMAT, "ensemble: scale is not finite");
    for (uint32_t o = 0; o < e->n_outputs; o++)
        if (!isfinite(e->base[o])) return vg_fail(VG_ERR_FORMAT, "ensemble: base score %u is not finite", o);
    for (uint32_t f = 0; f < e->n_features; f++)
        if (e->n_categories[f] >= ENS_MAX_CATEGORIES)
            return vg_fail(VG_ERR_FORMAT, "ensemble: feature %u has %u categories", f, e->n_categories[f]);
    if (e->tree_start[0] != 0 || e->tree_start[e->n_trees] != e->n_nodes)
        return vg_fail(VG_ERR_FORMAT, "ensemble: tree offsets do not cover the %u nodes", e->n_nodes);
    uint32_t largest = 0;
    for (uint32_t t = 0; t < e->n_trees; t++) {
        if (e->tree_start[t + 1] <= e->tree_start[t] || e->tree_start[t + 1] > e->n_nodes)
            return vg_fail(VG_ERR_FORMAT, "ensemble: tree %u is empty or out of order", t);
        largest = VG_MAX(largest, e->tree_start[t + 1] - e->tree_start[t]);
        if (e->tree_output[t] < 0 || (uint32_t)e->tree_output[t] >= e->n_outputs)
            return vg_fail(VG_ERR_FORMAT, "ensemble: tree %u adds to output %d of %u", t, e->tree_output[t],
                           e->n_outputs);
    }
    size_t n_values = (size_t)e->n_leaves * e->leaf_width;
    for (size_t i = 0; i < n_values; i++) {
        float v = e->leaves[i];
        if (!isfinite(v) || (e->link == VG_LINK_PROBA && !(v >= 0.0f && v <= 1.0f)))
            return vg_fail(VG_ERR_FORMAT, "ensemble: leaf value %zu (%g) is out of range", i, (double)v);
    }
    uint32_t *scratch = vg_malloc(((size_t)largest + 1) * sizeof *scratch);
    if (!scratch) return vg_fail(VG_ERR_NOMEM, "ensemble: out of memory validating %u nodes", largest);
    vg_status st = VG_OK;
    for (uint32_t t = 0; t < e->n_trees && st == VG_OK; t++) {
        uint32_t d = 0;
        st = check_tree(e, t, scratch, &d);
        *max_depth = VG_MAX(*max_depth, d);
    }
    vg_free(scratch);
    return st;
}

vg_status vg_ensemble_validate(const vg_ensemble *e)
{
    uint32_t depth;
    return validate(e, &depth);
}

/* ---- prediction ---- */

/* 1 if category value x goes right at a categorical split on feature f
 * with its bitset at cats[off]. The range test comes first so that the
 * conversion to an integer is defined (NaN fails it too). */
static inline uint32_t cat_right(const vg_ensemble *e, int32_t f, uint32_t off, uint32_t flags, float x)
{
    uint32_t ncat = e->n_categories[f];
    if (x >= 0.0f && x < (float)ncat) {
        uint32_t c = (uint32_t)x;
        if ((float)c == x && c < ncat) return ((e->cats[off + (c >> 5)] >> (c & 31)) & 1u) ^ 1u;
    }
    return (flags & VG_ENS_MISSING_LEFT) ^ 1u;
}

/* 1 if the row goes to the right child of split nd. Numeric: NaN is the
 * only value for which both comparisons are false, so `x > t` sends it left
 * and `!(x <= t)` right; the missing flag picks one. Categorical: a code
 * that is not a whole number in [0, n_categories) is missing. */
static inline uint32_t goes_right(const vg_ensemble *e, const vg_ens_node *nd, const float *row)
{
    float x = row[nd->feature];
    if (!(nd->flags & VG_ENS_CATEGORICAL)) {
        uint32_t right_if_nan = !(x <= nd->u.threshold), left_if_nan = x > nd->u.threshold;
        return (nd->flags & VG_ENS_MISSING_LEFT) ? left_if_nan : right_if_nan;
    }
    return cat_right(e, nd->feature, nd->u.cats, nd->flags, x);
}

/* Leaf reached by one row in the tree whose root is `nodes`. */
static inline uint32_t leaf_of(const vg_ensemble *e, const vg_ens_node *nodes, const float *row)
{
    uint32_t j = 0;
    while (nodes[j].feature >= 0) j = nodes[j].child + goes_right(e, &nodes[j], row);
    return nodes[j].child;
}

/* Leaves of up to LANES rows stepping down one tree together, so the memory
 * waits and mispredicted turns of one row overlap with the others' work. */
#define LANES 16

static void leaves_of(const vg_ensemble *e, const vg_ens_node *nodes, const float *rows, size_t cols, uint32_t n,
                      uint32_t *leaf)
{
    uint32_t j[LANES] = { 0 };
    for (;;) {
        uint32_t moving = 0;
        for (uint32_t k = 0; k < n; k++) {
            const vg_ens_node *nd = &nodes[j[k]];
            if (nd->feature < 0) continue;
            moving = 1;
            j[k] = nd->child + goes_right(e, nd, rows + k * cols);
        }
        if (!moving) break;
    }
    for (uint32_t k = 0; k < n; k++) leaf[k] = nodes[j[k]].child;
}

#define BLOCK_ROWS 256   /* rows per task */
#define ACC_DOUBLES 4096 /* accumulator on the stack */

/* ---- the batch layout ----
 * For batches, each shallow tree is laid out complete to its depth D:
 * internal node i (in breadth-first order, 2^D - 1 of them) has children
 * 2i + 1 and 2i + 2, and a leaf shallower than D is copied into every slot
 * below it. A row then takes exactly D steps with no test for leaves and no
 * branch on the direction, and LANES rows step through a tree together so
 * their loads overlap. Trees deeper than FAST_MAX_DEPTH (a forest's) keep
 * the general walk. The layout is made per call (it costs a pass over the
 * nodes, tiny next to a batch) so the ensemble itself stays one flat block. */
#define FAST_MAX_DEPTH 8
#define FAST_MIN_ROWS 64   /* smaller batches walk the nodes directly */
#define FAST_RIGHT 1u      /* missing values go right */
#define FAST_CAT 2u

typedef struct fast_node {
    uint32_t feature;
    uint32_t flags;        /* FAST_RIGHT | FAST_CAT */
    union {
        float threshold;
        uint32_t cats;
    } u;
} fast_node;

typedef struct fast_tree {
    uint32_t depth;        /* UINT32_MAX: walk the ensemble's nodes */
    uint32_t node0, leaf0; /* its nodes and leaf slots in the fast arrays */
} fast_tree;

typedef struct fast_model {
    fast_tree *trees;      /* n_trees */
    fast_node *nodes;
    uint32_t *leaf;        /* leaf slot -> the ensemble's leaf index */
} fast_model;

/* Fill the complete layout of a tree below slot pos (depth d of D) from
 * node j; a leaf above depth D fills its whole subtree. */
static void fast_fill(const vg_ens_node *nodes, uint32_t j, uint32_t pos, uint32_t d, uint32_t D, fast_node *fn,
                      uint32_t *fl)
{
    const vg_ens_node *nd = &nodes[j];
    if (d == D) {
        fl[pos - ((1u << D) - 1)] = nd->child;  /* a leaf: D is the deepest leaf's depth */
        return;
    }
    if (nd->feature < 0) {
        fn[pos] = (fast_node){ .feature = 0, .flags = 0, .u.threshold = 0.0f };  /* either way, the same leaf */
        fast_fill(nodes, j, 2 * pos + 1, d + 1, D, fn, fl);
        fast_fill(nodes, j, 2 * pos + 2, d + 1, D, fn, fl);
        return;
    }
    fn[pos] = (fast_node){ .feature = (uint32_t)nd->feature,
                           .flags = ((nd->flags & VG_ENS_MISSING_LEFT) ? 0u : FAST_RIGHT) |
                                    ((nd->flags & VG_ENS_CATEGORICAL) ? FAST_CAT : 0u) };
    fn[pos].u.cats = nd->u.cats;  /* or the threshold's bits */
    fast_fill(nodes, nd->child, 2 * pos + 1, d + 1, D, fn, fl);
    fast_fill(nodes, nd->child + 1, 2 * pos + 2, d + 1, D, fn, fl);
}

/* The batch layout of e, or NULL (out of memory: callers walk the nodes). */
static fast_model *fast_make(const vg_ensemble *e)
{
    uint32_t largest = 0;
    for (uint32_t t = 0; t < e->n_trees; t++)
        largest = VG_MAX(largest, e->tree_start[t + 1] - e->tree_start[t]);
    uint32_t *depth = vg_malloc(((size_t)largest + 1) * sizeof *depth);
    fast_tree *trees = vg_malloc(((size_t)e->n_trees + 1) * sizeof *trees);
    if (!depth || !trees) {
        vg_free(depth);
        vg_free(trees);
        return NULL;
    }
    uint64_t n_nodes = 0, n_leaves = 0;
    for (uint32_t t = 0; t < e->n_trees; t++) {
        const vg_ens_node *nodes = e->nodes + e->tree_start[t];
        uint32_t size = e->tree_start[t + 1] - e->tree_start[t], D = 0;
        depth[0] = 0;
        for (uint32_t j = 0; j < size; j++) {  /* children follow their parent */
            if (nodes[j].feature < 0) {
                D = VG_MAX(D, depth[j]);
                continue;
            }
            depth[nodes[j].child] = depth[nodes[j].child + 1] = depth[j] + 1;
        }
        trees[t] = (fast_tree){ .depth = D <= FAST_MAX_DEPTH ? D : UINT32_MAX, .node0 = (uint32_t)n_nodes,
                                .leaf0 = (uint32_t)n_leaves };
        if (D <= FAST_MAX_DEPTH) {
            n_nodes += (1u << D) - 1;
            n_leaves += 1u << D;
        }
    }
    vg_free(depth);
    size_t size = sizeof(fast_model) + (size_t)n_nodes * sizeof(fast_node) + (size_t)n_leaves * sizeof(uint32_t);
    fast_model *m = vg_malloc(size);
    if (!m) {
        vg_free(trees);
        return NULL;
    }
    m->trees = trees;
    m->nodes = (fast_node *)(m + 1);
    m->leaf = (uint32_t *)(m->nodes + n_nodes);
    for (uint32_t t = 0; t < e->n_trees; t++)
        if (trees[t].depth != UINT32_MAX)
            fast_fill(e->nodes + e->tree_start[t], 0, 0, 0, trees[t].depth, m->nodes + trees[t].node0,
                      m->leaf + trees[t].leaf0);
    return m;
}

static void fast_free(fast_model *m)
{
    if (!m) return;
    vg_free(m->trees);
    vg_free(m);
}

/* Leaves of n <= LANES rows in a complete tree of depth D. Numeric steps
 * without a branch: `x > t` and `!(x <= t)` differ only for NaN, where the
 * node's missing direction picks. */
static void fast_leaves(const vg_ensemble *e, const fast_node *fn, const uint32_t *fl, uint32_t D, const float *rows,
                        size_t cols, uint32_t n, uint32_t *leaf)
{
    uint32_t j[LANES] = { 0 };
    for (uint32_t d = 0; d < D; d++) {
        for (uint32_t k = 0; k < n; k++) {
            const fast_node *nd = &fn[j[k]];
            float x = rows[k * cols + nd->feature];
            uint32_t right;
            if (__builtin_expect(nd->flags & FAST_CAT, 0))
                right = cat_right(e, (int32_t)nd->feature, nd->u.cats, (nd->flags & FAST_RIGHT) ? 0u : VG_ENS_MISSING_LEFT, x);
            else
                right = (uint32_t)(x > nd->u.threshold) | ((uint32_t)!(x <= nd->u.threshold) & nd->flags);
            j[k] = 2 * j[k] + 1 + right;
        }
    }
    uint32_t first_leaf = (1u << D) - 1;
    for (uint32_t k = 0; k < n; k++) leaf[k] = fl[j[k] - first_leaf];
}

/* Raw scores of rows [r0, r1) of X into out ((r1 - r0) x n_outputs): trees
 * outer, rows inner, so a tree stays in cache while the rows pass through
 * it. fm: the batch layout, or NULL. */
static void raw_block(const vg_ensemble *e, const fast_model *fm, const vg_matrix *X, size_t r0, size_t r1,
                      float *out)
{
    const uint32_t K = e->n_outputs, W = e->leaf_width;
    const size_t cols = X->cols;
    double acc[ACC_DOUBLES];
    if (K > ACC_DOUBLES) {
        /* Very many outputs: one row at a time through raw_row. */
        for (size_t r = r0; r < r1; r++) vg_ensemble_raw_row(e, X->data + r * cols, out + (r - r0) * K);
        return;
    }
    size_t step = ACC_DOUBLES / K;
    for (size_t a = r0; a < r1; a += step) {
        size_t b = VG_MIN(a + step, r1);
        memset(acc, 0, (b - a) * K * sizeof(double));
        for (uint32_t t = 0; t < e->n_trees; t++) {
            const vg_ens_node *nodes = e->nodes + e->tree_start[t];
            const fast_tree *ft = fm ? &fm->trees[t] : NULL;
            const uint32_t o = (uint32_t)e->tree_output[t];
            for (size_t r = a; r < b; r += LANES) {
                uint32_t n = (uint32_t)VG_MIN((size_t)LANES, b - r), leaf[LANES];
                if (ft && ft->depth != UINT32_MAX)
                    fast_leaves(e, fm->nodes + ft->node0, fm->leaf + ft->leaf0, ft->depth, X->data + r * cols, cols,
                                n, leaf);
                else
                    leaves_of(e, nodes, X->data + r * cols, cols, n, leaf);
                if (W == 1) {
                    for (uint32_t q = 0; q < n; q++) acc[(r + q - a) * K + o] += e->leaves[leaf[q]];
                } else {
                    for (uint32_t q = 0; q < n; q++) {
                        const float *v = e->leaves + (size_t)leaf[q] * W;
                        double *s = acc + (r + q - a) * K;
                        for (uint32_t k = 0; k < K; k++) s[k] += v[k];
                    }
                }
            }
        }
        for (size_t r = a; r < b; r++)
            for (uint32_t k = 0; k < K; k++)
                out[(r - r0) * K + k] = (float)((double)e->base[k] + (double)e->scale * acc[(r - a) * K + k]);
    }
}

void vg_ensemble_raw_row(const vg_ensemble *e, const float *row, float *raw)
{
    const uint32_t K = e->n_outputs, W = e->leaf_width;
    double acc[ACC_DOUBLES];
    if (K > ACC_DOUBLES) {
        /* Very many outputs: accumulate in raw itself (raw_block sends this
         * case here too, so both paths still agree). */
        for (uint32_t k = 0; k < K; k++) raw[k] = 0.0f;
        for (uint32_t t = 0; t < e->n_trees; t++) {
            uint32_t leaf = leaf_of(e, e->nodes + e->tree_start[t], row);
            if (W == 1) {
                raw[e->tree_output[t]] += e->leaves[leaf];
            } else {
                const float *v = e->leaves + (size_t)leaf * W;
                for (uint32_t k = 0; k < K; k++) raw[k] += v[k];
            }
        }
        for (uint32_t k = 0; k < K; k++) raw[k] = (float)((double)e->base[k] + (double)e->scale * raw[k]);
        return;
    }
    memset(acc, 0, K * sizeof(double));
    for (uint32_t t = 0; t < e->n_trees; t++) {
        uint32_t leaf = leaf_of(e, e->nodes + e->tree_start[t], row);
        if (W == 1) {
            acc[e->tree_output[t]] += e->leaves[leaf];
        } else {
            const float *v = e->leaves + (size_t)leaf * W;
            for (uint32_t k = 0; k < K; k++) acc[k] += v[k];
        }
    }
    for (uint32_t k = 0; k < K; k++) raw[k] = (float)((double)e->base[k] + (double)e->scale * acc[k]);
}

/* Link of one row; raw may alias proba when n_outputs == n_classes. */
static void link_row(const vg_ensemble *e, const float *raw, float *proba)
{
    switch (e->link) {
    case VG_LINK_SIGMOID: {
        double p = 1.0 / (1.0 + exp(-(double)raw[0]));
        proba[1] = (float)p;
        proba[0] = (float)(1.0 - p);
        return;
    }
    case VG_LINK_SOFTMAX: {
        const uint32_t K = e->n_outputs;
        float mx = raw[0];
        for (uint32_t k = 1; k < K; k++) mx = raw[k] > mx ? raw[k] : mx;
        double sum = 0.0;
        for (uint32_t k = 0; k < K; k++) sum += exp((double)raw[k] - (double)mx);
        for (uint32_t k = 0; k < K; k++) proba[k] = (float)(exp((double)raw[k] - (double)mx) / sum);
        return;
    }
    default:
        if (proba != raw) memmove(proba, raw, e->n_outputs * sizeof(float));
        return;
    }
}

void vg_ensemble_link(const vg_ensemble *e, const float *raw, size_t rows, float *proba)
{
    const uint32_t K = e->n_outputs, C = e->n_classes;
    /* Backwards, so that raw and proba may be one buffer even for the
     * sigmoid, whose rows widen from 1 value to 2: row r writes at 2r and
     * 2r + 1, never below the raw values still to be read. */
    for (size_t r = rows; r-- > 0;) link_row(e, raw + r * K, proba + r * C);
}

typedef struct raw_ctx {
    const vg_ensemble *e;
    const fast_model *fm;
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
        raw_block(e, c->fm, c->X, r0, r1, c->out + r0 * e->n_outputs);
        return;
    }
    float *proba = c->out + r0 * e->n_classes;
    if (e->n_outputs == e->n_classes) {
        raw_block(e, c->fm, c->X, r0, r1, proba);
        vg_ensemble_link(e, proba, r1 - r0, proba);
    } else {
        float raw[BLOCK_ROWS];  /* the sigmoid: one raw value per row */
        raw_block(e, c->fm, c->X, r0, r1, raw);
        vg_ensemble_link(e, raw, r1 - r0, proba);
    }
}

static void run_blocks(const vg_ensemble *e, const vg_matrix *X, int threads, float *out, int link)
{
    VG_ASSERT(X->cols == e->n_features);
    VG_ASSERT(e->n_outputs == e->n_classes || e->n_outputs == 1);
    fast_model *fm = X->rows >= FAST_MIN_ROWS ? fast_make(e) : NULL;
    raw_ctx c = { e, fm, X, out, link };
    size_t tasks = (X->rows + BLOCK_ROWS - 1) / BLOCK_ROWS;
    vg_parallel_for(tasks > 1 ? threads : 1, tasks, raw_task, &c);
    fast_free(fm);
}

void vg_ensemble_raw(const vg_ensemble *e, const vg_matrix *X, int threads, float *raw)
{
    run_blocks(e, X, threads, raw, 0);
}

void vg_ensemble_predict(const vg_ensemble *e, const vg_matrix *X, int threads, float *proba)
{
    run_blocks(e, X, threads, proba, 1);
}

/* ---- save / load ----
 * u32 version; u32 n_features, n_classes, n_outputs, leaf_width, n_trees,
 * n_nodes, n_leaves, n_cat_words, link; f32 scale; f32 base[n_outputs];
 * u32 n_categories[n_features]; u32 tree_start[n_trees + 1]; i32
 * tree_output[n_trees]; per node i32 feature, u32 child, u32 threshold bits
 * or bitset offset, u32 flags; f32 cover[n_nodes], gain[n_nodes]; f32
 * leaves[n_leaves * leaf_width]; u32 cats[n_cat_words]. */

vg_status vg_ensemble_save(const vg_ensemble *e, vg_wbuf *w)
{
    vg_wbuf_u32(w, ENS_FORMAT_VERSION);
    vg_wbuf_u32(w, e->n_features);
    vg_wbuf_u32(w, e->n_classes);
    vg_wbuf_u32(w, e->n_outputs);
    vg_wbuf_u32(w, e->leaf_width);
    vg_wbuf_u32(w, e->n_trees);
    vg_wbuf_u32(w, e->n_nodes);
    vg_wbuf_u32(w, e->n_leaves);
    vg_wbuf_u32(w, e->n_cat_words);
    vg_wbuf_u32(w, (uint32_t)e->link);
    vg_wbuf_f32(w, e->scale);
    vg_wbuf_f32s(w, e->base, e->n_outputs);
    vg_wbuf_u32s(w, e->n_categories, e->n_features);
    vg_wbuf_u32s(w, e->tree_start, (size_t)e->n_trees + 1);
    vg_wbuf_i32s(w, e->tree_output, e->n_trees);
    for (uint32_t j = 0; j < e->n_nodes; j++) {
        const vg_ens_node *nd = &e->nodes[j];
        vg_wbuf_i32(w, nd->feature);
        vg_wbuf_u32(w, nd->child);
        vg_wbuf_u32(w, nd->u.cats);  /* a numeric split's threshold bits */
        vg_wbuf_u32(w, nd->flags);
    }
    vg_wbuf_f32s(w, e->cover, e->n_nodes);
    vg_wbuf_f32s(w, e->gain, e->n_nodes);
    vg_wbuf_f32s(w, e->leaves, (size_t)e->n_leaves * e->leaf_width);
    vg_wbuf_u32s(w, e->cats, e->n_cat_words);
    return w->failed ? vg_fail(VG_ERR_NOMEM, "ensemble: out of memory saving") : VG_OK;
}

vg_status vg_ensemble_load(vg_rbuf *r, vg_ensemble **out)
{
    *out = NULL;
    uint32_t version = vg_rbuf_u32(r);
    if (!r->failed && version != ENS_FORMAT_VERSION)
        return vg_fail(VG_ERR_FORMAT, "ensemble: version %u is not supported (this build reads %u)", version,
                       ENS_FORMAT_VERSION);
    uint32_t nf = vg_rbuf_u32(r), C = vg_rbuf_u32(r), K = vg_rbuf_u32(r), W = vg_rbuf_u32(r);
    uint32_t n_trees = vg_rbuf_u32(r), n_nodes = vg_rbuf_u32(r), n_leaves = vg_rbuf_u32(r);
    uint32_t n_words = vg_rbuf_u32(r), link = vg_rbuf_u32(r);
    vg_status st = vg_rbuf_check(r);
    if (st != VG_OK) return st;
    if (K == 0 || K > ENS_MAX_OUTPUTS || (W != 1 && W != K) || link > VG_LINK_IDENTITY || nf >= INT32_MAX ||
        n_trees > n_nodes || n_trees == UINT32_MAX)
        return vg_fail(VG_ERR_FORMAT, "ensemble: bad header (%u features, %u classes, %u outputs, leaf width "
                       "%u, %u trees, %u nodes, link %u)", nf, C, K, W, n_trees, n_nodes, link);
    /* Everything must still be in the buffer before anything is allocated,
     * so a corrupted count cannot ask for a huge block. */
    uint64_t need = 4 + (uint64_t)K * 4 + (uint64_t)nf * 4 + ((uint64_t)n_trees + 1) * 4 + (uint64_t)n_trees * 4 +
                    (uint64_t)n_nodes * 24 + (uint64_t)n_leaves * W * 4 + (uint64_t)n_words * 4;
    if (need > r->len - r->pos) return vg_fail(VG_ERR_FORMAT, "ensemble: truncated or corrupt");
    vg_ensemble *e;
    if ((st = vg_ensemble_alloc(nf, C, K, W, n_trees, n_nodes, n_leaves, n_words, &e)) != VG_OK) return st;
    e->link = (vg_link)link;
    e->scale = vg_rbuf_f32(r);
    vg_rbuf_bytes(r, e->base, (size_t)K * 4);
    vg_rbuf_bytes(r, e->n_categories, (size_t)nf * 4);
    vg_rbuf_bytes(r, e->tree_start, ((size_t)n_trees + 1) * 4);
    vg_rbuf_bytes(r, e->tree_output, (size_t)n_trees * 4);
    for (uint32_t j = 0; j < n_nodes; j++) {
        vg_ens_node *nd = &e->nodes[j];
        nd->feature = vg_rbuf_i32(r);
        nd->child = vg_rbuf_u32(r);
        nd->u.cats = vg_rbuf_u32(r);
        nd->flags = vg_rbuf_u32(r);
    }
    vg_rbuf_bytes(r, e->cover, (size_t)n_nodes * 4);
    vg_rbuf_bytes(r, e->gain, (size_t)n_nodes * 4);
    vg_rbuf_bytes(r, e->leaves, (size_t)n_leaves * W * 4);
    vg_rbuf_bytes(r, e->cats, (size_t)n_words * 4);
    if ((st = vg_rbuf_check(r)) == VG_OK) st = vg_ensemble_validate(e);
    if (st != VG_OK) {
        vg_ensemble_free(e);
        return st;
    }
    *out = e;
    return VG_OK;
}

void vg_ensemble_describe(const vg_ensemble *e, vg_wbuf *out)
{
    uint32_t depth = 0;
    int ok = validate(e, &depth) == VG_OK;
    char line[200];
    int n = ok ? snprintf(line, sizeof line, "trees: %u\nnodes: %u\nleaves: %u\nmax_depth: %u\n", e->n_trees,
                          e->n_nodes, e->n_leaves, depth)
               : snprintf(line, sizeof line, "trees: %u\nnodes: %u\nleaves: %u\nmax_depth: ?\n", e->n_trees,
                          e->n_nodes, e->n_leaves);
    if (n > 0) vg_wbuf_bytes(out, line, VG_MIN((size_t)n, sizeof line - 1));
}
