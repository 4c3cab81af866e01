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

static vg_table *make_table(void)
{
    vg_table *t = vg_table_new("tune-test");
    size_t a, b, l;
    vg_table_add_column(t, "a", VG_COLUMN_NUMERIC, &a);
    vg_table_add_column(t, "b", VG_COLUMN_NUMERIC, &b);
    vg_table_add_column(t, "label", VG_COLUMN_CATEGORICAL, &l);
    vg_rng rng;
    vg_rng_seed(&rng, 4, 0);
    for (int r = 0; r < 300; r++) {
        double x = vg_rng_normal(&rng), y = vg_rng_normal(&rng);
        const char *lab = x * y + 0.3 * vg_rng_normal(&rng) > 0 ? "attack" : "normal";
        vg_table_push_number(t, a, x);
        vg_table_push_number(t, b, y);
        vg_table_push_category(t, l, lab, strlen(lab));
    }
    return t;
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_axis_parse),
        cmocka_unit_test(test_grid_scores_are_cv_means),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
