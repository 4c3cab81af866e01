/* Unit tests for the compiled tree ensemble (models/ensemble.c): routing of
 * numeric, categorical and missing values through hand-built trees, the
 * link functions, batch against single-row scores for any thread count,
 * validation of every broken link, save/load round trips, and hostile bytes
 * (every truncated prefix and random flips) refused or valid, never a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/buf.h"
#include "vigil/core.h"
#include "vigil/rng.h"
#include "models/ensemble.h"

/* Features: 0 and 1 numeric, 2 categorical with 40 categories (2 words).
 *   tree 0: x0 <= 0.5 (NaN left) ? leaf0 = 1
 *                                : x2 in {1, 33} (missing right) ? leaf1 = 2 : leaf2 = 3
 *   tree 1: x1 <= -1 (NaN right) ? leaf3 = 10 : leaf4 = 20
 * tree_output sends tree t to output t % n_outputs. */
static vg_ensemble *hand_built(vg_link link, uint32_t n_classes, uint32_t n_outputs, uint32_t leaf_width)
{
    vg_ensemble *e;
    assert_int_equal(vg_ensemble_alloc(3, n_classes, n_outputs, leaf_width, 2, 8, 5, 2, &e), VG_OK);
    e->link = link;
    e->n_categories[2] = 40;
    e->tree_start[0] = 0;
    e->tree_start[1] = 5;
    e->tree_start[2] = 8;
    e->tree_output[0] = 0;
    e->tree_output[1] = (int32_t)(1 % n_outputs);
    vg_ens_node *n = e->nodes;
    n[0] = (vg_ens_node){ .feature = 0, .child = 1, .u.threshold = 0.5f, .flags = VG_ENS_MISSING_LEFT };
    n[1] = (vg_ens_node){ .feature = -1, .child = 0 };
    n[2] = (vg_ens_node){ .feature = 2, .child = 3, .u.cats = 0, .flags = VG_ENS_CATEGORICAL };
    n[3] = (vg_ens_node){ .feature = -1, .child = 1 };
    n[4] = (vg_ens_node){ .feature = -1, .child = 2 };
    n[5] = (vg_ens_node){ .feature = 1, .child = 1, .u.threshold = -1.0f, .flags = 0 };
    n[6] = (vg_ens_node){ .feature = -1, .child = 3 };
    n[7] = (vg_ens_node){ .feature = -1, .child = 4 };
    e->cats[0] = 1u << 1;
    e->cats[1] = 1u << 1;  /* category 33 */
    const float values[5] = { 1, 2, 3, 10, 20 };
    for (uint32_t l = 0; l < 5; l++)
        for (uint32_t k = 0; k < leaf_width; k++)
            e->leaves[l * leaf_width + k] = link == VG_LINK_PROBA ? 0.5f : values[l] * (float)(k + 1);
    for (uint32_t j = 0; j < 8; j++) {
        e->cover[j] = 10.0f - (float)j;
        e->gain[j] = n[j].feature >= 0 ? 1.5f : 0.0f;
    }
    assert_int_equal(vg_ensemble_validate(e), VG_OK);
    return e;
}

static float raw1(const vg_ensemble *e, float x0, float x1, float x2)
{
    float row[3] = { x0, x1, x2 }, raw[4];
    vg_ensemble_raw_row(e, row, raw);
    return raw[0] + (e->n_outputs > 1 ? raw[1] : 0.0f);
}

static void test_routing(void **state)
{
    (void)state;
    vg_ensemble *e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    assert_true(raw1(e, 0.2f, -2.0f, 5.0f) == 11.0f);      /* left; left */
    assert_true(raw1(e, 0.5f, -1.0f, 5.0f) == 11.0f);      /* equal to the threshold goes left */
    assert_true(raw1(e, NAN, 0.0f, 1.0f) == 21.0f);        /* NaN left (learned); right */
    assert_true(raw1(e, 1.0f, NAN, 33.0f) == 22.0f);       /* category 33 left; NaN right */
    assert_true(raw1(e, 1.0f, -5.0f, 1.0f) == 12.0f);      /* category 1 left */
    assert_true(raw1(e, 1.0f, -5.0f, 2.0f) == 13.0f);      /* category 2 right */
    assert_true(raw1(e, 1.0f, -5.0f, NAN) == 13.0f);       /* missing category: right */
    assert_true(raw1(e, 1.0f, -5.0f, 40.0f) == 13.0f);     /* past the categories: missing */
    assert_true(raw1(e, 1.0f, -5.0f, 1.5f) == 13.0f);      /* not a whole code: missing */
    assert_true(raw1(e, 1.0f, -5.0f, -1.0f) == 13.0f);     /* negative: missing */
    assert_true(raw1(e, INFINITY, -INFINITY, 33.0f) == 12.0f);
    /* The learned direction of the categorical split flips the missing cases. */
    e->nodes[2].flags |= VG_ENS_MISSING_LEFT;
    assert_true(raw1(e, 1.0f, -5.0f, NAN) == 12.0f);
    assert_true(raw1(e, 1.0f, -5.0f, 40.0f) == 12.0f);
    assert_true(raw1(e, 1.0f, -5.0f, 2.0f) == 13.0f);      /* a known category still goes its way */
    /* base and scale */
    e->base[0] = 0.5f;
    e->scale = 2.0f;
    assert_true(raw1(e, 0.2f, -2.0f, 5.0f) == 22.5f);
    vg_ensemble_free(e);
}

static void test_links(void **state)
{
    (void)state;
    float row[3] = { 0.2f, -2.0f, 5.0f }, raw[3], p[3];
    /* sigmoid: raw = 11 - 12 = -1 */
    vg_ensemble *e = hand_built(VG_LINK_SIGMOID, 2, 1, 1);
    e->base[0] = -12.0f;
    vg_ensemble_raw_row(e, row, raw);
    assert_true(raw[0] == -1.0f);
    vg_ensemble_link(e, raw, 1, p);
    assert_true(fabs(p[1] - 1.0 / (1.0 + exp(1.0))) < 1e-7);
    assert_true(fabs(p[0] + p[1] - 1.0) < 1e-7);
    /* extreme scores saturate without NaN */
    raw[0] = 1e30f;
    vg_ensemble_link(e, raw, 1, p);
    assert_true(p[1] == 1.0f && p[0] == 0.0f);
    raw[0] = -1e30f;
    vg_ensemble_link(e, raw, 1, p);
    assert_true(p[1] == 0.0f && p[0] == 1.0f);
    vg_ensemble_free(e);

    /* softmax, one tree per output: tree 0 -> output 0, tree 1 -> output 1 */
    e = hand_built(VG_LINK_SOFTMAX, 3, 3, 1);
    vg_ensemble_raw_row(e, row, raw);
    assert_true(raw[0] == 1.0f && raw[1] == 10.0f && raw[2] == 0.0f);
    vg_ensemble_link(e, raw, 1, p);
    double z = exp(1.0) + exp(10.0) + 1.0;
    assert_true(fabs(p[0] - exp(1.0) / z) < 1e-7 && fabs(p[1] - exp(10.0) / z) < 1e-6 && fabs(p[2] - 1.0 / z) < 1e-7);
    raw[0] = 1e30f, raw[1] = -1e30f, raw[2] = 0.0f;
    vg_ensemble_link(e, raw, 1, p);
    assert_true(p[0] == 1.0f && p[1] == 0.0f && p[2] == 0.0f);
    vg_ensemble_free(e);

    /* probabilities: leaves as wide as the outputs, mean by scale */
    e = hand_built(VG_LINK_PROBA, 2, 2, 2);
    for (uint32_t l = 0; l < 5; l++) {
        e->leaves[2 * l] = 0.25f * (float)(l % 4);
        e->leaves[2 * l + 1] = 1.0f - e->leaves[2 * l];
    }
    e->scale = 0.5f;
    assert_int_equal(vg_ensemble_validate(e), VG_OK);
    vg_ensemble_raw_row(e, row, raw);  /* leaves 0 and 3: (0 + 0.75) / 2, (1 + 0.25) / 2 */
    assert_true(raw[0] == 0.375f && raw[1] == 0.625f);
    vg_ensemble_link(e, raw, 1, p);
    assert_true(p[0] == 0.375f && p[1] == 0.625f);
    vg_ensemble_free(e);

    /* identity: regression copies the value */
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    vg_ensemble_raw_row(e, row, raw);
    vg_ensemble_link(e, raw, 1, p);
    assert_true(p[0] == 11.0f);
    vg_ensemble_free(e);
}

/* ---- random valid ensembles, and an independent reference ---- */

typedef struct gen {
    vg_ensemble *e;
    uint32_t node, leaf, word;
} gen;

/* Count a random tree's nodes first, then fill it: both passes draw the
 * same numbers from the same stream, so they build the same tree. */
static void grow(gen *g, vg_rng *rng, uint32_t base, uint32_t j, uint32_t *next, uint32_t depth, int fill)
{
    vg_ensemble *e = g->e;
    /* up to depth 7: every batch kernel (complete layouts of depth 6, the
     * 7-deep fallback) meets some tree */
    int split = depth < 7 && vg_rng_uniform(rng) < (depth == 0 ? 1.0 : 0.75);
    if (!split) {
        for (uint32_t k = 0; k < e->leaf_width; k++) {
            float v = (float)vg_rng_normal(rng);
            if (fill) e->leaves[(size_t)g->leaf * e->leaf_width + k] = v;
        }
        if (fill) {
            e->nodes[base + j] = (vg_ens_node){ .feature = -1, .child = g->leaf };
            e->cover[base + j] = 1.0f;
        }
        g->leaf++;
        return;
    }
    uint32_t f = vg_rng_below(rng, e->n_features);
    uint32_t flags = vg_rng_below(rng, 2) ? VG_ENS_MISSING_LEFT : 0;
    float thr = (float)vg_rng_normal(rng);
    uint32_t child = *next;
    *next += 2;
    if (fill) {
        vg_ens_node *nd = &e->nodes[base + j];
        *nd = (vg_ens_node){ .feature = (int32_t)f, .child = child, .flags = flags };
        if (e->n_categories[f]) {
            nd->flags |= VG_ENS_CATEGORICAL;
            nd->u.cats = g->word;
        } else {
            nd->u.threshold = thr;
        }
        e->cover[base + j] = 2.0f;
        e->gain[base + j] = 0.5f;
    }
    if (e->n_categories[f]) {
        uint32_t words = (e->n_categories[f] + 31) / 32;
        for (uint32_t w = 0; w < words; w++) {
            uint32_t bits = (uint32_t)vg_rng_next(rng);
            if (fill) e->cats[g->word + w] = bits;
        }
        g->word += words;
    }
    grow(g, rng, base, child, next, depth + 1, fill);
    grow(g, rng, base, child + 1, next, depth + 1, fill);
}

/* n_trees random trees over nf - 1 numeric features and one categorical
 * (feature 2) with 37 categories, for the given output shape. */
static vg_ensemble *random_ensemble_nf(uint64_t seed, uint32_t nf, uint32_t n_trees, vg_link link, uint32_t C,
                                       uint32_t K, uint32_t W)
{
    vg_ensemble probe = { .n_features = nf, .leaf_width = W };
    uint32_t ncat[64] = { 0 };
    assert_true(nf >= 3 && nf <= 64);
    ncat[2] = 37;
    probe.n_categories = ncat;
    gen g = { .e = &probe };
    uint32_t *sizes = malloc(n_trees * sizeof *sizes);
    for (uint32_t t = 0; t < n_trees; t++) {
        vg_rng rng;
        vg_rng_seed(&rng, seed, t);
        uint32_t next = 1;
        grow(&g, &rng, 0, 0, &next, 0, 0);
        sizes[t] = next;
        g.node += next;
    }
    vg_ensemble *e;
    assert_int_equal(vg_ensemble_alloc(nf, C, K, W, n_trees, g.node, g.leaf, VG_MAX(g.word, 1), &e), VG_OK);
    e->link = link;
    memcpy(e->n_categories, ncat, nf * sizeof *ncat);
    e->scale = 0.75f;
    for (uint32_t k = 0; k < K; k++) e->base[k] = 0.1f * (float)k;
    gen fill = { .e = e };
    for (uint32_t t = 0; t < n_trees; t++) {
        vg_rng rng;
        vg_rng_seed(&rng, seed, t);
        uint32_t next = 1;
        e->tree_start[t] = fill.node;
        e->tree_output[t] = (int32_t)(t % (W == 1 ? K : 1));
        grow(&fill, &rng, fill.node, 0, &next, 0, 1);
        fill.node += sizes[t];
    }
    e->tree_start[n_trees] = fill.node;
    free(sizes);
    if (link == VG_LINK_PROBA)
        for (size_t i = 0; i < (size_t)e->n_leaves * W; i++) e->leaves[i] = fabsf(e->leaves[i]) / 4.0f;
    for (size_t i = 0; i < (size_t)e->n_leaves * W; i++)
        if (e->leaves[i] > 1.0f && link == VG_LINK_PROBA) e->leaves[i] = 1.0f;
    assert_int_equal(vg_ensemble_validate(e), VG_OK);
    return e;
}

static vg_ensemble *random_ensemble(uint64_t seed, uint32_t n_trees, vg_link link, uint32_t C, uint32_t K,
                                    uint32_t W)
{
    return random_ensemble_nf(seed, 5, n_trees, link, C, K, W);
}

/* Reference routing written independently of ensemble.c: recursive, with
 * an explicit category test. */
static uint32_t ref_leaf(const vg_ensemble *e, const vg_ens_node *nodes, uint32_t j, const float *row)
{
    const vg_ens_node *nd = &nodes[j];
    if (nd->feature < 0) return nd->child;
    float x = row[nd->feature];
    int left;
    if (nd->flags & VG_ENS_CATEGORICAL) {
        double c = x;
        int valid = !isnan(x) && c >= 0 && c < e->n_categories[nd->feature] && c == (double)(long)c;
        if (!valid) left = (nd->flags & VG_ENS_MISSING_LEFT) != 0;
        else left = (e->cats[nd->u.cats + (uint32_t)c / 32] >> ((uint32_t)c % 32)) & 1;
    } else if (isnan(x)) {
        left = (nd->flags & VG_ENS_MISSING_LEFT) != 0;
    } else {
        left = x <= nd->u.threshold;
    }
    return ref_leaf(e, nodes, left ? nd->child : nd->child + 1, row);
}

static void random_rows_nf(vg_matrix *X, size_t rows, size_t cols, uint64_t seed)
{
    assert_int_equal(vg_matrix_alloc(X, rows, cols), VG_OK);
    vg_rng rng;
    vg_rng_seed(&rng, seed, 99);
    for (size_t i = 0; i < rows * cols; i++) {
        double u = vg_rng_uniform(&rng);
        X->data[i] = u < 0.1 ? NAN : (float)vg_rng_normal(&rng);
        if (i % cols == 2 && u >= 0.1) X->data[i] = (float)vg_rng_below(&rng, 42) - (u < 0.15 ? 0.5f : 0.0f);
    }
}

static void random_rows(vg_matrix *X, size_t rows, uint64_t seed)
{
    random_rows_nf(X, rows, 5, seed);
}

static void check_against_reference(vg_link link, uint32_t C, uint32_t K, uint32_t W)
{
    vg_ensemble *e = random_ensemble(7 + K + W, 40, link, C, K, W);
    vg_matrix X;
    const size_t rows = 1500;  /* several blocks and a ragged end */
    random_rows(&X, rows, 3);
    float *r1 = malloc(rows * K * sizeof *r1), *r2 = malloc(rows * K * sizeof *r2);
    float *r3 = malloc(rows * K * sizeof *r3), *one = malloc(K * sizeof *one);
    vg_ensemble_raw(e, &X, 1, r1);
    vg_ensemble_raw(e, &X, 2, r2);
    vg_ensemble_raw(e, &X, 3, r3);
    assert_memory_equal(r1, r2, rows * K * sizeof *r1);
    assert_memory_equal(r1, r3, rows * K * sizeof *r1);
    double *ref = malloc(K * sizeof *ref);
    double max_diff = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const float *row = X.data + r * 5;
        vg_ensemble_raw_row(e, row, one);
        assert_memory_equal(one, r1 + r * K, K * sizeof *one);  /* bit-identical to the batch */
        for (uint32_t k = 0; k < K; k++) ref[k] = 0.0;
        for (uint32_t t = 0; t < e->n_trees; t++) {
            uint32_t leaf = ref_leaf(e, e->nodes + e->tree_start[t], 0, row);
            for (uint32_t k = 0; k < W; k++)
                ref[W == 1 ? (uint32_t)e->tree_output[t] : k] += e->leaves[(size_t)leaf * W + k];
        }
        for (uint32_t k = 0; k < K; k++) {
            double want = e->base[k] + e->scale * ref[k];
            max_diff = fmax(max_diff, fabs(want - one[k]));
        }
    }
    printf("link %d, %u outputs, leaf width %u: max |raw - reference| = %g\n", (int)link, K, W, max_diff);
    assert_true(max_diff < 1e-4);
    /* predict = raw + link, whatever the threads */
    float *p1 = malloc(rows * C * sizeof *p1), *p2 = malloc(rows * C * sizeof *p2), *pl = malloc(rows * C * sizeof *pl);
    vg_ensemble_predict(e, &X, 1, p1);
    vg_ensemble_predict(e, &X, 2, p2);
    vg_ensemble_link(e, r1, rows, pl);
    assert_memory_equal(p1, p2, rows * C * sizeof *p1);
    assert_memory_equal(p1, pl, rows * C * sizeof *p1);
    /* the plain kernels (VG_NO_SIMD) give the same bits as the vector ones */
    setenv("VG_NO_SIMD", "1", 1);
    vg_ensemble_raw(e, &X, 2, r3);
    unsetenv("VG_NO_SIMD");
    assert_memory_equal(r1, r3, rows * K * sizeof *r1);
    /* small batches (the server's /v1/detect/batch, watch's last block):
     * every size through the kernels' ragged ends, with the batch layout
     * made by the first call and kept in the ensemble, same bits */
    for (size_t n = 1; n <= 70; n++) {
        size_t r0 = (n * 37) % (rows - n);
        vg_matrix sub = { .rows = n, .cols = X.cols, .data = X.data + r0 * X.cols };
        vg_ensemble_raw(e, &sub, 2, r3);
        assert_memory_equal(r3, r1 + r0 * K, n * K * sizeof *r1);
    }
    assert_non_null(e->batch);
    /* in place */
    memcpy(r2, r1, rows * K * sizeof *r1);
    if (C == K) {
        vg_ensemble_link(e, r2, rows, r2);
        assert_memory_equal(p1, r2, rows * C * sizeof *p1);
    }
    free(p1), free(p2), free(pl), free(ref), free(r1), free(r2), free(r3), free(one);
    vg_matrix_free(&X);
    vg_ensemble_free(e);
}

static void test_batch_matches_reference(void **state)
{
    (void)state;
    check_against_reference(VG_LINK_IDENTITY, 1, 1, 1);
    check_against_reference(VG_LINK_SIGMOID, 2, 1, 1);
    check_against_reference(VG_LINK_SOFTMAX, 4, 4, 1);
    check_against_reference(VG_LINK_PROBA, 3, 3, 3);
}

/* Rows wider than one 16-column tile (the wide kernel turns a group's rows
 * into columns a tile at a time, the last one partial): every feature of
 * every tile is read by some split, and the batch equals the row walk. */
static void test_batch_wide_rows(void **state)
{
    (void)state;
    const uint32_t nf = 37;
    const size_t rows = 300;
    vg_ensemble *e = random_ensemble_nf(11, nf, 60, VG_LINK_SIGMOID, 2, 1, 1);
    vg_matrix X;
    random_rows_nf(&X, rows, nf, 4);
    float *batch = malloc(rows * sizeof *batch), one;
    vg_ensemble_raw(e, &X, 1, batch);
    for (size_t r = 0; r < rows; r++) {
        vg_ensemble_raw_row(e, X.data + r * nf, &one);
        assert_memory_equal(&one, batch + r, sizeof one);
    }
    free(batch);
    vg_matrix_free(&X);
    vg_ensemble_free(e);
}

/* ---- validation ---- */

static void expect_invalid(vg_ensemble *e, const char *needle)
{
    assert_int_equal(vg_ensemble_validate(e), VG_ERR_FORMAT);
    if (!strstr(vg_last_error(), needle)) fail_msg("'%s' does not mention '%s'", vg_last_error(), needle);
    vg_ensemble_free(e);
}

static void test_validate_rejects(void **state)
{
    (void)state;
    vg_ensemble *e;
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[2].child = 2;  /* points at itself */
    expect_invalid(e, "child");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[2].child = 1;  /* points backwards */
    expect_invalid(e, "child");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[0].child = 4;  /* right child would be past the tree */
    expect_invalid(e, "child");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[0].child = 2;  /* node 1 orphaned, node 3 twice a child */
    expect_invalid(e, "parent");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[4].child = 5;  /* leaf index past the leaves */
    expect_invalid(e, "leaf");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[5].feature = 3;
    expect_invalid(e, "feature");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[0].feature = 2;  /* numeric split on a categorical feature */
    expect_invalid(e, "feature");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[5].flags |= VG_ENS_CATEGORICAL;  /* categorical split on a numeric feature */
    expect_invalid(e, "feature");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[2].u.cats = 1;  /* two words from offset 1 pass the end */
    expect_invalid(e, "category set");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[2].flags |= 8;
    expect_invalid(e, "flags");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->nodes[5].u.threshold = NAN;
    expect_invalid(e, "threshold");
    e = hand_built(VG_LINK_SOFTMAX, 3, 3, 1);
    e->tree_output[1] = 3;
    expect_invalid(e, "output");
    e = hand_built(VG_LINK_SOFTMAX, 3, 3, 1);
    e->tree_output[1] = -1;
    expect_invalid(e, "output");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->link = VG_LINK_SIGMOID;  /* sigmoid needs two classes */
    expect_invalid(e, "sigmoid");
    e = hand_built(VG_LINK_SIGMOID, 2, 1, 1);
    e->n_classes = 3;
    expect_invalid(e, "sigmoid");
    e = hand_built(VG_LINK_SOFTMAX, 3, 3, 1);
    e->leaf_width = 2;
    expect_invalid(e, "leaf width");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->link = (vg_link)7;
    expect_invalid(e, "link");
    e = hand_built(VG_LINK_PROBA, 2, 2, 2);
    e->leaves[3] = 1.5f;
    expect_invalid(e, "leaf value");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->leaves[1] = INFINITY;
    expect_invalid(e, "leaf value");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->base[0] = NAN;
    expect_invalid(e, "base");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->tree_start[1] = 0;  /* empty tree */
    expect_invalid(e, "empty");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->tree_start[2] = 7;
    expect_invalid(e, "offsets");
    e = hand_built(VG_LINK_IDENTITY, 1, 1, 1);
    e->cover[3] = -1.0f;
    expect_invalid(e, "cover");
}

/* ---- save / load ---- */

static void save(const vg_ensemble *e, vg_wbuf *w)
{
    vg_wbuf_init(w);
    assert_int_equal(vg_ensemble_save(e, w), VG_OK);
}

static void test_save_load_round_trip(void **state)
{
    (void)state;
    const struct { vg_link link; uint32_t C, K, W; } shapes[] = {
        { VG_LINK_SIGMOID, 2, 1, 1 }, { VG_LINK_SOFTMAX, 3, 3, 1 }, { VG_LINK_PROBA, 3, 3, 3 },
        { VG_LINK_IDENTITY, 1, 1, 1 },
    };
    vg_matrix X;
    random_rows(&X, 700, 11);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        vg_ensemble *e = random_ensemble(100 + s, 25, shapes[s].link, shapes[s].C, shapes[s].K, shapes[s].W);
        vg_wbuf w, w2;
        save(e, &w);
        vg_rbuf r;
        vg_rbuf_init(&r, w.data, w.len, "ensemble");
        vg_ensemble *back;
        assert_int_equal(vg_ensemble_load(&r, &back), VG_OK);
        assert_int_equal(r.pos, w.len);  /* reads exactly what was written */
        save(back, &w2);
        assert_int_equal(w.len, w2.len);
        assert_memory_equal(w.data, w2.data, w.len);
        size_t n = X.rows * shapes[s].C;
        float *p1 = malloc(n * sizeof *p1), *p2 = malloc(n * sizeof *p2);
        vg_ensemble_predict(e, &X, 2, p1);
        vg_ensemble_predict(back, &X, 1, p2);
        assert_memory_equal(p1, p2, n * sizeof *p1);
        vg_wbuf d1, d2;
        vg_wbuf_init(&d1);
        vg_wbuf_init(&d2);
        vg_ensemble_describe(e, &d1);
        vg_ensemble_describe(back, &d2);
        assert_int_equal(d1.len, d2.len);
        assert_memory_equal(d1.data, d2.data, d1.len);
        free(p1), free(p2);
        vg_wbuf_free(&d1), vg_wbuf_free(&d2), vg_wbuf_free(&w), vg_wbuf_free(&w2);
        vg_ensemble_free(e);
        vg_ensemble_free(back);
    }
    vg_matrix_free(&X);
}

static void test_describe(void **state)
{
    (void)state;
    vg_ensemble *e = hand_built(VG_LINK_SIGMOID, 2, 1, 1);
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_ensemble_describe(e, &w);
    vg_wbuf_u8(&w, 0);
    assert_string_equal((const char *)w.data, "trees: 2\nnodes: 8\nleaves: 5\nmax_depth: 2\n");
    vg_wbuf_free(&w);
    vg_ensemble_free(e);
}

/* A loaded ensemble must be usable: validate passes and a prediction over
 * rows with every kind of value runs (ASan / UBSan watch it). */
static void use(const vg_ensemble *e)
{
    assert_int_equal(vg_ensemble_validate(e), VG_OK);
    vg_matrix X;
    assert_int_equal(vg_matrix_alloc(&X, 9, e->n_features), VG_OK);
    const float vals[9] = { NAN, 0.0f, -1.0f, 1.0f, 33.0f, 1e30f, -1e30f, 2.5f, INFINITY };
    for (size_t i = 0; i < X.rows * X.cols; i++) X.data[i] = vals[(i / X.cols + i) % 9];
    float *p = malloc(X.rows * VG_MAX(e->n_classes, e->n_outputs) * sizeof *p);
    vg_ensemble_predict(e, &X, 1, p);
    free(p);
    vg_matrix_free(&X);
}

static void test_truncated_and_corrupt(void **state)
{
    (void)state;
    vg_ensemble *e = random_ensemble(5, 6, VG_LINK_SOFTMAX, 3, 3, 1);
    vg_wbuf w;
    save(e, &w);
    /* Every proper prefix is refused. */
    for (size_t len = 0; len < w.len; len++) {
        vg_rbuf r;
        vg_rbuf_init(&r, w.data, len, "ensemble");
        vg_ensemble *back = (vg_ensemble *)1;
        vg_status st = vg_ensemble_load(&r, &back);
        if (st != VG_ERR_FORMAT) fail_msg("prefix of %zu/%zu bytes: status %d", len, w.len, (int)st);
        assert_null(back);
    }
    /* Random flips: refused with VG_ERR_FORMAT, or a valid, usable ensemble. */
    uint8_t *copy = malloc(w.len);
    vg_rng rng;
    vg_rng_seed(&rng, 1, 2);
    size_t accepted = 0, trials = 4000;
    for (size_t t = 0; t < trials; t++) {
        memcpy(copy, w.data, w.len);
        uint32_t flips = 1 + vg_rng_below(&rng, 4);
        for (uint32_t i = 0; i < flips; i++) {
            size_t at = vg_rng_below(&rng, (uint32_t)w.len);
            if (vg_rng_below(&rng, 2)) copy[at] ^= (uint8_t)(1u << vg_rng_below(&rng, 8));
            else copy[at] = (uint8_t)vg_rng_next(&rng);
        }
        vg_rbuf r;
        vg_rbuf_init(&r, copy, w.len, "ensemble");
        vg_ensemble *back = NULL;
        vg_status st = vg_ensemble_load(&r, &back);
        if (st == VG_OK) {
            accepted++;
            use(back);
            vg_ensemble_free(back);
        } else {
            assert_int_equal(st, VG_ERR_FORMAT);
            assert_null(back);
            assert_true(vg_last_error()[0] != '\0');
        }
    }
    printf("random corruption: %zu of %zu mutated files loaded as valid ensembles (leaf values, covers...)\n",
           accepted, trials);
    assert_true(accepted < trials);
    /* Targeted: a count raised so the file claims more than it holds. */
    memcpy(copy, w.data, w.len);
    copy[24] = 0xFF;  /* n_nodes, low byte */
    vg_rbuf r;
    vg_rbuf_init(&r, copy, w.len, "ensemble");
    vg_ensemble *back;
    assert_int_equal(vg_ensemble_load(&r, &back), VG_ERR_FORMAT);
    /* A newer version. */
    memcpy(copy, w.data, w.len);
    copy[0] = 2;
    vg_rbuf_init(&r, copy, w.len, "ensemble");
    assert_int_equal(vg_ensemble_load(&r, &back), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "version"));
    free(copy);
    vg_wbuf_free(&w);
    vg_ensemble_free(e);
}

static void test_empty_ensemble(void **state)
{
    (void)state;
    /* No trees: every row scores the base. */
    vg_ensemble *e;
    assert_int_equal(vg_ensemble_alloc(2, 2, 1, 1, 0, 0, 0, 0, &e), VG_OK);
    e->link = VG_LINK_SIGMOID;
    e->base[0] = 0.0f;
    assert_int_equal(vg_ensemble_validate(e), VG_OK);
    float row[2] = { 1, 2 }, raw, p[2];
    vg_ensemble_raw_row(e, row, &raw);
    vg_ensemble_link(e, &raw, 1, p);
    assert_true(raw == 0.0f && p[0] == 0.5f && p[1] == 0.5f);
    vg_ensemble_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_batch_matches_reference),
        cmocka_unit_test(test_batch_wide_rows),
        cmocka_unit_test(test_validate_rejects),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_truncated_and_corrupt),
        cmocka_unit_test(test_empty_ensemble),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
