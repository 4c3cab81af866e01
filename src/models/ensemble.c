/* The compiled tree ensemble (see ensemble.h): allocation, validation,
 * single-row raw scores, link functions, save/load and the description.
 * Batch prediction lives in ensemble_predict.c, the routing rules in
 * ensemble_walk.h, TreeSHAP and importance in ensemble_shap.c and
 * ensemble_importance.c.
 *
 * Every path that produces a raw score sums the trees' leaf values in tree
 * order into a double and ends with the same expression,
 *     raw = (float)(base + scale * sum),
 * so the batch path, the single-row path and any thread count agree to the
 * bit. */
#include "models/ensemble.h"
#include "models/ensemble_walk.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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
    if (!e) return;
    vg_ensemble_batch_free(e);
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

/* ---- prediction (the batch path is in ensemble_predict.c) ---- */

#define ROW_LANES 4

/* Leaves of trees t .. t + ROW_LANES - 1 for one row, walked in lockstep. */
static void leaves_lockstep(const vg_ensemble *e, uint32_t t, const float *row, uint32_t *leaf)
{
    const vg_ens_node *nodes[ROW_LANES];
    uint32_t j[ROW_LANES];
    for (uint32_t i = 0; i < ROW_LANES; i++) nodes[i] = e->nodes + e->tree_start[t + i], j[i] = 0;
    for (int moving = 1; moving;) {
        moving = 0;
        for (uint32_t i = 0; i < ROW_LANES; i++) {
            const vg_ens_node *nd = &nodes[i][j[i]];
            if (nd->feature >= 0) {
                j[i] = nd->child + vg_ens_goes_right(e, nd, row);
                moving = 1;
            }
        }
    }
    for (uint32_t i = 0; i < ROW_LANES; i++) leaf[i] = nodes[i][j[i]].child;
}

static void add_leaf(const vg_ensemble *e, uint32_t t, uint32_t leaf, double *acc)
{
    if (e->leaf_width == 1) {
        acc[e->tree_output[t]] += e->leaves[leaf];
    } else {
        const float *v = e->leaves + (size_t)leaf * e->leaf_width;
        for (uint32_t k = 0; k < e->n_outputs; k++) acc[k] += v[k];
    }
}

void vg_ensemble_raw_row(const vg_ensemble *e, const float *row, float *raw)
{
    const uint32_t K = e->n_outputs, W = e->leaf_width;
    double acc[VG_ENS_ACC_OUTPUTS];
    if (K > VG_ENS_ACC_OUTPUTS) {
        /* Very many outputs: accumulate in raw itself (the batch path sends
         * this case here too, so both paths still agree). */
        for (uint32_t k = 0; k < K; k++) raw[k] = 0.0f;
        for (uint32_t t = 0; t < e->n_trees; t++) {
            uint32_t leaf = vg_ens_leaf(e, e->nodes + e->tree_start[t], row);
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
    uint32_t t = 0, leaf[ROW_LANES];
    /* Trees walked ROW_LANES at a time so their chains of dependent node
     * loads overlap; leaves are still added in tree order, so the sum is the
     * same as walking one tree after the other. */
    for (; t + ROW_LANES <= e->n_trees; t += ROW_LANES) {
        leaves_lockstep(e, t, row, leaf);
        for (uint32_t i = 0; i < ROW_LANES; i++) add_leaf(e, t + i, leaf[i], acc);
    }
    for (; t < e->n_trees; t++) add_leaf(e, t, vg_ens_leaf(e, e->nodes + e->tree_start[t], row), acc);
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
