/* Unit tests for the linear models over CSR rows: the coordinate-descent
 * solvers (models/linear_cd.c) against LIBLINEAR's liblinear-train and
 * scikit-learn on a small fixed sparse set (tests/golden/linear_golden.py),
 * the linear-svm family and logreg on sparse rows through the estimator
 * vtable (weights, probabilities and their explanations, save/load, corrupt
 * state refused, parameters, results identical for any thread count). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/linear_cd.h"
#include "models/logreg.h"
#include "vigil/estimator.h"
#include "golden/linear_golden.h"

/* tests/golden/linear_small.svm as CSR rows (0-based columns) and labels. */
static void read_svm(vg_csr *X, int8_t *y, int32_t *cls, size_t *n)
{
    FILE *f = fopen("tests/golden/linear_small.svm", "r");
    assert_non_null(f);
    assert_int_equal(vg_csr_begin(X, GOLDEN_D, 0), VG_OK);
    char line[4096];
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line, *end;
        long label = strtol(p, &end, 10);
        p = end;
        y[*n] = label > 0 ? 1 : -1;
        cls[*n] = label > 0;
        for (;;) {
            long j = strtol(p, &end, 10);
            if (end == p || *end != ':') break;
            double v = strtod(end + 1, &p);
            assert_int_equal(vg_csr_push(X, (uint32_t)(j - 1), (float)v), VG_OK);
        }
        assert_int_equal(vg_csr_end_row(X), VG_OK);
        ++*n;
    }
    fclose(f);
}

static double max_diff(const double *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

static vg_csr X;
static int8_t y[256];
static int32_t cls[256];
static double cost[256];
static size_t rows;

static int setup(void **state)
{
    (void)state;
    read_svm(&X, y, cls, &rows);
    for (size_t i = 0; i < rows; i++) cost[i] = GOLDEN_C;
    return rows == 120 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    vg_csr_free(&X);
    return 0;
}

static void check_solver(vg_lincd_solver s, const double *lib, const double *sk, const char *what, double tol)
{
    vg_lincd_problem P = { .X = &X, .y = y, .C = cost, .bias = 1.0 };
    double w[GOLDEN_D + 1];
    vg_lincd_result res;
    assert_int_equal(vg_lincd_solve(s, &P, 1e-7, 100000, 1, w, &res), VG_OK);
    double dl = max_diff(w, lib, GOLDEN_D + 1), ds = max_diff(w, sk, GOLDEN_D + 1);
    printf("%-22s vs liblinear-train max |diff| %.3g, vs scikit-learn %.3g (%ld passes)\n", what, dl, ds,
           res.iterations);
    assert_true(res.converged);
    assert_true(dl < tol);
    assert_true(ds < tol);
}

static void test_solvers_golden(void **state)
{
    (void)state;
    check_solver(VG_LINCD_SVM_L2LOSS, golden_s1, golden_sk_svc_l2, "SVM L2-loss (-s 1)", 1e-5);
    check_solver(VG_LINCD_SVM_L1LOSS, golden_s3, golden_sk_svc_l1, "SVM L1-loss (-s 3)", 1e-4);
    check_solver(VG_LINCD_LR_DUAL, golden_s7, golden_sk_lr_l2, "logistic L2 (-s 7)", 1e-5);
    check_solver(VG_LINCD_LR_L1, golden_s6, golden_sk_lr_l1, "logistic L1 (-s 6)", 1e-4);
}

/* Fit a family on the golden rows through the vtable. */
static void *fit_kind(const vg_estimator_kind *k, const char *const *kv, size_t n_kv, const int32_t *labels,
                      uint32_t n_classes, int threads)
{
    void *params = calloc(1, k->params_size);
    k->params_default(params);
    for (size_t i = 0; i < n_kv; i += 2) assert_int_equal(k->params_set(params, kv[i], kv[i + 1]), VG_OK);
    assert_null(k->params_check(params));
    vg_train_set ts = { .Xs = &X, .y = labels, .n_classes = n_classes };
    vg_fit_options opt = { .seed = 3, .threads = threads };
    void *state = NULL;
    assert_int_equal(k->fit(params, &ts, &opt, &state), VG_OK);
    free(params);
    return state;
}

static void test_linear_svm_family(void **state)
{
    (void)state;
    const vg_estimator_kind *k = vg_estimator_find("linear-svm");
    assert_non_null(k);
    assert_null(vg_estimator_check(k));
    assert_true(vg_estimator_reads_sparse(k, 0));  /* it reads CSR rows only */
    const char *kv[] = { "C", "0.5", "tol", "1e-7", "loss", "hinge" };
    void *s = fit_kind(k, kv, 6, cls, 2, 1);
    /* The decision value is w.x + w_b: recover it from P = sigmoid(f) and
     * compare with LIBLINEAR's weights; explanations sum to it. */
    float *proba = malloc(rows * 2 * sizeof *proba);
    k->predict_sparse(s, &X, 2, proba);
    assert_int_equal(k->n_outputs(s), 1);
    double worst = 0, worst_expl = 0, contrib[GOLDEN_D + 1];
    for (size_t r = 0; r < rows; r++) {
        double f = golden_s3[GOLDEN_D] + vg_csr_row_dot(&X, r, golden_s3);
        double p = 1 / (1 + exp(-f));
        worst = fmax(worst, fabs(proba[2 * r + 1] - p));
        assert_true(fabs(proba[2 * r] + proba[2 * r + 1] - 1) < 1e-6);
        assert_int_equal(k->explain_sparse(s, &X, r, contrib), VG_OK);
        size_t n = X.indptr[r + 1] - X.indptr[r];
        double sum = 0;
        for (size_t e = 0; e <= n; e++) sum += contrib[e];
        worst_expl = fmax(worst_expl, fabs(sum - f));
    }
    printf("linear-svm probabilities vs sigmoid(LIBLINEAR f): %.3g; explanation sums vs f: %.3g\n", worst, worst_expl);
    assert_true(worst < 1e-4 && worst_expl < 1e-3);

    /* Save, load: the same predictions; every truncation and a bad version refused. */
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(k->save(s, &w), VG_OK);
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "test");
    void *back = NULL;
    assert_int_equal(k->load(&r, &back), VG_OK);
    float *p2 = malloc(rows * 2 * sizeof *p2);
    k->predict_sparse(back, &X, 1, p2);
    assert_memory_equal(proba, p2, rows * 2 * sizeof *p2);
    k->free(back);
    for (size_t len = 0; len < w.len; len++) {
        vg_rbuf_init(&r, w.data, len, "test");
        back = NULL;
        assert_int_not_equal(k->load(&r, &back), VG_OK);
        assert_null(back);
    }
    unsigned char *bad = malloc(w.len);
    memcpy(bad, w.data, w.len);
    bad[0] = 7;  /* version */
    vg_rbuf_init(&r, bad, w.len, "test");
    assert_int_equal(k->load(&r, &back), VG_ERR_FORMAT);
    memcpy(bad, w.data, w.len);
    bad[4] = 3;  /* n_features 3: stored columns beyond it */
    memset(bad + 5, 0, 3);
    vg_rbuf_init(&r, bad, w.len, "test");
    assert_int_equal(k->load(&r, &back), VG_ERR_FORMAT);
    memcpy(bad, w.data, w.len);
    uint32_t huge = 1u << 30;  /* 8 GiB of weights asked for by a few bytes: the load limit refuses */
    memcpy(bad + 4, &huge, 4);
    vg_rbuf_init(&r, bad, w.len, "test");
    assert_int_equal(k->load(&r, &back), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "linear-svm weights needs 8193 MiB, over the model load limit"));
    free(bad), free(p2), free(proba);
    vg_wbuf_free(&w);
    k->free(s);
}

static void test_params(void **state)
{
    (void)state;
    const vg_estimator_kind *k = vg_estimator_find("linear-svm");
    void *params = calloc(1, k->params_size);
    k->params_default(params);
    assert_int_equal(k->params_set(params, "C", "0"), VG_ERR_INVALID);
    assert_int_equal(k->params_set(params, "loss", "log"), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "loss"));
    assert_int_equal(k->params_set(params, "kernel", "rbf"), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "kernel"));
    assert_int_equal(k->params_set(params, "max_iter", "0"), VG_ERR_INVALID);
    free(params);
    const vg_estimator_kind *lr = vg_estimator_find("logreg");
    params = calloc(1, lr->params_size);
    lr->params_default(params);
    assert_int_equal(lr->params_set(params, "penalty", "elasticnet"), VG_ERR_INVALID);
    assert_int_equal(lr->params_set(params, "penalty", "l1"), VG_OK);
    free(params);
}

/* Three classes one-vs-rest: the same coefficients for 1 and 2 threads. */
static void test_threads_identical(void **state)
{
    (void)state;
    int32_t three[256];
    for (size_t i = 0; i < rows; i++) three[i] = (int32_t)(i % 3);
    const vg_estimator_kind *k = vg_estimator_find("linear-svm");
    void *a = fit_kind(k, NULL, 0, three, 3, 1), *b = fit_kind(k, NULL, 0, three, 3, 2);
    vg_wbuf wa, wb;
    vg_wbuf_init(&wa), vg_wbuf_init(&wb);
    k->save(a, &wa), k->save(b, &wb);
    assert_int_equal(wa.len, wb.len);
    assert_memory_equal(wa.data, wb.data, wa.len);
    assert_int_equal(k->n_outputs(a), 3);
    vg_wbuf_free(&wa), vg_wbuf_free(&wb);
    k->free(a), k->free(b);
}

static void test_logreg_sparse(void **state)
{
    (void)state;
    const vg_estimator_kind *k = &vg_logreg_kind;
    assert_null(vg_estimator_check(k));
    assert_true(vg_estimator_reads_sparse(k, 1) && !vg_estimator_reads_sparse(k, 0));
    const char *kv[] = { "C", "0.5", "tol", "1e-7", "max_iter", "100000" };
    const char *kv1[] = { "C", "0.5", "tol", "1e-7", "max_iter", "100000", "penalty", "l1" };
    const double *gold[] = { golden_s7, golden_s6 };
    for (int l1 = 0; l1 <= 1; l1++) {
        void *s = fit_kind(k, l1 ? kv1 : kv, l1 ? 8 : 6, cls, 2, 1);
        uint32_t nv, stride;
        const double *coef = vg_logreg_coef(s, &nv, &stride, NULL);
        assert_int_equal(nv, 1);
        assert_int_equal(stride, GOLDEN_D + 1);
        double d = max_diff(coef, gold[l1], GOLDEN_D + 1);
        printf("logreg penalty=%s on CSR rows vs liblinear-train: max |diff| %.3g\n", l1 ? "l1" : "l2", d);
        assert_true(d < 1e-4);
        float *p = malloc(rows * 2 * sizeof *p), *q = malloc(rows * 2 * sizeof *q);
        k->predict_sparse(s, &X, 1, p);
        vg_wbuf w;
        vg_wbuf_init(&w);
        assert_int_equal(k->save(s, &w), VG_OK);
        vg_rbuf r;
        vg_rbuf_init(&r, w.data, w.len, "test");
        void *back;
        assert_int_equal(k->load(&r, &back), VG_OK);
        k->predict_sparse(back, &X, 2, q);
        assert_memory_equal(p, q, rows * 2 * sizeof *p);
        k->free(back);
        for (size_t len = 0; len < w.len; len += 3) {
            vg_rbuf_init(&r, w.data, len, "test");
            assert_int_not_equal(k->load(&r, &back), VG_OK);
        }
        uint32_t huge = 1u << 30;  /* the feature count after the version: 8 GiB of weights */
        memcpy(w.data + 4, &huge, 4);
        vg_rbuf_init(&r, w.data, w.len, "test");
        assert_int_equal(k->load(&r, &back), VG_ERR_FORMAT);
        assert_non_null(strstr(vg_last_error(), "logreg weights needs 8193 MiB, over the model load limit"));
        vg_wbuf_free(&w);
        free(p), free(q);
        k->free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_solvers_golden),
        cmocka_unit_test(test_linear_svm_family),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_logreg_sparse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
