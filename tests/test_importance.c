/* Unit tests for feature importance on the compiled ensemble
 * (vg_ensemble_importance) and the cover/gain the CART builder records:
 * exact sums on a hand-built ensemble, an informative feature ranked above
 * noise by a forest, and the normalised gain of single trees against
 * scikit-learn's DecisionTreeClassifier.feature_importances_ for the trees
 * of tools/golden_tree.py (golden values from tools/golden_importance.py). */
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
#include "vigil/rng.h"
#include "models/cart.h"
#include "models/ensemble.h"
#include "testutil.h"

/* Two trees over 3 features:
 *   tree 0: f0 (gain 5, cover 10) -> [leaf 4, f2 (gain 2, cover 6) -> [leaf 1, leaf 5]]
 *   tree 1: f0 (gain 1.5, cover 8) -> [leaf 3, leaf 5]
 * Feature 1 is never split on. */
static void test_hand_built(void **state)
{
    (void)state;
    vg_ensemble *e;
    assert_int_equal(vg_ensemble_alloc(3, 2, 1, 1, 2, 8, 5, 0, &e), VG_OK);
    e->link = VG_LINK_SIGMOID;
    const vg_ens_node nodes[8] = {
        { 0, 1, { .threshold = 0.0f }, 0 }, { -1, 0, { 0 }, 0 },
        { 2, 3, { .threshold = 1.0f }, VG_ENS_MISSING_LEFT }, { -1, 1, { 0 }, 0 }, { -1, 2, { 0 }, 0 },
        { 0, 1, { .threshold = 2.0f }, 0 }, { -1, 3, { 0 }, 0 }, { -1, 4, { 0 }, 0 },
    };
    const float cover[8] = { 10, 4, 6, 1, 5, 8, 3, 5 }, gain[8] = { 5, 0, 2, 0, 0, 1.5f, 0, 0 };
    memcpy(e->nodes, nodes, sizeof nodes);
    memcpy(e->cover, cover, sizeof cover);
    memcpy(e->gain, gain, sizeof gain);
    e->tree_start[1] = 5;
    e->tree_start[2] = 8;
    assert_int_equal(vg_ensemble_validate(e), VG_OK);
    double out[3];
    vg_ensemble_importance(e, VG_IMPORTANCE_GAIN, out);
    assert_true(out[0] == 6.5 && out[1] == 0.0 && out[2] == 2.0);
    vg_ensemble_importance(e, VG_IMPORTANCE_COVER, out);
    assert_true(out[0] == 18.0 && out[1] == 0.0 && out[2] == 6.0);
    vg_ensemble_importance(e, VG_IMPORTANCE_SPLITS, out);
    assert_true(out[0] == 2.0 && out[1] == 0.0 && out[2] == 1.0);
    /* An unknown kind gives zeros, not another kind's numbers. */
    out[0] = out[1] = out[2] = -1.0;
    vg_ensemble_importance(e, (vg_importance_kind)7, out);
    assert_true(out[0] == 0.0 && out[1] == 0.0 && out[2] == 0.0);
    vg_ensemble_free(e);
}

/* ---- what the builder records ---- */

static void *fit(const vg_estimator_kind *k, const char *const *kv, const vg_train_set *ts, uint64_t seed)
{
    void *p = malloc(k->params_size);
    k->params_default(p);
    for (size_t i = 0; kv && kv[i]; i += 2)
        if (k->params_set(p, kv[i], kv[i + 1]) != VG_OK) fail_msg("%s: %s", kv[i], vg_last_error());
    vg_fit_options opt = { .seed = seed, .threads = 2 };
    void *s = NULL;
    if (k->fit(p, ts, &opt, &s) != VG_OK) fail_msg("fit: %s", vg_last_error());
    free(p);
    return s;
}

/* Cover: a split's cover is its children's sum, the root's the training
 * weight; gain is N_t i(t) - N_l i(l) - N_r i(r) >= 0, 0 at leaves. */
static void check_tree_stats(const vg_ensemble *e, double root_weight)
{
    for (uint32_t t = 0; t < e->n_trees; t++) {
        const uint32_t b = e->tree_start[t];
        if (root_weight > 0) assert_true(fabs(e->cover[b] - root_weight) <= 1e-6 * root_weight);
        for (uint32_t j = b; j < e->tree_start[t + 1]; j++) {
            const vg_ens_node *nd = &e->nodes[j];
            if (nd->feature < 0) {
                assert_true(e->gain[j] == 0.0f && e->cover[j] > 0.0f);
                continue;
            }
            double kids = (double)e->cover[b + nd->child] + e->cover[b + nd->child + 1];
            assert_true(fabs(kids - e->cover[j]) <= 1e-6 * e->cover[j]);
            assert_true(e->gain[j] >= 0.0f);
        }
    }
}

/* Column 0 decides the class (with 10% label noise); columns 1-5 are noise,
 * column 5 a categorical one. */
static void test_forest_ranks_signal_above_noise(void **state)
{
    (void)state;
    const size_t rows = 3000, cols = 6;
    vg_matrix X;
    assert_int_equal(vg_matrix_alloc(&X, rows, cols), VG_OK);
    int32_t *y = malloc(rows * sizeof *y);
    float *w = malloc(rows * sizeof *w);
    vg_feature feats[6];
    for (size_t f = 0; f < cols; f++) feats[f] = (vg_feature){ "x", VG_FEATURE_NUMERIC, 0 };
    feats[5] = (vg_feature){ "c", VG_FEATURE_CATEGORICAL, 7 };
    vg_rng rng;
    vg_rng_seed(&rng, 21, 0);
    double total_w = 0.0;
    for (size_t r = 0; r < rows; r++) {
        float *x = X.data + r * cols;
        for (size_t f = 0; f < cols; f++) x[f] = (float)vg_rng_normal(&rng);
        x[5] = (float)vg_rng_below(&rng, 7);
        y[r] = (x[0] > 0.2f) ^ (vg_rng_uniform(&rng) < 0.1);
        w[r] = r % 4 == 0 ? 2.0f : 1.0f;
        total_w += w[r];
    }
    vg_train_set ts = { .X = &X, .features = feats, .y = y, .weight = w, .n_classes = 2 };
    const char *kv[] = { "n_estimators", "30", "max_depth", "8", NULL };
    void *s = fit(&vg_forest_kind, kv, &ts, 4);
    assert_non_null(vg_forest_kind.importance);
    double gain[6], cover[6], splits[6];
    vg_forest_kind.importance(s, VG_IMPORTANCE_GAIN, gain);
    vg_forest_kind.importance(s, VG_IMPORTANCE_COVER, cover);
    vg_forest_kind.importance(s, VG_IMPORTANCE_SPLITS, splits);
    double sum = 0.0;
    for (int f = 0; f < 6; f++) sum += gain[f];
    printf("forest gain share:");
    for (int f = 0; f < 6; f++) printf(" %.4f", gain[f] / sum);
    printf("\nforest splits:");
    for (int f = 0; f < 6; f++) printf(" %.0f", splits[f]);
    printf("\n");
    for (int f = 1; f < 6; f++) {
        assert_true(gain[0] > 3.0 * gain[f]);
        assert_true(splits[f] == floor(splits[f]) && splits[f] >= 0);
        assert_true(cover[f] >= 0);
    }
    assert_true(gain[0] / sum > 0.5);
    vg_forest_kind.free(s);

    /* One tree on all rows: the root's cover is the total weight. */
    const char *tk[] = { "max_depth", "6", NULL };
    vg_ensemble *t = fit(&vg_tree_kind, tk, &ts, 1);
    check_tree_stats(t, total_w);
    vg_tree_kind.free(t);
    free(y);
    free(w);
    vg_matrix_free(&X);
}

/* Bootstrap counts are part of the cover: every tree's root covers as many
 * draws as there are rows (weights all 1). */
static void test_forest_cover_counts_bootstrap(void **state)
{
    (void)state;
    const size_t rows = 500;
    vg_matrix X;
    assert_int_equal(vg_matrix_alloc(&X, rows, 3), VG_OK);
    int32_t *y = malloc(rows * sizeof *y);
    vg_feature feats[3] = { { "a", VG_FEATURE_NUMERIC, 0 }, { "b", VG_FEATURE_NUMERIC, 0 },
                            { "c", VG_FEATURE_NUMERIC, 0 } };
    vg_rng rng;
    vg_rng_seed(&rng, 5, 0);
    for (size_t r = 0; r < rows * 3; r++) X.data[r] = (float)vg_rng_normal(&rng);
    for (size_t r = 0; r < rows; r++) y[r] = X.data[r * 3] + X.data[r * 3 + 1] > 0;
    vg_train_set ts = { .X = &X, .features = feats, .y = y, .n_classes = 2 };
    vg_cart_data cd;
    assert_int_equal(vg_cart_data_init(&ts, 256, 1, &cd), VG_OK);
    vg_cart_params p;
    vg_cart_params_default(&p);
    vg_cart_builder *b;
    assert_int_equal(vg_cart_builder_new(&cd, &p, &b), VG_OK);
    double *w = calloc(rows, sizeof *w);
    for (size_t s = 0; s < rows; s++) w[vg_rng_below(&rng, (uint32_t)rows)] += 1.0;
    vg_cart_tree tree;
    assert_int_equal(vg_cart_grow(b, w, NULL, NULL, &tree), VG_OK);
    vg_ensemble *e;
    assert_int_equal(vg_cart_compile(&tree, 1, feats, 3, 2, &e), VG_OK);
    check_tree_stats(e, (double)rows);
    /* The leaves' covers are the bootstrap counts of their rows. */
    double leaf_sum = 0.0;
    for (uint32_t j = 0; j < e->n_nodes; j++)
        if (e->nodes[j].feature < 0) leaf_sum += e->cover[j];
    assert_true(leaf_sum == (double)rows);
    vg_ensemble_free(e);
    vg_cart_tree_free(&tree);
    vg_cart_builder_free(b);
    vg_cart_data_free(&cd);
    free(w);
    free(y);
    vg_matrix_free(&X);
}

/* ---- golden: scikit-learn's feature_importances_ ---- */

/* Numeric CSV with a header, last column the class. */
static void read_csv(const char *rel, vg_matrix *X, int32_t **y, uint32_t *n_classes)
{
    vg_test_dataset g;
    assert_int_equal(vg_test_dataset_load(rel, 1, &g), 0);
    *X = g.X;
    *y = g.y;
    *n_classes = g.n_classes;
}

/* The golden line for (data, case): random_state, then the importance of
 * each column. */
static double *golden_line(const char *data, const char *name, size_t cols)
{
    FILE *f = fopen(vg_test_source("tests/golden/tree_importance.csv"), "r");
    assert_non_null(f);
    char line[16384], key[128];
    snprintf(key, sizeof key, "%s,%s,", data, name);
    double *v = NULL;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, strlen(key)) != 0) continue;
        v = malloc(cols * sizeof *v);
        char *p = strchr(line + strlen(key), ',');  /* past the random_state */
        assert_non_null(p);
        p++;
        for (size_t c = 0; c < cols; c++) {
            v[c] = strtod(p, &p);
            assert_true(*p == ',' || (c + 1 == cols && (*p == '\n' || *p == 0)));
            if (*p == ',') p++;
        }
    }
    fclose(f);
    if (!v) fail_msg("no golden importance for %s %s", data, name);
    return v;
}

static void golden_case(const char *file, const char *data, const char *name, const char *const *kv)
{
    vg_matrix X;
    int32_t *y;
    uint32_t C;
    read_csv(file, &X, &y, &C);
    vg_feature *feats = calloc(X.cols, sizeof *feats);
    for (size_t f = 0; f < X.cols; f++) feats[f] = (vg_feature){ "x", VG_FEATURE_NUMERIC, 0 };
    vg_train_set ts = { .X = &X, .features = feats, .y = y, .n_classes = C };
    void *s = fit(&vg_tree_kind, kv, &ts, 0);
    check_tree_stats(s, (double)X.rows);
    double *got = calloc(X.cols, sizeof *got), *want = golden_line(data, name, X.cols);
    vg_tree_kind.importance(s, VG_IMPORTANCE_GAIN, got);
    double sum = 0.0, max_diff = 0.0;
    for (size_t f = 0; f < X.cols; f++) sum += got[f];
    assert_true(sum > 0.0);
    for (size_t f = 0; f < X.cols; f++) max_diff = fmax(max_diff, fabs(got[f] / sum - want[f]));
    printf("golden %s %s: %zu features, max |vigil - sklearn| normalised gain = %.3g\n", data, name, X.cols,
           max_diff);
    assert_true(max_diff < 1e-6);
    free(got);
    free(want);
    free(feats);
    free(y);
    vg_tree_kind.free(s);
    vg_matrix_free(&X);
}

static void test_golden_sklearn(void **state)
{
    (void)state;
    const char *gini4[] = { "criterion", "gini", "max_depth", "4", NULL };
    const char *entropy5[] = { "criterion", "entropy", "min_samples_leaf", "5", NULL };
    golden_case("tests/golden/tree_binary.csv", "binary", "gini_depth4", gini4);
    golden_case("tests/golden/tree_binary.csv", "binary", "entropy_leaf5", entropy5);
    golden_case("tests/golden/multiclass.csv", "multiclass", "gini_depth4", gini4);
    golden_case("tests/golden/multiclass.csv", "multiclass", "entropy_leaf5", entropy5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_built),
        cmocka_unit_test(test_forest_ranks_signal_above_noise),
        cmocka_unit_test(test_forest_cover_counts_bootstrap),
        cmocka_unit_test(test_golden_sklearn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
