/* Unit tests for the estimator registry: every family's declarations are
 * consistent (vg_estimator_check), names are unique and found again, and
 * the check refuses declarations a family could not honour. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vigil/estimator.h"

static void test_every_family(void **state)
{
    (void)state;
    size_t n = 0;
    for (const vg_estimator_kind *const *k = vg_estimator_all(); *k; k++, n++) {
        const char *why = vg_estimator_check(*k);
        if (why) fail_msg("family %s: %s", (*k)->name, why);
        assert_ptr_equal(vg_estimator_find((*k)->name), *k);
        for (const vg_estimator_kind *const *j = vg_estimator_all(); *j != *k; j++)
            assert_string_not_equal((*j)->name, (*k)->name);
    }
    assert_true(n >= 4);
    assert_null(vg_estimator_find("no-such-family"));
    assert_null(vg_estimator_find(NULL));
}

static void test_check_refuses(void **state)
{
    (void)state;
    vg_estimator_kind k = vg_tree_kind;
    k.outputs = 0;
    assert_non_null(vg_estimator_check(&k));
    k = vg_tree_kind;
    k.outputs = VG_ESTIMATOR_OUT_SCORE;   /* an anomaly score that needs labels */
    assert_non_null(vg_estimator_check(&k));
    k = vg_tree_kind;
    k.inputs = VG_ESTIMATOR_IN_SPARSE;    /* sparse without predict_sparse */
    assert_non_null(strstr(vg_estimator_check(&k), "predict_sparse"));
    k = vg_tree_kind;
    k.inputs = VG_ESTIMATOR_IN_WINDOW;
    assert_non_null(vg_estimator_check(&k));
    k = vg_tree_kind;
    k.fit = NULL;
    assert_non_null(vg_estimator_check(&k));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_family),
        cmocka_unit_test(test_check_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
