/* Unit tests for the pipeline: fitted on training rows only, imputation,
 * scaling, one-hot and native encodings, unseen categories, matching columns
 * by name, and the save/load round trip with corrupted input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/pipeline.h"
#include "vigil/table.h"

/* A 4-row table: x numeric (1, 2, NaN, 5), proto categorical (tcp, udp, tcp, icmp). */
static vg_table *small_table(const char *source, int swap_order)
{
    vg_table *t = vg_table_new(source);
    size_t cx, cp;
    if (swap_order) {
        vg_table_add_column(t, "proto", VG_COLUMN_CATEGORICAL, &cp);
        vg_table_add_column(t, "x", VG_COLUMN_NUMERIC, &cx);
    } else {
        vg_table_add_column(t, "x", VG_COLUMN_NUMERIC, &cx);
        vg_table_add_column(t, "proto", VG_COLUMN_CATEGORICAL, &cp);
    }
    const double xs[] = { 1, 2, NAN, 5 };
    const char *ps[] = { "tcp", "udp", "tcp", "icmp" };
    for (int i = 0; i < 4; i++) {
        vg_table_push_number(t, cx, xs[i]);
        vg_table_push_category(t, cp, ps[i], strlen(ps[i]));
    }
    return t;
}

static vg_pipeline *fit(const vg_table *t, vg_encoding enc)
{
    size_t cols[2] = { 0, 1 };
    vg_pipeline_params pp = vg_pipeline_params_default();
    pp.encoding = enc;
    vg_pipeline *p = NULL;
    assert_int_equal(vg_pipeline_fit(t, cols, 2, &pp, &p), VG_OK);
    return p;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The imputed value is the median, found by selection rather than a sort:
 * it must equal the sorted array's median for odd and even counts, long
 * runs of equal values, sorted and reversed input. */
static void test_median_by_selection(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    const size_t sizes[] = { 1, 2, 3, 4, 5, 8, 9, 16, 33, 100, 1001, 4096, 100000 };
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        for (int shape = 0; shape < 4; shape++) {
            size_t n = sizes[si];
            double *v = malloc(n * sizeof *v), *ref = malloc(n * sizeof *ref);
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                uint32_t u = (uint32_t)(seed >> 33);
                /* 0: mostly zeros; 1: few distinct values; 2: ascending; 3: descending */
                v[i] = shape == 0 ? (u % 10 == 0 ? (double)(u % 977) : 0.0)
                     : shape == 1 ? (double)(u % 3) - 1.0
                     : shape == 2 ? (double)i * 0.5 : (double)(n - i);
            }
            memcpy(ref, v, n * sizeof *v);
            qsort(ref, n, sizeof *ref, cmp_dbl);
            double want = n % 2 ? ref[n / 2] : 0.5 * (ref[n / 2 - 1] + ref[n / 2]);
            vg_table *t = vg_table_new("median.csv");
            size_t c;
            vg_table_add_column(t, "x", VG_COLUMN_NUMERIC, &c);
            vg_table_push_number(t, c, NAN);  /* the row that shows the median */
            for (size_t i = 0; i < n; i++) vg_table_push_number(t, c, v[i]);
            size_t cols[1] = { 0 };
            vg_pipeline_params pp = vg_pipeline_params_default();
            pp.encoding = VG_ENCODING_NATIVE;
            vg_pipeline *p = NULL;
            assert_int_equal(vg_pipeline_fit(t, cols, 1, &pp, &p), VG_OK);
            vg_matrix X;
            assert_int_equal(vg_pipeline_transform(p, t, &X), VG_OK);
            if (X.data[0] != (float)want)
                fail_msg("n=%zu shape %d: median %g, sorted gives %g", n, shape, (double)X.data[0], want);
            vg_matrix_free(&X);
            vg_pipeline_free(p);
            vg_table_free(t);
            free(v);
            free(ref);
        }
    }
}

static void test_onehot_scaled(void **state)
{
    (void)state;
    vg_table *t = small_table("train.csv", 0);
    vg_pipeline *p = fit(t, VG_ENCODING_ONEHOT_SCALED);
    /* x: median of {1,2,5} = 2; after imputation {1,2,2,5}: mean 2.5, std 1.5. */
    assert_int_equal(vg_pipeline_n_features(p), 1 + 3);
    assert_string_equal(vg_pipeline_features(p)[1].name, "proto=tcp");
    vg_matrix X;
    assert_int_equal(vg_pipeline_transform(p, t, &X), VG_OK);
    const float expect_x[] = { -1, -1.0f / 3, -1.0f / 3, 5.0f / 3 };
    for (int r = 0; r < 4; r++) assert_float_equal(X.data[r * 4], expect_x[r], 1e-6);
    /* one-hot: tcp, udp, icmp in first-seen order */
    assert_true(X.data[0 * 4 + 1] == 1 && X.data[0 * 4 + 2] == 0 && X.data[0 * 4 + 3] == 0);
    assert_true(X.data[1 * 4 + 2] == 1);
    assert_true(X.data[3 * 4 + 3] == 1);
    /* The same rows as CSR: every non-zero entry and nothing else. */
    vg_csr S;
    assert_int_equal(vg_pipeline_transform_csr(p, t, &S), VG_OK);
    assert_int_equal(S.rows, 4);
    assert_int_equal(S.cols, 4);
    size_t nnz = 0;
    for (size_t r = 0; r < 4; r++)
        for (uint64_t k = S.indptr[r]; k < S.indptr[r + 1]; k++, nnz++)
            assert_true(X.data[r * 4 + S.indices[k]] == S.values[k]);
    size_t want = 0;
    for (size_t i = 0; i < 16; i++) want += X.data[i] != 0;
    assert_int_equal(nnz, want);
    vg_csr_free(&S);
    vg_matrix_free(&X);
    vg_pipeline_free(p);
    vg_table_free(t);
}

static void test_native_and_unseen(void **state)
{
    (void)state;
    vg_table *t = small_table("train.csv", 0);
    vg_pipeline *p = fit(t, VG_ENCODING_NATIVE);
    assert_int_equal(vg_pipeline_n_features(p), 2);
    assert_int_equal(vg_pipeline_features(p)[1].kind, VG_FEATURE_CATEGORICAL);
    assert_int_equal(vg_pipeline_features(p)[1].n_categories, 3);

    /* New data: columns in another order, an unseen category and a missing one. */
    vg_table *n = vg_table_new("new.csv");
    size_t cp, cx, cextra;
    vg_table_add_column(n, "extra", VG_COLUMN_NUMERIC, &cextra);
    vg_table_add_column(n, "proto", VG_COLUMN_CATEGORICAL, &cp);
    vg_table_add_column(n, "x", VG_COLUMN_NUMERIC, &cx);
    vg_table_push_number(n, cextra, 0);
    vg_table_push_category(n, cp, "sctp", 4);
    vg_table_push_number(n, cx, NAN);
    vg_table_push_number(n, cextra, 0);
    vg_table_push_category(n, cp, NULL, 0);
    vg_table_push_number(n, cx, 7);
    vg_table_push_number(n, cextra, 0);
    vg_table_push_category(n, cp, "udp", 3);
    vg_table_push_number(n, cx, 1);
    vg_matrix X;
    assert_int_equal(vg_pipeline_transform(p, n, &X), VG_OK);
    assert_float_equal(X.data[0], 2.0, 0);  /* imputed with the training median */
    assert_true(isnan(X.data[1]));          /* unseen category */
    assert_true(isnan(X.data[3]));          /* missing category */
    assert_float_equal(X.data[4], 1.0, 0);
    assert_float_equal(X.data[5], 1.0, 0);  /* udp is code 1 */
    vg_matrix_free(&X);

    /* One-hot of the same data: unseen and missing are all zeros. */
    vg_pipeline *q = fit(t, VG_ENCODING_ONEHOT_SCALED);
    assert_int_equal(vg_pipeline_transform(q, n, &X), VG_OK);
    for (int k = 1; k < 4; k++) assert_true(X.data[0 * 4 + k] == 0 && X.data[1 * 4 + k] == 0);
    assert_true(X.data[2 * 4 + 2] == 1);
    vg_matrix_free(&X);
    vg_pipeline_free(q);
    vg_pipeline_free(p);
    vg_table_free(n);
    vg_table_free(t);
}

/* Warnings the library logs, captured. */
static char logged[2048];
static int n_logged;

static void capture(vg_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level != VG_LOG_WARN) return;
    n_logged++;
    snprintf(logged, sizeof logged, "%s", msg);
}

static void start_capture(void)
{
    logged[0] = '\0';
    n_logged = 0;
    vg_log_set_sink(capture, NULL);
}

static void test_absent_and_empty_columns_imputed(void **state)
{
    (void)state;
    vg_table *t = small_table("train.csv", 0);
    vg_pipeline *p = fit(t, VG_ENCODING_NATIVE);
    vg_matrix X;
    size_t c;
    start_capture();

    /* 'proto' not in the file: imputed as missing, one warning naming it. */
    vg_table *n = vg_table_new("new.csv");
    vg_table_add_column(n, "x", VG_COLUMN_NUMERIC, &c);
    vg_table_push_number(n, c, 1);
    vg_table_push_number(n, c, 7);
    assert_int_equal(vg_pipeline_transform(p, n, &X), VG_OK);
    assert_float_equal(X.data[0], 1, 0);
    assert_true(isnan(X.data[1]) && isnan(X.data[3]));
    vg_matrix_free(&X);
    assert_int_equal(n_logged, 1);
    assert_non_null(strstr(logged, "new.csv"));
    assert_non_null(strstr(logged, "proto (not in the file)"));
    vg_table_free(n);

    /* 'proto' present but without a value in any row, and typed numeric by
     * the reader (a login file without the ASN column): the model's schema
     * says categorical, so it is imputed, not refused as "read as numbers". */
    start_capture();
    n = vg_table_new("login9.csv");
    vg_table_add_column(n, "proto", VG_COLUMN_NUMERIC, &c);
    vg_table_push_number(n, c, NAN);
    vg_table_push_number(n, c, NAN);
    vg_table_add_column(n, "x", VG_COLUMN_NUMERIC, &c);
    vg_table_push_number(n, c, NAN);
    vg_table_push_number(n, c, 5);
    assert_int_equal(vg_pipeline_transform(p, n, &X), VG_OK);
    assert_float_equal(X.data[0], 2, 0);  /* the training median */
    assert_float_equal(X.data[2], 5, 0);
    assert_true(isnan(X.data[1]) && isnan(X.data[3]));
    vg_matrix_free(&X);
    assert_int_equal(n_logged, 1);
    assert_non_null(strstr(logged, "login9.csv"));
    assert_non_null(strstr(logged, "proto (no value in any row)"));
    vg_table_free(n);

    /* Both kinds at once: still one warning, naming both. */
    start_capture();
    n = vg_table_new("both.csv");
    vg_table_add_column(n, "x", VG_COLUMN_CATEGORICAL, &c);
    vg_table_push_category(n, c, NULL, 0);
    assert_int_equal(vg_pipeline_transform(p, n, &X), VG_OK);
    vg_matrix_free(&X);
    assert_int_equal(n_logged, 1);
    assert_non_null(strstr(logged, "proto (not in the file) and x (no value in any row)"));
    vg_table_free(n);

    /* More than half of the inputs absent: the wrong file, an error. */
    n = vg_table_new("other.csv");
    vg_table_add_column(n, "y", VG_COLUMN_NUMERIC, &c);
    vg_table_push_number(n, c, 1);
    assert_int_equal(vg_pipeline_transform(p, n, &X), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "other.csv: 2 of the model's 2 input columns are missing (x, proto)"));
    vg_table_free(n);

    /* A column with values of the wrong type is still refused. */
    n = vg_table_new("typed.csv");
    vg_table_add_column(n, "x", VG_COLUMN_CATEGORICAL, &c);
    vg_table_push_category(n, c, "abc", 3);
    vg_table_add_column(n, "proto", VG_COLUMN_CATEGORICAL, &c);
    vg_table_push_category(n, c, "tcp", 3);
    assert_int_equal(vg_pipeline_transform(p, n, &X), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "'x' holds text"));
    vg_table_free(n);
    vg_log_set_sink(NULL, NULL);
    vg_pipeline_free(p);
    vg_table_free(t);
}

/* A column without a value in any training row is not an input (its type
 * was a guess), so a later file that fills it with text is still scored. */
static void test_fit_skips_empty_columns(void **state)
{
    (void)state;
    vg_table *t = small_table("train9.csv", 0);
    size_t c;
    vg_table_add_column(t, "asn", VG_COLUMN_NUMERIC, &c);
    for (int i = 0; i < 4; i++) vg_table_push_number(t, c, NAN);
    size_t cols[3] = { 0, 2, 1 };
    vg_pipeline_params pp = vg_pipeline_params_default();
    vg_pipeline *p = NULL;
    start_capture();
    assert_int_equal(vg_pipeline_fit(t, cols, 3, &pp, &p), VG_OK);
    assert_int_equal(n_logged, 1);
    assert_non_null(strstr(logged, "train9.csv: not used as feature, no value in any training row: asn"));
    assert_int_equal(vg_pipeline_n_inputs(p), 2);
    assert_string_equal(vg_pipeline_input_name(p, 0), "x");
    assert_string_equal(vg_pipeline_input_name(p, 1), "proto");

    vg_table *n = vg_table_new("full16.csv");
    vg_table_add_column(n, "asn", VG_COLUMN_CATEGORICAL, &c);
    vg_table_push_category(n, c, "AS29695", 7);
    vg_table_add_column(n, "x", VG_COLUMN_NUMERIC, &c);
    vg_table_push_number(n, c, 2.5);
    vg_table_add_column(n, "proto", VG_COLUMN_CATEGORICAL, &c);
    vg_table_push_category(n, c, "udp", 3);
    vg_matrix X;
    start_capture();
    assert_int_equal(vg_pipeline_transform(p, n, &X), VG_OK);
    assert_int_equal(n_logged, 0);
    vg_matrix_free(&X);
    vg_table_free(n);
    vg_pipeline_free(p);

    /* Nothing but empty columns: nothing to learn from. */
    size_t only[1] = { 2 };
    assert_int_equal(vg_pipeline_fit(t, only, 1, &pp, &p), VG_ERR_DATA);
    assert_null(p);
    assert_non_null(strstr(vg_last_error(), "train9.csv: no feature column has a value in any training row (asn)"));
    vg_log_set_sink(NULL, NULL);
    vg_table_free(t);
}

static void test_fit_uses_only_given_rows(void **state)
{
    (void)state;
    /* Statistics come from the table the pipeline is fitted on and nothing else:
     * fitting on a subset gives that subset's median. */
    vg_table *t = small_table("train.csv", 0);
    size_t idx[2] = { 0, 3 };
    vg_table *sub;
    assert_int_equal(vg_table_take(t, idx, 2, &sub), VG_OK);
    vg_pipeline *p = fit(sub, VG_ENCODING_NATIVE);
    vg_matrix X;
    assert_int_equal(vg_pipeline_transform(p, t, &X), VG_OK);
    assert_float_equal(X.data[2 * 2], 3.0, 0);  /* median of {1, 5} imputes row 3 */
    /* Only tcp and icmp were seen: udp is unseen now. */
    assert_int_equal(vg_pipeline_input_n_categories(p, 1), 2);
    assert_true(isnan(X.data[1 * 2 + 1]));
    vg_matrix_free(&X);
    vg_pipeline_free(p);
    vg_table_free(sub);
    vg_table_free(t);
}

static void test_save_load(void **state)
{
    (void)state;
    vg_table *t = small_table("train.csv", 1);
    vg_pipeline *p = fit(t, VG_ENCODING_ONEHOT_SCALED);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(vg_pipeline_save(p, &w), VG_OK);
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "pipeline");
    vg_pipeline *q = NULL;
    vg_status st = vg_pipeline_load(&r, &q);
    if (st) print_error("load: %s\n", vg_last_error());
    assert_int_equal(st, VG_OK);
    vg_matrix A, B;
    assert_int_equal(vg_pipeline_transform(p, t, &A), VG_OK);
    assert_int_equal(vg_pipeline_transform(q, t, &B), VG_OK);
    assert_int_equal(A.cols, B.cols);
    assert_memory_equal(A.data, B.data, A.rows * A.cols * sizeof(float));
    vg_matrix_free(&A);
    vg_matrix_free(&B);
    vg_pipeline_free(q);
    /* Every truncation is refused; flipped bytes never crash. */
    for (size_t len = 0; len < w.len; len++) {
        vg_rbuf_init(&r, w.data, len, "pipeline");
        q = NULL;
        assert_int_not_equal(vg_pipeline_load(&r, &q), VG_OK);
        assert_null(q);
    }
    for (size_t i = 0; i < w.len; i++) {
        uint8_t saved = w.data[i];
        w.data[i] ^= 0xA5;
        vg_rbuf_init(&r, w.data, w.len, "pipeline");
        q = NULL;
        if (vg_pipeline_load(&r, &q) == VG_OK) vg_pipeline_free(q);
        w.data[i] = saved;
    }
    vg_wbuf_free(&w);
    vg_pipeline_free(p);
    vg_table_free(t);
}

static vg_field text_field(const char *name, const char *text)
{
    return (vg_field){ .name = name, .name_len = strlen(name), .kind = text ? VG_FIELD_TEXT : VG_FIELD_NULL,
                       .text = text, .text_len = text ? strlen(text) : 0 };
}

static void test_record(void **state)
{
    (void)state;
    vg_table *t = small_table("train.csv", 0);
    vg_pipeline *p = fit(t, VG_ENCODING_ONEHOT_SCALED);
    float row[4], ref[4];
    /* In training order, as numbers: equals the table transform of row 2. */
    vg_field in_order[2] = { { .name = "x", .name_len = 1, .kind = VG_FIELD_NUMBER, .number = 2 },
                             text_field("proto", "udp") };
    vg_record_report rep;
    assert_int_equal(vg_pipeline_transform_record(p, in_order, 2, row, &rep), VG_OK);
    vg_matrix X;
    assert_int_equal(vg_pipeline_transform(p, t, &X), VG_OK);
    memcpy(ref, X.data + 1 * 4, sizeof ref);
    vg_matrix_free(&X);
    assert_memory_equal(row, ref, sizeof ref);
    assert_int_equal(rep.missing + rep.unknown + rep.unseen, 0);
    /* Reordered, with a number as text, an unknown field and an unseen category. */
    vg_field mixed[3] = { text_field("proto", "sctp"), text_field("extra", "1"), text_field("x", "2") };
    assert_int_equal(vg_pipeline_transform_record(p, mixed, 3, row, &rep), VG_OK);
    assert_float_equal(row[0], ref[0], 0);
    assert_true(row[1] == 0 && row[2] == 0 && row[3] == 0);
    assert_int_equal(rep.unknown, 1);
    assert_int_equal(rep.unseen, 1);
    /* Absent input: imputed and reported. */
    vg_field only_proto[1] = { text_field("proto", "tcp") };
    assert_int_equal(vg_pipeline_transform_record(p, only_proto, 1, row, &rep), VG_OK);
    assert_int_equal(rep.missing, 1);
    assert_float_equal(row[0], (2.0 - 2.5) / 1.5, 1e-6);
    /* Text that is not a number in a numeric field names the field. */
    vg_field bad[1] = { text_field("x", "abc") };
    assert_int_equal(vg_pipeline_transform_record(p, bad, 1, row, NULL), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "field 'x'"));
    vg_pipeline_free(p);
    vg_table_free(t);
}

/* The table transform fills the matrix a block of rows at a time: over
 * several blocks and a ragged end, with missing values, missing and unseen
 * categories, every row equals the record path's, in both encodings. */
static void test_table_equals_records(void **state)
{
    (void)state;
    vg_table *t = small_table("train.csv", 0);
    const vg_encoding encs[2] = { VG_ENCODING_ONEHOT_SCALED, VG_ENCODING_NATIVE };
    for (int e = 0; e < 2; e++) {
        vg_pipeline *p = fit(t, encs[e]);
        size_t nf = vg_pipeline_n_features(p), rows = 1000;
        vg_table *n = vg_table_new("many.csv");
        size_t cx, cp;
        vg_table_add_column(n, "x", VG_COLUMN_NUMERIC, &cx);
        vg_table_add_column(n, "proto", VG_COLUMN_CATEGORICAL, &cp);
        const char *ps[] = { "tcp", "udp", "icmp", "sctp", NULL };
        for (size_t r = 0; r < rows; r++) {
            vg_table_push_number(n, cx, r % 7 == 3 ? NAN : (double)r * 0.25 - 10);
            const char *c = ps[r % 5];
            vg_table_push_category(n, cp, c, c ? strlen(c) : 0);
        }
        vg_matrix X;
        assert_int_equal(vg_pipeline_transform(p, n, &X), VG_OK);
        assert_int_equal(X.rows, rows);
        float row[8];
        assert_true(nf <= 8);
        for (size_t r = 0; r < rows; r++) {
            vg_field f[2] = { { .name = "x", .name_len = 1, .kind = r % 7 == 3 ? VG_FIELD_NULL : VG_FIELD_NUMBER,
                                .number = (double)r * 0.25 - 10 },
                              text_field("proto", ps[r % 5]) };
            assert_int_equal(vg_pipeline_transform_record(p, f, 2, row, NULL), VG_OK);
            assert_memory_equal(row, X.data + r * nf, nf * sizeof *row);
        }
        vg_matrix_free(&X);
        vg_table_free(n);
        vg_pipeline_free(p);
    }
    vg_table_free(t);
}

/* A plan (a layout bound once) gives the record path's row bit for bit in
 * both encodings: numbers, NaN, nulls, a number as text, unseen, repeated
 * (its memo) and long categories; a record whose names are other pointers
 * and a layout that lacks an input take the record path; a bad number
 * still fails naming its field. */
static void test_plan_equals_record(void **state)
{
    (void)state;
    vg_table *t = small_table("train.csv", 0);
    const vg_encoding encs[2] = { VG_ENCODING_ONEHOT_SCALED, VG_ENCODING_NATIVE };
    static const char x_name[] = "x", proto_name[] = "proto";
    char other_x[2] = "x";
    const char *ps[] = { "tcp", "tcp", "udp", "sctp", NULL, "icmp", "a category longer than sixteen bytes", "udp" };
    for (int e = 0; e < 2; e++) {
        vg_pipeline *p = fit(t, encs[e]);
        size_t nf = vg_pipeline_n_features(p);
        float row[8], ref[8];
        assert_true(nf <= 8);
        vg_field f[2] = { { .name = x_name, .name_len = 1, .kind = VG_FIELD_NUMBER }, text_field(proto_name, "tcp") };
        vg_pipeline_plan *pl = NULL, *half = NULL;
        assert_int_equal(vg_pipeline_plan_new(p, f, 2, &pl), VG_OK);
        assert_int_equal(vg_pipeline_plan_new(p, f + 1, 1, &half), VG_OK);
        for (size_t r = 0; r < 64; r++) {
            f[0].name = r % 11 == 5 ? other_x : x_name;
            f[0].kind = r % 7 == 3 ? VG_FIELD_NULL : r % 13 == 4 ? VG_FIELD_TEXT : VG_FIELD_NUMBER;
            f[0].number = r % 9 == 2 ? NAN : (double)r * 0.5 - 7;
            f[0].text = "2", f[0].text_len = 1;
            f[1] = text_field(proto_name, ps[r % 8]);
            memset(row, 0xA5, sizeof row);
            assert_int_equal(vg_pipeline_transform_record(p, f, 2, ref, NULL), VG_OK);
            assert_int_equal(vg_pipeline_plan_transform(pl, f, 2, row), VG_OK);
            assert_memory_equal(row, ref, nf * sizeof *row);
            assert_int_equal(vg_pipeline_transform_record(p, f + 1, 1, ref, NULL), VG_OK);
            assert_int_equal(vg_pipeline_plan_transform(half, f + 1, 1, row), VG_OK);
            assert_memory_equal(row, ref, nf * sizeof *row);
        }
        f[0] = text_field(x_name, "abc");
        assert_int_equal(vg_pipeline_plan_transform(pl, f, 2, row), VG_ERR_PARSE);
        assert_non_null(strstr(vg_last_error(), "field 'x'"));
        vg_pipeline_plan_free(pl);
        vg_pipeline_plan_free(half);
        vg_pipeline_free(p);
    }
    vg_table_free(t);
}

/* vg_pipeline_blocks_rows writes the whole transform's rows, whatever the
 * block (into scratch holding old values), for both encodings, with NaN,
 * unseen, missing and absent columns. */
static void test_blocks_rows_match_transform(void **state)
{
    (void)state;
    vg_table *t = small_table("train.csv", 0);
    size_t cy;
    vg_table_add_column(t, "y", VG_COLUMN_NUMERIC, &cy);
    for (int i = 0; i < 4; i++) vg_table_push_number(t, cy, i);
    size_t cols[3] = { 0, 1, 2 };
    vg_table *n = vg_table_new("new.csv");
    size_t cp, cx;
    vg_table_add_column(n, "proto", VG_COLUMN_CATEGORICAL, &cp);
    vg_table_add_column(n, "x", VG_COLUMN_NUMERIC, &cx);  /* y absent: imputed */
    const char *ps[] = { "tcp", "udp", "icmp", "sctp", NULL };
    for (int i = 0; i < 5000; i++) {
        const char *c = ps[i % 5];
        vg_table_push_category(n, cp, c, c ? strlen(c) : 0);
        vg_table_push_number(n, cx, i % 7 == 3 ? NAN : (double)(i % 11));
    }
    for (int enc = 0; enc < 2; enc++) {
        vg_pipeline_params pp = vg_pipeline_params_default();
        pp.encoding = enc ? VG_ENCODING_ONEHOT_SCALED : VG_ENCODING_NATIVE;
        vg_pipeline *p = NULL;
        assert_int_equal(vg_pipeline_fit(t, cols, 3, &pp, &p), VG_OK);
        vg_matrix X;
        assert_int_equal(vg_pipeline_transform(p, n, &X), VG_OK);
        vg_pipeline_blocks *pl = NULL;
        assert_int_equal(vg_pipeline_blocks_new(p, n, &pl), VG_OK);
        size_t F = X.cols, blocks[] = { 1, 7, 128, 2049 };
        float *out = malloc(2049 * F * sizeof *out);
        for (size_t b = 0; b < 4; b++)
            for (size_t r0 = 0; r0 < X.rows; r0 += blocks[b]) {
                size_t rows = blocks[b] < X.rows - r0 ? blocks[b] : X.rows - r0;
                for (size_t i = 0; i < rows * F; i++) out[i] = 42.0f;
                vg_pipeline_blocks_rows(pl, r0, rows, out);
                assert_memory_equal(out, X.data + r0 * F, rows * F * sizeof *out);
            }
        free(out);
        vg_pipeline_blocks_free(pl);
        vg_matrix_free(&X);
        /* A wrong file is refused by blocks_new as by the transform. */
        vg_table *bad = vg_table_new("bad.csv");
        size_t cz;
        vg_table_add_column(bad, "z", VG_COLUMN_NUMERIC, &cz);
        vg_table_push_number(bad, cz, 1);
        assert_int_equal(vg_pipeline_blocks_new(p, bad, &pl), VG_ERR_INVALID);
        assert_null(pl);
        vg_table_free(bad);
        vg_pipeline_free(p);
    }
    vg_table_free(n);
    vg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_onehot_scaled),
        cmocka_unit_test(test_median_by_selection),
        cmocka_unit_test(test_native_and_unseen),
        cmocka_unit_test(test_absent_and_empty_columns_imputed),
        cmocka_unit_test(test_fit_skips_empty_columns),
        cmocka_unit_test(test_fit_uses_only_given_rows),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_table_equals_records),
        cmocka_unit_test(test_plan_equals_record),
        cmocka_unit_test(test_blocks_rows_match_transform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
