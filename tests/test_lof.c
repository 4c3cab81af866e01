/* Tests of the local outlier factor (src/models/lof.c): novelty scores
 * against scikit-learn's LocalOutlierFactor(novelty=True) on a fixed set
 * (tests/golden/neighbors_golden.py: a duplicate training row, a training row
 * as a query, an outlier, an unseen category, a non-0/1 one-hot value), the
 * same scores for any thread count, the training rows' scores fit keeps
 * equal to predict's, explanations that sum to the score,
 * save/load against truncation and corruption, and parameter errors. */
#include "neighbors_util.h"

static const vg_estimator_kind *K_ = &vg_lof_kind;

static void *fit_k(const vg_matrix *M, const char *k, int threads)
{
    void *p = calloc(1, K_->params_size);
    K_->params_default(p);
    if (k) assert_int_equal(K_->params_set(p, "n_neighbors", k), VG_OK);
    void *s = nb_fit(K_, p, M, NULL, 1, 0, threads);
    free(p);
    return s;
}

static void test_golden(void **state)
{
    (void)state;
    size_t n, d, nq, dq, r, c;
    double *tr = nb_read("lof_train.csv", &n, &d), *te = nb_read("lof_test.csv", &nq, &dq);
    double *want = nb_read("lof_scores.csv", &r, &c);
    assert_int_equal(r * c, nq);
    vg_matrix Mtr = nb_matrix(tr, n, d, 0, d), Mte = nb_matrix(te, nq, d, 0, d);
    void *s = fit_k(&Mtr, "10", 2);
    float *got = malloc(nq * sizeof(float));
    K_->predict(s, &Mte, 2, got);
    double worst = 0.0;
    for (size_t i = 0; i < nq; i++) worst = fmax(worst, fabs(got[i] - want[i]) / fmax(1.0, fabs(want[i])));
    printf("lof: max relative |score - sklearn| over %zu rows = %.3g (outlier %.4f vs %.4f)\n", nq, worst, got[1],
           want[1]);
    assert_true(worst < 1e-5);
    assert_true(got[1] > 1.5f);
    /* predict_row and 1 vs 3 threads agree exactly. */
    float *g1 = malloc(nq * sizeof(float));
    K_->predict(s, &Mte, 1, g1);
    assert_memory_equal(g1, got, nq * sizeof(float));
    for (size_t i = 0; i < nq; i++) {
        float one;
        K_->predict_row(s, Mte.data + i * d, &one);
        assert_true(one == got[i]);
    }
    /* Explanations sum to the score; the outlier's lead features are the moved ones. */
    double *contrib = calloc(d + 1, sizeof(double));
    for (size_t i = 0; i < nq; i++) {
        assert_int_equal(K_->explain(s, Mte.data + i * d, contrib), VG_OK);
        double sum = 0.0;
        for (size_t f = 0; f <= d; f++) sum += contrib[f];
        assert_true(fabs(sum - got[i]) <= 1e-5 * fmax(1.0, got[i]));
    }
    assert_int_equal(K_->explain(s, Mte.data + 1 * d, contrib), VG_OK);
    double moved = 0.0, rest = 0.0;
    for (size_t f = 0; f < d; f++) *(f < 5 ? &moved : &rest) += contrib[f];
    assert_true(moved > 4 * rest);
    /* The training rows' scores kept by fit are predict's (the duplicate
     * training row included: itself and its twin at distance 0, by index). */
    float *fit_pred = malloc(n * sizeof(float));
    K_->predict(s, &Mtr, 2, fit_pred);
    const float *kept = K_->fit_scores(s, n);
    assert_non_null(kept);
    assert_null(K_->fit_scores(s, n - 1));
    assert_memory_equal(kept, fit_pred, n * sizeof(float));
    free(fit_pred);
    /* Round trip (a loaded model keeps no training scores). */
    void *s2 = nb_round_trip(K_, s);
    K_->predict(s2, &Mte, 2, g1);
    assert_memory_equal(g1, got, nq * sizeof(float));
    assert_null(K_->fit_scores(s2, n));
    K_->free(s2);
    free(contrib), free(g1), free(got);
    K_->free(s);
    vg_matrix_free(&Mtr), vg_matrix_free(&Mte);
    free(tr), free(te), free(want);
}

static void test_corrupt(void **state)
{
    (void)state;
    size_t n, d;
    double *tr = nb_read("lof_train.csv", &n, &d);
    vg_matrix M = nb_matrix(tr, n, d, 0, d);
    void *s = fit_k(&M, "5", 1);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(K_->save(s, &w), VG_OK);
    size_t at_lrd = 16 + n * d * 4 + n * 8;
    struct { size_t at; uint32_t v; } bad[] = {
        { 12, 0 },                 /* k = 0 */
        { 12, (uint32_t)n },       /* k = rows */
        { 8, 1 },                  /* one training row */
        { 16, 0x7fc00000u },       /* a NaN training value */
        { at_lrd, 0 },             /* lrd 0 (low half of the double, then the high half) */
    };
    for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
        uint8_t *copy = malloc(w.len);
        memcpy(copy, w.data, w.len);
        memcpy(copy + bad[t].at, &bad[t].v, 4);
        if (t == 4) memcpy(copy + bad[t].at + 4, &bad[t].v, 4);
        vg_rbuf r;
        vg_rbuf_init(&r, copy, w.len, "test");
        void *x = NULL;
        if (K_->load(&r, &x) != VG_ERR_FORMAT) fail_msg("corruption %zu was accepted", t);
        assert_null(x);
        free(copy);
    }
    vg_wbuf_free(&w);
    K_->free(s);
    vg_matrix_free(&M);
    free(tr);
}

static void test_params_and_data(void **state)
{
    (void)state;
    nb_param_refused(K_, "n_neighbors", "0");
    nb_param_refused(K_, "n_neighbors", "many");
    nb_param_refused(K_, "metric", "cosine");
    nb_param_refused(K_, "contamination", "0.1");  /* the train path's, not the family's */
    vg_matrix M;
    assert_int_equal(vg_matrix_alloc(&M, 1, 3), VG_OK);
    void *p = calloc(1, K_->params_size), *s = NULL;
    K_->params_default(p);
    vg_train_set ts = { .X = &M, .n_classes = 1 };
    vg_fit_options opt = { .threads = 1 };
    assert_int_equal(K_->fit(p, &ts, &opt, &s), VG_ERR_DATA);
    vg_matrix_free(&M);
    /* n_neighbors above the rows: k = n - 1, as scikit-learn. */
    assert_int_equal(vg_matrix_alloc(&M, 4, 2), VG_OK);
    for (size_t i = 0; i < 8; i++) M.data[i] = (float)(i * i);
    assert_int_equal(K_->fit(p, &ts, &opt, &s), VG_OK);
    vg_wbuf w;
    vg_wbuf_init(&w);
    K_->describe(s, &w);
    vg_wbuf_u8(&w, 0);
    assert_non_null(strstr((char *)w.data, "neighbours: 3"));
    assert_non_null(strstr((char *)w.data, "MB"));
    vg_wbuf_free(&w);
    K_->free(s);
    M.data[5] = INFINITY;
    s = NULL;
    assert_int_equal(K_->fit(p, &ts, &opt, &s), VG_ERR_DATA);
    assert_null(s);
    vg_matrix_free(&M);
    free(p);
    assert_null(vg_estimator_check(K_));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_params_and_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
