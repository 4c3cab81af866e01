/* Samplers (src/features/sampler.c, sampler_smote.c, knn.c): golden values
 * from imbalanced-learn 0.10 (tests/golden/smote_imblearn.py: its neighbour
 * tables, class counts and the rows its own draws make, for SMOTE and
 * SMOTENC), the k-d tree search against brute force (ties, duplicates,
 * categories, any thread count), and resampling that keeps the original
 * rows and is the same for any thread count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/rng.h"
#include "vigil/sampler.h"
#include "golden/smote_imblearn.h"

static vg_matrix matrix_of(const float *data, size_t rows, size_t cols)
{
    vg_matrix m;
    assert_int_equal(vg_matrix_alloc(&m, rows, cols), VG_OK);
    memcpy(m.data, data, rows * cols * sizeof *data);
    return m;
}

static void test_smote_matches_imblearn(void **state)
{
    (void)state;
    vg_matrix X = matrix_of(gold_X, GOLD_ROWS, GOLD_COLS);
    size_t minority[GOLD_MIN];
    for (size_t i = 0; i < GOLD_MIN; i++) minority[i] = GOLD_ROWS - GOLD_MIN + i;
    uint32_t nn[GOLD_MIN * GOLD_K];
    for (int threads = 1; threads <= 2; threads++) {
        assert_int_equal(vg_knn(&X, NULL, 0, minority, GOLD_MIN, minority, GOLD_MIN, GOLD_K, threads, nn, NULL), VG_OK);
        assert_memory_equal(nn, gold_nn, sizeof nn);
    }
    float out[GOLD_NEW * GOLD_COLS];
    vg_smote_make(&X, NULL, minority, minority, nn, GOLD_K, gold_pick, gold_gap, GOLD_NEW, out);
    double worst = 0;
    for (size_t i = 0; i < GOLD_NEW * GOLD_COLS; i++) worst = fmax(worst, fabs(out[i] - gold_new[i]));
    printf("SMOTE vs imbalanced-learn: %d new rows, max |difference| %.3g\n", GOLD_NEW, worst);
    assert_true(worst < 1e-5);
    vg_matrix_free(&X);
}

static void test_smotenc_matches_imblearn(void **state)
{
    (void)state;
    vg_matrix X = matrix_of(gold_nc_X, GOLD_ROWS, GOLD_COLS);
    const uint8_t is_cat[GOLD_COLS] = { 0, 0, 0, 1 };
    size_t minority[GOLD_MIN];
    for (size_t i = 0; i < GOLD_MIN; i++) minority[i] = GOLD_ROWS - GOLD_MIN + i;
    uint32_t nn[GOLD_MIN * GOLD_K];
    assert_int_equal(vg_knn(&X, is_cat, GOLD_NC_COST, minority, GOLD_MIN, minority, GOLD_MIN, GOLD_K, 2, nn, NULL),
                     VG_OK);
    assert_memory_equal(nn, gold_nc_nn, sizeof nn);
    float out[GOLD_NEW * GOLD_COLS];
    vg_smote_make(&X, is_cat, minority, minority, nn, GOLD_K, gold_nc_pick, gold_nc_gap, GOLD_NEW, out);
    double worst = 0;
    size_t compared = 0;
    for (size_t i = 0; i < GOLD_NEW; i++) {
        for (size_t j = 0; j < 3; j++) worst = fmax(worst, fabs(out[i * GOLD_COLS + j] - gold_nc_new[i * GOLD_COLS + j]));
        if (!gold_nc_unique[i]) continue;  /* imbalanced-learn broke a tie at random */
        assert_true(out[i * GOLD_COLS + 3] == (float)gold_nc_new[i * GOLD_COLS + 3]);  /* the category, exactly */
        compared++;
    }
    printf("SMOTE-NC vs imbalanced-learn: max |difference| %.3g, %zu untied categories equal\n", worst, compared);
    assert_true(compared >= GOLD_NEW / 3);
    assert_true(worst < 1e-5);
    vg_matrix_free(&X);
}

static void test_targets_match_imblearn(void **state)
{
    (void)state;
    const size_t count3[3] = { 70, 30, 12 }, count2[2] = { 70, 30 };
    size_t t[3];
    vg_sampler_params p;
    struct { const char *name, *strategy; const size_t *count; uint32_t n; size_t at; } cases[] = {
        { "random-over", NULL, count3, 3, 0 },        { "random-under", NULL, count3, 3, 3 },
        { "random-under", "majority", count3, 3, 6 }, { "random-over", "0.6", count2, 2, 9 },
        { "random-under", "0.6", count2, 2, 12 },     { "smote", NULL, count3, 3, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(vg_sampler_params_default(cases[i].name, &p), VG_OK);
        if (cases[i].strategy) {
            char kv[64];
            snprintf(kv, sizeof kv, "sampling_strategy=%s", cases[i].strategy);
            assert_int_equal(vg_sampler_params_set(&p, kv), VG_OK);
        }
        vg_sampler_targets(&p, cases[i].count, cases[i].n, t);
        for (uint32_t c = 0; c < cases[i].n; c++) assert_int_equal(t[c], gold_counts[cases[i].at + c]);
    }
    /* Parameters: unknown, out of range, the wrong strategy word. */
    assert_int_equal(vg_sampler_params_default("smote", &p), VG_OK);
    assert_int_equal(vg_sampler_params_set(&p, "k_neighbours=3"), VG_ERR_INVALID);
    assert_int_equal(vg_sampler_params_set(&p, "k_neighbors=0"), VG_ERR_INVALID);
    assert_int_equal(vg_sampler_params_set(&p, "sampling_strategy=1.5"), VG_ERR_INVALID);
    assert_int_equal(vg_sampler_params_set(&p, "sampling_strategy=majority"), VG_ERR_INVALID);
    assert_int_equal(vg_sampler_params_default("smoke", &p), VG_ERR_INVALID);
}

/* 3,000 rows in clusters with exact duplicates (ties) and a categorical
 * column: the tree's answer is brute force's, ties by lower index. */
static void test_knn_equals_brute_force(void **state)
{
    (void)state;
    enum { R = 3000, C = 5, K = 7 };
    vg_matrix X;
    assert_int_equal(vg_matrix_alloc(&X, R, C), VG_OK);
    vg_rng rng;
    vg_rng_seed(&rng, 9, 0);
    for (size_t r = 0; r < R; r++) {
        double centre = (double)vg_rng_below(&rng, 6) * 3;
        for (size_t j = 0; j < 4; j++) X.data[r * C + j] = (float)(centre + (r % 5 == 0 ? 0 : vg_rng_normal(&rng)));
        X.data[r * C + 4] = (float)vg_rng_below(&rng, 3);
        if (r % 97 == 1) X.data[r * C + 4] = NAN;
    }
    const uint8_t is_cat[C] = { 0, 0, 0, 0, 1 };
    size_t *all = vg_malloc(R * sizeof *all), q[300];
    for (size_t r = 0; r < R; r++) all[r] = r;
    for (size_t i = 0; i < 300; i++) q[i] = i * 10;
    uint32_t *a = vg_malloc(300 * K * sizeof *a), *b = vg_malloc(300 * K * sizeof *b);
    double *da = vg_malloc(300 * K * sizeof *da);
    assert_int_equal(vg_knn(&X, is_cat, 0.8, all, R, q, 300, K, 1, a, da), VG_OK);
    assert_int_equal(vg_knn(&X, is_cat, 0.8, all, R, q, 300, K, 2, b, NULL), VG_OK);
    assert_memory_equal(a, b, 300 * K * sizeof *a);
    double *d = vg_malloc(R * sizeof *d);
    for (size_t i = 0; i < 300; i++) {
        const float *x = X.data + q[i] * C;
        for (size_t r = 0; r < R; r++) {
            const float *z = X.data + r * C;
            double s = 0;
            for (size_t j = 0; j < 4; j++) s += ((double)x[j] - z[j]) * ((double)x[j] - z[j]);
            if (!(x[4] == z[4] || (isnan(x[4]) && isnan(z[4])))) s += 0.8;
            d[r] = r == q[i] ? INFINITY : s;
        }
        for (int j = 0; j < K; j++) {  /* the j-th smallest (distance, index), by selection */
            size_t best = SIZE_MAX;
            for (size_t r = 0; r < R; r++)
                if (best == SIZE_MAX || d[r] < d[best]) best = r;
            assert_int_equal(a[i * K + j], best);
            assert_true(da[i * K + j] == d[best]);
            d[best] = INFINITY;
        }
    }
    vg_free(all), vg_free(a), vg_free(b), vg_free(da), vg_free(d);
    vg_matrix_free(&X);
}

static void test_apply_keeps_rows_and_threads(void **state)
{
    (void)state;
    static const char *names[] = { "smote", "borderline-smote", "adasyn", "random-over", "random-under" };
    for (size_t s = 0; s < 5; s++) {
        vg_matrix X[2];
        int32_t *y[2];
        float *w[2];
        for (int t = 0; t < 2; t++) {
            X[t] = matrix_of(gold_X, GOLD_ROWS, GOLD_COLS);
            y[t] = vg_malloc(GOLD_ROWS * sizeof **y);
            w[t] = vg_malloc(GOLD_ROWS * sizeof **w);
            memcpy(y[t], gold_y, sizeof gold_y);
            for (size_t r = 0; r < GOLD_ROWS; r++) w[t][r] = gold_y[r] ? 2.0f : 1.0f;
            vg_sampler_params p;
            assert_int_equal(vg_sampler_params_default(names[s], &p), VG_OK);
            assert_int_equal(vg_sampler_apply(&p, NULL, 2, 5, t + 1, &X[t], &y[t], &w[t]), VG_OK);
        }
        assert_int_equal(X[0].rows, X[1].rows);
        assert_memory_equal(X[0].data, X[1].data, X[0].rows * GOLD_COLS * sizeof(float));
        assert_memory_equal(y[0], y[1], X[0].rows * sizeof(int32_t));
        size_t n1 = 0;
        for (size_t r = 0; r < X[0].rows; r++) {
            n1 += y[0][r] == 1;
            assert_true(w[0][r] == (y[0][r] ? 2.0f : 1.0f));  /* new rows carry their class's weight */
        }
        if (s == 4) {
            assert_int_equal(X[0].rows, 2 * GOLD_MIN);
        } else {
            /* over-samplers: the original rows first, unchanged */
            assert_memory_equal(X[0].data, gold_X, sizeof gold_X);
            if (s != 1 && s != 2) assert_int_equal(n1, GOLD_ROWS - GOLD_MIN);
            assert_true(X[0].rows > GOLD_ROWS);
        }
        printf("%-16s -> %zu rows, %zu of the minority class\n", names[s], X[0].rows, n1);
        for (int t = 0; t < 2; t++) vg_matrix_free(&X[t]), vg_free(y[t]), vg_free(w[t]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smote_matches_imblearn),
        cmocka_unit_test(test_smotenc_matches_imblearn),
        cmocka_unit_test(test_targets_match_imblearn),
        cmocka_unit_test(test_knn_equals_brute_force),
        cmocka_unit_test(test_apply_keeps_rows_and_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
