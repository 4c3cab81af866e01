/* Unit tests for the columnar table: construction, dictionaries (first-seen
 * codes, growth past many categories), line numbers, take, category mapping
 * with merged codes, and number -> category conversion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigil/core.h"
#include "vigil/table.h"

/* proto: numeric x, categorical c; rows (1,"tcp") (NaN,"udp") (3,"tcp") (4,missing) */
static vg_table *small_table(void)
{
    vg_table *t = vg_table_new("small.csv");
    assert_non_null(t);
    size_t x, c;
    assert_int_equal(vg_table_add_column(t, "x", VG_COLUMN_NUMERIC, &x), VG_OK);
    assert_int_equal(vg_table_add_column(t, "c", VG_COLUMN_CATEGORICAL, &c), VG_OK);
    assert_int_equal(x, 0);
    assert_int_equal(c, 1);
    const double xs[4] = {1, NAN, 3, 4};
    const char *cs[4] = {"tcp", "udp", "tcp", NULL};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(vg_table_push_number(t, x, xs[i]), VG_OK);
        assert_int_equal(vg_table_push_category(t, c, cs[i], cs[i] ? strlen(cs[i]) : 0), VG_OK);
        assert_int_equal(vg_table_push_line(t, 10 + (uint64_t)i), VG_OK);
    }
    return t;
}

static void test_build_and_read(void **state)
{
    (void)state;
    size_t before = vg_mem_in_use();
    vg_table *t = small_table();
    assert_int_equal(vg_table_rows(t), 4);
    assert_int_equal(vg_table_cols(t), 2);
    assert_string_equal(vg_table_source(t), "small.csv");
    assert_string_equal(vg_table_name(t, 0), "x");
    assert_int_equal(vg_table_find(t, "c"), 1);
    assert_int_equal(vg_table_find(t, "nope"), -1);
    assert_int_equal(vg_table_type(t, 0), VG_COLUMN_NUMERIC);
    assert_int_equal(vg_table_type(t, 1), VG_COLUMN_CATEGORICAL);
    assert_null(vg_table_codes(t, 0));
    assert_null(vg_table_numbers(t, 1));
    const double *x = vg_table_numbers(t, 0);
    assert_true(x[0] == 1 && isnan(x[1]) && x[2] == 3 && x[3] == 4);
    const uint32_t *c = vg_table_codes(t, 1);
    assert_int_equal(c[0], 0);
    assert_int_equal(c[1], 1);
    assert_int_equal(c[2], 0);
    assert_int_equal(c[3], VG_CODE_MISSING);
    assert_int_equal(vg_table_n_categories(t, 1), 2);
    assert_string_equal(vg_table_category(t, 1, 0), "tcp");
    assert_string_equal(vg_table_category(t, 1, 1), "udp");
    assert_null(vg_table_category(t, 1, 2));
    assert_int_equal(vg_table_category_code(t, 1, "udp"), 1);
    assert_int_equal(vg_table_category_code(t, 1, "icmp"), VG_CODE_MISSING);
    assert_int_equal(vg_table_line(t, 2), 12);
    assert_int_equal(vg_table_checksum(t), 0);
    vg_table_set_checksum(t, 0x1234);
    assert_int_equal(vg_table_checksum(t), 0x1234);

    /* A row only counts once every column has it. */
    assert_int_equal(vg_table_push_number(t, 0, 5), VG_OK);
    assert_int_equal(vg_table_rows(t), 4);
    vg_table_free(t);
    vg_table_free(NULL);
    assert_int_equal(vg_mem_in_use(), before);
}

static void test_duplicate_column(void **state)
{
    (void)state;
    vg_table *t = vg_table_new("d.csv");
    assert_int_equal(vg_table_add_column(t, "a", VG_COLUMN_NUMERIC, NULL), VG_OK);
    assert_int_equal(vg_table_add_column(t, "a", VG_COLUMN_CATEGORICAL, NULL), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "duplicate column name 'a'"));
    assert_int_equal(vg_table_cols(t), 1);
    vg_table_free(t);
}

static void test_default_lines(void **state)
{
    (void)state;
    vg_table *t = vg_table_new(NULL);
    assert_int_equal(vg_table_add_column(t, "a", VG_COLUMN_NUMERIC, NULL), VG_OK);
    for (int i = 0; i < 5; i++) assert_int_equal(vg_table_push_number(t, 0, i), VG_OK);
    assert_int_equal(vg_table_line(t, 0), 1);
    assert_int_equal(vg_table_line(t, 4), 5);
    vg_table_free(t);
}

/* Many distinct strings: the hash table rehashes many times and every code
 * must still find its string and the string its code. */
static void test_many_categories(void **state)
{
    (void)state;
    vg_table *t = vg_table_new("big");
    assert_int_equal(vg_table_add_column(t, "id", VG_COLUMN_CATEGORICAL, NULL), VG_OK);
    char buf[64];
    const int n = 200000;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < n; i++) {
            int len = snprintf(buf, sizeof buf, "user-%d", i * 7919 % n);
            assert_int_equal(vg_table_push_category(t, 0, buf, (size_t)len), VG_OK);
        }
    }
    assert_int_equal(vg_table_n_categories(t, 0), (uint32_t)n);
    const uint32_t *c = vg_table_codes(t, 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(c[i], (uint32_t)i);       /* first-seen order */
        assert_int_equal(c[n + i], (uint32_t)i);   /* the second round finds them */
        snprintf(buf, sizeof buf, "user-%d", i * 7919 % n);
        assert_string_equal(vg_table_category(t, 0, (uint32_t)i), buf);
        assert_int_equal(vg_table_category_code(t, 0, buf), (uint32_t)i);
    }
    /* A long string (bigger than an arena chunk) and an empty one. */
    static char longs[200000];
    memset(longs, 'z', sizeof longs - 1);
    assert_int_equal(vg_table_push_category(t, 0, longs, strlen(longs)), VG_OK);
    assert_int_equal(vg_table_push_category(t, 0, "", 0), VG_OK);
    assert_string_equal(vg_table_category(t, 0, (uint32_t)n), longs);
    assert_string_equal(vg_table_category(t, 0, (uint32_t)n + 1), "");
    assert_string_equal(vg_table_category(t, 0, 5), "user-39595");
    vg_table_free(t);
}

static void test_take(void **state)
{
    (void)state;
    vg_table *t = small_table();
    vg_table_set_checksum(t, 99);
    const size_t idx[5] = {3, 1, 1, 0, 2};
    vg_table *s = NULL;
    assert_int_equal(vg_table_take(t, idx, 5, &s), VG_OK);
    assert_int_equal(vg_table_rows(s), 5);
    assert_int_equal(vg_table_cols(s), 2);
    assert_string_equal(vg_table_source(s), "small.csv");
    const double *x = vg_table_numbers(s, 0);
    assert_true(x[0] == 4 && isnan(x[1]) && isnan(x[2]) && x[3] == 1 && x[4] == 3);
    const uint32_t *c = vg_table_codes(s, 1);
    /* Same dictionary, so the same codes. */
    assert_int_equal(c[0], VG_CODE_MISSING);
    assert_int_equal(c[1], 1);
    assert_int_equal(c[3], 0);
    assert_int_equal(vg_table_n_categories(s, 1), 2);
    assert_string_equal(vg_table_category(s, 1, 1), "udp");
    assert_int_equal(vg_table_category_code(s, 1, "tcp"), 0);
    assert_int_equal(vg_table_line(s, 0), 13);
    assert_int_equal(vg_table_line(s, 4), 12);
    assert_int_equal(vg_table_checksum(s), 99);
    vg_table_free(s);

    assert_int_equal(vg_table_take(t, NULL, 0, &s), VG_OK);
    assert_int_equal(vg_table_rows(s), 0);
    assert_int_equal(vg_table_cols(s), 2);
    vg_table_free(s);

    const size_t bad[2] = {0, 4};
    s = (vg_table *)1;
    assert_int_equal(vg_table_take(t, bad, 2, &s), VG_ERR_INVALID);
    assert_null(s);
    assert_non_null(strstr(vg_last_error(), "row index 4 out of range"));
    vg_table_free(t);
}

static const char *strip_dot(const char *s, void *user, char *scratch, size_t n)
{
    int *calls = user;
    (*calls)++;
    size_t len = strlen(s);
    if (len && s[len - 1] == '.' && len <= n) {
        memcpy(scratch, s, len - 1);
        scratch[len - 1] = '\0';
        return scratch;
    }
    return strcmp(s, "drop") == 0 ? NULL : s;
}

static void test_map_categories_merges(void **state)
{
    (void)state;
    vg_table *t = vg_table_new("m");
    assert_int_equal(vg_table_add_column(t, "label", VG_COLUMN_CATEGORICAL, NULL), VG_OK);
    const char *v[7] = {"smurf.", "normal.", "normal", "smurf.", "drop", NULL, "neptune"};
    for (int i = 0; i < 7; i++)
        assert_int_equal(vg_table_push_category(t, 0, v[i], v[i] ? strlen(v[i]) : 0), VG_OK);
    assert_int_equal(vg_table_n_categories(t, 0), 5);
    int calls = 0;
    assert_int_equal(vg_table_map_categories(t, 0, strip_dot, &calls), VG_OK);
    assert_int_equal(calls, 5);  /* once per distinct string, not per row */
    assert_int_equal(vg_table_n_categories(t, 0), 3);
    assert_string_equal(vg_table_category(t, 0, 0), "smurf");
    assert_string_equal(vg_table_category(t, 0, 1), "normal");
    assert_string_equal(vg_table_category(t, 0, 2), "neptune");
    const uint32_t *c = vg_table_codes(t, 0);
    const uint32_t want[7] = {0, 1, 1, 0, VG_CODE_MISSING, VG_CODE_MISSING, 2};
    for (int i = 0; i < 7; i++) assert_int_equal(c[i], want[i]);
    assert_int_equal(vg_table_category_code(t, 0, "normal."), VG_CODE_MISSING);
    assert_int_equal(vg_table_category_code(t, 0, "normal"), 1);

    /* Only categorical columns can be mapped. */
    assert_int_equal(vg_table_add_column(t, "n", VG_COLUMN_NUMERIC, NULL), VG_OK);
    assert_int_equal(vg_table_map_categories(t, 1, strip_dot, &calls), VG_ERR_INVALID);
    vg_table_free(t);
}

static void test_make_categorical(void **state)
{
    (void)state;
    vg_table *t = vg_table_new("n");
    assert_int_equal(vg_table_add_column(t, "y", VG_COLUMN_NUMERIC, NULL), VG_OK);
    volatile double tenth = 0.1;  /* 0.1 + 0.2 needs all 17 digits */
    const double v[11] = {0, 1, 0.5, 1e20, -0.0, NAN, 0.1, 1.0 / 3.0, 1, -2.5, tenth + 0.2};
    for (int i = 0; i < 11; i++) assert_int_equal(vg_table_push_number(t, 0, v[i]), VG_OK);
    assert_int_equal(vg_table_make_categorical(t, 0), VG_OK);
    assert_int_equal(vg_table_type(t, 0), VG_COLUMN_CATEGORICAL);
    assert_null(vg_table_numbers(t, 0));
    const uint32_t *c = vg_table_codes(t, 0);
    const char *want[11] = {"0", "1", "0.5", "1e+20", "0", NULL, "0.1", "0.3333333333333333", "1", "-2.5",
                            "0.30000000000000004"};
    for (int i = 0; i < 11; i++) {
        if (!want[i]) {
            assert_int_equal(c[i], VG_CODE_MISSING);
            continue;
        }
        assert_string_equal(vg_table_category(t, 0, c[i]), want[i]);
    }
    assert_int_equal(vg_table_n_categories(t, 0), 8);
    /* The column keeps growing as a categorical one. */
    assert_int_equal(vg_table_push_category(t, 0, "2", 1), VG_OK);
    assert_int_equal(vg_table_rows(t), 12);
    /* Already categorical: nothing to do. */
    assert_int_equal(vg_table_make_categorical(t, 0), VG_OK);
    assert_int_equal(vg_table_n_categories(t, 0), 9);
    vg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_read),
        cmocka_unit_test(test_duplicate_column),
        cmocka_unit_test(test_default_lines),
        cmocka_unit_test(test_many_categories),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_map_categories_merges),
        cmocka_unit_test(test_make_categorical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
