/* Unit tests for the decision rule (src/models/decision.c): the score of each
 * output kind, the tie at exactly the threshold, the label and the anomaly
 * flag agreeing (the P(normal)=0.4, P(DoS)=0.3, P(Probe)=0.3 case that the
 * server once answered anomaly:true label:"normal"), the normal class, the
 * threshold defaults and what is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "vigil/decision.h"

static char *names_kdd[] = { "normal", "DoS", "Probe", "R2L", "U2R" };
static char *names_bin[] = { "normal", "attack" };

static vg_classes classes(char **names, uint32_t n)
{
    return (vg_classes){ .n = n, .names = names };
}

static void test_binary_tie_is_anomaly(void **state)
{
    (void)state;
    vg_classes c = classes(names_bin, 2);
    c.negative_value = "normal";
    vg_decision_rule r;
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_BINARY, &c, NAN, &r), VG_OK);
    assert_true(r.threshold == 0.5);
    assert_int_equal(r.positive, 1);
    assert_int_equal(r.normal, 0);
    /* Exactly 0.5: one comparison (>=) everywhere, so a tie is an anomaly
     * with the positive label (argmax would have said class 0). */
    float tie[2] = { 0.5f, 0.5f };
    vg_decision d = vg_decision_make(&r, tie);
    assert_true(d.score == 0.5);
    assert_int_equal(d.anomaly, 1);
    assert_int_equal(d.label, 1);
    float below[2] = { 0.5000001f, 0.4999999f };
    d = vg_decision_make(&r, below);
    assert_int_equal(d.anomaly, 0);
    assert_int_equal(d.label, 0);
    /* The score is the positive probability's own bits, not 1 - P(normal). */
    float odd[2] = { 0.3f, 0.7f };
    d = vg_decision_make(&r, odd);
    assert_true(d.score == (double)0.7f);
    assert_int_equal(d.label, 1);
    /* Another threshold moves label and flag together. */
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_BINARY, &c, 0.8, &r), VG_OK);
    d = vg_decision_make(&r, odd);
    assert_int_equal(d.anomaly, 0);
    assert_int_equal(d.label, 0);
    /* Threshold 0: every record. */
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_BINARY, &c, 0, &r), VG_OK);
    float zero[2] = { 1, 0 };
    d = vg_decision_make(&r, zero);
    assert_int_equal(d.anomaly, 1);
    assert_int_equal(d.label, 1);
}

static void test_multiclass_label_agrees(void **state)
{
    (void)state;
    vg_classes c = classes(names_kdd, 5);
    vg_decision_rule r;
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_MULTICLASS, &c, NAN, &r), VG_OK);
    assert_int_equal(r.normal, 0);
    assert_int_equal(r.positive, -1);
    /* P(normal)=0.4, P(DoS)=0.3, P(Probe)=0.3: score 0.6 >= 0.5, an anomaly,
     * labelled with the most probable non-normal class (DoS; the lower index
     * wins the tie with Probe), never "normal". */
    float p[5] = { 0.4f, 0.3f, 0.3f, 0, 0 };
    vg_decision d = vg_decision_make(&r, p);
    assert_true(fabs(d.score - 0.6) < 1e-7);
    assert_true(d.score == (double)(float)(1.0 - (double)0.4f));
    assert_int_equal(d.anomaly, 1);
    assert_int_equal(d.label, 1);
    float q[5] = { 0.4f, 0.1f, 0.2f, 0.3f, 0 };
    d = vg_decision_make(&r, q);
    assert_int_equal(d.label, 3);
    /* Exactly 0.5 of non-normal mass: an anomaly too. */
    float tie[5] = { 0.5f, 0.1f, 0.1f, 0.1f, 0.2f };
    d = vg_decision_make(&r, tie);
    assert_true(d.score == 0.5);
    assert_int_equal(d.anomaly, 1);
    assert_int_equal(d.label, 4);
    /* Not an anomaly: always the normal class, even where another class
     * would be the argmax at a high threshold. */
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_MULTICLASS, &c, 0.9, &r), VG_OK);
    float dos[5] = { 0.2f, 0.8f, 0, 0, 0 };
    d = vg_decision_make(&r, dos);
    assert_int_equal(d.anomaly, 0);
    assert_int_equal(d.label, 0);
    /* labels over rows agree with make */
    float rows[10] = { 0.4f, 0.3f, 0.3f, 0, 0, 0.96f, 0.01f, 0.01f, 0.01f, 0.01f };
    int32_t lab[2];
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_MULTICLASS, &c, NAN, &r), VG_OK);
    vg_decision_labels(&r, rows, 2, lab);
    assert_int_equal(lab[0], 1);
    assert_int_equal(lab[1], 0);
}

static void test_normal_class(void **state)
{
    (void)state;
    char *a[] = { "DoS", "BENIGN", "Probe" };
    vg_classes c = classes(a, 3);
    assert_int_equal(vg_decision_normal_class(&c), 1);
    char *b[] = { "a", "b", "c" };
    c = classes(b, 3);
    assert_int_equal(vg_decision_normal_class(&c), 0);
    /* Two classes of --task label, sorted: "normal" is class 1 and is the
     * normal one; the score is P(attack). */
    char *l[] = { "attack", "normal" };
    c = classes(l, 2);
    vg_decision_rule r;
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_BINARY, &c, NAN, &r), VG_OK);
    assert_int_equal(r.normal, 1);
    assert_int_equal(r.positive, 0);
    float p[2] = { 0.75f, 0.25f };
    vg_decision d = vg_decision_make(&r, p);
    assert_true(d.score == 0.75);
    assert_int_equal(d.anomaly, 1);
    assert_int_equal(d.label, 0);
    /* A binary task that named its positive class keeps it, whatever names. */
    char *pos[] = { "attack", "normal" };
    c = classes(pos, 2);
    c.positive_value = "normal";
    assert_int_equal(vg_decision_normal_class(&c), 0);
    /* A class named at training (--normal) wins over every rule. */
    c = classes(a, 3);
    c.normal_value = "Probe";
    assert_int_equal(vg_decision_normal_class(&c), 2);
}

static void test_value(void **state)
{
    (void)state;
    vg_decision_rule r;
    /* No threshold: a value is never an anomaly. */
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_VALUE, NULL, NAN, &r), VG_OK);
    assert_int_equal(r.n_outputs, 1);
    float v = 3.25f;
    vg_decision d = vg_decision_make(&r, &v);
    assert_true(d.score == 3.25);
    assert_int_equal(d.anomaly, 0);
    assert_int_equal(d.label, -1);
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_VALUE, NULL, 3.25, &r), VG_OK);
    d = vg_decision_make(&r, &v);
    assert_int_equal(d.anomaly, 1);
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_VALUE, NULL, 3.5, &r), VG_OK);
    d = vg_decision_make(&r, &v);
    assert_int_equal(d.anomaly, 0);
}

/* An anomaly score: any scale, one output, label normal or anomaly by the
 * threshold alone, and no default threshold. */
static void test_score(void **state)
{
    (void)state;
    vg_classes c = classes(names_bin, 2);
    c.negative_value = "normal";
    vg_decision_rule r;
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_SCORE, &c, NAN, &r), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "threshold"));
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_SCORE, &c, 12.5, &r), VG_OK);
    assert_int_equal(r.n_outputs, 1);
    float below = 12.25f, at = 12.5f, above = 40.0f;
    vg_decision d = vg_decision_make(&r, &below);
    assert_int_equal(d.anomaly, 0);
    assert_int_equal(d.label, 0);
    d = vg_decision_make(&r, &at);
    assert_int_equal(d.anomaly, 1);
    assert_int_equal(d.label, 1);
    assert_true(d.score == 12.5);
    d = vg_decision_make(&r, &above);
    assert_true(d.score == 40.0);
    vg_classes three = classes(names_kdd, 3);
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_SCORE, &three, 1, &r), VG_ERR_INVALID);
}

/* The operating point from a contamination: the k-th highest score for
 * k = floor(share * n), ties included; above the maximum when k is 0. */
static void test_threshold_at_share(void **state)
{
    (void)state;
    const float s[10] = { 0.1f, 0.9f, 0.3f, 0.7f, 0.5f, 0.2f, 0.8f, 0.4f, 0.6f, 1.0f };
    double t;
    assert_int_equal(vg_threshold_at_share(s, 10, 0.2, &t), VG_OK);
    assert_true(t == (double)0.9f);  /* 1.0 and 0.9 at or above it: 2 of 10 */
    assert_int_equal(vg_threshold_at_share(s, 10, 0.25, &t), VG_OK);
    assert_true(t == (double)0.9f);  /* floor(2.5) = 2 */
    assert_int_equal(vg_threshold_at_share(s, 10, 1.0, &t), VG_OK);
    assert_true(t == (double)0.1f);
    assert_int_equal(vg_threshold_at_share(s, 10, 0.05, &t), VG_OK);
    assert_true(t > 1.0 && t == (double)nextafterf(1.0f, 2.0f));
    const float nan_row[2] = { 0.5f, NAN };
    assert_int_equal(vg_threshold_at_share(nan_row, 2, 0.5, &t), VG_ERR_DATA);
    assert_int_equal(vg_threshold_at_share(s, 0, 0.5, &t), VG_ERR_DATA);
    assert_int_equal(vg_threshold_at_share(s, 10, 0, &t), VG_ERR_INVALID);
}

static void test_refused(void **state)
{
    (void)state;
    vg_decision_rule r;
    vg_classes c = classes(names_kdd, 5);
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_MULTICLASS, &c, INFINITY, &r), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "finite"));
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_BINARY, &c, 0.5, &r), VG_ERR_INVALID);
    vg_classes two = classes(names_bin, 2);
    assert_int_equal(vg_decision_rule_init(VG_OUTPUT_MULTICLASS, &two, 0.5, &r), VG_ERR_INVALID);
    assert_string_equal(vg_output_kind_str(VG_OUTPUT_VALUE), "value");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_tie_is_anomaly),
        cmocka_unit_test(test_multiclass_label_agrees),
        cmocka_unit_test(test_normal_class),
        cmocka_unit_test(test_value),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_threshold_at_share),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
