/* Cross-validation (src/eval/cv.c), its folds (src/data/folds.c) and
 * operating points (src/eval/operating_point.c): folds that never put a
 * group on both sides or train on the future, fitted steps that see only
 * a fold's training rows (checked against a pipeline fitted by hand on
 * those rows), thresholds chosen from out-of-fold scores only, and results
 * that do not depend on the thread count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/buf.h"
#include "vigil/cv.h"
#include "vigil/decision.h"
#include "vigil/folds.h"
#include "vigil/operating_point.h"
#include "vigil/pipeline.h"
#include "vigil/rng.h"
#include "vigil/table.h"

/* 400 rows: two numbers (x1 with gaps), a category, a host (40 groups), a
 * time that runs backwards through the file, and a label that depends on
 * x1, x2 and the category with noise. */
static vg_table *make_table(size_t rows)
{
    vg_table *t = vg_table_new("cv-test");
    size_t c_x1, c_x2, c_cat, c_host, c_time, c_label;
    vg_table_add_column(t, "x1", VG_COLUMN_NUMERIC, &c_x1);
    vg_table_add_column(t, "x2", VG_COLUMN_NUMERIC, &c_x2);
    vg_table_add_column(t, "proto", VG_COLUMN_CATEGORICAL, &c_cat);
    vg_table_add_column(t, "host", VG_COLUMN_CATEGORICAL, &c_host);
    vg_table_add_column(t, "when", VG_COLUMN_NUMERIC, &c_time);
    vg_table_add_column(t, "label", VG_COLUMN_CATEGORICAL, &c_label);
    vg_rng rng;
    vg_rng_seed(&rng, 7, 0);
    static const char *protos[] = { "tcp", "udp", "icmp" };
    for (size_t r = 0; r < rows; r++) {
        double x1 = vg_rng_normal(&rng) * 3 + 10, x2 = vg_rng_normal(&rng);
        uint32_t p = vg_rng_below(&rng, 3);
        char host[16];
        snprintf(host, sizeof host, "h%u", vg_rng_below(&rng, 40));
        double z = (x1 - 10) / 3 + x2 + (p == 2 ? 1.0 : 0.0) + vg_rng_normal(&rng) * 0.7;
        const char *label = z > 0.6 ? "attack" : "normal";
        vg_table_push_number(t, c_x1, r % 17 == 3 ? NAN : x1);
        vg_table_push_number(t, c_x2, x2);
        vg_table_push_category(t, c_cat, protos[p], strlen(protos[p]));
        vg_table_push_category(t, c_host, host, strlen(host));
        vg_table_push_number(t, c_time, 1e6 - (double)r * 10);
        vg_table_push_category(t, c_label, label, strlen(label));
    }
    return t;
}

static vg_train_request request(const vg_table *t, const char *model, int threads)
{
    static const char *const ignore[] = { "host", "when" };
    vg_train_request rq = { .table = t, .model = model, .seed = 11, .threads = threads };
    rq.data.format = "csv";
    rq.data.label = "label";
    rq.data.task = VG_TASK_BINARY;
    rq.data.positive = "attack";
    rq.data.ignore = ignore;
    rq.data.n_ignore = 2;
    return rq;
}

static void test_folds_stratified_cover_every_row_once(void **state)
{
    (void)state;
    int32_t y[100];
    for (int i = 0; i < 100; i++) y[i] = i < 20;  /* 20 of class 1 */
    vg_folds f;
    assert_int_equal(vg_folds_stratified(y, 100, 2, 5, 3, &f), VG_OK);
    size_t ones[5] = { 0 }, all[5] = { 0 };
    for (int i = 0; i < 100; i++) {
        assert_true(f.block[i] < 5);
        all[f.block[i]]++;
        ones[f.block[i]] += (size_t)y[i];
    }
    for (int k = 0; k < 5; k++) {
        assert_int_equal(all[k], 20);
        assert_int_equal(ones[k], 4);
        size_t *tr, *te, ntr, nte;
        assert_int_equal(vg_folds_rows(&f, (uint32_t)k, &tr, &ntr, &te, &nte), VG_OK);
        assert_int_equal(ntr + nte, 100);
        assert_int_equal(nte, 20);
        vg_free(tr), vg_free(te);
    }
    vg_folds_free(&f);
    assert_int_equal(vg_folds_stratified(y, 100, 2, 1, 3, &f), VG_ERR_INVALID);
}

static void test_folds_grouped_never_split_a_group(void **state)
{
    (void)state;
    vg_table *t = make_table(400);
    size_t host = (size_t)vg_table_find(t, "host");
    vg_folds f;
    assert_int_equal(vg_folds_grouped(t, host, 5, 1, &f), VG_OK);
    uint32_t fold_of[64];
    for (int i = 0; i < 64; i++) fold_of[i] = UINT32_MAX;
    size_t load[5] = { 0 };
    const uint32_t *codes = vg_table_codes(t, host);
    for (size_t r = 0; r < 400; r++) {
        uint32_t g = codes[r];
        if (fold_of[g] == UINT32_MAX) fold_of[g] = f.block[r];
        assert_int_equal(fold_of[g], f.block[r]);  /* one fold per host */
        load[f.block[r]]++;
    }
    for (int k = 0; k < 5; k++) assert_true(load[k] > 400 / 5 - 20 && load[k] < 400 / 5 + 20);
    vg_folds_free(&f);
    /* More folds than hosts: refused. */
    assert_int_equal(vg_folds_grouped(t, host, 41, 1, &f), VG_ERR_DATA);
    vg_table_free(t);
}

static void test_folds_time_train_on_the_past_only(void **state)
{
    (void)state;
    vg_table *t = make_table(400);
    size_t when = (size_t)vg_table_find(t, "when");
    const double *tm = vg_table_numbers(t, when);
    vg_folds f;
    assert_int_equal(vg_folds_time(t, when, 4, &f), VG_OK);
    for (uint32_t k = 0; k < 4; k++) {
        size_t *tr, *te, ntr, nte;
        assert_int_equal(vg_folds_rows(&f, k, &tr, &ntr, &te, &nte), VG_OK);
        assert_int_equal(nte, 80);
        assert_int_equal(ntr, 80 * (k + 1));
        double latest_train = -INFINITY, earliest_test = INFINITY;
        for (size_t i = 0; i < ntr; i++) latest_train = fmax(latest_train, tm[tr[i]]);
        for (size_t i = 0; i < nte; i++) earliest_test = fmin(earliest_test, tm[te[i]]);
        assert_true(latest_train < earliest_test);
        vg_free(tr), vg_free(te);
    }
    vg_folds_free(&f);
    vg_table_free(t);
}

/* Every fold's fitted pipeline must be byte for byte the one fitted by
 * hand on that fold's training rows, and differ from one fitted on all rows
 * (else the check could not fail). */
typedef struct leak_check {
    const vg_table *t;
    int folds_seen, differs_from_all;
} leak_check;

static void save_pipeline(const vg_pipeline *p, vg_wbuf *w)
{
    vg_wbuf_init(w);
    assert_int_equal(vg_pipeline_save(p, w), VG_OK);
}

static void check_fold(void *user, uint32_t fold, const vg_model *m, const size_t *train, size_t n_train,
                       const size_t *test, size_t n_test)
{
    (void)fold, (void)test, (void)n_test;
    leak_check *lc = user;
    vg_table *part;
    assert_int_equal(vg_table_take(lc->t, train, n_train, &part), VG_OK);
    const vg_pipeline *mp = vg_model_pipeline(m);
    size_t cols[3] = { (size_t)vg_table_find(part, "x1"), (size_t)vg_table_find(part, "x2"),
                       (size_t)vg_table_find(part, "proto") };
    vg_pipeline_params pp = vg_pipeline_params_default();
    pp.encoding = vg_pipeline_encoding(mp);
    vg_pipeline *by_hand = NULL, *on_all = NULL;
    assert_int_equal(vg_pipeline_fit(part, cols, 3, &pp, &by_hand), VG_OK);
    assert_int_equal(vg_pipeline_fit(lc->t, cols, 3, &pp, &on_all), VG_OK);
    vg_wbuf a, b, c;
    save_pipeline(mp, &a);
    save_pipeline(by_hand, &b);
    save_pipeline(on_all, &c);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    if (a.len != c.len || memcmp(a.data, c.data, a.len) != 0) lc->differs_from_all++;
    assert_int_equal(vg_model_train_rows(m), n_train);
    lc->folds_seen++;
    vg_wbuf_free(&a), vg_wbuf_free(&b), vg_wbuf_free(&c);
    vg_pipeline_free(by_hand), vg_pipeline_free(on_all);
    vg_table_free(part);
}

static void test_cv_fits_on_training_rows_only(void **state)
{
    (void)state;
    vg_table *t = make_table(400);
    vg_train_request rq = request(t, "logreg", 1);  /* logreg: a scaled pipeline (mean, std, medians) */
    leak_check lc = { .t = t };
    vg_cv_params p = vg_cv_params_default();
    p.on_fold = check_fold;
    p.user = &lc;
    vg_cv_result r;
    assert_int_equal(vg_cv_run(&rq, &p, &r), VG_OK);
    assert_int_equal(lc.folds_seen, 5);
    assert_int_equal(lc.differs_from_all, 5);
    assert_int_equal(r.folds, 5);
    size_t acc = 0;
    while (strcmp(r.names[acc], "accuracy") != 0) acc++;
    assert_true(r.mean[acc] > 0.75 && r.mean[acc] <= 1.0);
    assert_true(r.std[acc] >= 0 && r.std[acc] < 0.1);
    for (size_t i = 0; i < 400; i++) {  /* every row scored exactly once */
        assert_false(isnan(r.oof_score[i]));
        assert_true(r.oof_positive[i] < 2);
    }
    vg_cv_result_free(&r);
    vg_table_free(t);
}

static void test_cv_same_for_any_thread_count(void **state)
{
    (void)state;
    vg_table *t = make_table(400);
    static const char *models[] = { "gbdt", "forest" };
    for (int k = 0; k < 2; k++) {
        vg_cv_result r1, r2;
        vg_train_request a = request(t, models[k], 1), b = request(t, models[k], 2);
        vg_cv_params p = vg_cv_params_default();
        p.folds = 4;
        assert_int_equal(vg_cv_run(&a, &p, &r1), VG_OK);
        assert_int_equal(vg_cv_run(&b, &p, &r2), VG_OK);
        for (uint32_t f = 0; f < r1.folds; f++)
            for (size_t j = 0; j < r1.n_metrics; j++) {
                if (strstr(r1.names[j], "seconds")) continue;
                double x = r1.value[f * r1.n_metrics + j], y = r2.value[f * r2.n_metrics + j];
                assert_true(x == y || (isnan(x) && isnan(y)));
            }
        assert_memory_equal(r1.oof_score, r2.oof_score, 400 * sizeof(float));
        vg_cv_result_free(&r1), vg_cv_result_free(&r2);
    }
    vg_table_free(t);
}

static void test_operating_point_parse(void **state)
{
    (void)state;
    vg_operating_point op;
    char s[64];
    assert_int_equal(vg_operating_point_parse("fpr:0.01", &op), VG_OK);
    assert_int_equal(op.goal, VG_OP_FPR);
    vg_operating_point_str(&op, s, sizeof s);
    assert_string_equal(s, "fpr:0.01");
    assert_int_equal(vg_operating_point_parse("cost:FN=10,FP=1", &op), VG_OK);
    assert_true(op.cost_fn == 10 && op.cost_fp == 1);
    assert_int_equal(vg_operating_point_parse("recall:1", &op), VG_OK);
    assert_int_equal(vg_operating_point_parse("f1", &op), VG_OK);
    assert_int_equal(vg_operating_point_parse("alerts:0.2", &op), VG_OK);
    const char *bad[] = { "fpr:0", "fpr:1", "fpr:x", "recall:1.5", "cost:FN=1", "cost:FN=-1,FP=1", "auc", "fpr",
                          "alerts:", "cost:FN=1,XX=2" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(vg_operating_point_parse(bad[i], &op), VG_ERR_INVALID);
}

/* Ten rows by hand: scores 0.9 .. 0.0, positives at 0.9 0.8 0.6 0.3. */
static void test_operating_point_choose(void **state)
{
    (void)state;
    const float score[] = { 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 0.0f };
    const uint8_t pos[] = { 1, 1, 0, 1, 0, 0, 1, 0, 0, 0 };
    vg_operating_point op;
    vg_op_result r;
    /* fpr <= 0.2 (one of six negatives is 0.167): down to 0.6 (tp 3, fp 1). */
    vg_operating_point_parse("fpr:0.2", &op);
    assert_int_equal(vg_operating_point_choose(&op, pos, score, 10, &r), VG_OK);
    assert_true(r.threshold == (double)0.6f);
    assert_int_equal(r.tp, 3);
    assert_int_equal(r.fp, 1);
    /* recall 1: the threshold 0.3 (fp 3). */
    vg_operating_point_parse("recall:1", &op);
    vg_operating_point_choose(&op, pos, score, 10, &r);
    assert_true(r.threshold == (double)0.3f);
    assert_int_equal(r.fp, 3);
    /* f1: 0.6 gives 2*3/(3+1+4) = 0.75, 0.3 gives 8/11 = 0.727: 0.6. */
    vg_operating_point_parse("f1", &op);
    vg_operating_point_choose(&op, pos, score, 10, &r);
    assert_true(r.threshold == (double)0.6f);
    assert_float_equal(r.f1, 0.75, 1e-12);
    /* cost FN=10: catching every attack (fp 3, cost 3) beats missing one (10). */
    vg_operating_point_parse("cost:FN=10,FP=1", &op);
    vg_operating_point_choose(&op, pos, score, 10, &r);
    assert_true(r.threshold == (double)0.3f);
    assert_float_equal(r.cost, 3.0, 1e-12);
    /* alerts 0.25: at most 2 rows flagged: 0.8. */
    vg_operating_point_parse("alerts:0.25", &op);
    vg_operating_point_choose(&op, pos, score, 10, &r);
    assert_true(r.threshold == (double)0.8f);
    /* fpr below any point: nothing flagged, just above the top score. */
    const float s2[] = { 0.9f, 0.9f, 0.1f };
    const uint8_t p2[] = { 1, 0, 0 };
    vg_operating_point_parse("fpr:0.1", &op);
    vg_operating_point_choose(&op, p2, s2, 3, &r);
    assert_true(r.threshold > 0.9f && isfinite(r.threshold));
    assert_int_equal(r.tp + r.fp, 0);
    const uint8_t none[] = { 0, 0, 0 };
    assert_int_equal(vg_operating_point_choose(&op, none, s2, 3, &r), VG_ERR_DATA);
}

/* The saved threshold is the one chosen on out-of-fold scores of the
 * training rows (recomputed here by hand from vg_cv_run), and the model
 * says how it was chosen. */
static void test_cv_train_threshold_from_out_of_fold(void **state)
{
    (void)state;
    vg_table *t = make_table(400);
    vg_train_request rq = request(t, "gbdt", 2);
    vg_operating_point op;
    vg_operating_point_parse("fpr:0.05", &op);
    vg_model *m = NULL;
    vg_op_result chosen;
    assert_int_equal(vg_cv_train(&rq, &op, 4, &chosen, &m), VG_OK);
    const char *by = NULL;
    double thr = vg_model_threshold(m, &by);
    assert_true(thr == chosen.threshold);
    assert_non_null(strstr(by, "fpr:0.05 on 4-fold out-of-fold scores of the 400 training rows"));
    assert_true(chosen.fpr <= 0.05);
    vg_cv_params p = vg_cv_params_default();
    p.folds = 4;
    vg_cv_result r;
    assert_int_equal(vg_cv_run(&rq, &p, &r), VG_OK);
    vg_op_result again;
    assert_int_equal(vg_operating_point_choose(&op, r.oof_positive, r.oof_score, 400, &again), VG_OK);
    assert_true(again.threshold == thr);
    /* The decision rule of the saved model uses it. */
    vg_decision_rule rule;
    assert_int_equal(vg_decision_rule_for_model(m, NAN, &rule), VG_OK);
    assert_true(rule.threshold == thr);
    assert_true(thr != 0.5);
    vg_cv_result_free(&r);
    vg_model_free(m);
    /* Regression has no threshold to choose. */
    rq.data.task = VG_TASK_REGRESSION;
    assert_int_equal(vg_cv_train(&rq, &op, 4, NULL, &m), VG_ERR_INVALID);
    vg_table_free(t);
}

/* Nested: a cv with an operating point scores each fold at a threshold
 * chosen inside that fold's training rows; the folds' thresholds differ
 * from one another (each saw different rows). */
static void test_cv_nested_operating_point(void **state)
{
    (void)state;
    vg_table *t = make_table(400);
    vg_train_request rq = request(t, "logreg", 1);
    vg_operating_point op;
    vg_operating_point_parse("recall:0.9", &op);
    vg_cv_params p = vg_cv_params_default();
    p.folds = 3;
    p.op = &op;
    p.op_folds = 3;
    vg_cv_result r;
    assert_int_equal(vg_cv_run(&rq, &p, &r), VG_OK);
    size_t thr = 0;
    while (strcmp(r.names[thr], "threshold") != 0) thr++;
    double t0 = r.value[thr], t1 = r.value[r.n_metrics + thr];
    assert_true(t0 != 0.5 && t1 != 0.5 && t0 != t1);
    vg_cv_result_free(&r);
    vg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folds_stratified_cover_every_row_once),
        cmocka_unit_test(test_folds_grouped_never_split_a_group),
        cmocka_unit_test(test_folds_time_train_on_the_past_only),
        cmocka_unit_test(test_cv_fits_on_training_rows_only),
        cmocka_unit_test(test_cv_same_for_any_thread_count),
        cmocka_unit_test(test_operating_point_parse),
        cmocka_unit_test(test_operating_point_choose),
        cmocka_unit_test(test_cv_train_threshold_from_out_of_fold),
        cmocka_unit_test(test_cv_nested_operating_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
