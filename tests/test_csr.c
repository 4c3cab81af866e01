/* Unit tests for the CSR matrix: rows built entry by entry (zeros dropped,
 * empty rows kept), the same rows from a dense matrix, row dot products
 * against the dense ones, columns out of range or out of order refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "vigil/matrix.h"

static void test_build_and_dot(void **state)
{
    (void)state;
    /* 3 x 5: [1 0 2 0 0; 0 0 0 0 0; 0 3 0 0 NaN] */
    vg_csr m;
    assert_int_equal(vg_csr_begin(&m, 5, 0), VG_OK);
    assert_int_equal(vg_csr_push(&m, 0, 1.0f), VG_OK);
    assert_int_equal(vg_csr_push(&m, 1, 0.0f), VG_OK);   /* a zero: dropped */
    assert_int_equal(vg_csr_push(&m, 2, 2.0f), VG_OK);
    assert_int_equal(vg_csr_end_row(&m), VG_OK);
    assert_int_equal(vg_csr_end_row(&m), VG_OK);         /* an empty row */
    assert_int_equal(vg_csr_push(&m, 1, 3.0f), VG_OK);
    assert_int_equal(vg_csr_push(&m, 4, NAN), VG_OK);    /* missing is not zero */
    assert_int_equal(vg_csr_end_row(&m), VG_OK);
    assert_int_equal(m.rows, 3);
    assert_int_equal(m.nnz, 4);
    const uint64_t indptr[] = { 0, 2, 2, 4 };
    assert_memory_equal(m.indptr, indptr, sizeof indptr);
    const uint32_t idx[] = { 0, 2, 1, 4 };
    assert_memory_equal(m.indices, idx, sizeof idx);

    vg_matrix d;
    assert_int_equal(vg_matrix_alloc(&d, 3, 5), VG_OK);
    d.data[0] = 1, d.data[2] = 2, d.data[11] = 3, d.data[14] = NAN;
    vg_csr from;
    assert_int_equal(vg_csr_from_dense(&d, &from), VG_OK);
    assert_int_equal(from.nnz, m.nnz);
    assert_memory_equal(from.indptr, m.indptr, sizeof indptr);
    assert_memory_equal(from.indices, m.indices, sizeof idx);
    const double w[] = { 0.5, -1, 2, 7, 0 };
    assert_true(vg_csr_row_dot(&m, 0, w) == 0.5 + 4.0);
    assert_true(vg_csr_row_dot(&m, 1, w) == 0.0);
    assert_true(vg_csr_row_dot(&from, 0, w) == vg_csr_row_dot(&m, 0, w));
    vg_csr_free(&from);
    vg_matrix_free(&d);
    vg_csr_free(&m);
    vg_csr_free(&m);   /* freed twice: the struct was zeroed */
}

static void test_refused(void **state)
{
    (void)state;
    vg_csr m;
    assert_int_equal(vg_csr_begin(&m, 4, 2), VG_OK);
    assert_int_equal(vg_csr_push(&m, 4, 1.0f), VG_ERR_INVALID);   /* out of range */
    assert_int_equal(vg_csr_push(&m, 2, 1.0f), VG_OK);
    assert_int_equal(vg_csr_push(&m, 1, 1.0f), VG_ERR_INVALID);   /* out of order */
    assert_non_null(strstr(vg_last_error(), "ascend"));
    assert_int_equal(vg_csr_push(&m, 2, 1.0f), VG_ERR_INVALID);   /* repeated */
    assert_int_equal(vg_csr_end_row(&m), VG_OK);
    assert_int_equal(vg_csr_push(&m, 0, 1.0f), VG_OK);            /* a new row starts over */
    assert_int_equal(vg_csr_end_row(&m), VG_OK);
    vg_csr_free(&m);
}

/* Many rows: the arrays grow past their first capacity and stay consistent. */
static void test_growth(void **state)
{
    (void)state;
    vg_csr m;
    assert_int_equal(vg_csr_begin(&m, 1u << 20, 0), VG_OK);
    for (uint32_t r = 0; r < 10000; r++) {
        for (uint32_t k = 0; k < r % 7; k++) assert_int_equal(vg_csr_push(&m, r * 100 + k * 3, 1.0f + (float)k), VG_OK);
        assert_int_equal(vg_csr_end_row(&m), VG_OK);
    }
    size_t want = 0;
    for (uint32_t r = 0; r < 10000; r++) want += r % 7;
    assert_int_equal(m.nnz, want);
    assert_int_equal(m.indptr[m.rows], want);
    assert_true(m.cap_nnz >= want);
    vg_csr_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_dot),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
