/* Unit tests for tasks and classes (binary, KDD category, label) and for the
 * stratified splits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vigil/labels.h"
#include "vigil/split.h"
#include "vigil/table.h"

static vg_table *labels_table(const char *const *values, size_t n)
{
    vg_table *t = vg_table_new("labels.csv");
    size_t c;
    vg_table_add_column(t, "label", VG_COLUMN_CATEGORICAL, &c);
    for (size_t i = 0; i < n; i++) vg_table_push_category(t, c, values[i], values[i] ? strlen(values[i]) : 0);
    return t;
}

static void test_kdd_binary_and_category(void **state)
{
    (void)state;
    const char *v[] = { "normal", "neptune", "smurf", "guess_passwd", "normal", "buffer_overflow", "satan" };
    vg_table *t = labels_table(v, 7);
    int32_t y[7];
    vg_classes c;
    vg_label_spec spec = { .task = VG_TASK_BINARY, .kdd = 1 };
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.names[1], "attack");
    const int32_t eb[] = { 0, 1, 1, 1, 0, 1, 1 };
    assert_memory_equal(y, eb, sizeof eb);
    vg_classes_free(&c);

    spec.task = VG_TASK_CATEGORY;
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_OK);
    assert_int_equal(c.n, 5);
    const int32_t ec[] = { 0, 1, 1, 3, 0, 4, 2 };  /* normal DoS DoS R2L normal U2R Probe */
    assert_memory_equal(y, ec, sizeof ec);
    vg_classes_free(&c);

    spec.task = VG_TASK_LABEL;
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_OK);
    assert_int_equal(c.n, 6);
    assert_string_equal(c.names[0], "buffer_overflow");  /* sorted */
    /* New data with an attack the model never saw: -1 and counted. */
    const char *w[] = { "normal", "mscan" };
    vg_table *t2 = labels_table(w, 2);
    size_t unseen;
    int32_t y2[2];
    assert_int_equal(vg_classes_assign(&c, &spec, t2, 0, y2, &unseen), VG_OK);
    assert_int_equal(unseen, 1);
    assert_int_equal(y2[1], -1);
    vg_classes_free(&c);
    vg_table_free(t2);
    vg_table_free(t);
}

static void test_csv_binary_positive(void **state)
{
    (void)state;
    const char *v[] = { "0", "1", "1", "0" };
    vg_table *t = labels_table(v, 4);
    int32_t y[4];
    vg_classes c;
    vg_label_spec spec = { .task = VG_TASK_BINARY };
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_OK);
    assert_string_equal(c.names[1], "1");
    assert_int_equal(y[1], 1);
    assert_int_equal(y[0], 0);
    vg_classes_free(&c);
    spec.positive = "0";
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_OK);
    assert_int_equal(y[0], 1);
    vg_classes_free(&c);
    spec.positive = "2";
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "'2' is not a value"));
    vg_table_free(t);
}

/* A binary test label neither training value is unseen (-1), not the
 * negative class; with --positive over more values, the rest is negative. */
static void test_binary_unseen(void **state)
{
    (void)state;
    const char *v[] = { "0", "1", "1", "0" }, *w[] = { "yes", "1", "0", "no" };
    vg_table *t = labels_table(v, 4), *u = labels_table(w, 4);
    int32_t y[4];
    size_t unseen;
    vg_classes c;
    vg_label_spec spec = { .task = VG_TASK_BINARY };
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_OK);
    assert_int_equal(vg_classes_assign(&c, &spec, u, 0, y, &unseen), VG_OK);
    const int32_t want[] = { -1, 1, 0, -1 };
    assert_memory_equal(y, want, sizeof want);
    assert_int_equal(unseen, 2);
    vg_classes_free(&c);
    const char *x[] = { "a", "b", "c", "a" };
    vg_table *m = labels_table(x, 4);
    spec.positive = "a";
    assert_int_equal(vg_classes_fit(m, 0, &spec, &c, y), VG_OK);
    assert_string_equal(c.names[0], "not a");
    assert_int_equal(vg_classes_assign(&c, &spec, u, 0, y, &unseen), VG_OK);
    assert_int_equal(unseen, 0);   /* every label but 'a' is the negative class */
    vg_classes_free(&c);
    vg_table_free(t), vg_table_free(u), vg_table_free(m);
}

/* Two label classes, one normal: normal is class 0, so class 1 (the one a
 * binary evaluation reports on) is the attack, whatever the sort says. */
static void test_label_normal_first(void **state)
{
    (void)state;
    const char *v[] = { "attack", "normal", "normal", "attack" };
    vg_table *t = labels_table(v, 4);
    int32_t y[4];
    vg_classes c;
    vg_label_spec spec = { .task = VG_TASK_LABEL };
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_OK);
    assert_string_equal(c.names[0], "normal");
    assert_string_equal(c.names[1], "attack");
    assert_int_equal(y[0], 1);
    vg_classes_free(&c);
    vg_table_free(t);
}

/* --normal: binary over two values makes the other positive, over more
 * every label but it; a label task keeps the name; not a value: an error. */
static void test_normal_named(void **state)
{
    (void)state;
    const char *two[] = { "ok", "bad", "ok", "bad" }, *three[] = { "dos", "ok", "probe", "ok" };
    vg_table *t2 = labels_table(two, 4), *t3 = labels_table(three, 4);
    int32_t y[4];
    vg_classes c;
    vg_label_spec spec = { .task = VG_TASK_BINARY, .normal = "ok" };
    assert_int_equal(vg_classes_fit(t2, 0, &spec, &c, y), VG_OK);
    assert_string_equal(c.positive_value, "bad");
    assert_string_equal(c.normal_value, "ok");
    const int32_t want2[] = { 0, 1, 0, 1 };
    assert_memory_equal(y, want2, sizeof want2);
    vg_classes_free(&c);
    assert_int_equal(vg_classes_fit(t3, 0, &spec, &c, y), VG_OK);
    assert_string_equal(c.negative_value, "ok");
    const int32_t want3[] = { 1, 0, 1, 0 };
    assert_memory_equal(y, want3, sizeof want3);
    vg_classes_free(&c);
    spec.positive = "bad";
    assert_int_equal(vg_classes_fit(t2, 0, &spec, &c, y), VG_ERR_INVALID);
    spec = (vg_label_spec){ .task = VG_TASK_LABEL, .normal = "probe" };
    assert_int_equal(vg_classes_fit(t3, 0, &spec, &c, y), VG_OK);
    assert_string_equal(c.normal_value, "probe");
    vg_classes_free(&c);
    spec.normal = "none";
    assert_int_equal(vg_classes_fit(t3, 0, &spec, &c, y), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "--normal: 'none' is not a class"));
    vg_table_free(t2), vg_table_free(t3);
}

static void test_bad_labels(void **state)
{
    (void)state;
    const char *one[] = { "benign", "benign", "benign" };
    vg_table *t = labels_table(one, 3);
    int32_t y[3];
    vg_classes c;
    vg_label_spec spec = { .task = VG_TASK_LABEL };
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_ERR_DATA);
    assert_non_null(strstr(vg_last_error(), "single class"));
    vg_table_free(t);

    const char *missing[] = { "a", NULL, "b" };
    t = labels_table(missing, 3);
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "labels.csv:2"));
    vg_table_free(t);

    const char *kdd[] = { "normal", "not_an_attack" };
    t = labels_table(kdd, 2);
    spec = (vg_label_spec){ .task = VG_TASK_CATEGORY, .kdd = 1 };
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "not_an_attack"));
    spec.kdd = 0;
    assert_int_equal(vg_classes_fit(t, 0, &spec, &c, y), VG_ERR_INVALID);
    vg_table_free(t);
    vg_task task;
    assert_int_equal(vg_task_parse("category", &task), VG_OK);
    assert_int_equal(task, VG_TASK_CATEGORY);
    assert_int_equal(vg_task_parse("regression", &task), VG_OK);
    assert_int_equal(task, VG_TASK_REGRESSION);
    assert_int_equal(vg_task_parse("ranking", &task), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "ranking"));
}

static void test_split_stratified(void **state)
{
    (void)state;
    enum { N = 1000 };
    int32_t y[N];
    for (int i = 0; i < N; i++) y[i] = i % 10 == 0 ? 1 : (i % 10 == 1 ? 2 : 0);  /* 80/10/10 */
    size_t *tr, *te, ntr, nte;
    assert_int_equal(vg_split_holdout(y, N, 3, 0.25, 7, &tr, &ntr, &te, &nte), VG_OK);
    assert_int_equal(ntr + nte, N);
    assert_int_equal(nte, 250);
    size_t count[3] = { 0 };
    for (size_t i = 0; i < nte; i++) count[y[te[i]]]++;
    assert_int_equal(count[0], 200);
    assert_int_equal(count[1], 25);
    assert_int_equal(count[2], 25);
    /* Disjoint and sorted; the same seed gives the same split. */
    for (size_t i = 1; i < nte; i++) assert_true(te[i] > te[i - 1]);
    size_t *tr2, *te2, ntr2, nte2;
    assert_int_equal(vg_split_holdout(y, N, 3, 0.25, 7, &tr2, &ntr2, &te2, &nte2), VG_OK);
    assert_memory_equal(te, te2, nte * sizeof *te);
    vg_free(tr2), vg_free(te2);
    assert_int_equal(vg_split_holdout(y, N, 3, 0.25, 8, &tr2, &ntr2, &te2, &nte2), VG_OK);
    assert_true(memcmp(te, te2, nte * sizeof *te) != 0);
    vg_free(tr2), vg_free(te2);
    vg_free(tr), vg_free(te);
    assert_int_equal(vg_split_holdout(y, N, 3, 1.5, 7, &tr, &ntr, &te, &nte), VG_ERR_INVALID);

    uint32_t fold[N];
    assert_int_equal(vg_split_kfold(y, N, 3, 5, 1, fold), VG_OK);
    size_t per[5][3] = { { 0 } };
    for (int i = 0; i < N; i++) per[fold[i]][y[i]]++;
    for (int f = 0; f < 5; f++) {
        assert_int_equal(per[f][1], 20);
        assert_int_equal(per[f][0], 160);
    }
}

static void test_regression_targets(void **state)
{
    (void)state;
    vg_table *t = vg_table_new("r.csv");
    size_t c;
    vg_table_add_column(t, "y", VG_COLUMN_NUMERIC, &c);
    vg_table_push_number(t, c, 1.5);
    vg_table_push_number(t, c, -2);
    float y[3];
    assert_int_equal(vg_targets_read(t, 0, y), VG_OK);
    assert_true(y[0] == 1.5f && y[1] == -2.0f);
    vg_table_push_number(t, c, 0.0 / 0.0);
    assert_int_equal(vg_targets_read(t, 0, y), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "r.csv:3"));
    vg_table_free(t);
    const char *text[] = { "high", "low" };
    t = labels_table(text, 2);
    assert_int_equal(vg_targets_read(t, 0, y), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "'high' is not a number"));
    vg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kdd_binary_and_category),
        cmocka_unit_test(test_csv_binary_positive),
        cmocka_unit_test(test_binary_unseen),
        cmocka_unit_test(test_label_normal_first),
        cmocka_unit_test(test_normal_named),
        cmocka_unit_test(test_bad_labels),
        cmocka_unit_test(test_split_stratified),
        cmocka_unit_test(test_regression_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
