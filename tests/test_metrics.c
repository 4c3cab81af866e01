/* Tests of the metrics module (src/eval/metrics.c, metrics_format.c,
 * curves.c): golden values from scikit-learn 1.2 (tools/golden_metrics.py
 * writes tests/golden/metrics_*), the edge cases scikit-learn refuses or
 * warns about, the text and JSON renderings, and the sorting speed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "testutil.h"
#include "vigil/curves.h"
#include "vigil/metrics.h"
#include "eval/json_out.h"

#define TOL 1e-9

/* ---- golden files ---- */

typedef struct golden_csv {
    int32_t *y;
    float *vals;  /* (rows, cols) row-major */
    size_t rows, cols;
} golden_csv;

static golden_csv load_csv(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/golden/metrics_%s.csv", name);
    char *text = vg_test_slurp(vg_test_source(rel));
    assert_non_null(text);
    golden_csv g = { 0 };
    char *line = strtok(text, "\n");
    assert_non_null(line);
    for (char *p = line; *p; p++) g.cols += *p == ',';
    size_t cap = 1024;
    g.y = malloc(cap * sizeof *g.y);
    g.vals = malloc(cap * g.cols * sizeof *g.vals);
    while ((line = strtok(NULL, "\n")) != NULL) {
        if (g.rows == cap) {
            cap *= 2;
            g.y = realloc(g.y, cap * sizeof *g.y);
            g.vals = realloc(g.vals, cap * g.cols * sizeof *g.vals);
        }
        char *end;
        g.y[g.rows] = (int32_t)strtol(line, &end, 10);
        for (size_t c = 0; c < g.cols; c++) {
            assert_int_equal(*end, ',');
            g.vals[g.rows * g.cols + c] = strtof(end + 1, &end);
        }
        g.rows++;
    }
    free(text);
    return g;
}

static void free_csv(golden_csv *g)
{
    free(g->y);
    free(g->vals);
}

static cJSON *load_json(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/golden/metrics_%s.json", name);
    char *text = vg_test_slurp(vg_test_source(rel));
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    return j;
}

static double max_diff;  /* largest |ours - scikit-learn| seen by the current test */

/* ours must match the oracle's number to TOL, or be NaN where it is null. */
static void check_value(double ours, const cJSON *want, const char *what, long index)
{
    if (!want) fail_msg("golden value %s missing", what);
    if (cJSON_IsNull(want)) {
        if (!isnan(ours)) fail_msg("%s[%ld]: expected NaN (undefined), got %.17g", what, index, ours);
        return;
    }
    assert_true(cJSON_IsNumber(want));
    double d = fabs(ours - want->valuedouble);
    if (isinf(want->valuedouble) && ours == want->valuedouble) d = 0;
    if (!(d <= TOL))
        fail_msg("%s[%ld]: ours %.17g, scikit-learn %.17g", what, index, ours, want->valuedouble);
    if (d > max_diff) max_diff = d;
}

static void check_key(double ours, const cJSON *obj, const char *key)
{
    check_value(ours, cJSON_GetObjectItemCaseSensitive(obj, key), key, -1);
}

static uint8_t *positives_of(const int32_t *y, size_t n, int32_t cls)
{
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++) p[i] = y[i] == cls;
    return p;
}

/* Curve points against scikit-learn's roc_curve(drop_intermediate=False)
 * and precision_recall_curve; the oracle leaves out the first threshold
 * (max + 1 there, +inf here). */
static void check_curves(const uint8_t *is_pos, const float *score, size_t n, const cJSON *want)
{
    const cJSON *roc = cJSON_GetObjectItemCaseSensitive(want, "roc");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(want, "pr");
    vg_curve c;
    assert_int_equal(vg_roc_curve(is_pos, score, n, &c), VG_OK);
    const cJSON *thr = cJSON_GetObjectItemCaseSensitive(roc, "threshold");
    const cJSON *fpr = cJSON_GetObjectItemCaseSensitive(roc, "fpr");
    const cJSON *tpr = cJSON_GetObjectItemCaseSensitive(roc, "tpr");
    assert_int_equal(c.n_points, (size_t)cJSON_GetArraySize(fpr));
    assert_true(isinf(c.points[0].threshold) && c.points[0].threshold > 0);
    for (size_t i = 0; i < c.n_points; i++) {
        if (i > 0) check_value(c.points[i].threshold, cJSON_GetArrayItem(thr, (int)i - 1), "roc threshold", (long)i);
        check_value(c.points[i].x, cJSON_GetArrayItem(fpr, (int)i), "roc fpr", (long)i);
        check_value(c.points[i].y, cJSON_GetArrayItem(tpr, (int)i), "roc tpr", (long)i);
        if (i == 0) assert_int_equal(c.points[0].tp + c.points[0].fp, 0);
        else assert_true(c.points[i].tp + c.points[i].fp > c.points[i - 1].tp + c.points[i - 1].fp);
    }
    assert_int_equal(c.points[c.n_points - 1].tp, c.positives);
    assert_int_equal(c.points[c.n_points - 1].fp, c.negatives);
    vg_curve_free(&c);
    assert_null(c.points);

    assert_int_equal(vg_pr_curve(is_pos, score, n, &c), VG_OK);
    thr = cJSON_GetObjectItemCaseSensitive(pr, "threshold");
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(pr, "recall");
    const cJSON *prec = cJSON_GetObjectItemCaseSensitive(pr, "precision");
    assert_int_equal(c.n_points, (size_t)cJSON_GetArraySize(rec));
    for (size_t i = 0; i < c.n_points; i++) {
        if (i > 0) check_value(c.points[i].threshold, cJSON_GetArrayItem(thr, (int)i - 1), "pr threshold", (long)i);
        check_value(c.points[i].x, cJSON_GetArrayItem(rec, (int)i), "pr recall", (long)i);
        check_value(c.points[i].y, cJSON_GetArrayItem(prec, (int)i), "pr precision", (long)i);
    }
    vg_curve_free(&c);
}

static void golden_proba_case(const char *name)
{
    golden_csv g = load_csv(name);
    cJSON *want = load_json(name);
    uint32_t k = (uint32_t)g.cols;
    assert_int_equal(g.rows, (size_t)cJSON_GetObjectItemCaseSensitive(want, "rows")->valueint);
    assert_int_equal(k, (uint32_t)cJSON_GetObjectItemCaseSensitive(want, "n_classes")->valueint);

    size_t mem0 = vg_mem_in_use();
    max_diff = 0;
    vg_metrics m;
    assert_int_equal(vg_metrics_compute(g.y, g.vals, g.rows, k, &m), VG_OK);
    assert_int_equal(m.rows, g.rows);
    assert_int_equal(m.n_classes, k);
    check_key(m.accuracy, want, "accuracy");
    check_key(m.precision, want, "precision");
    check_key(m.recall, want, "recall");
    check_key(m.f1, want, "f1");
    check_key(m.fpr, want, "fpr");
    check_key(m.macro_f1, want, "macro_f1");
    check_key(m.weighted_f1, want, "weighted_f1");
    check_key(m.roc_auc, want, "roc_auc");
    check_key(m.pr_auc, want, "pr_auc");
    check_key(m.log_loss, want, "log_loss");

    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(want, "confusion_matrix");
    for (uint32_t t = 0; t < k; t++)
        for (uint32_t p = 0; p < k; p++)
            assert_int_equal(m.confusion[t * k + p],
                             (size_t)cJSON_GetArrayItem(cJSON_GetArrayItem(cm, (int)t), (int)p)->valueint);

    const cJSON *pcs = cJSON_GetObjectItemCaseSensitive(want, "per_class");
    for (uint32_t c = 0; c < k; c++) {
        const cJSON *pc = cJSON_GetArrayItem(pcs, (int)c);
        const vg_class_report *r = &m.per_class[c];
        check_value(r->precision, cJSON_GetObjectItemCaseSensitive(pc, "precision"), "class precision", c);
        check_value(r->recall, cJSON_GetObjectItemCaseSensitive(pc, "recall"), "class recall", c);
        check_value(r->f1, cJSON_GetObjectItemCaseSensitive(pc, "f1"), "class f1", c);
        check_value(r->fpr, cJSON_GetObjectItemCaseSensitive(pc, "fpr"), "class fpr", c);
        check_value(r->roc_auc, cJSON_GetObjectItemCaseSensitive(pc, "roc_auc"), "class roc_auc", c);
        check_value(r->pr_auc, cJSON_GetObjectItemCaseSensitive(pc, "pr_auc"), "class pr_auc", c);
        assert_int_equal(r->support, (size_t)cJSON_GetObjectItemCaseSensitive(pc, "support")->valueint);
        size_t predicted = 0;
        for (uint32_t t = 0; t < k; t++) predicted += m.confusion[t * k + c];
        assert_int_equal(r->predicted, predicted);
    }

    const cJSON *curves = cJSON_GetObjectItemCaseSensitive(want, "curves");
    if (curves) {
        uint8_t *pos = positives_of(g.y, g.rows, 1);
        float *s1 = malloc(g.rows * sizeof *s1);
        for (size_t i = 0; i < g.rows; i++) s1[i] = g.vals[i * k + 1];
        check_key(vg_roc_auc(pos, s1, g.rows), want, "roc_auc");
        check_key(vg_average_precision(pos, s1, g.rows), want, "pr_auc");
        check_curves(pos, s1, g.rows, curves);
        free(s1);
        free(pos);
    }
    vg_metrics_free(&m);
    assert_null(m.confusion);
    assert_int_equal(vg_mem_in_use(), mem0);
    print_message("%s: %zu rows, %u classes, max |vigil - scikit-learn| = %.3g\n", name, g.rows, k, max_diff);
    cJSON_Delete(want);
    free_csv(&g);
}

static void test_golden_binary_ties(void **state) { (void)state; golden_proba_case("binary_ties"); }
static void test_golden_binary_random(void **state) { (void)state; golden_proba_case("binary_random"); }
static void test_golden_multi3(void **state) { (void)state; golden_proba_case("multi3"); }
static void test_golden_multi5_absent(void **state) { (void)state; golden_proba_case("multi5_absent"); }
static void test_golden_multi4_unpredicted(void **state) { (void)state; golden_proba_case("multi4_unpredicted"); }

/* Raw scores of both signs, +0/-0 ties and huge magnitudes exercise every
 * digit of the radix sort that probabilities in [0, 1] never reach. */
static void test_golden_signed_scores(void **state)
{
    (void)state;
    golden_csv g = load_csv("scores_signed");
    cJSON *want = load_json("scores_signed");
    assert_int_equal(g.cols, 1);
    uint8_t *pos = positives_of(g.y, g.rows, 1);
    max_diff = 0;
    check_key(vg_roc_auc(pos, g.vals, g.rows), want, "roc_auc");
    check_key(vg_average_precision(pos, g.vals, g.rows), want, "pr_auc");
    check_curves(pos, g.vals, g.rows, cJSON_GetObjectItemCaseSensitive(want, "curves"));
    print_message("scores_signed: max |vigil - scikit-learn| = %.3g\n", max_diff);
    free(pos);
    cJSON_Delete(want);
    free_csv(&g);
}

/* An anomaly model's scores give the figures a probability pair (1 - s, s)
 * gives: the same confusion, rates and areas for both classes, and no log
 * loss. Scores on another scale (x 1000 - 7) rank the same. */
static void test_scores_match_probabilities(void **state)
{
    (void)state;
    enum { N = 40 };
    int32_t y[N], decided[N];
    float s[N], scaled[N], pair[2 * N];
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        s[i] = (float)((x >> 40) % 1000) / 1000.0f;
        y[i] = (int32_t)((x >> 20) % 3 == 0) ^ (s[i] > 0.7f);
        decided[i] = s[i] >= 0.6f;
        scaled[i] = s[i] * 1000.0f - 7.0f;
        pair[2 * i] = 1.0f - s[i], pair[2 * i + 1] = s[i];
    }
    vg_metrics a, b, c;
    assert_int_equal(vg_metrics_compute_decided(y, pair, decided, N, 2, &a), VG_OK);
    assert_int_equal(vg_metrics_compute_scores(y, s, decided, N, &b), VG_OK);
    assert_int_equal(vg_metrics_compute_scores(y, scaled, decided, N, &c), VG_OK);
    for (int k = 0; k < 4; k++) assert_int_equal(a.confusion[k], b.confusion[k]);
    assert_true(a.accuracy == b.accuracy && a.recall == b.recall && a.fpr == b.fpr && a.f1 == b.f1);
    assert_true(a.roc_auc == b.roc_auc && a.pr_auc == b.pr_auc && b.roc_auc == c.roc_auc && b.pr_auc == c.pr_auc);
    assert_true(a.per_class[0].pr_auc == b.per_class[0].pr_auc && b.per_class[0].pr_auc == c.per_class[0].pr_auc);
    assert_true(isnan(b.log_loss) && !isnan(a.log_loss));
    vg_metrics_free(&a), vg_metrics_free(&b), vg_metrics_free(&c);
    decided[3] = 2;
    assert_int_equal(vg_metrics_compute_scores(y, s, decided, N, &b), VG_ERR_INVALID);
    decided[3] = 1;
    s[5] = NAN;
    assert_int_equal(vg_metrics_compute_scores(y, s, decided, N, &b), VG_ERR_INVALID);
}

/* ---- edge cases ---- */

static void test_perfect_classifier(void **state)
{
    (void)state;
    const int32_t y[6] = { 0, 1, 2, 1, 0, 2 };
    float proba[18] = { 0 };
    for (int i = 0; i < 6; i++) proba[i * 3 + y[i]] = 1.0f;
    vg_metrics m;
    assert_int_equal(vg_metrics_compute(y, proba, 6, 3, &m), VG_OK);
    assert_true(m.accuracy == 1.0 && m.precision == 1.0 && m.recall == 1.0 && m.f1 == 1.0);
    assert_true(m.macro_f1 == 1.0 && m.weighted_f1 == 1.0 && m.fpr == 0.0);
    assert_true(m.roc_auc == 1.0 && m.pr_auc == 1.0);
    /* Probability 1 is clipped to 1 - 1e-15, so the loss is tiny, not 0. */
    assert_true(m.log_loss > 0 && m.log_loss < 1e-14);
    for (int c = 0; c < 3; c++) {
        assert_int_equal(m.confusion[c * 3 + c], 2);
        assert_true(m.per_class[c].roc_auc == 1.0 && m.per_class[c].support == 2);
    }
    vg_metrics_free(&m);
}

static void test_inverted_classifier(void **state)
{
    (void)state;
    const int32_t y[4] = { 0, 1, 0, 1 };
    const float proba[8] = { 0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f, 0.6f, 0.4f };
    vg_metrics m;
    assert_int_equal(vg_metrics_compute(y, proba, 4, 2, &m), VG_OK);
    assert_true(m.roc_auc == 0.0);
    assert_true(m.accuracy == 0.0 && m.precision == 0.0 && m.recall == 0.0 && m.f1 == 0.0);
    assert_true(m.fpr == 1.0);
    /* Positives are ranked last: precision at their thresholds is 1/3, 2/4. */
    assert_true(fabs(m.pr_auc - (0.5 * (1.0 / 3.0) + 0.5 * 0.5)) < 1e-15);
    vg_metrics_free(&m);
}

static void test_one_class_only(void **state)
{
    (void)state;
    const int32_t y[3] = { 1, 1, 1 };
    const float proba[6] = { 0.2f, 0.8f, 0.6f, 0.4f, 0.5f, 0.5f };
    vg_metrics m;
    assert_int_equal(vg_metrics_compute(y, proba, 3, 2, &m), VG_OK);
    assert_true(isnan(m.roc_auc) && isnan(m.pr_auc));
    assert_true(isnan(m.per_class[0].roc_auc) && isnan(m.per_class[1].roc_auc));
    assert_true(fabs(m.accuracy - 1.0 / 3.0) < 1e-15);  /* 0.5/0.5 goes to class 0 */
    assert_true(m.fpr == 0.0);                           /* no negatives: 0, not NaN */
    assert_true(isfinite(m.log_loss));
    vg_metrics_free(&m);

    const uint8_t pos[3] = { 0, 0, 0 };
    const float s[3] = { 0.1f, 0.2f, 0.3f };
    assert_true(isnan(vg_roc_auc(pos, s, 3)));
    assert_true(isnan(vg_average_precision(pos, s, 3)));
    vg_curve c;
    assert_int_equal(vg_roc_curve(pos, s, 3, &c), VG_ERR_DATA);
    assert_null(c.points);
    assert_int_equal(vg_pr_curve(pos, s, 3, &c), VG_ERR_DATA);
    assert_non_null(strstr(vg_last_error(), "positive"));
}

static void test_argmax_tie_goes_to_lowest(void **state)
{
    (void)state;
    const int32_t y[2] = { 2, 1 };
    const float proba[6] = { 0.2f, 0.4f, 0.4f, 0.2f, 0.4f, 0.4f };
    vg_metrics m;
    assert_int_equal(vg_metrics_compute(y, proba, 2, 3, &m), VG_OK);
    assert_int_equal(m.confusion[2 * 3 + 1], 1);
    assert_int_equal(m.confusion[1 * 3 + 1], 1);
    assert_int_equal(m.per_class[1].predicted, 2);
    vg_metrics_free(&m);
}

static void test_invalid_input(void **state)
{
    (void)state;
    const int32_t y[2] = { 0, 1 };
    const int32_t bad_y[2] = { 0, 2 };
    const int32_t neg_y[2] = { -1, 0 };
    const float proba[4] = { 0.5f, 0.5f, 0.1f, 0.9f };
    const float nan_proba[4] = { 0.5f, 0.5f, NAN, 0.9f };
    vg_metrics m;
    size_t mem0 = vg_mem_in_use();

    assert_int_equal(vg_metrics_compute(y, proba, 0, 2, &m), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "no rows"));
    assert_null(m.confusion);
    assert_int_equal(vg_metrics_compute(y, proba, 2, 1, &m), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "2 classes"));
    assert_int_equal(vg_metrics_compute(bad_y, proba, 2, 2, &m), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "row 1 has class 2"));
    assert_int_equal(vg_metrics_compute(neg_y, proba, 2, 2, &m), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "row 0 has class -1"));
    assert_int_equal(vg_metrics_compute(y, nan_proba, 2, 2, &m), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "row 1"));
    assert_int_equal(vg_metrics_compute(NULL, proba, 2, 2, &m), VG_ERR_INVALID);
    vg_metrics_free(&m);  /* safe on the zeroed result of a failed call */
    vg_metrics_free(NULL);
    assert_int_equal(vg_mem_in_use(), mem0);

    const uint8_t pos[2] = { 0, 1 };
    vg_curve c;
    assert_int_equal(vg_roc_curve(pos, nan_proba + 1, 2, &c), VG_ERR_INVALID);
    assert_int_equal(vg_roc_curve(pos, proba, 0, &c), VG_ERR_INVALID);
    assert_true(isnan(vg_roc_auc(pos, nan_proba + 1, 2)));
    assert_true(isnan(vg_roc_auc(pos, proba, 0)));
    vg_curve_free(NULL);
}

/* ---- renderings ---- */

static char *format_text(const vg_metrics *m, const char *const *names)
{
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_metrics_format(m, names, &w);
    assert_false(w.failed);
    char *s = malloc(w.len + 1);
    memcpy(s, w.data, w.len);
    s[w.len] = '\0';
    vg_wbuf_free(&w);
    return s;
}

static void assert_lines_fit(const char *text, size_t width)
{
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n') col = 0;
        else if ((*p & 0xC0) != 0x80 && ++col > width) fail_msg("line longer than %zu columns in:\n%s", width, text);
    }
}

static void test_format_binary(void **state)
{
    (void)state;
    const int32_t y[5] = { 0, 1, 1, 0, 1 };
    const float proba[10] = { 0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f, 0.3f, 0.7f, 0.1f, 0.9f };
    const char *names[2] = { "normal", "attack" };
    vg_metrics m;
    assert_int_equal(vg_metrics_compute(y, proba, 5, 2, &m), VG_OK);
    char *t = format_text(&m, names);
    fputs(t, stdout);  /* print_message truncates long text */
    assert_non_null(strstr(t, "normal"));
    assert_non_null(strstr(t, "positive: attack"));
    char fig[32];
    snprintf(fig, sizeof fig, "%.4f", m.accuracy);  /* 0.6000 */
    assert_non_null(strstr(t, fig));
    snprintf(fig, sizeof fig, "%.4f", m.roc_auc);
    assert_non_null(strstr(t, fig));
    snprintf(fig, sizeof fig, "%.4f", m.log_loss);
    assert_non_null(strstr(t, fig));
    assert_non_null(strstr(t, "Confusion matrix"));
    assert_non_null(strstr(t, "Per class"));
    assert_lines_fit(t, 80);
    free(t);
    vg_metrics_free(&m);
}

/* Many classes with long, non-ASCII and control-character names: the matrix
 * wraps into bands, names are cut with '~', every line fits 80 columns. */
static void test_format_many_classes(void **state)
{
    (void)state;
    enum { K = 23, N = 2 * K };
    int32_t y[N];
    float proba[N * K];
    for (int i = 0; i < N; i++) {
        y[i] = i % K;
        for (int c = 0; c < K; c++) proba[i * K + c] = c == (i * 7) % K ? 0.9f : 0.1f / (K - 1);
    }
    char names_buf[K][40];
    const char *names[K];
    for (int c = 0; c < K; c++) {
        snprintf(names_buf[c], sizeof names_buf[c], "class_%02d_with_a_rather_long_name", c);
        names[c] = names_buf[c];
    }
    names[3] = "na\xc3\xafve-\xc3\xa9t\xc3\xa9";  /* naïve-été: 9 columns, 12 bytes */
    names[4] = "tab\there";
    names[5] = NULL;                             /* falls back to the index */
    vg_metrics m;
    assert_int_equal(vg_metrics_compute(y, proba, N, K, &m), VG_OK);
    char *t = format_text(&m, names);
    fputs(t, stdout);  /* print_message truncates long text */
    assert_lines_fit(t, 80);
    assert_non_null(strstr(t, "predicted classes 1-"));
    assert_non_null(strstr(t, "by class number"));
    assert_non_null(strstr(t, "\n   1 class_00_with_a_rat~"));  /* row label: number, name cut to 20 */
    assert_non_null(strstr(t, "\n  23 class_22_with_a_rat~"));
    assert_non_null(strstr(t, "na\xc3\xafve-\xc3\xa9t\xc3\xa9"));
    assert_non_null(strstr(t, "tab?here"));
    assert_null(strchr(t, '\t'));
    assert_non_null(strstr(t, "(precision, recall, F1, FPR: macro)"));
    free(t);

    /* No names at all: the class indices stand in. */
    t = format_text(&m, NULL);
    assert_non_null(strstr(t, "\n  23 22   "));
    assert_lines_fit(t, 80);
    free(t);
    vg_metrics_free(&m);
}

static void test_json(void **state)
{
    (void)state;
    const int32_t y[4] = { 0, 0, 2, 0 };  /* class 1 absent: its AUCs are NaN */
    const float proba[12] = { 0.7f, 0.2f, 0.1f, 0.1f, 0.6f, 0.3f, 0.2f, 0.2f, 0.6f, 0.5f, 0.1f, 0.4f };
    const char *names[3] = { "normal", "dos", "probe" };
    vg_metrics m;
    assert_int_equal(vg_metrics_compute(y, proba, 4, 3, &m), VG_OK);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "accuracy", -1);  /* replaced, not duplicated */
    assert_int_equal(vg_metrics_to_json(&m, names, o), VG_OK);
    const char *keys[] = { "accuracy", "precision", "recall", "f1", "fpr", "macro_f1", "weighted_f1",
                           "roc_auc", "pr_auc", "log_loss", "confusion_matrix", "per_class" };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!cJSON_GetObjectItemCaseSensitive(o, keys[i])) fail_msg("JSON key %s missing", keys[i]);
    assert_int_equal(cJSON_GetArraySize(o), 12);
    assert_true(cJSON_GetObjectItemCaseSensitive(o, "accuracy")->valuedouble == m.accuracy);
    assert_true(fabs(cJSON_GetObjectItemCaseSensitive(o, "roc_auc")->valuedouble - m.roc_auc) < 1e-15);

    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(o, "confusion_matrix");
    assert_int_equal(cJSON_GetArraySize(cm), 3);
    assert_int_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(cm, 0), 1)->valueint, (int)m.confusion[1]);

    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(o, "per_class");
    const cJSON *dos = cJSON_GetObjectItemCaseSensitive(pc, "dos");
    assert_non_null(dos);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(dos, "roc_auc")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(dos, "pr_auc")));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(dos, "support")->valueint, 0);
    const char *pkeys[] = { "precision", "recall", "f1", "support", "roc_auc", "pr_auc" };
    for (size_t i = 0; i < sizeof pkeys / sizeof *pkeys; i++)
        assert_non_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pc, "probe"), pkeys[i]));
    char *text = cJSON_PrintUnformatted(o);
    assert_null(strstr(text, "nan"));
    free(text);
    cJSON_Delete(o);
    vg_metrics_free(&m);

    /* A headline NaN is null too. */
    const int32_t one[2] = { 1, 1 };
    const float p2[4] = { 0.3f, 0.7f, 0.4f, 0.6f };
    assert_int_equal(vg_metrics_compute(one, p2, 2, 2, &m), VG_OK);
    o = cJSON_CreateObject();
    assert_int_equal(vg_metrics_to_json(&m, NULL, o), VG_OK);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "roc_auc")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "pr_auc")));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "per_class"), "1"));
    cJSON_Delete(o);
    vg_metrics_free(&m);

    assert_int_equal(vg_metrics_to_json(&m, NULL, NULL), VG_ERR_INVALID);
}

/* ---- a large case (300k rows: the sort and the sweep at scale) ---- */

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static void test_large_300k(void **state)
{
    (void)state;
    enum { N = 300000 };
    int32_t *y = malloc(N * sizeof *y);
    float *p2 = malloc((size_t)N * 2 * sizeof *p2);
    float *p5 = malloc((size_t)N * 5 * sizeof *p5);
    uint64_t seed = 42;
    for (size_t i = 0; i < N; i++) {
        y[i] = (int32_t)(lcg(&seed) % 5);
        float s = (float)(lcg(&seed) % 1000000) / 1e6f;
        p2[i * 2 + 1] = y[i] ? 0.5f + 0.5f * s : 0.8f * s;
        p2[i * 2] = 1.0f - p2[i * 2 + 1];
        float sum = 0;
        for (int c = 0; c < 5; c++) sum += p5[i * 5 + c] = (float)(lcg(&seed) % 1000 + 1) + (c == y[i]) * 800.0f;
        for (int c = 0; c < 5; c++) p5[i * 5 + c] /= sum;
    }
    int32_t *yb = malloc(N * sizeof *yb);
    for (size_t i = 0; i < N; i++) yb[i] = y[i] != 0;

    vg_metrics m;
    assert_int_equal(vg_metrics_compute(yb, p2, N, 2, &m), VG_OK);
    /* Negatives' scores are U[0, 0.8], positives' U[0.5, 1]: a negative
     * outranks a positive with probability 0.1125, so AUC = 0.8875. */
    assert_true(fabs(m.roc_auc - 0.8875) < 0.005);
    vg_metrics_free(&m);
    assert_int_equal(vg_metrics_compute(y, p5, N, 5, &m), VG_OK);
    assert_true(m.roc_auc > 0.9);
    vg_metrics_free(&m);
    /* Its speed is not a test's business (a timed test fails on a busy
     * machine, not on slow code): bench/ measures speed. */
    free(y);
    free(yb);
    free(p2);
    free(p5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_binary_ties),
        cmocka_unit_test(test_golden_binary_random),
        cmocka_unit_test(test_golden_multi3),
        cmocka_unit_test(test_golden_multi5_absent),
        cmocka_unit_test(test_golden_multi4_unpredicted),
        cmocka_unit_test(test_golden_signed_scores),
        cmocka_unit_test(test_scores_match_probabilities),
        cmocka_unit_test(test_perfect_classifier),
        cmocka_unit_test(test_inverted_classifier),
        cmocka_unit_test(test_one_class_only),
        cmocka_unit_test(test_argmax_tie_goes_to_lowest),
        cmocka_unit_test(test_invalid_input),
        cmocka_unit_test(test_format_binary),
        cmocka_unit_test(test_format_many_classes),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_large_300k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
