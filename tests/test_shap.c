/* Unit tests for exact TreeSHAP on the compiled ensemble (vg_ensemble_shap):
 * contributions plus bias equal the raw score on every row, and on small
 * ensembles they equal Shapley values computed by brute force over every
 * feature subset. Covers hand-built trees (a feature repeated on a path,
 * categorical bitsets, missing and unseen values, zero-cover children,
 * leaf_width 1 with tree_output and the sigmoid/softmax links, deep trees
 * that outgrow the initial workspace), trees and forests grown by the CART
 * builder, the tree/forest/gbdt vtable hooks, XGBoost's own TreeSHAP
 * (golden values from tools/golden_shap.py), and parallel calls. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/core.h"
#include "vigil/estimator.h"
#include "vigil/parallel.h"
#include "vigil/rng.h"
#include "models/cart.h"
#include "models/ensemble.h"
#include "testutil.h"

/* ---- the oracle: Shapley values by enumerating subsets ---- */

/* Routing written independently of the library: a numeric split goes left
 * when x <= threshold, a categorical one when the code's bit is set; NaN,
 * and a code that is not a whole number inside the bitset's range, follow
 * the missing flag. */
static int oracle_left(const vg_ensemble *e, const vg_ens_node *nd, const float *row)
{
    float x = row[nd->feature];
    int missing_left = (nd->flags & VG_ENS_MISSING_LEFT) != 0;
    if (nd->flags & VG_ENS_CATEGORICAL) {
        double c = x;
        if (isnan(x) || c < 0 || c >= e->n_categories[nd->feature] || c != floor(c)) return missing_left;
        uint32_t k = (uint32_t)c;
        return (int)((e->cats[nd->u.cats + k / 32] >> (k % 32)) & 1u);
    }
    if (isnan(x)) return missing_left;
    return x <= nd->u.threshold;
}

/* Expected value of output o of tree t at node j when only the features in
 * `mask` are known: known features follow the row, unknown ones both
 * children in proportion to their cover. */
static double cond_exp(const vg_ensemble *e, uint32_t t, uint32_t j, const float *row, uint32_t mask, uint32_t o)
{
    const uint32_t base = e->tree_start[t];
    const vg_ens_node *nd = &e->nodes[base + j];
    if (nd->feature < 0) {
        if (e->leaf_width == 1) return (uint32_t)e->tree_output[t] == o ? e->leaves[nd->child] : 0.0;
        return e->leaves[(size_t)nd->child * e->leaf_width + o];
    }
    if (mask & (1u << nd->feature))
        return cond_exp(e, t, nd->child + (oracle_left(e, nd, row) ? 0 : 1), row, mask, o);
    double cl = e->cover[base + nd->child], cr = e->cover[base + nd->child + 1], tot = cl + cr;
    double sl = tot > 0 ? cl / tot : 0.5, sr = tot > 0 ? cr / tot : 0.5;
    double v = 0.0;
    if (sl > 0) v += sl * cond_exp(e, t, nd->child, row, mask, o);
    if (sr > 0) v += sr * cond_exp(e, t, nd->child + 1, row, mask, o);
    return v;
}

static double value(const vg_ensemble *e, const float *row, uint32_t mask, uint32_t o)
{
    double s = 0.0;
    for (uint32_t t = 0; t < e->n_trees; t++) s += cond_exp(e, t, 0, row, mask, o);
    return (double)e->base[o] + (double)e->scale * s;
}

/* phi ((n_features + 1) x n_outputs, last row the bias) by the Shapley
 * formula: phi_i = sum over S without i of |S|! (n - |S| - 1)! / n! x
 * (v(S + i) - v(S)). */
static void brute_shap(const vg_ensemble *e, const float *row, double *phi)
{
    const uint32_t n = e->n_features, K = e->n_outputs;
    assert_true(n <= 12);
    double fact[14] = { 1 };
    for (int i = 1; i < 14; i++) fact[i] = fact[i - 1] * i;
    memset(phi, 0, (n + 1) * K * sizeof *phi);
    for (uint32_t o = 0; o < K; o++) {
        double *v = malloc(((size_t)1 << n) * sizeof *v);
        for (uint32_t m = 0; m < (1u << n); m++) v[m] = value(e, row, m, o);
        for (uint32_t i = 0; i < n; i++) {
            for (uint32_t m = 0; m < (1u << n); m++) {
                if (m & (1u << i)) continue;
                int s = __builtin_popcount(m);
                phi[i * K + o] += fact[s] * fact[n - s - 1] / fact[n] * (v[m | (1u << i)] - v[m]);
            }
        }
        phi[n * K + o] = v[0];
        free(v);
    }
}

/* Contributions + bias against the raw score, for every output; returns
 * the largest difference. */
static double sum_error(const vg_ensemble *e, const float *row, const double *phi)
{
    const uint32_t n = e->n_features, K = e->n_outputs;
    float raw[64];
    assert_true(K <= 64);
    vg_ensemble_raw_row(e, row, raw);
    double worst = 0.0;
    for (uint32_t o = 0; o < K; o++) {
        double s = 0.0;
        for (uint32_t f = 0; f <= n; f++) s += phi[f * K + o];
        /* raw is a float: allow its rounding, relative to the sum's terms. */
        double err = fabs(s - (double)raw[o]) / (1.0 + fabs((double)raw[o]));
        if (err > worst) worst = err;
    }
    return worst;
}

/* Check rows against the contract and, when brute is set, the oracle. */
static void check_rows(const vg_ensemble *e, const float *X, size_t rows, int brute, const char *what)
{
    const uint32_t n = e->n_features, K = e->n_outputs;
    double *phi = malloc((n + 1) * K * sizeof *phi), *want = malloc((n + 1) * K * sizeof *want);
    double worst_sum = 0.0, worst_brute = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const float *row = X + r * n;
        assert_int_equal(vg_ensemble_shap(e, row, phi), VG_OK);
        double s = sum_error(e, row, phi);
        if (s > worst_sum) worst_sum = s;
        if (!brute) continue;
        brute_shap(e, row, want);
        for (uint32_t i = 0; i < (n + 1) * K; i++) {
            double d = fabs(phi[i] - want[i]);
            if (d > worst_brute) worst_brute = d;
        }
    }
    printf("%s: %zu rows, max |sum + bias - raw| %.3g (relative), max |phi - brute force| %s%.3g\n", what, rows,
           worst_sum, brute ? "" : "(not run) ", worst_brute);
    assert_true(worst_sum < 2e-6);
    assert_true(worst_brute < 1e-6);
    free(phi);
    free(want);
}

/* ---- hand-built ensembles ---- */

/* A node as written in the tests: a split (feature >= 0) with tree-local
 * children `child`, `child + 1`, a threshold or a list of left-going
 * categories, flags; or a leaf (feature -1) with its cover. */
typedef struct spec {
    int32_t feature;
    uint32_t child;
    float threshold;
    const char *left_cats;  /* categorical: codes going left, e.g. "0,3" */
    uint32_t flags;
    float cover;            /* leaves; splits get the sum of their children */
} spec;

#define LEAF(c) { -1, 0, 0.0f, NULL, 0, (c) }
#define NUM(f, ch, thr, fl) { (f), (ch), (thr), NULL, (fl), 0.0f }
#define CAT(f, ch, cats, fl) { (f), (ch), 0.0f, (cats), (fl) | VG_ENS_CATEGORICAL, 0.0f }

typedef struct tree_spec {
    const spec *nodes;
    uint32_t n;
    int32_t output;  /* tree_output when leaf_width == 1 */
} tree_spec;

static float subtree_cover(const spec *s, uint32_t j, float *cover)
{
    if (s[j].feature < 0) return cover[j] = s[j].cover;
    return cover[j] = subtree_cover(s, s[j].child, cover) + subtree_cover(s, s[j].child + 1, cover);
}

/* Build an ensemble from tree specs; leaf values are drawn from rng
 * (probabilities summing to 1 for the PROBA link, else in [-1, 1]). */
static vg_ensemble *build(uint32_t nf, const uint32_t *n_categories, uint32_t n_classes, uint32_t n_outputs,
                          uint32_t leaf_width, vg_link link, float scale, const float *base, const tree_spec *trees,
                          uint32_t n_trees, uint64_t seed)
{
    uint32_t nodes = 0, leaves = 0, words = 0;
    for (uint32_t t = 0; t < n_trees; t++) {
        nodes += trees[t].n;
        for (uint32_t j = 0; j < trees[t].n; j++) {
            if (trees[t].nodes[j].feature < 0) leaves++;
            else if (trees[t].nodes[j].left_cats) words += (n_categories[trees[t].nodes[j].feature] + 31) / 32;
        }
    }
    vg_ensemble *e;
    assert_int_equal(vg_ensemble_alloc(nf, n_classes, n_outputs, leaf_width, n_trees, nodes, leaves, words, &e), VG_OK);
    e->link = link;
    e->scale = scale;
    for (uint32_t o = 0; o < n_outputs; o++) e->base[o] = base ? base[o] : 0.0f;
    for (uint32_t f = 0; f < nf; f++) e->n_categories[f] = n_categories ? n_categories[f] : 0;
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0);
    uint32_t at = 0, leaf = 0, word = 0;
    for (uint32_t t = 0; t < n_trees; t++) {
        const spec *s = trees[t].nodes;
        e->tree_start[t] = at;
        e->tree_output[t] = trees[t].output;
        subtree_cover(s, 0, e->cover + at);
        for (uint32_t j = 0; j < trees[t].n; j++) {
            vg_ens_node *nd = &e->nodes[at + j];
            nd->feature = s[j].feature;
            nd->flags = s[j].flags;
            if (s[j].feature < 0) {
                nd->child = leaf;
                float *v = e->leaves + (size_t)leaf * leaf_width;
                double sum = 0.0;
                for (uint32_t k = 0; k < leaf_width; k++) {
                    v[k] = link == VG_LINK_PROBA ? (float)(0.05 + vg_rng_uniform(&rng))
                                                 : (float)(2.0 * vg_rng_uniform(&rng) - 1.0);
                    sum += v[k];
                }
                if (link == VG_LINK_PROBA)
                    for (uint32_t k = 0; k < leaf_width; k++) v[k] = (float)(v[k] / sum);
                leaf++;
                continue;
            }
            nd->child = s[j].child;
            /* The gain is made up: only importance reads it. */
            e->gain[at + j] = (float)(1 + j);
            if (s[j].left_cats) {
                nd->u.cats = word;
                for (const char *p = s[j].left_cats; *p;) {
                    char *end;
                    long c = strtol(p, &end, 10);
                    e->cats[word + (uint32_t)c / 32] |= 1u << ((uint32_t)c % 32);
                    p = *end ? end + 1 : end;
                }
                word += (n_categories[s[j].feature] + 31) / 32;
            } else {
                nd->u.threshold = s[j].threshold;
            }
        }
        at += trees[t].n;
    }
    e->tree_start[n_trees] = at;
    if (vg_ensemble_validate(e) != VG_OK) fail_msg("hand-built ensemble: %s", vg_last_error());
    return e;
}

/* Tree 0: feature 0 three times on one path (unwind and re-extend), a
 * categorical split on feature 2 (5 categories), missing-left flags. */
static const spec tree_a[] = {
    NUM(0, 1, 0.5f, VG_ENS_MISSING_LEFT),  /* 0 */
    CAT(2, 3, "0,3", 0),                   /* 1 */
    NUM(0, 5, 2.0f, 0),                    /* 2 */
    LEAF(3.0f),                            /* 3 */
    NUM(1, 7, 0.0f, VG_ENS_MISSING_LEFT),  /* 4 */
    NUM(0, 9, 1.0f, 0),                    /* 5 */
    LEAF(5.0f),                            /* 6 */
    LEAF(2.0f),                            /* 7 */
    LEAF(4.0f),                            /* 8 */
    NUM(3, 11, 0.0f, 0),                   /* 9 */
    LEAF(1.0f),                            /* 10 */
    LEAF(2.0f),                            /* 11 */
    LEAF(6.0f),                            /* 12 */
};

/* Tree 1: categorical at the root with a missing-left flag, feature 2
 * again below it, a child that no training row reached (cover 0). */
static const spec tree_b[] = {
    CAT(2, 1, "1,2,4", VG_ENS_MISSING_LEFT),  /* 0 */
    NUM(1, 3, -0.5f, 0),                      /* 1 */
    NUM(3, 5, 1.5f, VG_ENS_MISSING_LEFT),     /* 2 */
    CAT(2, 7, "2", 0),                        /* 3 */
    LEAF(7.0f),                               /* 4 */
    LEAF(0.0f),                               /* 5: never reached in training */
    LEAF(3.0f),                               /* 6 */
    LEAF(2.0f),                               /* 7 */
    LEAF(1.0f),                               /* 8 */
};

/* Tree 2: a stump, and tree 3: a single leaf (a constant). */
static const spec tree_c[] = { NUM(1, 1, 0.25f, 0), LEAF(4.0f), LEAF(4.0f) };
static const spec tree_d[] = { LEAF(9.0f) };

static const uint32_t cats4[] = { 0, 0, 5, 0 };

/* Rows that exercise every route: both sides of every threshold, NaN in
 * every column, categories set and unset, codes outside the range or not
 * whole numbers (missing). */
static float *odd_rows(size_t *rows)
{
    static const float vals0[] = { -1.0f, 0.5f, 0.75f, 1.5f, 2.0f, 3.0f, NAN };
    static const float vals1[] = { -1.0f, -0.5f, 0.0f, 0.1f, 0.3f, NAN };
    static const float vals2[] = { 0, 1, 2, 3, 4, 5, -1, 2.5f, NAN, 1e9f };
    static const float vals3[] = { -2.0f, 0.0f, 1.0f, 1.5f, 2.0f, NAN };
    size_t n = 7 * 6 * 10 * 6;
    float *X = malloc(n * 4 * sizeof *X);
    size_t r = 0;
    for (int a = 0; a < 7; a++)
        for (int b = 0; b < 6; b++)
            for (int c = 0; c < 10; c++)
                for (int d = 0; d < 6; d++, r++) {
                    X[r * 4] = vals0[a];
                    X[r * 4 + 1] = vals1[b];
                    X[r * 4 + 2] = vals2[c];
                    X[r * 4 + 3] = vals3[d];
                }
    *rows = n;
    return X;
}

static void test_hand_built_proba(void **state)
{
    (void)state;
    size_t before = vg_mem_in_use();
    tree_spec trees[] = { { tree_a, 13, 0 }, { tree_b, 9, 0 }, { tree_c, 3, 0 }, { tree_d, 1, 0 } };
    vg_ensemble *e = build(4, cats4, 3, 3, 3, VG_LINK_PROBA, 0.25f, NULL, trees, 4, 1);
    size_t rows;
    float *X = odd_rows(&rows);
    check_rows(e, X, rows, 1, "hand-built forest, 3 classes");
    /* The bias is the cover-weighted mean of the raw score: the expected
     * value over the training distribution the covers describe. */
    double phi[5 * 3];
    assert_int_equal(vg_ensemble_shap(e, X, phi), VG_OK);
    double s = 0.0;
    for (uint32_t k = 0; k < 3; k++) s += phi[4 * 3 + k];
    assert_true(fabs(s - 1.0) < 1e-6);  /* probabilities: the expected ones sum to 1 too */
    /* A feature no tree splits on gets exactly nothing: with only the
     * stump on feature 1, every other feature's contribution is 0. */
    tree_spec stump[] = { { tree_c, 3, 0 } };
    vg_ensemble *c = build(4, cats4, 3, 3, 3, VG_LINK_PROBA, 1.0f, NULL, stump, 1, 2);
    assert_int_equal(vg_ensemble_shap(c, X, phi), VG_OK);
    for (uint32_t f = 0; f < 4; f++)
        for (uint32_t k = 0; k < 3; k++)
            if (f != 1) assert_true(phi[f * 3 + k] == 0.0);
    vg_ensemble_free(c);
    free(X);
    vg_ensemble_free(e);
    assert_int_equal(vg_mem_in_use(), before);
}

static void test_hand_built_leaf_width_one(void **state)
{
    (void)state;
    size_t rows;
    float *X = odd_rows(&rows);
    /* Sigmoid: one output, a base score, trees adding to output 0. */
    tree_spec bin[] = { { tree_a, 13, 0 }, { tree_b, 9, 0 }, { tree_c, 3, 0 } };
    const float base1[] = { -0.7f };
    vg_ensemble *e = build(4, cats4, 2, 1, 1, VG_LINK_SIGMOID, 0.5f, base1, bin, 3, 3);
    check_rows(e, X, rows, 1, "hand-built booster, sigmoid");
    vg_ensemble_free(e);
    /* Softmax: three outputs, trees assigned round-robin as one per class per
     * round, one output with a single constant tree. */
    tree_spec multi[] = { { tree_a, 13, 0 }, { tree_b, 9, 1 }, { tree_d, 1, 2 },
                          { tree_b, 9, 0 }, { tree_c, 3, 1 }, { tree_a, 13, 0 } };
    const float base3[] = { 0.1f, -0.2f, 0.3f };
    e = build(4, cats4, 3, 3, 1, VG_LINK_SOFTMAX, 1.0f, base3, multi, 6, 4);
    check_rows(e, X, rows, 1, "hand-built booster, softmax");
    double phi[5 * 3];
    assert_int_equal(vg_ensemble_shap(e, X, phi), VG_OK);
    for (uint32_t f = 0; f < 4; f++) assert_true(phi[f * 3 + 2] == 0.0);  /* output 2: only a constant */
    vg_ensemble_free(e);
    free(X);
}

/* A chain 300 splits deep cycling over 5 features (most of them repeats),
 * and a comb over 40 distinct features: both outgrow the workspace's first
 * size. */
static void test_deep_trees(void **state)
{
    (void)state;
    size_t before = vg_mem_in_use();
    enum { DEPTH = 300 };
    spec *chain = calloc(2 * DEPTH + 1, sizeof *chain);
    for (uint32_t d = 0; d < DEPTH; d++) {
        /* Split d: left child a leaf, right child the next split. */
        chain[2 * d] = (spec)NUM((int32_t)(d % 5), 2 * d + 1, (float)((d * 7) % 11) / 10.0f - 0.5f,
                                 d % 3 == 0 ? VG_ENS_MISSING_LEFT : 0);
        chain[2 * d + 1] = (spec)LEAF((float)(1 + d % 4));
    }
    chain[2 * DEPTH] = (spec)LEAF(2.0f);
    /* Node 2d's right child is 2d + 2 (the next split): child + 1 = 2d + 2. */
    tree_spec t[] = { { chain, 2 * DEPTH + 1, 0 } };
    vg_ensemble *e = build(5, NULL, 2, 1, 1, VG_LINK_SIGMOID, 1.0f, NULL, t, 1, 5);
    vg_rng rng;
    vg_rng_seed(&rng, 9, 0);
    float X[40 * 5];
    for (int i = 0; i < 40 * 5; i++) X[i] = (float)(vg_rng_uniform(&rng) * 1.4 - 0.7);
    X[3] = NAN;
    check_rows(e, X, 40, 1, "chain of 300 splits over 5 features");
    vg_ensemble_free(e);

    enum { NF = 40 };
    spec comb[2 * NF + 1];
    for (uint32_t d = 0; d < NF; d++) {
        comb[2 * d] = (spec)NUM((int32_t)d, 2 * d + 1, 0.0f, 0);
        comb[2 * d + 1] = (spec)LEAF((float)(1 + d % 3));
    }
    comb[2 * NF] = (spec)LEAF(1.0f);
    tree_spec tc[] = { { comb, 2 * NF + 1, 0 }, { comb, 2 * NF + 1, 0 } };
    e = build(NF, NULL, 2, 1, 1, VG_LINK_SIGMOID, 1.0f, NULL, tc, 2, 6);
    float Y[20 * NF];
    for (int i = 0; i < 20 * NF; i++) Y[i] = (float)(vg_rng_uniform(&rng) * 2.0 - 0.2);  /* mostly right */
    check_rows(e, Y, 20, 0, "comb of 40 distinct features");
    vg_ensemble_free(e);
    free(chain);

    /* No features at all: a constant, all bias. */
    tree_spec leaf_only[] = { { tree_d, 1, 0 }, { tree_d, 1, 0 } };
    e = build(0, NULL, 2, 2, 2, VG_LINK_PROBA, 0.5f, NULL, leaf_only, 2, 7);
    double phi[2];
    float raw[2];
    assert_int_equal(vg_ensemble_shap(e, NULL, phi), VG_OK);
    vg_ensemble_raw_row(e, NULL, raw);
    assert_true(fabs(phi[0] - raw[0]) < 1e-7 && fabs(phi[1] - raw[1]) < 1e-7);
    vg_ensemble_free(e);
    assert_int_equal(vg_mem_in_use(), before);
}

/* ---- trees and forests grown by the CART builder ---- */

typedef struct dataset {
    vg_matrix X;
    int32_t *y;
    vg_feature features[6];
    uint32_t n_classes;
} dataset;

/* Six columns: 0-1 numeric signal (1 with NaNs), 2 categorical (6
 * categories) with signal, 3-5 noise. */
static void make_data(dataset *d, size_t rows, uint32_t n_classes, uint64_t seed)
{
    assert_int_equal(vg_matrix_alloc(&d->X, rows, 6), VG_OK);
    d->y = calloc(rows, sizeof *d->y);
    d->n_classes = n_classes;
    for (int f = 0; f < 6; f++) d->features[f] = (vg_feature){ "x", VG_FEATURE_NUMERIC, 0 };
    d->features[2] = (vg_feature){ "c", VG_FEATURE_CATEGORICAL, 6 };
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0);
    for (size_t r = 0; r < rows; r++) {
        float *x = d->X.data + r * 6;
        for (int f = 0; f < 6; f++) x[f] = (float)vg_rng_normal(&rng);
        x[1] = r % 9 == 0 ? NAN : x[1];
        uint32_t c = vg_rng_below(&rng, 6);
        x[2] = (float)c;
        double s = x[0] + (isnan(x[1]) ? 0.5 : x[1]) * 0.7 + (c % 2 ? 0.8 : -0.6) + 0.6 * vg_rng_normal(&rng);
        d->y[r] = n_classes == 2 ? s > 0 : (s < -0.7 ? 0 : s < 0.7 ? 1 : 2);
    }
}

static void free_data(dataset *d)
{
    vg_matrix_free(&d->X);
    free(d->y);
}

/* Grow n_trees trees on bootstrap samples (max_depth 5) and compile them. */
static vg_ensemble *grow_forest(const dataset *d, uint32_t n_trees, const char *max_features)
{
    vg_train_set ts = { .X = &d->X, .features = d->features, .y = d->y, .n_classes = d->n_classes };
    vg_cart_data cd;
    assert_int_equal(vg_cart_data_init(&ts, 32, 1, &cd), VG_OK);
    vg_cart_params p;
    vg_cart_params_default(&p);
    p.max_depth = 5;
    int known;
    assert_int_equal(vg_cart_params_set(&p, "max_features", max_features, &known), VG_OK);
    vg_cart_builder *b;
    assert_int_equal(vg_cart_builder_new(&cd, &p, &b), VG_OK);
    vg_cart_tree *trees = calloc(n_trees, sizeof *trees);
    double *w = malloc(d->X.rows * sizeof *w);
    vg_rng rng;
    for (uint32_t t = 0; t < n_trees; t++) {
        vg_rng_seed(&rng, 100, t);
        memset(w, 0, d->X.rows * sizeof *w);
        for (size_t s = 0; s < d->X.rows; s++) w[vg_rng_below(&rng, (uint32_t)d->X.rows)] += 1.0;
        assert_int_equal(vg_cart_grow(b, w, &rng, NULL, &trees[t]), VG_OK);
    }
    vg_ensemble *e;
    assert_int_equal(vg_cart_compile(trees, n_trees, d->features, 6, d->n_classes, &e), VG_OK);
    assert_int_equal(vg_ensemble_validate(e), VG_OK);
    for (uint32_t t = 0; t < n_trees; t++) vg_cart_tree_free(&trees[t]);
    free(trees);
    free(w);
    vg_cart_builder_free(b);
    vg_cart_data_free(&cd);
    return e;
}

static void test_grown_trees_and_forests(void **state)
{
    (void)state;
    dataset d;
    make_data(&d, 800, 2, 1);
    /* Bootstrap counts make covers whole numbers larger than 1. */
    vg_ensemble *e = grow_forest(&d, 1, "none");
    check_rows(e, d.X.data, 60, 1, "grown tree, binary");
    check_rows(e, d.X.data, d.X.rows, 0, "grown tree, binary, all rows");
    vg_ensemble_free(e);
    e = grow_forest(&d, 7, "sqrt");
    check_rows(e, d.X.data, 40, 1, "grown forest of 7, binary");
    check_rows(e, d.X.data, d.X.rows, 0, "grown forest of 7, binary, all rows");
    vg_ensemble_free(e);
    free_data(&d);
    make_data(&d, 600, 3, 2);
    e = grow_forest(&d, 4, "0.5");
    check_rows(e, d.X.data, 30, 1, "grown forest of 4, 3 classes");
    vg_ensemble_free(e);
    free_data(&d);
}

/* The tree and forest vtable hooks: n_outputs = classes, explain fills
 * (n_features + 1) x n_outputs whose columns sum to the probabilities. */
static void check_kind(const vg_estimator_kind *k, const char *const *kv, const dataset *d, double tol)
{
    void *params = malloc(k->params_size);
    k->params_default(params);
    for (size_t i = 0; kv && kv[i]; i += 2) assert_int_equal(k->params_set(params, kv[i], kv[i + 1]), VG_OK);
    vg_train_set ts = { .X = &d->X, .features = d->features, .y = d->y, .n_classes = d->n_classes };
    vg_fit_options opt = { .seed = 3, .threads = 2 };
    void *s = NULL;
    if (k->fit(params, &ts, &opt, &s) != VG_OK) fail_msg("%s: %s", k->name, vg_last_error());
    free(params);
    if (!k->explain || !k->n_outputs) {
        printf("%s: no explain hook yet, skipped\n", k->name);
        k->free(s);
        return;
    }
    const uint32_t K = k->n_outputs(s), C = k->n_classes(s);
    double *phi = malloc(7 * K * sizeof *phi);
    float proba[8];
    double worst = 0.0;
    for (size_t r = 0; r < d->X.rows; r += 3) {
        const float *row = d->X.data + r * 6;
        assert_int_equal(k->explain(s, row, phi), VG_OK);
        k->predict_row(s, row, proba);
        double raw[8];
        for (uint32_t o = 0; o < K; o++) {
            raw[o] = 0.0;
            for (int f = 0; f <= 6; f++) raw[o] += phi[f * K + o];
        }
        /* Back to probabilities through the link the output count implies. */
        double p[8];
        if (K == C && strcmp(k->name, "gbdt") != 0) {
            for (uint32_t o = 0; o < K; o++) p[o] = raw[o];
        } else if (K == 1) {
            p[1] = 1.0 / (1.0 + exp(-raw[0]));
            p[0] = 1.0 - p[1];
        } else {
            double mx = raw[0], sum = 0.0;
            for (uint32_t o = 1; o < K; o++) mx = raw[o] > mx ? raw[o] : mx;
            for (uint32_t o = 0; o < K; o++) sum += p[o] = exp(raw[o] - mx);
            for (uint32_t o = 0; o < K; o++) p[o] /= sum;
        }
        for (uint32_t c = 0; c < C; c++) worst = fmax(worst, fabs(p[c] - (double)proba[c]));
    }
    printf("%s (%u classes, %u outputs): max |link(sum + bias) - predicted probability| %.3g\n", k->name, C, K,
           worst);
    assert_true(worst < tol);
    free(phi);
    k->free(s);
}

static void test_kinds(void **state)
{
    (void)state;
    dataset d;
    make_data(&d, 900, 2, 4);
    const char *tree_kv[] = { "max_depth", "6", NULL };
    const char *forest_kv[] = { "n_estimators", "12", NULL };
    check_kind(&vg_tree_kind, tree_kv, &d, 1e-6);
    check_kind(&vg_forest_kind, forest_kv, &d, 1e-6);
    const vg_estimator_kind *gbdt = vg_estimator_find("gbdt");
    const char *gbdt_kv[] = { "n_estimators", "20", "max_depth", "4", NULL };
    if (gbdt) check_kind(gbdt, gbdt_kv, &d, 1e-5);
    else printf("gbdt: not registered, skipped\n");
    free_data(&d);
    make_data(&d, 900, 3, 5);
    check_kind(&vg_forest_kind, forest_kv, &d, 1e-6);
    if (gbdt) check_kind(gbdt, gbdt_kv, &d, 1e-5);
    free_data(&d);
}

/* ---- XGBoost's own TreeSHAP as an oracle ---- */

/* Read tools/golden_shap.py's file: the booster as an ensemble, and per row
 * the features, XGBoost's margins and its contributions. */
static vg_ensemble *read_xgb(const char *rel, float **X, double **margin, double **contrib, size_t *rows)
{
    FILE *f = fopen(vg_test_source(rel), "r");
    assert_non_null(f);
    unsigned nf, C, K, link, T;
    assert_int_equal(fscanf(f, " ensemble %u %u %u %u %u", &nf, &C, &K, &link, &T), 5);
    float base[8];
    assert_true(K <= 8);
    for (unsigned k = 0; k < K; k++) {
        double b;
        assert_int_equal(fscanf(f, "%lf", &b), 1);
        base[k] = (float)b;
    }
    /* Read the trees into temporary arrays, then size the ensemble. */
    size_t cap = 4096, n = 0;
    vg_ens_node *nodes = calloc(cap, sizeof *nodes);
    float *cover = calloc(cap, sizeof *cover), *gain = calloc(cap, sizeof *gain), *leaf = calloc(cap, sizeof *leaf);
    uint32_t *start = calloc(T + 1, sizeof *start);
    int32_t *outp = calloc(T, sizeof *outp);
    uint32_t n_leaves = 0;
    for (unsigned t = 0; t < T; t++) {
        unsigned nn;
        int o;
        assert_int_equal(fscanf(f, " tree %u %d", &nn, &o), 2);
        start[t] = (uint32_t)n;
        outp[t] = o;
        for (unsigned j = 0; j < nn; j++, n++) {
            assert_true(n < cap);
            int feat;
            unsigned child, ml;
            double thr, cv, gn, lv;
            assert_int_equal(fscanf(f, " node %d %u %lf %u %lf %lf %lf", &feat, &child, &thr, &ml, &cv, &gn, &lv), 7);
            cover[n] = (float)cv;
            gain[n] = (float)gn;
            if (feat < 0) {
                nodes[n] = (vg_ens_node){ -1, n_leaves, { 0 }, 0 };
                leaf[n_leaves++] = (float)lv;
            } else {
                nodes[n] = (vg_ens_node){ feat, child, { .threshold = (float)thr }, ml ? VG_ENS_MISSING_LEFT : 0 };
            }
        }
    }
    start[T] = (uint32_t)n;
    vg_ensemble *e;
    assert_int_equal(vg_ensemble_alloc(nf, C, K, 1, T, (uint32_t)n, n_leaves, 0, &e), VG_OK);
    e->link = (vg_link)link;
    memcpy(e->base, base, K * sizeof *base);
    memcpy(e->nodes, nodes, n * sizeof *nodes);
    memcpy(e->cover, cover, n * sizeof *cover);
    memcpy(e->gain, gain, n * sizeof *gain);
    memcpy(e->leaves, leaf, n_leaves * sizeof *leaf);
    memcpy(e->tree_start, start, (T + 1) * sizeof *start);
    memcpy(e->tree_output, outp, T * sizeof *outp);
    if (vg_ensemble_validate(e) != VG_OK) fail_msg("%s: %s", rel, vg_last_error());
    free(nodes), free(cover), free(gain), free(leaf), free(start), free(outp);
    size_t R;
    assert_int_equal(fscanf(f, " rows %zu", &R), 1);
    *X = malloc(R * nf * sizeof **X);
    *margin = malloc(R * K * sizeof **margin);
    *contrib = malloc(R * (nf + 1) * K * sizeof **contrib);
    for (size_t r = 0; r < R; r++) {
        char word[64];
        assert_int_equal(fscanf(f, " row"), 0);
        for (unsigned c = 0; c < nf; c++) {
            assert_int_equal(fscanf(f, " %63s", word), 1);
            (*X)[r * nf + c] = strcmp(word, "nan") == 0 ? NAN : strtof(word, NULL);
        }
        assert_int_equal(fscanf(f, " margin"), 0);
        for (unsigned k = 0; k < K; k++) assert_int_equal(fscanf(f, "%lf", &(*margin)[r * K + k]), 1);
        assert_int_equal(fscanf(f, " contrib"), 0);
        for (unsigned i = 0; i < (nf + 1) * K; i++) assert_int_equal(fscanf(f, "%lf", &(*contrib)[r * (nf + 1) * K + i]), 1);
    }
    fclose(f);
    *rows = R;
    return e;
}

/* XGBoost computes in float32 and divides by its own node cover (the sum of
 * the children's up to rounding): agreement to 1e-5 of the margin's scale. */
static void xgb_case(const char *rel)
{
    float *X;
    double *margin, *contrib;
    size_t rows;
    vg_ensemble *e = read_xgb(rel, &X, &margin, &contrib, &rows);
    const uint32_t nf = e->n_features, K = e->n_outputs, width = (nf + 1) * K;
    double *phi = malloc(width * sizeof *phi);
    double worst_margin = 0.0, worst_phi = 0.0;
    size_t missing = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *row = X + r * nf;
        for (uint32_t c = 0; c < nf; c++) missing += isnan(row[c]);
        float raw[8];
        vg_ensemble_raw_row(e, row, raw);
        assert_int_equal(vg_ensemble_shap(e, row, phi), VG_OK);
        for (uint32_t k = 0; k < K; k++) worst_margin = fmax(worst_margin, fabs(raw[k] - margin[r * K + k]));
        for (uint32_t i = 0; i < width; i++) worst_phi = fmax(worst_phi, fabs(phi[i] - contrib[r * width + i]));
    }
    check_rows(e, X, rows, 1, rel);
    printf("%s: %zu rows (%zu missing values), max |raw - xgboost margin| %.3g, max |phi - xgboost "
           "pred_contribs| %.3g\n", rel, rows, missing, worst_margin, worst_phi);
    assert_true(missing > 0);
    assert_true(worst_margin < 1e-5);
    assert_true(worst_phi < 1e-5);
    free(phi);
    free(X);
    free(margin);
    free(contrib);
    vg_ensemble_free(e);
}

static void test_xgboost_pred_contribs(void **state)
{
    (void)state;
    xgb_case("tests/golden/shap_xgb_binary.txt");
    xgb_case("tests/golden/shap_xgb_multi.txt");
}

/* ---- parallel calls ---- */

typedef struct par_ctx {
    const vg_ensemble *e;
    const float *X;
    double *phi;  /* rows x (n_features + 1) x n_outputs */
    vg_status *st;
} par_ctx;

static void par_row(void *ctx, size_t r, int worker)
{
    (void)worker;
    par_ctx *c = ctx;
    size_t n = c->e->n_features, K = c->e->n_outputs;
    c->st[r] = vg_ensemble_shap(c->e, c->X + r * n, c->phi + r * (n + 1) * K);
}

static void test_parallel_same_as_serial(void **state)
{
    (void)state;
    dataset d;
    make_data(&d, 500, 3, 6);
    vg_ensemble *e = grow_forest(&d, 6, "sqrt");
    const size_t rows = d.X.rows, width = 7 * 3;
    double *a = malloc(rows * width * sizeof *a), *b = malloc(rows * width * sizeof *b);
    vg_status *st = calloc(rows, sizeof *st);
    for (size_t r = 0; r < rows; r++) assert_int_equal(vg_ensemble_shap(e, d.X.data + r * 6, a + r * width), VG_OK);
    par_ctx c = { e, d.X.data, b, st };
    vg_parallel_for(4, rows, par_row, &c);
    for (size_t r = 0; r < rows; r++) assert_int_equal(st[r], VG_OK);
    assert_memory_equal(a, b, rows * width * sizeof *a);
    free(a);
    free(b);
    free(st);
    vg_ensemble_free(e);
    free_data(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_built_proba),
        cmocka_unit_test(test_hand_built_leaf_width_one),
        cmocka_unit_test(test_deep_trees),
        cmocka_unit_test(test_grown_trees_and_forests),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_xgboost_pred_contribs),
        cmocka_unit_test(test_parallel_same_as_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
