/* Unit tests for the "tree" estimator and the pieces under it (quantile
 * binning, the CART builder, the compiled ensemble and its loader): golden
 * probabilities against scikit-learn, split rules, categorical subsets,
 * missing and unseen values, weights, parameters, save/load and hostile
 * model bytes. */
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
#include "vigil/estimator.h"
#include "vigil/rng.h"
#include "models/bins.h"
#include "models/cart.h"
#include "testutil.h"

/* ---- helpers ---- */

typedef struct dataset {
    vg_matrix X;
    int32_t *y;
    vg_feature *features;
    float *weight;
    uint32_t n_classes;
} dataset;

static void dataset_alloc(dataset *d, size_t rows, size_t cols, uint32_t n_classes)
{
    assert_int_equal(vg_matrix_alloc(&d->X, rows, cols), VG_OK);
    d->y = calloc(rows, sizeof *d->y);
    d->features = calloc(cols ? cols : 1, sizeof *d->features);
    for (size_t f = 0; f < cols; f++) d->features[f] = (vg_feature){ "x", VG_FEATURE_NUMERIC, 0 };
    d->weight = NULL;
    d->n_classes = n_classes;
}

static void dataset_free(dataset *d)
{
    vg_matrix_free(&d->X);
    free(d->y);
    free(d->features);
    free(d->weight);
}

static vg_train_set train_set(const dataset *d)
{
    return (vg_train_set){ .X = &d->X, .features = d->features, .y = d->y, .weight = d->weight,
                           .n_classes = d->n_classes };
}

/* Numeric CSV with a header; the last column is the class. */
static void read_csv(const char *rel, dataset *d)
{
    vg_test_dataset g;
    assert_int_equal(vg_test_dataset_load(rel, 1, &g), 0);
    dataset_alloc(d, g.X.rows, g.X.cols, g.n_classes);
    memcpy(d->X.data, g.X.data, g.X.rows * g.X.cols * sizeof *g.X.data);
    memcpy(d->y, g.y, g.X.rows * sizeof *g.y);
    vg_test_dataset_free(&g);
}

/* Rows of probabilities, comma-separated, no header. */
static float *read_proba(const char *rel, size_t rows, uint32_t C)
{
    FILE *f = fopen(vg_test_source(rel), "r");
    assert_non_null(f);
    float *p = malloc(rows * C * sizeof *p);
    for (size_t i = 0; i < rows * C; i++) {
        double v;
        assert_int_equal(fscanf(f, "%lf,", &v), 1);
        p[i] = (float)v;
    }
    fclose(f);
    return p;
}

static void *params_with(const vg_estimator_kind *k, const char *const *kv)
{
    void *p = malloc(k->params_size);
    k->params_default(p);
    for (size_t i = 0; kv && kv[i]; i += 2) {
        vg_status st = k->params_set(p, kv[i], kv[i + 1]);
        if (st != VG_OK) fail_msg("%s=%s: %s", kv[i], kv[i + 1], vg_last_error());
    }
    return p;
}

static void *fit(const vg_estimator_kind *k, const char *const *kv, const dataset *d, uint64_t seed, int threads)
{
    void *params = params_with(k, kv);
    vg_train_set ts = train_set(d);
    vg_fit_options opt = { .seed = seed, .threads = threads };
    void *state = NULL;
    vg_status st = k->fit(params, &ts, &opt, &state);
    if (st != VG_OK) fail_msg("fit: %s", vg_last_error());
    free(params);
    return state;
}

static float *predict(const vg_estimator_kind *k, const void *state, const vg_matrix *X)
{
    uint32_t C = k->n_classes(state);
    float *p = malloc(X->rows * C * sizeof *p);
    k->predict(state, X, 1, p);
    return p;
}

/* Leaf of a one-tree model a row reaches (numeric splits only: the tests
 * that count rows per leaf use numeric data). */
static uint32_t leaf_of(const vg_ensemble *m, const float *row)
{
    uint32_t j = 0;
    while (m->nodes[j].feature >= 0) {
        assert_false(m->nodes[j].flags & VG_ENS_CATEGORICAL);
        j = m->nodes[j].child + (row[m->nodes[j].feature] > m->nodes[j].u.threshold);
    }
    return m->nodes[j].child;
}

/* Deepest leaf, as describe reports it. */
static uint32_t tree_depth(const vg_ensemble *m)
{
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_ensemble_describe(m, &w);
    vg_wbuf_u8(&w, 0);
    const char *at = strstr((const char *)w.data, "max_depth: ");
    assert_non_null(at);
    uint32_t depth = (uint32_t)strtoul(at + 11, NULL, 10);
    vg_wbuf_free(&w);
    return depth;
}

/* ---- golden: scikit-learn DecisionTreeClassifier ---- */

static void golden_case(const char *data, const char *expected, const char *const *kv, uint32_t sk_nodes)
{
    dataset d;
    read_csv(data, &d);
    void *s = fit(&vg_tree_kind, kv, &d, 0, 1);
    assert_int_equal(((vg_ensemble *)s)->n_nodes, sk_nodes);
    float *got = predict(&vg_tree_kind, s, &d.X);
    float *want = read_proba(expected, d.X.rows, d.n_classes);
    /* Tolerance 1e-6: both sides compute the same weighted class fractions;
     * the only difference is float (vigil) against double (scikit-learn). */
    double max_diff = 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < d.X.rows * d.n_classes; i++) {
        double diff = fabs((double)got[i] - (double)want[i]);
        if (diff > max_diff) max_diff = diff;
        bad += diff > 1e-6;
    }
    printf("golden %s: %zu rows, max |vigil - sklearn| = %.3g\n", expected, d.X.rows, max_diff);
    assert_int_equal(bad, 0);
    free(got);
    free(want);
    vg_tree_kind.free(s);
    dataset_free(&d);
}

static void test_golden_sklearn(void **state)
{
    (void)state;
    const char *gini4[] = { "criterion", "gini", "max_depth", "4", NULL };
    const char *entropy5[] = { "criterion", "entropy", "min_samples_leaf", "5", NULL };
    /* Node counts of scikit-learn's trees, from tests/golden/tree_golden.txt. */
    golden_case("tests/golden/tree_binary.csv", "tests/golden/tree_binary_gini_depth4.csv", gini4, 23);
    golden_case("tests/golden/tree_binary.csv", "tests/golden/tree_binary_entropy_leaf5.csv", entropy5, 29);
    golden_case("tests/golden/multiclass.csv", "tests/golden/tree_multiclass_gini_depth4.csv", gini4, 21);
    golden_case("tests/golden/multiclass.csv", "tests/golden/tree_multiclass_entropy_leaf5.csv", entropy5, 13);
}

/* The histogram subtraction trick (full histograms for large nodes, the
 * larger child's derived from its parent) must not change the tree: with
 * whole-number weights every sum is exact, so the probabilities are equal
 * bit for bit whichever nodes use it. */
static void test_hist_subtraction_same_tree(void **state)
{
    (void)state;
    const char *files[] = { "tests/golden/tree_binary.csv", "tests/golden/multiclass.csv" };
    for (int fi = 0; fi < 2; fi++) {
        dataset d;
        read_csv(files[fi], &d);
        d.weight = malloc(d.X.rows * sizeof(float));
        for (size_t r = 0; r < d.X.rows; r++) d.weight[r] = (float)(1 + r % 3);
        vg_train_set ts = train_set(&d);
        vg_cart_data cd;
        assert_int_equal(vg_cart_data_init(&ts, 64, 1, &cd), VG_OK);  /* quantile bins too */
        double *w = malloc(d.X.rows * sizeof *w);
        for (size_t r = 0; r < d.X.rows; r++) w[r] = d.weight[r];
        float *p[3];
        uint32_t nodes[3];
        for (int mode = -1; mode <= 1; mode++) {
            vg_cart_params p0;
            vg_cart_params_default(&p0);
            p0.hist_subtraction = mode;
            p0.criterion = fi ? VG_CART_ENTROPY : VG_CART_GINI;
            vg_cart_builder *b;
            assert_int_equal(vg_cart_builder_new(&cd, &p0, &b), VG_OK);
            vg_cart_tree t;
            assert_int_equal(vg_cart_grow(b, w, NULL, NULL, &t), VG_OK);
            vg_ensemble *m;
            assert_int_equal(vg_cart_compile(&t, 1, d.features, (uint32_t)d.X.cols, d.n_classes, &m), VG_OK);
            nodes[mode + 1] = m->n_nodes;
            p[mode + 1] = predict(&vg_tree_kind, m, &d.X);
            vg_ensemble_free(m);
            vg_cart_tree_free(&t);
            vg_cart_builder_free(b);
        }
        printf("%s: %u, %u, %u nodes (never, auto, always subtract)\n", files[fi], nodes[0], nodes[1], nodes[2]);
        assert_true(nodes[0] > 10 && nodes[0] == nodes[1] && nodes[1] == nodes[2]);
        assert_memory_equal(p[0], p[1], d.X.rows * d.n_classes * sizeof(float));
        assert_memory_equal(p[0], p[2], d.X.rows * d.n_classes * sizeof(float));
        for (int i = 0; i < 3; i++) free(p[i]);
        free(w);
        vg_cart_data_free(&cd);
        dataset_free(&d);
    }
}

/* ---- binning ---- */

static void test_bins_exact_and_quantile(void **state)
{
    (void)state;
    /* col 0: 10 distinct values (exact); col 1: 1000 distinct (quantile);
     * col 2: NaN in some rows; col 3: 300 categories (lumped). */
    size_t rows = 2000;
    dataset d;
    dataset_alloc(&d, rows, 4, 2);
    d.features[3] = (vg_feature){ "c", VG_FEATURE_CATEGORICAL, 300 };
    for (size_t r = 0; r < rows; r++) {
        float *x = d.X.data + r * 4;
        x[0] = (float)(r % 10) * 0.5f;
        x[1] = (float)(r % 1000);
        x[2] = r % 7 == 0 ? NAN : (float)(r % 3);
        x[3] = (float)(r % 300 < 290 ? r % 300 : (r % 2));  /* codes 290..299 never seen */
    }
    vg_bins *b;
    assert_int_equal(vg_bins_fit(&d.X, d.features, 16, 1, &b), VG_OK);
    assert_int_equal(b->n_bins[0], 10);
    for (uint32_t i = 0; i < 10; i++) {
        assert_true(b->lo[b->start[0] + i] == (float)i * 0.5f);
        assert_true(b->hi[b->start[0] + i] == (float)i * 0.5f);
    }
    /* Every training value maps to the bin whose [lo, hi] holds it. */
    for (size_t r = 0; r < rows; r++) {
        for (uint32_t f = 0; f < 2; f++) {
            float x = d.X.data[r * 4 + f];
            uint8_t c = vg_bins_code(b, f, x);
            assert_true(c < b->n_bins[f]);
            assert_true(x >= b->lo[b->start[f] + c] && x <= b->hi[b->start[f] + c]);
        }
    }
    assert_int_equal(b->n_bins[1], 16);
    /* Quantile bins of a uniform column hold about rows / 16 rows each. */
    size_t count[16] = { 0 };
    for (size_t r = 0; r < rows; r++) count[vg_bins_code(b, 1, d.X.data[r * 4 + 1])]++;
    for (int i = 0; i < 16; i++) assert_true(count[i] >= 100 && count[i] <= 150);
    assert_int_equal(b->has_missing[2], 1);
    assert_int_equal(b->n_bins[2], 3);
    assert_int_equal(vg_bins_code(b, 2, NAN), b->missing[2]);
    assert_int_equal(b->missing[2], 3);
    /* 300 categories into 16 bins: 15 own bins for the most frequent. */
    assert_int_equal(b->n_bins[3], 16);
    assert_int_equal(vg_bins_code(b, 3, 1.5f), b->missing[3]);
    assert_int_equal(vg_bins_code(b, 3, 300.0f), b->missing[3]);
    assert_int_equal(vg_bins_code(b, 3, 299.0f), b->missing[3]);  /* never seen: like NaN */
    assert_int_equal(vg_bins_code(b, 3, 200.0f), 15);             /* rare: the shared bin */
    assert_true(vg_bins_code(b, 3, 0.0f) < 15 && vg_bins_code(b, 3, 1.0f) < 15);
    /* Codes from the fit's sort equal codes from searching the edges. */
    uint8_t *c1 = malloc(rows * 4), *c2 = malloc(rows * 4);
    vg_bins *b2;
    assert_int_equal(vg_bins_fit_codes(&d.X, d.features, 16, 2, &b2, c1), VG_OK);
    vg_bins_apply(b2, &d.X, 2, c2);
    assert_memory_equal(c1, c2, rows * 4);
    vg_bins_free(b2);
    free(c1);
    free(c2);
    vg_bins_free(b);
    assert_int_equal(vg_bins_fit(&d.X, d.features, 1, 1, &b), VG_ERR_INVALID);
    assert_null(b);

    /* A threshold between adjacent floats still separates them. */
    float a = 1.0f, c = nextafterf(1.0f, 2.0f);
    float m = vg_bins_midpoint(a, c);
    assert_true(a <= m && !(c <= m));
    assert_true(vg_bins_midpoint(1.0f, INFINITY) == 1.0f);
    dataset_free(&d);
}

/* Infinities, signed zeros and all-NaN columns bin and split sensibly. */
static void test_odd_values(void **state)
{
    (void)state;
    dataset d;
    dataset_alloc(&d, 60, 2, 2);
    const float vals[] = { -INFINITY, -0.0f, 0.0f, INFINITY, 1e-40f, -3.0f };
    for (size_t r = 0; r < 60; r++) {
        float x = vals[r % 6];
        d.X.data[r * 2] = x;
        d.X.data[r * 2 + 1] = NAN;
        d.y[r] = x > 0.0f;  /* +inf and the denormal */
    }
    vg_bins *b;
    assert_int_equal(vg_bins_fit(&d.X, d.features, 256, 1, &b), VG_OK);
    assert_int_equal(b->n_bins[0], 5);  /* -0 and +0 are one value */
    assert_int_equal(b->n_bins[1], 0);
    assert_int_equal(vg_bins_code(b, 0, -INFINITY), 0);
    assert_int_equal(vg_bins_code(b, 0, -0.0f), vg_bins_code(b, 0, 0.0f));
    assert_int_equal(vg_bins_code(b, 0, INFINITY), 4);
    assert_int_equal(vg_bins_code(b, 1, 5.0f), b->missing[1]);
    vg_bins_free(b);
    vg_ensemble *m = fit(&vg_tree_kind, NULL, &d, 0, 1);
    float *p = predict(&vg_tree_kind, m, &d.X);
    for (size_t r = 0; r < 60; r++) assert_true(p[r * 2 + (size_t)d.y[r]] == 1.0f);
    assert_int_equal(m->n_nodes, 3);
    free(p);
    vg_tree_kind.free(m);
    dataset_free(&d);
}

/* ---- structure ---- */

static void test_pure_node_is_leaf(void **state)
{
    (void)state;
    dataset d;
    dataset_alloc(&d, 50, 2, 2);
    for (size_t r = 0; r < 50; r++) {
        d.X.data[r * 2] = (float)r;
        d.X.data[r * 2 + 1] = (float)(r % 5);
        d.y[r] = 1;
    }
    /* One class only: the root is pure and is the whole tree. */
    vg_ensemble *m = fit(&vg_tree_kind, NULL, &d, 0, 1);
    assert_int_equal(m->n_nodes, 1);
    assert_true(m->leaves[1] == 1.0f && m->leaves[0] == 0.0f);
    vg_tree_kind.free(m);
    /* x0 < 25 is class 0: one split, both children pure leaves. */
    for (size_t r = 0; r < 50; r++) d.y[r] = r >= 25;
    m = fit(&vg_tree_kind, NULL, &d, 0, 1);
    assert_int_equal(m->n_nodes, 3);
    assert_int_equal(m->nodes[0].feature, 0);
    assert_true(m->nodes[0].u.threshold == 24.5f);
    assert_int_equal(tree_depth(m), 1);
    vg_tree_kind.free(m);
    dataset_free(&d);
}

static void noisy_data(dataset *d, size_t rows, size_t cols, uint64_t seed)
{
    dataset_alloc(d, rows, cols, 2);
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0);
    for (size_t r = 0; r < rows; r++) {
        double s = 0.0;
        for (size_t c = 0; c < cols; c++) {
            float x = (float)vg_rng_normal(&rng);
            d->X.data[r * cols + c] = x;
            if (c < 3) s += x;
        }
        d->y[r] = s + 0.8 * vg_rng_normal(&rng) > 0.0;
    }
}

static void test_depth_and_min_samples_leaf(void **state)
{
    (void)state;
    dataset d;
    noisy_data(&d, 600, 5, 3);
    const char *depth3[] = { "max_depth", "3", NULL };
    vg_ensemble *m = fit(&vg_tree_kind, depth3, &d, 0, 1);
    assert_int_equal(tree_depth(m), 3);
    assert_true(m->n_leaves <= 8);
    vg_tree_kind.free(m);

    const char *leaf7[] = { "min_samples_leaf", "7", NULL };
    m = fit(&vg_tree_kind, leaf7, &d, 0, 1);
    uint32_t *count = calloc(m->n_leaves, sizeof *count);
    for (size_t r = 0; r < d.X.rows; r++) count[leaf_of(m, d.X.data + r * 5)]++;
    uint32_t smallest = UINT32_MAX;
    for (uint32_t l = 0; l < m->n_leaves; l++) smallest = VG_MIN(smallest, count[l]);
    assert_true(smallest >= 7);
    assert_true(m->n_leaves > 10);  /* it did grow */
    free(count);
    vg_tree_kind.free(m);

    /* min_samples_split larger than the data: a single leaf. */
    const char *split[] = { "min_samples_split", "601", NULL };
    m = fit(&vg_tree_kind, split, &d, 0, 1);
    assert_int_equal(m->n_nodes, 1);
    vg_tree_kind.free(m);
    /* A huge min_impurity_decrease stops at the root too. */
    const char *mid[] = { "min_impurity_decrease", "0.5", NULL };
    m = fit(&vg_tree_kind, mid, &d, 0, 1);
    assert_int_equal(m->n_nodes, 1);
    vg_tree_kind.free(m);
    dataset_free(&d);
}

/* ---- categorical subsets, unseen categories, NaN ---- */

static void test_categorical_subset_split(void **state)
{
    (void)state;
    /* Class 1 exactly for categories {1, 3, 4, 6} of 8; no order of the
     * codes separates them, and the numeric column is noise. */
    dataset d;
    dataset_alloc(&d, 800, 2, 2);
    d.features[0] = (vg_feature){ "proto", VG_FEATURE_CATEGORICAL, 8 };
    vg_rng rng;
    vg_rng_seed(&rng, 9, 0);
    for (size_t r = 0; r < 800; r++) {
        uint32_t c = (uint32_t)(r % 8);
        d.X.data[r * 2] = (float)c;
        d.X.data[r * 2 + 1] = (float)vg_rng_uniform(&rng);
        d.y[r] = c == 1 || c == 3 || c == 4 || c == 6;
    }
    const char *depth1[] = { "max_depth", "1", NULL };
    vg_ensemble *m = fit(&vg_tree_kind, depth1, &d, 0, 1);
    assert_int_equal(m->n_nodes, 3);
    assert_int_equal(m->nodes[0].feature, 0);
    assert_true(m->nodes[0].flags & VG_ENS_CATEGORICAL);
    float *p = predict(&vg_tree_kind, m, &d.X);
    for (size_t r = 0; r < 800; r++) assert_true(p[r * 2 + (size_t)d.y[r]] == 1.0f);
    free(p);
    vg_tree_kind.free(m);

    /* Three classes: still separable in two splits on the one column. */
    for (size_t r = 0; r < 800; r++) {
        uint32_t c = (uint32_t)(r % 8);
        d.y[r] = c == 2 || c == 5 ? 2 : (c == 1 || c == 3 || c == 4 || c == 6);
    }
    d.n_classes = 3;
    m = fit(&vg_tree_kind, NULL, &d, 0, 1);
    p = predict(&vg_tree_kind, m, &d.X);
    for (size_t r = 0; r < 800; r++) assert_true(p[r * 3 + (size_t)d.y[r]] == 1.0f);
    assert_int_equal(m->n_leaves, 3);
    free(p);
    vg_tree_kind.free(m);
    dataset_free(&d);
}

static void test_unseen_and_missing_go_heavier(void **state)
{
    (void)state;
    /* Categories 0..5 declared, 0..2 seen: category 0 is class 1 (100 rows),
     * categories 1 and 2 class 0 (300 rows, the heavier side). Numeric column:
     * class 1 below 0, class 0 above, with 300 rows of class 0. */
    dataset d;
    dataset_alloc(&d, 400, 1, 2);
    d.features[0] = (vg_feature){ "svc", VG_FEATURE_CATEGORICAL, 6 };
    for (size_t r = 0; r < 400; r++) {
        d.X.data[r] = (float)(r < 100 ? 0 : 1 + r % 2);
        d.y[r] = r < 100;
    }
    vg_ensemble *m = fit(&vg_tree_kind, NULL, &d, 0, 1);
    assert_int_equal(m->n_nodes, 3);
    float rows[] = { 0.0f, 1.0f, 2.0f, 3.0f, 5.0f, NAN, 6.0f, -1.0f, 0.5f };
    vg_matrix X = { 9, 1, rows };
    float *p = predict(&vg_tree_kind, m, &X);
    assert_true(p[0 * 2 + 1] == 1.0f);
    for (int i = 1; i < 9; i++) assert_true(p[i * 2 + 0] == 1.0f);  /* all to the class-0 side */
    free(p);
    vg_tree_kind.free(m);

    /* Make the class-1 side heavier: now unseen codes go there. */
    for (size_t r = 0; r < 400; r++) {
        d.X.data[r] = (float)(r < 300 ? 0 : 1 + r % 2);
        d.y[r] = r < 300;
    }
    m = fit(&vg_tree_kind, NULL, &d, 0, 1);
    p = predict(&vg_tree_kind, m, &X);
    assert_true(p[1 * 2 + 0] == 1.0f && p[2 * 2 + 0] == 1.0f);
    for (int i = 3; i < 9; i++) assert_true(p[i * 2 + 1] == 1.0f);
    free(p);
    vg_tree_kind.free(m);

    /* Numeric NaN at predict, and NaN rows in training. */
    d.features[0] = (vg_feature){ "x", VG_FEATURE_NUMERIC, 0 };
    for (size_t r = 0; r < 400; r++) {
        d.X.data[r] = r < 100 ? -1.0f - (float)r : (float)r;
        d.y[r] = r < 100;
    }
    m = fit(&vg_tree_kind, NULL, &d, 0, 1);
    float q[] = { NAN, -5.0f, 1000.0f };
    vg_matrix Q = { 3, 1, q };
    p = predict(&vg_tree_kind, m, &Q);
    assert_true(p[0 * 2 + 0] == 1.0f && p[1 * 2 + 1] == 1.0f && p[2 * 2 + 0] == 1.0f);
    free(p);
    vg_tree_kind.free(m);
    /* 50 NaN rows of class 1 join the heavier (class-0) side in training. */
    for (size_t r = 0; r < 50; r++) d.X.data[r] = NAN;
    const char *depth1[] = { "max_depth", "1", NULL };
    m = fit(&vg_tree_kind, depth1, &d, 0, 1);
    p = predict(&vg_tree_kind, m, &Q);
    assert_true(p[1 * 2 + 1] == 1.0f);
    assert_true(fabsf(p[0 * 2 + 1] - 50.0f / 350.0f) < 1e-6f);  /* NaN went right, with 300 class 0 */
    assert_false(m->nodes[0].flags & VG_ENS_MISSING_LEFT);
    free(p);
    vg_tree_kind.free(m);
    dataset_free(&d);
}

/* A category seen in training but absent from a node goes to the child less
 * like the node's majority class; one never seen goes to the heavier child. */
static void test_absent_category_side(void **state)
{
    (void)state;
    /* x1 = -1: category 0 is class 0 (300 rows), category 1 class 1 (100).
     * x1 = +1: category 2 class 1 (150), 0 class 1 (150), 1 class 0 (50).
     * The root splits on x1; its left child splits {0} | {1}, where category
     * 2 has no rows. */
    dataset d;
    dataset_alloc(&d, 750, 2, 2);
    d.features[0] = (vg_feature){ "svc", VG_FEATURE_CATEGORICAL, 4 };
    const struct { float x1, cat; int32_t y; size_t n; } groups[] = {
        { -1, 0, 0, 300 }, { -1, 1, 1, 100 }, { 1, 2, 1, 150 }, { 1, 0, 1, 150 }, { 1, 1, 0, 50 },
    };
    size_t r = 0;
    for (size_t g = 0; g < 5; g++) {
        for (size_t i = 0; i < groups[g].n; i++, r++) {
            d.X.data[r * 2] = groups[g].cat;
            d.X.data[r * 2 + 1] = groups[g].x1;
            d.y[r] = groups[g].y;
        }
    }
    const char *depth2[] = { "max_depth", "2", NULL };
    vg_ensemble *m = fit(&vg_tree_kind, depth2, &d, 0, 1);
    assert_int_equal(m->nodes[0].feature, 1);
    float q[] = { 2, -1, 3, -1, NAN, -1, 1, -1, 0, -1 };
    vg_matrix Q = { 5, 2, q };
    float *p = predict(&vg_tree_kind, m, &Q);
    assert_true(p[0 * 2 + 1] == 1.0f);  /* absent here: with category 1, the minority side */
    assert_true(p[1 * 2 + 0] == 1.0f);  /* never seen: heavier side, with category 0 */
    assert_true(p[2 * 2 + 0] == 1.0f);  /* NaN: heavier side */
    assert_true(p[3 * 2 + 1] == 1.0f && p[4 * 2 + 0] == 1.0f);
    free(p);
    vg_tree_kind.free(m);
    dataset_free(&d);
}

/* ---- weights ---- */

static void test_weights(void **state)
{
    (void)state;
    dataset a, b;
    noisy_data(&a, 300, 4, 5);
    /* b = a with rows 7 and 100 duplicated; a gives them weight 2. */
    dataset_alloc(&b, 302, 4, 2);
    memcpy(b.X.data, a.X.data, 300 * 4 * sizeof(float));
    memcpy(b.y, a.y, 300 * sizeof(int32_t));
    memcpy(b.X.data + 300 * 4, a.X.data + 7 * 4, 4 * sizeof(float));
    memcpy(b.X.data + 301 * 4, a.X.data + 100 * 4, 4 * sizeof(float));
    b.y[300] = a.y[7];
    b.y[301] = a.y[100];
    a.weight = malloc(300 * sizeof(float));
    for (size_t r = 0; r < 300; r++) a.weight[r] = r == 7 || r == 100 ? 2.0f : 1.0f;
    const char *crit[][3] = { { "criterion", "gini", NULL }, { "criterion", "entropy", NULL } };
    for (int c = 0; c < 2; c++) {
        void *ma = fit(&vg_tree_kind, crit[c], &a, 0, 1), *mb = fit(&vg_tree_kind, crit[c], &b, 0, 1);
        float *pa = predict(&vg_tree_kind, ma, &a.X), *pb = predict(&vg_tree_kind, mb, &a.X);
        for (size_t i = 0; i < 600; i++) assert_true(fabsf(pa[i] - pb[i]) < 1e-6f);
        assert_int_equal(((vg_ensemble *)ma)->n_nodes, ((vg_ensemble *)mb)->n_nodes);
        free(pa);
        free(pb);
        vg_tree_kind.free(ma);
        vg_tree_kind.free(mb);
    }
    dataset_free(&b);

    /* Three identical rows, classes 0, 0, 1: weight 5 on the class-1 row makes
     * the leaf 5/7 class 1; weight 0 removes it. */
    dataset d;
    dataset_alloc(&d, 4, 1, 2);
    float xs[] = { 1, 1, 1, 2 };
    int32_t ys[] = { 0, 0, 1, 0 };
    memcpy(d.X.data, xs, sizeof xs);
    memcpy(d.y, ys, sizeof ys);
    d.weight = malloc(4 * sizeof(float));
    float ws[] = { 1, 1, 5, 1 };
    memcpy(d.weight, ws, sizeof ws);
    void *m = fit(&vg_tree_kind, NULL, &d, 0, 1);
    float *p = predict(&vg_tree_kind, m, &d.X);
    assert_true(fabsf(p[1] - 5.0f / 7.0f) < 1e-6f);
    free(p);
    vg_tree_kind.free(m);
    d.weight[2] = 0.0f;
    m = fit(&vg_tree_kind, NULL, &d, 0, 1);
    p = predict(&vg_tree_kind, m, &d.X);
    assert_true(p[0] == 1.0f && p[1] == 0.0f);
    assert_int_equal(((vg_ensemble *)m)->n_nodes, 1);
    free(p);
    vg_tree_kind.free(m);
    /* Bad weights and labels are refused. */
    d.weight[2] = -1.0f;
    vg_train_set ts = train_set(&d);
    void *params = params_with(&vg_tree_kind, NULL);
    vg_fit_options opt = { 0 };
    assert_int_equal(vg_tree_kind.fit(params, &ts, &opt, &m), VG_ERR_INVALID);
    d.weight[2] = 1.0f;
    d.y[1] = 2;
    assert_int_equal(vg_tree_kind.fit(params, &ts, &opt, &m), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "class"));
    for (size_t r = 0; r < 4; r++) d.weight[r] = 0.0f;
    d.y[1] = 0;
    assert_int_equal(vg_tree_kind.fit(params, &ts, &opt, &m), VG_ERR_DATA);
    free(params);
    dataset_free(&d);
    dataset_free(&a);
}

/* ---- parameters ---- */

static void expect_bad(const char *key, const char *value, const char *needle)
{
    void *p = params_with(&vg_tree_kind, NULL);
    vg_clear_error();
    assert_int_equal(vg_tree_kind.params_set(p, key, value), VG_ERR_INVALID);
    if (!strstr(vg_last_error(), needle)) fail_msg("%s=%s: message '%s' lacks '%s'", key, value, vg_last_error(), needle);
    free(p);
}

static void test_params(void **state)
{
    (void)state;
    expect_bad("no_such_thing", "1", "no_such_thing");
    expect_bad("criterion", "mse", "gini");
    expect_bad("max_depth", "0", "max_depth");
    expect_bad("max_depth", "deep", "max_depth");
    expect_bad("min_samples_split", "1", "min_samples_split");
    expect_bad("min_samples_leaf", "0", "min_samples_leaf");
    expect_bad("max_features", "1.5", "fraction in (0, 1]");
    expect_bad("max_features", "0.0", "max_features");
    expect_bad("max_features", "0", "max_features");
    expect_bad("max_features", "most", "sqrt");
    expect_bad("min_impurity_decrease", "-0.1", "min_impurity_decrease");
    expect_bad("max_bins", "257", "max_bins");
    expect_bad("max_bins", "1", "max_bins");
    expect_bad("n_estimators", "10", "n_estimators");  /* a forest parameter */

    vg_cart_params p;
    vg_cart_params_default(&p);
    const char *good[][2] = { { "criterion", "entropy" }, { "max_depth", "none" }, { "max_depth", "12" },
                              { "max_features", "sqrt" }, { "max_features", "log2" },
                              { "max_features", "0.25" }, { "max_features", "3" }, { "max_bins", "2" },
                              { "min_impurity_decrease", "0.01" }, { "min_samples_leaf", "3" } };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(vg_tree_kind.params_set(&p, good[i][0], good[i][1]), VG_OK);
    assert_null(vg_tree_kind.params_check(&p));
    assert_int_equal(p.max_depth, 12);
    assert_int_equal(p.max_features, VG_CART_MAXF_COUNT);
    uint32_t k;
    assert_int_equal(vg_cart_params_max_features(&p, 2, &k), VG_ERR_INVALID);
    assert_int_equal(vg_cart_params_max_features(&p, 30, &k), VG_OK);
    assert_int_equal(k, 3);
    p.max_features = VG_CART_MAXF_SQRT;
    vg_cart_params_max_features(&p, 41, &k);
    assert_int_equal(k, 6);
    p.max_features = VG_CART_MAXF_LOG2;
    vg_cart_params_max_features(&p, 41, &k);
    assert_int_equal(k, 5);
    p.max_features = VG_CART_MAXF_FRACTION;
    p.max_features_value = 0.01;
    vg_cart_params_max_features(&p, 41, &k);
    assert_int_equal(k, 1);
}

/* ---- save / load ---- */

static dataset mixed_data(size_t rows)
{
    dataset d;
    dataset_alloc(&d, rows, 3, 3);
    d.features[1] = (vg_feature){ "c", VG_FEATURE_CATEGORICAL, 40 };
    vg_rng rng;
    vg_rng_seed(&rng, 77, 0);
    for (size_t r = 0; r < rows; r++) {
        float *x = d.X.data + r * 3;
        x[0] = (float)vg_rng_normal(&rng);
        x[1] = r % 17 == 0 ? NAN : (float)vg_rng_below(&rng, 40);
        x[2] = (float)vg_rng_uniform(&rng);
        d.y[r] = (int32_t)((x[0] > 0) + (isnan(x[1]) ? 0 : (int)x[1] % 2) + (x[2] > 0.9f)) % 3;
    }
    return d;
}

static void test_save_load_roundtrip(void **state)
{
    (void)state;
    size_t before = vg_mem_in_use();
    dataset d = mixed_data(500);
    void *m = fit(&vg_tree_kind, NULL, &d, 1, 1);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(vg_tree_kind.save(m, &w), VG_OK);
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "tree");
    void *m2;
    assert_int_equal(vg_tree_kind.load(&r, &m2), VG_OK);
    assert_int_equal(r.pos, w.len);
    float *p1 = predict(&vg_tree_kind, m, &d.X), *p2 = predict(&vg_tree_kind, m2, &d.X);
    assert_memory_equal(p1, p2, d.X.rows * 3 * sizeof(float));
    assert_int_equal(vg_tree_kind.n_features(m2), 3);
    for (size_t i = 0; i < d.X.rows; i += 5) {
        float one[3];
        vg_tree_kind.predict_row(m2, d.X.data + i * 3, one);
        assert_memory_equal(one, p1 + i * 3, sizeof one);
    }
    vg_wbuf desc;
    vg_wbuf_init(&desc);
    vg_tree_kind.describe(m2, &desc);
    vg_wbuf_u8(&desc, 0);
    assert_non_null(strstr((char *)desc.data, "nodes: "));
    assert_non_null(strstr((char *)desc.data, "max_depth: "));
    vg_wbuf_free(&desc);
    free(p1);
    free(p2);
    vg_tree_kind.free(m);
    vg_tree_kind.free(m2);
    vg_wbuf_free(&w);
    dataset_free(&d);
    assert_int_equal(vg_mem_in_use(), before);  /* nothing leaked through vg_malloc */
}

/* Every prefix of a saved model, and many randomly corrupted copies, either
 * fail with VG_ERR_FORMAT or load into a model that predicts without
 * crashing (run under the sanitizer build). */
static void test_load_hostile_bytes(void **state)
{
    (void)state;
    dataset d = mixed_data(120);
    const char *small[] = { "max_depth", "3", NULL };
    void *m = fit(&vg_tree_kind, small, &d, 1, 1);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(vg_tree_kind.save(m, &w), VG_OK);
    long loaded = vg_test_hostile_loads(&vg_tree_kind, w.data, w.len, &d.X, 5, 4000);
    assert_true(loaded >= 0 && loaded < 4000);
    vg_wbuf_free(&w);
    vg_tree_kind.free(m);
    dataset_free(&d);
}

static void test_kind(void **state)
{
    (void)state;
    assert_ptr_equal(vg_estimator_find("tree"), &vg_tree_kind);
    assert_int_equal(vg_tree_kind.outputs, VG_ESTIMATOR_OUT_PROBA);
    assert_int_equal(vg_tree_kind.encoding, VG_ENCODING_NATIVE);
    /* A data set with no features is a single leaf, not an error. */
    dataset d;
    dataset_alloc(&d, 10, 0, 2);
    for (size_t r = 0; r < 10; r++) d.y[r] = r < 3;
    vg_ensemble *m = fit(&vg_tree_kind, NULL, &d, 0, 1);
    assert_int_equal(m->n_nodes, 1);
    assert_true(fabsf(m->leaves[1] - 0.3f) < 1e-6f);
    vg_tree_kind.free(m);
    dataset_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_sklearn),
        cmocka_unit_test(test_hist_subtraction_same_tree),
        cmocka_unit_test(test_bins_exact_and_quantile),
        cmocka_unit_test(test_odd_values),
        cmocka_unit_test(test_pure_node_is_leaf),
        cmocka_unit_test(test_depth_and_min_samples_leaf),
        cmocka_unit_test(test_categorical_subset_split),
        cmocka_unit_test(test_unseen_and_missing_go_heavier),
        cmocka_unit_test(test_absent_category_side),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_save_load_roundtrip),
        cmocka_unit_test(test_load_hostile_bytes),
        cmocka_unit_test(test_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
