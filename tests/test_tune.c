/* Parameter search (src/eval/tune.c): axes parsed and refused, the grid is
 * every combination, each trial's score is vg_cv_run's mean for its
 * parameters, the best is the best of them, and the search is the same for
 * any thread count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/rng.h"
#include "vigil/table.h"
#include "vigil/tune.h"
#include "eval/tpe.h"

static vg_table *make_table_n(int rows)
{
    vg_table *t = vg_table_new("tune-test");
    size_t a, b, l;
    vg_table_add_column(t, "a", VG_COLUMN_NUMERIC, &a);
    vg_table_add_column(t, "b", VG_COLUMN_NUMERIC, &b);
    vg_table_add_column(t, "label", VG_COLUMN_CATEGORICAL, &l);
    vg_rng rng;
    vg_rng_seed(&rng, 4, 0);
    for (int r = 0; r < rows; r++) {
        double x = vg_rng_normal(&rng), y = vg_rng_normal(&rng);
        const char *lab = x * y + 0.3 * vg_rng_normal(&rng) > 0 ? "attack" : "normal";
        vg_table_push_number(t, a, x);
        vg_table_push_number(t, b, y);
        vg_table_push_category(t, l, lab, strlen(lab));
    }
    return t;
}

static vg_table *make_table(void) { return make_table_n(300); }

static void test_axis_parse(void **state)
{
    (void)state;
    vg_tune_axis a;
    assert_int_equal(vg_tune_axis_parse("max_depth=2,4,8", &a), VG_OK);
    assert_string_equal(a.key, "max_depth");
    assert_int_equal(a.n_values, 3);
    assert_string_equal(a.values[2], "8");
    vg_tune_axis_free(&a);
    assert_int_equal(vg_tune_axis_parse("learning_rate=0.01:0.3:log", &a), VG_OK);
    assert_true(a.log && !a.integer && a.lo == 0.01 && a.hi == 0.3);
    vg_tune_axis_free(&a);
    assert_int_equal(vg_tune_axis_parse("n_estimators=10:100", &a), VG_OK);
    assert_true(a.integer && !a.log);
    vg_tune_axis_free(&a);
    const char *bad[] = { "max_depth", "=1,2", "max_depth=", "max_depth=1,,2", "lr=0.3:0.1", "lr=0:1:log", "lr=a:b",
                          "lr=0.1:0.2:ln" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_int_equal(vg_tune_axis_parse(bad[i], &a), VG_ERR_INVALID);
}

static vg_train_request request(const vg_table *t, int threads)
{
    vg_train_request rq = { .table = t, .model = "gbdt", .seed = 3, .threads = threads };
    rq.data.label = "label";
    rq.data.positive = "attack";
    return rq;
}

static void test_grid_scores_are_cv_means(void **state)
{
    (void)state;
    vg_table *t = make_table();
    vg_tune_axis ax[2];
    assert_int_equal(vg_tune_axis_parse("max_depth=1,3", &ax[0]), VG_OK);
    assert_int_equal(vg_tune_axis_parse("n_estimators=5,40", &ax[1]), VG_OK);
    vg_tune_params p = vg_tune_params_default();
    p.cv.folds = 3;
    vg_tune_result r1, r2;
    vg_train_request rq1 = request(t, 1), rq2 = request(t, 2);
    assert_int_equal(vg_tune_run(&rq1, ax, 2, &p, &r1), VG_OK);
    assert_int_equal(vg_tune_run(&rq2, ax, 2, &p, &r2), VG_OK);
    assert_int_equal(r1.n_trials, 4);
    double best = -INFINITY;
    for (size_t k = 0; k < 4; k++) {
        assert_true(r1.trials[k].mean == r2.trials[k].mean);  /* any thread count */
        best = fmax(best, r1.trials[k].mean);
        /* the trial's score is cv's mean ROC-AUC with its parameters */
        vg_train_request rq = request(t, 2);
        rq.params = (const char *const *)r1.trials[k].params;
        rq.n_params = r1.trials[k].n_params;
        vg_cv_params cp = vg_cv_params_default();
        cp.folds = 3;
        vg_cv_result cv;
        assert_int_equal(vg_cv_run(&rq, &cp, &cv), VG_OK);
        size_t j = 0;
        while (strcmp(cv.names[j], "roc_auc") != 0) j++;
        assert_true(cv.mean[j] == r1.trials[k].mean);
        vg_cv_result_free(&cv);
    }
    assert_true(r1.trials[r1.best].mean == best);
    /* depth 1 cannot model x * y: the best has depth 3 */
    assert_string_equal(r1.trials[r1.best].params[0], "max_depth=3");
    vg_tune_result_free(&r1), vg_tune_result_free(&r2);
    /* random search over a range: reproducible, values inside it */
    vg_tune_axis lr;
    assert_int_equal(vg_tune_axis_parse("learning_rate=0.05:0.5:log", &lr), VG_OK);
    p.search = VG_TUNE_RANDOM;
    p.trials = 3;
    p.metric = "recall_at_fpr:0.1";
    assert_int_equal(vg_tune_run(&rq1, &lr, 1, &p, &r1), VG_OK);
    assert_int_equal(vg_tune_run(&rq2, &lr, 1, &p, &r2), VG_OK);
    for (size_t k = 0; k < 3; k++) {
        double v = atof(strchr(r1.trials[k].params[0], '=') + 1);
        assert_true(v >= 0.05 && v <= 0.5);
        assert_string_equal(r1.trials[k].params[0], r2.trials[k].params[0]);
        assert_true(r1.trials[k].mean == r2.trials[k].mean && r1.trials[k].mean > 0 && r1.trials[k].mean <= 1);
    }
    vg_tune_result_free(&r1), vg_tune_result_free(&r2);
    /* errors before any fit: an unknown metric, a parameter out of range */
    p.metric = "auc";
    assert_int_equal(vg_tune_run(&rq1, &lr, 1, &p, &r1), VG_ERR_INVALID);
    p.metric = "roc_auc";
    vg_tune_axis badp;
    assert_int_equal(vg_tune_axis_parse("max_depth=-3,2", &badp), VG_OK);
    p.search = VG_TUNE_GRID;
    assert_int_equal(vg_tune_run(&rq1, &badp, 1, &p, &r1), VG_ERR_INVALID);
    vg_tune_axis_free(&badp), vg_tune_axis_free(&lr);
    vg_tune_axis_free(&ax[0]), vg_tune_axis_free(&ax[1]);
    vg_table_free(t);
}

/* The proposal step alone: it goes where the good losses are, on a range
 * and on a list, and is a function of (history, seed, stream). */
static void test_tpe_suggest(void **state)
{
    (void)state;
    vg_tune_axis ax[2];
    assert_int_equal(vg_tune_axis_parse("learning_rate=0.0:1.0", &ax[0]), VG_OK);
    assert_int_equal(vg_tune_axis_parse("criterion=a,b,c", &ax[1]), VG_OK);
    enum { N = 60 };
    double X[N * 2], loss[N], x[2], y[2];
    vg_rng rng;
    vg_rng_seed(&rng, 9, 1);
    for (int i = 0; i < N; i++) {
        X[2 * i] = vg_rng_uniform(&rng);
        X[2 * i + 1] = (double)vg_rng_below(&rng, 3);
        /* best at u = 0.4 with category c */
        loss[i] = fabs(X[2 * i] - 0.4) + (X[2 * i + 1] == 2 ? 0 : 0.5);
    }
    int near = 0;
    for (uint64_t stream = 0; stream < 20; stream++) {
        vg_tpe_suggest(ax, 2, X, loss, N, 7, stream, x);
        vg_tpe_suggest(ax, 2, X, loss, N, 7, stream, y);
        assert_true(x[0] == y[0] && x[1] == y[1]);
        assert_true(x[0] >= 0 && x[0] <= 1);
        assert_true(x[1] == 0 || x[1] == 1 || x[1] == 2);
        near += fabs(x[0] - 0.4) < 0.15 && x[1] == 2;
    }
    printf("tpe: %d of 20 proposals within 0.15 of the optimum with its category\n", near);
    assert_true(near >= 16);  /* a uniform draw: 0.3 x 1/3 of them */
    assert_int_equal(vg_tpe_n_good(5), 1);
    assert_int_equal(vg_tpe_n_good(60), 6);
    assert_int_equal(vg_tpe_n_good(1000), 25);
    vg_tune_axis_free(&ax[0]), vg_tune_axis_free(&ax[1]);
}

/* TPE search and successive halving give the same trials for 1 and 2
 * threads; halving promotes the best third of a rung and the best is on
 * the last rung, on every row. */
static void test_tpe_and_halving(void **state)
{
    (void)state;
    vg_table *t = make_table_n(1000);
    vg_tune_axis ax[2];
    assert_int_equal(vg_tune_axis_parse("max_depth=1:6", &ax[0]), VG_OK);
    assert_int_equal(vg_tune_axis_parse("learning_rate=0.02:0.5:log", &ax[1]), VG_OK);
    vg_tune_params p = vg_tune_params_default();
    p.cv.folds = 3;
    p.search = VG_TUNE_TPE;
    p.trials = 13;
    vg_tune_result r1, r2;
    vg_train_request rq1 = request(t, 1), rq2 = request(t, 2);
    rq1.params = rq2.params = (const char *const[]){ "n_estimators=15" };
    rq1.n_params = rq2.n_params = 1;
    assert_int_equal(vg_tune_run(&rq1, ax, 2, &p, &r1), VG_OK);
    assert_int_equal(vg_tune_run(&rq2, ax, 2, &p, &r2), VG_OK);
    assert_int_equal(r1.n_trials, 13);
    assert_int_equal(r1.n_rungs, 1);
    for (size_t k = 0; k < 13; k++) {
        for (size_t a = 0; a < 2; a++) assert_string_equal(r1.trials[k].params[a], r2.trials[k].params[a]);
        assert_true(r1.trials[k].mean == r2.trials[k].mean);
        assert_true(r1.trials[k].mean <= r1.trials[r1.best].mean);
    }
    assert_int_equal(r1.best, r2.best);
    vg_tune_result_free(&r1), vg_tune_result_free(&r2);
    /* halving: 1000 rows, 9 settings -> rungs of 333 and 1000 rows */
    p.search = VG_TUNE_RANDOM;
    p.trials = 9;
    p.halving = 1;
    assert_int_equal(vg_tune_run(&rq1, ax, 2, &p, &r1), VG_OK);
    assert_int_equal(vg_tune_run(&rq2, ax, 2, &p, &r2), VG_OK);
    assert_int_equal(r1.n_rungs, 2);
    size_t top = 0;
    for (size_t k = 0; k < 9; k++) {
        assert_true(r1.trials[k].mean == r2.trials[k].mean && r1.trials[k].rung == r2.trials[k].rung);
        if (r1.trials[k].rung == 1) {
            top++;
            assert_int_equal(r1.trials[k].rows, 1000);
        } else {
            assert_true(r1.trials[k].rows > 300 && r1.trials[k].rows < 400);
        }
    }
    assert_int_equal(top, 3);
    assert_int_equal(r1.trials[r1.best].rung, 1);
    vg_tune_result_free(&r1), vg_tune_result_free(&r2);
    vg_tune_axis_free(&ax[0]), vg_tune_axis_free(&ax[1]);
    vg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_axis_parse),
        cmocka_unit_test(test_grid_scores_are_cv_means),
        cmocka_unit_test(test_tpe_suggest),
        cmocka_unit_test(test_tpe_and_halving),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
