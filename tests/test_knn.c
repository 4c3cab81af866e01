/* Tests of the k-nearest-neighbours classifier (src/models/knn.c):
 * probabilities against scikit-learn's KNeighborsClassifier (brute) for
 * uniform and distance weights under the euclidean, manhattan and cosine
 * metrics, with a query at distance 0 from a training row
 * (tests/golden/neighbors_golden.py); predict_row and any thread count give
 * the same; save/load against truncation and corruption; parameter errors. */
#include "neighbors_util.h"

static const vg_estimator_kind *K_ = &vg_knn_kind;

static void golden_case(const char *k, const char *weights, const char *metric)
{
    size_t n, c1, nq, d, r, c;
    double *tr = nb_read("knn_train.csv", &n, &c1), *te = nb_read("knn_test.csv", &nq, &d);
    char name[128];
    snprintf(name, sizeof name, "knn_%s_%s_%s.csv", k, weights, metric);
    double *want = nb_read(name, &r, &c);
    assert_int_equal(c1, d + 1);
    vg_matrix Mtr = nb_matrix(tr, n, c1, 0, d), Mte = nb_matrix(te, nq, d, 0, d);
    int32_t *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) y[i] = (int32_t)tr[i * c1 + d];
    void *p = calloc(1, K_->params_size);
    K_->params_default(p);
    assert_int_equal(K_->params_set(p, "n_neighbors", k), VG_OK);
    assert_int_equal(K_->params_set(p, "weights", weights), VG_OK);
    assert_int_equal(K_->params_set(p, "metric", metric), VG_OK);
    void *s = nb_fit(K_, p, &Mtr, y, (uint32_t)c, 0, 2);
    assert_int_equal(K_->n_classes(s), c);
    float *got = malloc(nq * c * sizeof(float)), *g1 = malloc(nq * c * sizeof(float));
    K_->predict(s, &Mte, 3, got);
    K_->predict(s, &Mte, 1, g1);
    assert_memory_equal(got, g1, nq * c * sizeof(float));
    double worst = 0.0;
    for (size_t e = 0; e < nq * c; e++) worst = fmax(worst, fabs(got[e] - want[e]));
    printf("knn %s %s %s: max |proba - sklearn| = %.3g\n", k, weights, metric, worst);
    assert_true(worst < 1e-6);
    for (size_t i = 0; i < nq; i++) {
        K_->predict_row(s, Mte.data + i * d, g1);
        assert_memory_equal(g1, got + i * c, c * sizeof(float));
    }
    void *s2 = nb_round_trip(K_, s);
    K_->predict(s2, &Mte, 2, g1);
    assert_memory_equal(g1, got, nq * c * sizeof(float));
    K_->free(s2);
    K_->free(s);
    free(p), free(got), free(g1), free(y);
    vg_matrix_free(&Mtr), vg_matrix_free(&Mte);
    free(tr), free(te), free(want);
}

static void test_uniform_euclidean(void **state)
{
    (void)state;
    golden_case("5", "uniform", "euclidean");
}

static void test_distance_manhattan(void **state)
{
    (void)state;
    golden_case("7", "distance", "manhattan");
}

static void test_uniform_cosine(void **state)
{
    (void)state;
    golden_case("6", "uniform", "cosine");
}

static void test_distance_euclidean(void **state)
{
    (void)state;
    golden_case("4", "distance", "euclidean");
}

static void test_corrupt_and_params(void **state)
{
    (void)state;
    nb_param_refused(K_, "n_neighbors", "0");
    nb_param_refused(K_, "weights", "inverse");
    nb_param_refused(K_, "metric", "chebyshev");
    nb_param_refused(K_, "leaf_size", "30");
    vg_matrix M;
    assert_int_equal(vg_matrix_alloc(&M, 6, 2), VG_OK);
    int32_t y[6] = { 0, 1, 0, 1, 0, 1 };
    for (size_t i = 0; i < 12; i++) M.data[i] = (float)i;
    void *p = calloc(1, K_->params_size), *s = NULL;
    K_->params_default(p);
    vg_train_set ts = { .X = &M, .y = y, .n_classes = 2 };
    vg_fit_options opt = { .threads = 1 };
    assert_int_equal(K_->params_set(p, "n_neighbors", "7"), VG_OK);
    assert_int_equal(K_->fit(p, &ts, &opt, &s), VG_ERR_DATA);  /* more neighbours than rows */
    assert_non_null(strstr(vg_last_error(), "n_neighbors"));
    assert_int_equal(K_->params_set(p, "n_neighbors", "3"), VG_OK);
    assert_int_equal(K_->fit(p, &ts, &opt, &s), VG_OK);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(K_->save(s, &w), VG_OK);
    struct { size_t at; uint32_t v; } bad[] = {
        { 16, 0 },   /* k = 0 */
        { 16, 7 },   /* k > rows */
        { 20, 2 },   /* weights */
        { 24, 3 },   /* metric */
        { 12, 1 },   /* one class */
        { w.len - 4, 2 },  /* a label beyond the classes */
    };
    for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
        uint8_t *copy = malloc(w.len);
        memcpy(copy, w.data, w.len);
        memcpy(copy + bad[t].at, &bad[t].v, 4);
        vg_rbuf r;
        vg_rbuf_init(&r, copy, w.len, "test");
        void *x = NULL;
        if (K_->load(&r, &x) != VG_ERR_FORMAT) fail_msg("corruption %zu was accepted", t);
        assert_null(x);
        free(copy);
    }
    vg_wbuf_free(&w);
    /* A query with a NaN (never from the pipeline, possible from a caller)
     * gets probabilities that sum to 1, never NaN, under both weightings. */
    {
        float row[2] = { NAN, 1.0f }, pr[2];
        K_->predict_row(s, row, pr);
        assert_true(isfinite(pr[0]) && fabsf(pr[0] + pr[1] - 1.0f) < 1e-6f);
    }
    K_->free(s);
    assert_int_equal(K_->params_set(p, "weights", "distance"), VG_OK);
    assert_int_equal(K_->fit(p, &ts, &opt, &s), VG_OK);
    {
        float row[2] = { NAN, 1.0f }, pr[2];
        K_->predict_row(s, row, pr);
        assert_true(isfinite(pr[0]) && fabsf(pr[0] + pr[1] - 1.0f) < 1e-6f);
    }
    K_->free(s);
    y[2] = 5;  /* a label that is not a class */
    s = NULL;
    assert_int_equal(K_->fit(p, &ts, &opt, &s), VG_ERR_INVALID);
    assert_null(s);
    free(p);
    vg_matrix_free(&M);
    assert_null(vg_estimator_check(K_));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_euclidean),
        cmocka_unit_test(test_distance_manhattan),
        cmocka_unit_test(test_uniform_cosine),
        cmocka_unit_test(test_distance_euclidean),
        cmocka_unit_test(test_corrupt_and_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
