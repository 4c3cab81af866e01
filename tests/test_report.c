/* Unit tests for the HTML report and the curves it shares with the
 * evaluation JSON: curve thinning keeps ends, order and shape within its
 * tolerance; curves are monotone where they must be; the JSON carries
 * compact curves and histograms that add up; the report has every section,
 * escapes names taken from data, never prints NaN and holds no script. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/report_data.h"
#include "testutil.h"
#include "vigil/evaluate.h"
#include "vigil/report.h"

/* Class and field names chosen to break a page that does not escape. */
#define EVIL_CLASS "<script>alert(1)</script>"
#define EVIL_FIELD "<b>bytes</b>"

/* A noisy labelled CSV: classes depend on two numbers and a category, so
 * models reach useful but imperfect scores with many distinct values.
 * classes: 2 (normal / EVIL_CLASS) or 3 (adds "dos & co"). missing: a class
 * index never written (to make per-class figures undefined), or -1. */
static const char *write_csv(size_t rows, int classes, int missing, uint64_t seed)
{
    size_t cap = rows * 96 + 128, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    len += (size_t)snprintf(buf + len, cap - len, "x1,%s,proto,label\n", EVIL_FIELD);
    static const char *const protos[] = { "tcp", "udp", "icmp" };
    static const char *const labels[] = { "normal", EVIL_CLASS, "dos & co" };
    for (size_t r = 0; r < rows; r++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double u1 = (double)(seed >> 11) / 9007199254740992.0;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double u2 = (double)(seed >> 11) / 9007199254740992.0;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        double noise = (double)(seed >> 11) / 9007199254740992.0;
        int p = (int)(seed >> 60) % 3;
        double z = 2.5 * u1 + 1.5 * u2 + (p == 1 ? 0.6 : 0) + 1.2 * noise;
        int y = z > 2.6 ? 1 : 0;
        if (classes == 3 && u2 > 0.8 && noise > 0.3) y = 2;
        if (y == missing) y = 0;
        len += (size_t)snprintf(buf + len, cap - len, "%.5f,%.5f,%s,%s\n", u1 * 10, u2 * 1000, protos[p], labels[y]);
    }
    const char *path = vg_test_tmpfile(buf, len, ".csv");
    free(buf);
    assert_non_null(path);
    return path;
}

static vg_table *read_csv(const char *path)
{
    vg_data_spec spec = { .format = "csv" };
    vg_table *t = NULL;
    assert_int_equal(vg_data_read(path, &spec, &t), VG_OK);
    return t;
}

static vg_model *train(const vg_table *t, const char *family, vg_task task)
{
    const char *params[] = { "n_estimators=15" };
    int forest = strcmp(family, "forest") == 0;
    vg_train_request rq = { .table = t, .data = { .format = "csv", .task = task, .positive = EVIL_CLASS },
                            .model = family, .params = forest ? params : NULL, .n_params = forest,
                            .seed = 5, .threads = 2 };
    if (task != VG_TASK_BINARY) rq.data.positive = NULL;
    vg_model *m = NULL;
    vg_status st = vg_model_train(&rq, &m);
    if (st) print_error("train %s: %s\n", family, vg_last_error());
    assert_int_equal(st, VG_OK);
    return m;
}

/* ---- thinning ---------------------------------------------------------- */

static void test_thin_keeps_ends_order_and_shape(void **state)
{
    (void)state;
    /* A concave staircase of 20,000 points, like a ROC curve of a scorer
     * with many distinct scores. */
    size_t n = 20000;
    double *xy = malloc(2 * n * sizeof *xy), *out = malloc(2 * n * sizeof *out);
    assert_non_null(xy);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / (double)(n - 1);
        xy[2 * i] = t;
        xy[2 * i + 1] = i % 2 ? sqrt(t) : sqrt((double)(i - (i > 0)) / (double)(n - 1));
    }
    size_t k = 0;
    assert_int_equal(vg_plot_thin(xy, n, 200, 0.002, out, &k), VG_OK);
    assert_true(k >= 10 && k <= 200);
    assert_true(out[0] == 0 && out[1] == 0);
    assert_true(out[2 * (k - 1)] == 1 && out[2 * (k - 1) + 1] == 1);
    for (size_t i = 1; i < k; i++) {
        assert_true(out[2 * i] >= out[2 * i - 2]);
        assert_true(out[2 * i + 1] >= out[2 * i - 1]);
    }
    /* Every original point lies near the thinned polyline: interpolate it at
     * the point's x and compare. */
    double worst = 0;
    for (size_t i = 0, j = 0; i < n; i++) {
        double x = xy[2 * i];
        while (j + 2 < k && out[2 * (j + 1)] < x) j++;
        double x0 = out[2 * j], y0 = out[2 * j + 1], x1 = out[2 * j + 2], y1 = out[2 * j + 3];
        double y = x1 > x0 ? y0 + (y1 - y0) * (x - x0) / (x1 - x0) : y1;
        worst = fmax(worst, fabs(y - xy[2 * i + 1]));
    }
    print_message("thinned %zu points to %zu, worst vertical gap %.4f\n", n, k, worst);
    assert_true(worst < 0.02);

    /* A tight budget is met whatever the tolerance asks for. */
    assert_int_equal(vg_plot_thin(xy, n, 12, 0.0001, out, &k), VG_OK);
    assert_true(k >= 2 && k <= 12);
    /* In place, tiny inputs and a bad budget. */
    memcpy(out, xy, 2 * n * sizeof *xy);
    assert_int_equal(vg_plot_thin(out, n, 50, 0.002, out, &k), VG_OK);
    assert_true(k <= 50 && out[0] == 0 && out[2 * (k - 1)] == 1);
    double one[2] = { 0.5, 0.5 };
    assert_int_equal(vg_plot_thin(one, 1, 10, 0.01, one, &k), VG_OK);
    assert_int_equal(k, 1);
    assert_int_equal(vg_plot_thin(xy, n, 1, 0.01, out, &k), VG_ERR_INVALID);
    free(xy), free(out);
}

/* ---- curves and histograms ------------------------------------------------- */

static void check_monotone(const vg_plot_line *l, int roc)
{
    assert_true(l->n >= 2 && l->n <= VG_PLOT_MAX_POINTS);
    for (size_t i = 0; i < l->n; i++) {
        double x = l->xy[2 * i], y = l->xy[2 * i + 1];
        assert_true(x >= 0 && x <= 1 && y >= 0 && y <= 1);
        if (i) {
            assert_true(x >= l->xy[2 * i - 2]);                 /* FPR, recall never go back */
            if (roc) assert_true(y >= l->xy[2 * i - 1]);        /* TPR neither */
        }
    }
    if (roc) {
        assert_true(l->xy[0] == 0 && l->xy[1] == 0);
        assert_true(l->xy[2 * l->n - 2] == 1 && l->xy[2 * l->n - 1] == 1);
    } else {
        assert_true(l->xy[0] == 0 && l->xy[1] == 1);            /* PR starts at recall 0, precision 1 */
        assert_true(l->xy[2 * l->n - 2] == 1);
    }
}

static void test_curves_monotone_and_histograms_add_up(void **state)
{
    (void)state;
    vg_table *t = read_csv(write_csv(3000, 3, -1, 11));
    const char *families[] = { "logreg", "forest" };
    for (int f = 0; f < 2; f++) {
        for (int multi = 0; multi < 2; multi++) {
            vg_model *m = train(t, families[f], multi ? VG_TASK_LABEL : VG_TASK_BINARY);
            vg_evaluation e;
            assert_int_equal(vg_evaluate(m, t, 2, &e), VG_OK);
            vg_eval_plots pl;
            assert_int_equal(vg_eval_plots_compute(m, &e, &pl), VG_OK);
            uint32_t k = vg_model_classes(m)->n;
            assert_int_equal(pl.binary, !multi);
            assert_int_equal(pl.n_curves, multi ? k : 1);
            for (size_t i = 0; i < pl.n_curves; i++) {
                check_monotone(&pl.roc[i], 1);
                check_monotone(&pl.pr[i], 0);
            }
            /* Each class's histogram counts every row of that class. */
            for (uint32_t c = 0; c < k; c++) {
                size_t sum = 0;
                for (int b = 0; b < VG_PLOT_BINS; b++) sum += pl.hist[c * VG_PLOT_BINS + b];
                assert_int_equal(sum, e.metrics.per_class[c].support);
            }
            vg_eval_plots_free(&pl);
            vg_eval_plots_free(&pl);  /* twice is harmless */

            /* The JSON carries them, compactly. */
            char *json = vg_evaluation_json(m, &e);
            assert_non_null(json);
            print_message("%s %s: evaluation JSON %zu bytes\n", families[f], multi ? "multiclass" : "binary",
                          strlen(json));
            assert_true(strlen(json) < 16000);
            cJSON *o = cJSON_Parse(json);
            assert_non_null(o);
            cJSON *curves = cJSON_GetObjectItem(o, "curves");
            assert_non_null(curves);
            cJSON *roc = cJSON_GetObjectItem(curves, "roc");
            if (multi) {
                assert_true(cJSON_IsObject(roc));
                assert_non_null(cJSON_GetObjectItem(roc, EVIL_CLASS));
                assert_non_null(cJSON_GetObjectItem(roc, "dos & co"));
                roc = cJSON_GetObjectItem(roc, "normal");
            } else {
                assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(curves, "class")), EVIL_CLASS);
            }
            assert_true(cJSON_IsArray(roc) && cJSON_GetArraySize(roc) >= 2 &&
                        cJSON_GetArraySize(roc) <= VG_PLOT_MAX_POINTS);
            cJSON *first = cJSON_GetArrayItem(roc, 0);
            assert_int_equal(cJSON_GetArraySize(first), 2);
            cJSON *hist = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "score_histogram"), "counts");
            const vg_classes *names = vg_model_classes(m);
            for (uint32_t c = 0; c < k; c++)
                assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(hist, names->names[c])), VG_PLOT_BINS);
            cJSON_Delete(o);
            vg_free(json);
            vg_evaluation_free(&e);
            vg_model_free(m);
        }
    }
    vg_table_free(t);
}

/* ---- the HTML report ---------------------------------------------------- */

/* "nan" or "inf" as a word of its own, in any case: a figure that leaked. */
static int has_bad_number(const char *s)
{
    static const char *const bad[] = { "nan", "inf" };
    for (const char *p = s; *p; p++)
        for (int b = 0; b < 2; b++)
            if (strncasecmp(p, bad[b], 3) == 0 && (p == s || !isalpha((unsigned char)p[-1])) &&
                !isalpha((unsigned char)p[3])) {
                print_error("bad number at: %.40s\n", p > s + 20 ? p - 20 : s);
                return 1;
            }
    return 0;
}

static char *report(const vg_report_input *in, size_t n)
{
    vg_report_params p = vg_report_params_default();
    p.data = "data/<test>.csv";
    p.created = 1700000000;
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_status st = vg_report_html(in, n, &p, &w);
    if (st) print_error("report: %s\n", vg_last_error());
    assert_int_equal(st, VG_OK);
    vg_wbuf_u8(&w, 0);
    assert_false(w.failed);
    return (char *)w.data;
}

static void assert_contains(const char *html, const char *what)
{
    if (!strstr(html, what)) print_error("report lacks: %s\n", what);
    assert_non_null(strstr(html, what));
}

static void check_common(const char *html)
{
    assert_true(strncmp(html, "<!doctype html>", 15) == 0);
    assert_contains(html, "</html>");
    /* Self-contained and inert: no script, no external resource. */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<b>bytes"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "<link"));
    assert_false(has_bad_number(html));
    assert_contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_contains(html, "data/&lt;test&gt;.csv");
    assert_contains(html, "2023-11-14 22:13 UTC");
    assert_contains(html, "vigil " VG_VERSION_STRING);
}

static void test_report_single_sections_and_escaping(void **state)
{
    (void)state;
    vg_table *t = read_csv(write_csv(1500, 2, -1, 7));
    vg_model *m = train(t, "forest", VG_TASK_BINARY);
    vg_evaluation e;
    assert_int_equal(vg_evaluate(m, t, 2, &e), VG_OK);
    vg_report_input in = { .model = m, .eval = &e, .source = "models/a&b.vgm" };
    char *html = report(&in, 1);
    check_common(html);
    static const char *const sections[] = { "id=\"summary\"", "id=\"curves\"", "id=\"roc\"", "id=\"pr\"",
                                            "id=\"confusion\"", "id=\"scores\"", "id=\"importance\"",
                                            "id=\"per-class\"", "<svg class=\"chart\"", "<polyline",
                                            "ROC curve", "Precision-recall curve", "AUC <b>", "Detected",
                                            "False alarms", "models/a&amp;b.vgm", "&lt;b&gt;bytes&lt;/b&gt;" };
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) assert_contains(html, sections[i]);
    /* Metric cards show the evaluation's own figures. */
    char acc[32];
    snprintf(acc, sizeof acc, "%.4f", e.metrics.accuracy);
    assert_contains(html, acc);
    print_message("binary report: %zu bytes\n", strlen(html));
    vg_free(html);

    /* Written to a file: the same bytes; an unwritable path fails cleanly. */
    const char *path = vg_test_tmpfile("", 0, ".html");
    vg_report_params p = vg_report_params_default();
    assert_int_equal(vg_report_write(path, &in, 1, &p), VG_OK);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char head[16] = { 0 };
    assert_int_equal(fread(head, 1, 15, f), 15);
    fclose(f);
    assert_string_equal(head, "<!doctype html>");
    remove(path);
    assert_int_equal(vg_report_write("/nonexistent-dir/r.html", &in, 1, &p), VG_ERR_IO);
    assert_non_null(strstr(vg_last_error(), "/nonexistent-dir/r.html"));

    /* Bad calls. */
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(vg_report_html(&in, 0, &p, &w), VG_ERR_INVALID);
    vg_report_input none = { .eval = &e };
    assert_int_equal(vg_report_html(&none, 1, &p, &w), VG_ERR_INVALID);
    assert_int_equal(w.len, 0);
    /* Two models, one without an evaluation: nothing to compare. */
    vg_report_input two[2] = { in, { .model = m } };
    assert_int_equal(vg_report_html(two, 2, &p, &w), VG_ERR_INVALID);
    assert_int_equal(w.len, 0);
    /* One model without an evaluation (unlabelled data): the page says so. */
    vg_report_input unlabelled = { .model = m };
    assert_int_equal(vg_report_html(&unlabelled, 1, &p, &w), VG_OK);
    vg_wbuf_u8(&w, 0);
    assert_non_null(strstr((const char *)w.data, "id=\"no-labels\""));
    assert_null(strstr((const char *)w.data, "id=\"roc\""));
    vg_wbuf_free(&w);
    vg_evaluation_free(&e);
    vg_model_free(m);
    vg_table_free(t);
}

static void test_report_multiclass_with_undefined_figures(void **state)
{
    (void)state;
    /* Trained on three classes, evaluated on data without "dos & co": its
     * ROC-AUC and PR-AUC are undefined and must show as a dash. */
    vg_table *train_t = read_csv(write_csv(1500, 3, -1, 3));
    vg_table *test_t = read_csv(write_csv(800, 3, 2, 4));
    vg_model *m = train(train_t, "forest", VG_TASK_LABEL);
    vg_evaluation e;
    assert_int_equal(vg_evaluate(m, test_t, 2, &e), VG_OK);
    assert_true(isnan(e.metrics.per_class[2].roc_auc) || isnan(e.metrics.per_class[1].roc_auc) ||
                isnan(e.metrics.per_class[0].roc_auc));
    vg_report_input in = { .model = m, .eval = &e };
    char *html = report(&in, 1);
    check_common(html);
    assert_contains(html, "&ndash;");
    assert_contains(html, "dos &amp; co");
    assert_contains(html, "Macro F1");
    assert_contains(html, "id=\"per-class\"");
    vg_free(html);
    vg_evaluation_free(&e);
    vg_model_free(m);
    vg_table_free(train_t);
    vg_table_free(test_t);
}

static void test_report_comparison(void **state)
{
    (void)state;
    vg_table *t = read_csv(write_csv(1500, 2, -1, 9));
    vg_model *a = train(t, "logreg", VG_TASK_BINARY), *b = train(t, "forest", VG_TASK_BINARY);
    vg_evaluation ea, eb;
    assert_int_equal(vg_evaluate(a, t, 2, &ea), VG_OK);
    assert_int_equal(vg_evaluate(b, t, 2, &eb), VG_OK);
    vg_report_input in[] = { { .name = "logreg", .model = a, .eval = &ea },
                             { .name = "<i>forest</i>", .model = b, .eval = &eb } };
    char *html = report(in, 2);
    check_common(html);
    assert_contains(html, "Models side by side");
    assert_contains(html, "&lt;i&gt;forest&lt;/i&gt;");
    assert_null(strstr(html, "<i>forest"));
    assert_contains(html, "class=\"best\"");
    /* One ROC chart holds both models' curves. */
    const char *roc = strstr(html, "id=\"roc\"");
    assert_non_null(roc);
    const char *end = strstr(roc, "</svg>");
    size_t lines = 0;
    for (const char *p = roc; (p = strstr(p, "<polyline")) && p < end; p++) lines++;
    assert_int_equal(lines, 2);
    /* Each model's confusion matrix. */
    size_t matrices = 0;
    for (const char *p = html; (p = strstr(p, "<table class=\"cm")); p++) matrices++;
    assert_int_equal(matrices, 2);
    vg_free(html);
    vg_evaluation_free(&ea);
    vg_evaluation_free(&eb);
    vg_model_free(a);
    vg_model_free(b);
    vg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thin_keeps_ends_order_and_shape),
        cmocka_unit_test(test_curves_monotone_and_histograms_add_up),
        cmocka_unit_test(test_report_single_sections_and_escaping),
        cmocka_unit_test(test_report_multiclass_with_undefined_figures),
        cmocka_unit_test(test_report_comparison),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
