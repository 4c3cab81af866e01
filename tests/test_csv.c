/* Unit tests for the CSV reader, the byte reader (plain, gzip, stdin) and the
 * number parser: quoting, line ends, BOM, missing values, header and
 * delimiter detection, type inference (including a column that turns
 * categorical late), forced types, every error with its line number, the
 * limits, gzip == plain, and vg_parse_number == strtod. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "vigil/core.h"
#include "vigil/csv.h"
#include "vigil/table.h"
#include "testutil.h"

/* ---- helpers -------------------------------------------------------------- */

static vg_status rd(const char *text, const vg_csv_options *o, vg_table **t)
{
    return vg_csv_read_memory(text, strlen(text), "t.csv", o, t);
}

static vg_table *rd_ok(const char *text, const vg_csv_options *o)
{
    vg_table *t = NULL;
    vg_status s = rd(text, o, &t);
    if (s != VG_OK) print_error("unexpected failure: %s\n", vg_last_error());
    assert_int_equal(s, VG_OK);
    assert_non_null(t);
    return t;
}

/* The read fails with `want` and the message contains `msg`. */
static void expect_fail_n(const char *text, size_t len, const vg_csv_options *o, vg_status want, const char *msg)
{
    vg_table *t = (vg_table *)&t;
    vg_status s = vg_csv_read_memory(text, len, "t.csv", o, &t);
    if (s != want || !strstr(vg_last_error(), msg))
        print_error("status %d, message '%s'; wanted %d, '%s'\n", s, vg_last_error(), want, msg);
    assert_int_equal(s, want);
    assert_null(t);
    assert_non_null(strstr(vg_last_error(), msg));
}

static void expect_fail(const char *text, const vg_csv_options *o, vg_status want, const char *msg)
{
    expect_fail_n(text, strlen(text), o, want, msg);
}

static const char *cat(const vg_table *t, const char *col, size_t row)
{
    long j = vg_table_find(t, col);
    assert_true(j >= 0);
    const uint32_t *c = vg_table_codes(t, (size_t)j);
    assert_non_null(c);
    return c[row] == VG_CODE_MISSING ? NULL : vg_table_category(t, (size_t)j, c[row]);
}

static double num(const vg_table *t, const char *col, size_t row)
{
    long j = vg_table_find(t, col);
    assert_true(j >= 0);
    const double *x = vg_table_numbers(t, (size_t)j);
    assert_non_null(x);
    return x[row];
}

static void assert_cat(const vg_table *t, const char *col, size_t row, const char *want)
{
    const char *got = cat(t, col, row);
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
}

/* gzip (not zlib) framing of data into a new malloc'd buffer. */
static unsigned char *gzip_bytes(const void *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, len) + 64;
    unsigned char *out = malloc(cap);
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* Two tables hold the same schema, values, dictionaries and lines. */
static void assert_same_table(const vg_table *a, const vg_table *b)
{
    assert_int_equal(vg_table_rows(a), vg_table_rows(b));
    assert_int_equal(vg_table_cols(a), vg_table_cols(b));
    size_t n = vg_table_rows(a);
    for (size_t j = 0; j < vg_table_cols(a); j++) {
        assert_string_equal(vg_table_name(a, j), vg_table_name(b, j));
        assert_int_equal(vg_table_type(a, j), vg_table_type(b, j));
        if (vg_table_type(a, j) == VG_COLUMN_NUMERIC) {
            assert_memory_equal(vg_table_numbers(a, j), vg_table_numbers(b, j), n * sizeof(double));
        } else {
            assert_memory_equal(vg_table_codes(a, j), vg_table_codes(b, j), n * sizeof(uint32_t));
            assert_int_equal(vg_table_n_categories(a, j), vg_table_n_categories(b, j));
            for (uint32_t k = 0; k < vg_table_n_categories(a, j); k++)
                assert_string_equal(vg_table_category(a, j, k), vg_table_category(b, j, k));
        }
    }
    for (size_t i = 0; i < n; i++) assert_int_equal(vg_table_line(a, i), vg_table_line(b, i));
    assert_int_equal(vg_table_checksum(a), vg_table_checksum(b));
}

/* ---- format --------------------------------------------------------------- */

static void test_basic_inference(void **state)
{
    (void)state;
    vg_table *t = rd_ok("a,b,c\n1,x,2.5\n3,y,\n", NULL);
    assert_int_equal(vg_table_rows(t), 2);
    assert_int_equal(vg_table_cols(t), 3);
    assert_int_equal(vg_table_type(t, 0), VG_COLUMN_NUMERIC);
    assert_int_equal(vg_table_type(t, 1), VG_COLUMN_CATEGORICAL);
    assert_int_equal(vg_table_type(t, 2), VG_COLUMN_NUMERIC);
    assert_true(num(t, "a", 0) == 1 && num(t, "a", 1) == 3);
    assert_cat(t, "b", 0, "x");
    assert_cat(t, "b", 1, "y");
    assert_true(num(t, "c", 0) == 2.5 && isnan(num(t, "c", 1)));
    assert_int_equal(vg_table_line(t, 0), 2);
    assert_int_equal(vg_table_line(t, 1), 3);
    assert_string_equal(vg_table_source(t), "t.csv");
    assert_true(vg_table_checksum(t) != 0);
    vg_table_free(t);
}

static void test_quoting(void **state)
{
    (void)state;
    const char *text =
        "name,desc,n\n"
        "\"a,b\",\"he said \"\"hi\"\"\",1\n"
        "\"multi\nline\",plain,2\n"
        "  \"spaced\"  , x ,3\n"
        "\"\",\"\"\"\",4\n"
        "\" keep \",\"\",\" 5 \"\n";
    vg_table *t = rd_ok(text, NULL);
    assert_int_equal(vg_table_rows(t), 5);
    assert_cat(t, "name", 0, "a,b");
    assert_cat(t, "desc", 0, "he said \"hi\"");
    assert_cat(t, "name", 1, "multi\nline");
    assert_cat(t, "desc", 1, "plain");
    assert_cat(t, "name", 2, "spaced");
    assert_cat(t, "desc", 2, "x");
    assert_cat(t, "name", 3, NULL);  /* "" is empty, so missing */
    assert_cat(t, "desc", 3, "\"");
    assert_cat(t, "name", 4, " keep ");  /* spaces inside quotes are kept */
    assert_true(num(t, "n", 4) == 5);    /* a quoted number is still a number */
    const uint64_t lines[5] = {2, 3, 5, 6, 7};
    for (int i = 0; i < 5; i++) assert_int_equal(vg_table_line(t, (size_t)i), lines[i]);
    vg_table_free(t);
}

static void test_line_endings(void **state)
{
    (void)state;
    vg_table *lf = rd_ok("a,b\n1,x\n2,\"p\nq\"\n3,z\n", NULL);
    vg_table *crlf = rd_ok("a,b\r\n1,x\r\n2,\"p\nq\"\r\n3,z\r\n", NULL);
    vg_table *cr = rd_ok("a,b\r1,x\r2,\"p\nq\"\r3,z\r", NULL);
    vg_table *nofinal = rd_ok("a,b\n1,x\n2,\"p\nq\"\n3,z", NULL);
    /* Same text, so the checksums differ; compare the rest. */
    vg_table_set_checksum(crlf, vg_table_checksum(lf));
    vg_table_set_checksum(cr, vg_table_checksum(lf));
    vg_table_set_checksum(nofinal, vg_table_checksum(lf));
    assert_same_table(lf, crlf);
    assert_same_table(lf, cr);
    assert_same_table(lf, nofinal);
    assert_int_equal(vg_table_line(crlf, 2), 5);
    vg_table_free(lf);
    vg_table_free(crlf);
    vg_table_free(cr);
    vg_table_free(nofinal);

    /* CRLF inside quotes is part of the value; blank lines carry no row. */
    vg_table *t = rd_ok("a,b\r\n\r\n\"p\r\nq\",1\r\n\n\n2,3\n", NULL);
    assert_int_equal(vg_table_rows(t), 2);
    assert_cat(t, "a", 0, "p\r\nq");
    assert_int_equal(vg_table_line(t, 0), 3);
    assert_int_equal(vg_table_line(t, 1), 7);
    vg_table_free(t);

    /* Old Mac files: a lone CR inside quotes is a line break too. */
    t = rd_ok("a,b\r\"p\rq\",1\r2,3\r", NULL);
    assert_cat(t, "a", 0, "p\rq");
    assert_int_equal(vg_table_line(t, 1), 4);
    vg_table_free(t);
}

static void test_bom(void **state)
{
    (void)state;
    vg_table *t = rd_ok("\xEF\xBB\xBF" "a,b\n1,2\n", NULL);
    assert_string_equal(vg_table_name(t, 0), "a");
    assert_int_equal(vg_table_rows(t), 1);
    assert_true(num(t, "a", 0) == 1);
    vg_table_free(t);
}

static void test_missing_values(void **state)
{
    (void)state;
    const char *text =
        "a,b\n"
        "1,x\n"
        ",NA\n"
        "?,n/a\n"
        "NaN,null\n"
        " NA ,NULL\n"
        "nan,\"\"\n"
        "N/a,Na\n"
        "nUlL,?\n";
    vg_table *t = rd_ok(text, NULL);
    assert_int_equal(vg_table_rows(t), 8);
    assert_int_equal(vg_table_type(t, 0), VG_COLUMN_NUMERIC);
    assert_true(num(t, "a", 0) == 1);
    for (size_t i = 1; i < 8; i++) {
        assert_true(isnan(num(t, "a", i)));
        assert_cat(t, "b", i, NULL);
    }
    assert_int_equal(vg_table_n_categories(t, 1), 1);
    vg_table_free(t);

    /* Words that only look like missing markers are values. */
    t = rd_ok("a\nx\nnone\nNAN2\n-\n", NULL);
    assert_cat(t, "a", 1, "none");
    assert_cat(t, "a", 2, "NAN2");
    assert_cat(t, "a", 3, "-");
    vg_table_free(t);
}

static void test_header_detection(void **state)
{
    (void)state;
    vg_table *t = rd_ok("x,y\n1,2\n", NULL);
    assert_string_equal(vg_table_name(t, 0), "x");
    assert_int_equal(vg_table_rows(t), 1);
    vg_table_free(t);

    t = rd_ok("1,2\n3,4\n", NULL);  /* numbers on line 1: data */
    assert_string_equal(vg_table_name(t, 0), "c1");
    assert_string_equal(vg_table_name(t, 1), "c2");
    assert_int_equal(vg_table_rows(t), 2);
    assert_true(num(t, "c1", 0) == 1);
    assert_int_equal(vg_table_line(t, 0), 1);
    vg_table_free(t);

    t = rd_ok("a,1\nb,3\n", NULL);  /* one number on line 1: data */
    assert_int_equal(vg_table_rows(t), 2);
    assert_cat(t, "c1", 0, "a");
    vg_table_free(t);

    /* A number on line 2 decides, even if a name comes back as a value. */
    t = rd_ok("kind,n\nkind,1\n", NULL);
    assert_string_equal(vg_table_name(t, 0), "kind");
    assert_int_equal(vg_table_rows(t), 1);
    vg_table_free(t);

    t = rd_ok("x,y\n,2\n", NULL);  /* a number on line 2 under text: header */
    assert_string_equal(vg_table_name(t, 1), "y");
    assert_int_equal(vg_table_rows(t), 1);
    vg_table_free(t);

    /* All text: values of line 1 come back in their column, so data. */
    t = rd_ok("a,b\nc,d\na,e\n", NULL);
    assert_int_equal(vg_table_rows(t), 3);
    assert_string_equal(vg_table_name(t, 0), "c1");
    vg_table_free(t);

    /* All text, and line 1 never repeats: a header. */
    t = rd_ok("name,city\nbob,paris\nal,rome\nbob,rome\n", NULL);
    assert_int_equal(vg_table_rows(t), 3);
    assert_string_equal(vg_table_name(t, 1), "city");
    vg_table_free(t);

    /* Forced either way. */
    vg_csv_options o = vg_csv_options_default();
    o.header = 1;
    t = rd_ok("1,2\n3,4\n", &o);
    assert_string_equal(vg_table_name(t, 0), "1");
    assert_int_equal(vg_table_rows(t), 1);
    vg_table_free(t);

    o.header = 0;
    const char *names[2] = {"p", "q"};
    o.names = names;
    o.n_names = 2;
    t = rd_ok("x,y\n1,2\n", &o);
    assert_string_equal(vg_table_name(t, 0), "p");
    assert_int_equal(vg_table_rows(t), 2);
    assert_cat(t, "q", 0, "y");
    assert_cat(t, "q", 1, "2");
    vg_table_free(t);
}

static void test_delimiter_detection(void **state)
{
    (void)state;
    vg_csv_options o = vg_csv_options_default();
    o.delimiter = 0;
    vg_table *t = rd_ok("a;b;c\n1,5;2;3\n", &o);
    assert_int_equal(vg_table_cols(t), 3);
    assert_cat(t, "a", 0, "1,5");
    assert_true(num(t, "c", 0) == 3);
    vg_table_free(t);

    t = rd_ok("a\tb\n1\t2\n", &o);
    assert_int_equal(vg_table_cols(t), 2);
    assert_true(num(t, "b", 0) == 2);
    vg_table_free(t);

    /* Commas inside quotes do not count. */
    t = rd_ok("x|y\n\"a,b,c\"|1\n\"d,e\"|2\n", &o);
    assert_int_equal(vg_table_cols(t), 2);
    assert_cat(t, "x", 1, "d,e");
    vg_table_free(t);

    /* The one consistent across lines wins over the most frequent on line 1. */
    t = rd_ok("a,b,c|d\n1,2|3\n4,5|6\n", &o);
    assert_int_equal(vg_table_cols(t), 2);
    assert_string_equal(vg_table_name(t, 0), "a,b,c");
    vg_table_free(t);

    t = rd_ok("a\n1\n2\n", &o);  /* nothing to split on: one column */
    assert_int_equal(vg_table_cols(t), 1);
    assert_int_equal(vg_table_rows(t), 2);
    vg_table_free(t);

    o.delimiter = ';';  /* given, not detected */
    t = rd_ok("a,b;c\n1,2;3\n", &o);
    assert_string_equal(vg_table_name(t, 0), "a,b");
    vg_table_free(t);
}

/* Column v is numeric for four rows, then meets "abc": its earlier rows must
 * come back with their exact text, quoted, spaced and multi-line records
 * included. */
static void test_late_categorical(void **state)
{
    (void)state;
    const char *text =
        "id,v,note\n"
        "1,1.50,\"a\n"
        "b\"\n"
        "2,007,plain\n"
        "3,,\"say \"\"x\"\"\"\n"
        "4,\" 2e3 \",z\n"
        "5,abc,w\n"
        "6,1.50,w\n";
    vg_table *t = rd_ok(text, NULL);
    assert_int_equal(vg_table_rows(t), 6);
    assert_int_equal(vg_table_type(t, 0), VG_COLUMN_NUMERIC);
    assert_int_equal(vg_table_type(t, 1), VG_COLUMN_CATEGORICAL);
    const char *want[6] = {"1.50", "007", NULL, " 2e3 ", "abc", "1.50"};
    for (size_t i = 0; i < 6; i++) assert_cat(t, "v", i, want[i]);
    assert_int_equal(vg_table_n_categories(t, 1), 4);
    assert_int_equal(vg_table_codes(t, 1)[0], 0);  /* first-seen order survives the re-scan */
    assert_int_equal(vg_table_codes(t, 1)[4], 3);
    assert_cat(t, "note", 0, "a\nb");
    assert_cat(t, "note", 2, "say \"x\"");
    for (size_t i = 0; i < 6; i++) assert_true(num(t, "id", i) == (double)(i + 1));
    const uint64_t lines[6] = {2, 4, 5, 6, 7, 8};
    for (size_t i = 0; i < 6; i++) assert_int_equal(vg_table_line(t, i), lines[i]);
    vg_table_free(t);
}

/* 19 numbers and one word: a typo, not a category. */
static void test_mostly_numeric_is_error(void **state)
{
    (void)state;
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "x,y\n");
    for (int i = 1; i <= 20; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s,%d\n", i == 11 ? "abc" : (i == 3 ? "3.0" : "7"), i);
    vg_table *t = NULL;
    assert_int_equal(rd(text, NULL, &t), VG_ERR_PARSE);
    assert_null(t);
    assert_string_equal(vg_last_error(),
                        "t.csv:12: field 'x': 'abc' is not a number, but 95% of the column is numeric "
                        "(use --categorical x if it is a category)");

    /* Declared categorical, it reads, with the exact text. */
    vg_csv_options o = vg_csv_options_default();
    const char *cats[1] = {"x"};
    o.categorical = cats;
    o.n_categorical = 1;
    t = rd_ok(text, &o);
    assert_cat(t, "x", 2, "3.0");
    assert_cat(t, "x", 10, "abc");
    vg_table_free(t);

    /* Exactly 90% fails; below 90% is a category. */
    assert_int_equal(rd("x\n1\n2\n3\n4\n5\n6\n7\n8\n9\nq\n", NULL, &t), VG_ERR_PARSE);
    assert_non_null(strstr(vg_last_error(), "t.csv:11: field 'x': 'q' is not a number, but 90%"));
    t = rd_ok("x\n1\n2\n3\n4\n5\n6\n7\n8\nq\n", NULL);
    assert_int_equal(vg_table_type(t, 0), VG_COLUMN_CATEGORICAL);
    vg_table_free(t);
    /* Missing values do not count either way. */
    t = rd_ok("x\n1\n2\n3\n4\n5\n6\n7\n8\nq\nNA\n\n?\n", NULL);
    assert_int_equal(vg_table_type(t, 0), VG_COLUMN_CATEGORICAL);
    vg_table_free(t);
}

static void test_forced_types(void **state)
{
    (void)state;
    vg_csv_options o = vg_csv_options_default();
    const char *nums[1] = {"b"};
    o.numeric = nums;
    o.n_numeric = 1;
    vg_table *t = rd_ok("a,b\n1,2\n3,NA\n", &o);
    assert_true(isnan(num(t, "b", 1)));
    vg_table_free(t);
    expect_fail("a,b\n1,2\n3,4\n5,abc\n", &o, VG_ERR_PARSE, "t.csv:4: field 'b' (column 2): 'abc' is not a number");
    assert_string_equal(vg_last_error(), "t.csv:4: field 'b' (column 2): 'abc' is not a number");
    /* Long or odd values are shortened and made printable in the message. */
    expect_fail("a,b\n1,\"x\ty\x01zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"\n", &o, VG_ERR_PARSE,
                "t.csv:2: field 'b' (column 2): 'x?y?zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...' is not a number");

    vg_csv_options c = vg_csv_options_default();
    const char *cats[1] = {"zip"};
    c.categorical = cats;
    c.n_categorical = 1;
    t = rd_ok("zip,n\n007,1\n1.50,2\n,3\n7,4\n", &c);
    assert_int_equal(vg_table_type(t, 0), VG_COLUMN_CATEGORICAL);
    assert_cat(t, "zip", 0, "007");
    assert_cat(t, "zip", 1, "1.50");
    assert_cat(t, "zip", 2, NULL);
    assert_cat(t, "zip", 3, "7");
    vg_table_free(t);

    const char *nope[1] = {"nope"};
    c.categorical = nope;
    expect_fail("zip,n\n1,2\n", &c, VG_ERR_INVALID, "t.csv: no column named 'nope'");
    c.categorical = cats;
    c.numeric = cats;
    c.n_numeric = 1;
    expect_fail("zip,n\n1,2\n", &c, VG_ERR_INVALID, "forced both categorical and numeric");
}

static void test_max_rows(void **state)
{
    (void)state;
    vg_csv_options o = vg_csv_options_default();
    o.max_rows = 2;
    vg_table *t = rd_ok("a\n1\n2\n3\n4\n", &o);
    assert_int_equal(vg_table_rows(t), 2);
    vg_table_free(t);
}

/* ---- errors ---------------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    vg_table *t = (vg_table *)&t;
    assert_int_equal(vg_csv_read("/nonexistent/x.csv", NULL, &t), VG_ERR_IO);
    assert_null(t);
    assert_string_equal(vg_last_error(), "/nonexistent/x.csv: No such file or directory");
    assert_int_equal(vg_csv_read("/tmp", NULL, &t), VG_ERR_IO);
    assert_string_equal(vg_last_error(), "/tmp: Is a directory");

    expect_fail("", NULL, VG_ERR_PARSE, "t.csv: no data rows");
    expect_fail("\n\r\n\n", NULL, VG_ERR_PARSE, "t.csv: no data rows");
    expect_fail("a,b\n", NULL, VG_ERR_PARSE, "t.csv: no data rows");
    vg_csv_options h = vg_csv_options_default();
    h.header = 1;
    expect_fail("1,2\n\n", &h, VG_ERR_PARSE, "t.csv: no data rows");

    expect_fail("a,b,c\n1,2,3\n4,5\n", NULL, VG_ERR_PARSE, "t.csv:3: expected 3 fields, found 2");
    assert_string_equal(vg_last_error(), "t.csv:3: expected 3 fields, found 2");
    expect_fail("a,b,c\n1,2,3\n4,5,6,7\n", NULL, VG_ERR_PARSE, "t.csv:3: expected 3 fields, found 4");
    expect_fail("a,b\n\"x\ny\",1\n\n2\n", NULL, VG_ERR_PARSE, "t.csv:5: expected 2 fields, found 1");
    expect_fail("1,2\n3\n", NULL, VG_ERR_PARSE, "t.csv:2: expected 2 fields, found 1");

    expect_fail("a,b\n1,2\n3,\"oops\n4,5\n", NULL, VG_ERR_PARSE, "t.csv:3: unterminated quoted field");
    expect_fail("a,b\n\"x\"y,1\n", NULL, VG_ERR_PARSE, "t.csv:2: field 1: unexpected text after the closing quote");
    expect_fail_n("a,b\n1,2\n3\0,4\n", 13, NULL, VG_ERR_PARSE, "t.csv:3: binary data");
    expect_fail("a,b,a\n1,2,3\n", NULL, VG_ERR_PARSE, "t.csv:1: duplicate column name 'a' (columns 1 and 3)");

    vg_csv_options o = vg_csv_options_default();
    o.header = 0;
    const char *names[3] = {"p", "q", "p"};
    o.names = names;
    o.n_names = 1;
    expect_fail("1,2\n", &o, VG_ERR_INVALID, "t.csv: 1 column names given, but the data has 2 fields");
    o.n_names = 3;
    expect_fail("1,2,3\n", &o, VG_ERR_INVALID, "duplicate column name 'p'");
    o = vg_csv_options_default();
    o.delimiter = '"';
    expect_fail("1,2\n", &o, VG_ERR_INVALID, "delimiter");
}

static void test_gzip_errors(void **state)
{
    (void)state;
    const char *text = "a,b\n1,2\n3,4\n5,6\n7,8\n9,10\n";
    size_t glen;
    unsigned char *gz = gzip_bytes(text, strlen(text), &glen);

    /* Truncated: the memory reader and the file reader both name the source. */
    vg_table *t = (vg_table *)&t;
    assert_int_equal(vg_csv_read_memory(gz, glen - 9, "t.csv.gz", NULL, &t), VG_ERR_IO);
    assert_null(t);
    assert_string_equal(vg_last_error(), "t.csv.gz: truncated gzip data (the file ends before the compressed stream does)");
    const char *path = vg_test_tmpfile(gz, glen / 2, ".csv.gz");
    assert_int_equal(vg_csv_read(path, NULL, &t), VG_ERR_IO);
    assert_true(strncmp(vg_last_error(), path, strlen(path)) == 0);
    assert_non_null(strstr(vg_last_error(), "truncated gzip"));
    expect_fail_n((const char *)gz, 2, NULL, VG_ERR_IO, "t.csv: truncated gzip");

    /* Corrupted: a flipped byte in the body or the checksum. */
    unsigned char *bad = malloc(glen + 8);
    memcpy(bad, gz, glen);
    bad[glen - 6] ^= 0xff;  /* CRC32 of the data */
    expect_fail_n((const char *)bad, glen, NULL, VG_ERR_IO, "t.csv: corrupt gzip data");
    memcpy(bad, gz, glen);
    bad[3] = 0xe0;  /* reserved header flag bits */
    expect_fail_n((const char *)bad, glen, NULL, VG_ERR_IO, "t.csv: corrupt gzip data");

    /* Bytes after the stream: zero padding is tolerated, anything else not. */
    memcpy(bad, gz, glen);
    memcpy(bad + glen, "\0\0\0\0", 4);
    assert_int_equal(vg_csv_read_memory(bad, glen + 4, "t.csv", NULL, &t), VG_OK);
    assert_int_equal(vg_table_rows(t), 5);
    vg_table_free(t);
    memcpy(bad + glen, "junk", 4);
    expect_fail_n((const char *)bad, glen + 4, NULL, VG_ERR_IO, "t.csv: corrupt gzip data (unexpected bytes after");
    free(bad);
    free(gz);
}

/* ---- limits ---------------------------------------------------------------- */

static void test_limits(void **state)
{
    (void)state;
    vg_csv_options o = vg_csv_options_default();
    o.max_line_bytes = 10;
    vg_table *t = rd_ok("a,b\n12345,6789\n", &o);  /* 10 bytes: just fits */
    vg_table_free(t);
    t = rd_ok("a,b\r\n12345,6789\r\n", &o);        /* the line end does not count */
    vg_table_free(t);
    expect_fail("a,b\n12345,6789\n1,2\n123456,6789\n", &o, VG_ERR_LIMIT, "t.csv:4: line longer than 10 bytes");
    /* A quoted multi-line record counts as one line. */
    expect_fail("a,b\n\"12\n345\",6789\n", &o, VG_ERR_LIMIT, "t.csv:2: line longer than 10 bytes");

    o = vg_csv_options_default();
    o.max_columns = 3;
    t = rd_ok("a,b,c\n1,2,3\n", &o);
    assert_int_equal(vg_table_cols(t), 3);
    vg_table_free(t);
    expect_fail("a,b,c,d\n1,2,3,4\n", &o, VG_ERR_LIMIT, "t.csv:1: more than 3 columns");
    expect_fail("a,b,c\n1,2,3\n1,2,3\n1,2,3,4\n", &o, VG_ERR_LIMIT, "t.csv:4: more than 3 columns");

    /* The defaults: 1 MiB lines and 4096 columns. */
    o = vg_csv_options_default();
    assert_int_equal(o.max_line_bytes, 1u << 20);
    assert_int_equal(o.max_columns, 4096);
    size_t n = 4097;
    char *wide = malloc(n * 2 + 8);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        wide[k++] = '1';
        wide[k++] = i + 1 < n ? ',' : '\n';
    }
    expect_fail_n(wide, k, NULL, VG_ERR_LIMIT, "t.csv:1: more than 4096 columns");
    wide[k - 3] = '\n';  /* drop the last field: 4096 columns */
    assert_int_equal(vg_csv_read_memory(wide, k - 2, "t.csv", NULL, &t), VG_OK);
    assert_int_equal(vg_table_cols(t), 4096);
    vg_table_free(t);
    free(wide);
}

static void test_file_read_limits(void **state)
{
    (void)state;
    char text[100];
    memset(text, 'x', sizeof text);
    const char *plain = vg_test_tmpfile(text, sizeof text, ".txt");
    char *data;
    size_t len;
    assert_int_equal(vg_file_read_all(plain, 100, &data, &len), VG_OK);
    assert_int_equal(len, 100);
    assert_int_equal(data[len], '\0');
    vg_free(data);
    assert_int_equal(vg_file_read_all(plain, 99, &data, &len), VG_ERR_LIMIT);
    assert_null(data);
    assert_non_null(strstr(vg_last_error(), "larger than the limit of 99 bytes"));

    char big[1000];
    memset(big, 'y', sizeof big);
    size_t glen;
    unsigned char *gz = gzip_bytes(big, sizeof big, &glen);
    const char *gzpath = vg_test_tmpfile(gz, glen, ".gz");
    assert_int_equal(vg_file_read_all(gzpath, 1000, &data, &len), VG_OK);
    assert_int_equal(len, 1000);
    assert_memory_equal(data, big, 1000);
    vg_free(data);
    assert_int_equal(vg_file_read_all(gzpath, 999, &data, &len), VG_ERR_LIMIT);
    assert_true(strncmp(vg_last_error(), gzpath, strlen(gzpath)) == 0);
    free(gz);

    /* "-" reads stdin (here redirected from the gzip file). */
    assert_non_null(freopen(gzpath, "rb", stdin));
    assert_int_equal(vg_file_read_all("-", 0, &data, &len), VG_OK);
    assert_int_equal(len, 1000);
    assert_memory_equal(data, big, 1000);
    vg_free(data);

    /* And the CSV reader on stdin names it in messages. */
    const char *csv = "a,b\n1,2\n3\n";
    assert_non_null(freopen(vg_test_tmpfile(csv, strlen(csv), ".csv"), "rb", stdin));
    vg_table *t = (vg_table *)&t;
    assert_int_equal(vg_csv_read("-", NULL, &t), VG_ERR_PARSE);
    assert_null(t);
    assert_string_equal(vg_last_error(), "<stdin>:3: expected 2 fields, found 1");
}

/* ---- gzip and plain --------------------------------------------------------- */

static char *make_text(size_t rows, size_t *len)
{
    size_t cap = rows * 80 + 64, n = 0;
    char *s = malloc(cap);
    n += (size_t)snprintf(s + n, cap - n, "id,proto,bytes,rate,note,late\n");
    static const char *protos[3] = {"tcp", "udp", "icmp"};
    for (size_t i = 0; i < rows; i++) {
        const char *late = i == rows / 2 ? "zz" : (i % 3 ? "1.0" : "2");
        n += (size_t)snprintf(s + n, cap - n, "%zu,%s,%zu,%.2f,%s,%s\n", i, protos[i % 3], i * 37 % 1001,
                              (double)(i % 100) / 100.0,
                              i % 50 == 0 ? "\"quoted, \"\"with\"\" comma\"" : (i % 7 ? "n" : ""), late);
    }
    *len = n;
    return s;
}

static void test_gzip_equals_plain(void **state)
{
    (void)state;
    size_t mem_before = vg_mem_in_use();
    vg_csv_options o = vg_csv_options_default();
    const char *cats[1] = {"late"};
    o.categorical = cats;
    o.n_categorical = 1;
    size_t len, glen;
    char *text = make_text(20000, &len);
    unsigned char *gz = gzip_bytes(text, len, &glen);
    const char *plain_path = vg_test_tmpfile(text, len, ".csv");
    const char *gz_path = vg_test_tmpfile(gz, glen, ".csv.gz");
    vg_table *a, *b, *c;
    assert_int_equal(vg_csv_read(plain_path, &o, &a), VG_OK);
    assert_int_equal(vg_csv_read(gz_path, &o, &b), VG_OK);
    assert_int_equal(vg_table_rows(a), 20000);
    assert_int_equal(vg_table_type(a, 4), VG_COLUMN_CATEGORICAL);
    assert_cat(a, "note", 50, "quoted, \"with\" comma");
    assert_cat(a, "late", 10000, "zz");
    assert_true(vg_table_checksum(a) == vg_hash(text, len, 0));
    assert_same_table(a, b);

    /* Two gzip members back to back (cat a.gz b.gz) read as one text. */
    size_t half = len / 2;
    while (text[half - 1] != '\n') half++;
    size_t g1, g2;
    unsigned char *p1 = gzip_bytes(text, half, &g1);
    unsigned char *p2 = gzip_bytes(text + half, len - half, &g2);
    unsigned char *both = malloc(g1 + g2);
    memcpy(both, p1, g1);
    memcpy(both + g1, p2, g2);
    assert_int_equal(vg_csv_read_memory(both, g1 + g2, "x", &o, &c), VG_OK);
    assert_same_table(a, c);
    vg_table_free(a);
    vg_table_free(b);
    vg_table_free(c);
    free(p1);
    free(p2);
    free(both);
    free(gz);
    free(text);
    assert_int_equal(vg_mem_in_use(), mem_before);  /* nothing held back */
}

/* The shared data sets: header detection on real files. */
static void test_shared_files(void **state)
{
    (void)state;
    const char *p = vg_test_shared("cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz");
    assert_true(vg_test_exists(p));
    vg_table *t;
    assert_int_equal(vg_csv_read(p, NULL, &t), VG_OK);
    assert_int_equal(vg_table_rows(t), 9537);
    assert_int_equal(vg_table_cols(t), 11);
    assert_string_equal(vg_table_name(t, 10), "attack_detected");
    assert_int_equal(vg_table_type(t, 0), VG_COLUMN_CATEGORICAL);
    assert_int_equal(vg_table_type(t, 4), VG_COLUMN_NUMERIC);
    assert_int_equal(vg_table_n_categories(t, 2), 3);
    assert_true(fabs(num(t, "session_duration", 0) - 492.9832634426563) < 1e-12);
    vg_table_free(t);

    p = vg_test_shared("threatlens-iplog/network_log.csv.gz");  /* all text, with a header */
    assert_int_equal(vg_csv_read(p, NULL, &t), VG_OK);
    assert_int_equal(vg_table_rows(t), 2111);
    assert_string_equal(vg_table_name(t, 0), "IP_INFO");
    assert_cat(t, "IP_INFO", 0, "195.54.160.149");
    vg_table_free(t);

    p = vg_test_shared("rba-login/rba-dataset-head19.csv.gz");  /* quoted user agents */
    assert_int_equal(vg_csv_read(p, NULL, &t), VG_OK);
    assert_int_equal(vg_table_rows(t), 19);
    assert_int_equal(vg_table_cols(t), 16);
    assert_cat(t, "User Agent String", 1,
               "Mozilla/5.0  (Linux; Android 4.1; Galaxy Nexus Build/JRN84D) AppleWebKit/537.36 "
               "(KHTML, like Gecko Chrome/46.0.2490.76 Mobile Safari/537.36 Browser");
    vg_table_free(t);

    p = vg_test_shared("nsl-kdd/attack_types.csv");  /* CR line ends, no header */
    assert_int_equal(vg_csv_read(p, NULL, &t), VG_OK);
    assert_int_equal(vg_table_cols(t), 2);
    assert_cat(t, "c1", 0, "back");
    vg_table_free(t);
}

/* ---- numbers ---------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t next_u64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned below(unsigned n)
{
    return (unsigned)(next_u64() % n);
}

/* A random decimal the parser must accept: sign, 0-25 integer digits,
 * optional fraction, optional exponent, sometimes spaces around. */
static size_t random_decimal(char *s)
{
    size_t n = 0;
    int sp = below(10) == 0;
    if (sp) s[n++] = ' ';
    int sign = (int)below(4);
    if (sign == 1) s[n++] = '-';
    if (sign == 2) s[n++] = '+';
    unsigned id = below(4) == 0 ? below(26) : below(8);
    unsigned fd = below(3) == 0 ? 0 : (below(4) == 0 ? below(26) : below(6));
    if (id == 0 && fd == 0) id = 1;
    for (unsigned i = 0; i < id; i++) s[n++] = (char)('0' + below(10));
    if (fd || below(5) == 0) {
        s[n++] = '.';
        for (unsigned i = 0; i < fd; i++) s[n++] = (char)('0' + below(10));
    }
    if (below(4) == 0) {
        s[n++] = below(2) ? 'e' : 'E';
        if (below(2)) s[n++] = below(2) ? '-' : '+';
        n += (size_t)sprintf(s + n, "%u", below(5) == 0 ? below(400) : below(30));
    }
    if (sp) s[n++] = '\t';
    s[n] = '\0';
    return n;
}

static void test_numparse_equals_strtod(void **state)
{
    (void)state;
    char s[128];
    size_t checked = 0;
    for (int i = 0; i < 200000; i++) {
        size_t n = random_decimal(s);
        double got, want = strtod(s, NULL);
        if (!vg_parse_number(s, n, &got)) {
            print_error("rejected '%s'\n", s);
            fail();
        }
        if (memcmp(&got, &want, sizeof got) != 0) {
            print_error("'%s': %.17g != strtod %.17g\n", s, got, want);
            fail();
        }
        checked++;
    }
    /* Values near the edges of the fast path, and doubles printed exactly. */
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = next_u64();
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v)) continue;
        int len = snprintf(s, sizeof s, "%.*g", (int)below(18) + 1, v);
        double got, want = strtod(s, NULL);
        assert_true(vg_parse_number(s, (size_t)len, &got));
        assert_memory_equal(&got, &want, sizeof got);
        checked++;
    }
    print_message("vg_parse_number == strtod on %zu strings\n", checked);

    static const char *good[] = {"0", "-0", "+0.0", ".5", "5.", "1e5", "1E+05", "-1.5e-3", " 12 ", "\t7",
                                 "9007199254740993", "123456789012345678901234567890", "1e400", "1e-400",
                                 "0.000000000000000000000000000001", "4.9406564584124654e-324",
                                 "1.7976931348623157e308", "00012", "1e0000000000000000000005"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double got, want = strtod(good[i], NULL);
        if (!vg_parse_number(good[i], strlen(good[i]), &got)) {
            print_error("rejected '%s'\n", good[i]);
            fail();
        }
        assert_memory_equal(&got, &want, sizeof got);
    }
    static const char *bad[] = {"", " ", "-", "+", ".", "e5", "1e", "1e+", "0x10", "inf", "-inf", "nan", "NaN",
                                "1.2.3", "1 2", "+-1", "--1", "1,5", "12a", "a12", "1e5.5", ". 5", "1_000", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double got = 42;
        if (vg_parse_number(bad[i], strlen(bad[i]), &got)) {
            print_error("accepted '%s'\n", bad[i]);
            fail();
        }
        assert_true(got == 42);
    }
    /* Only [s, s+len) is looked at. */
    double v;
    assert_true(vg_parse_number("12345", 2, &v) && v == 12);
    assert_false(vg_parse_number("1e", 2, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_inference),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_header_detection),
        cmocka_unit_test(test_delimiter_detection),
        cmocka_unit_test(test_late_categorical),
        cmocka_unit_test(test_mostly_numeric_is_error),
        cmocka_unit_test(test_forced_types),
        cmocka_unit_test(test_max_rows),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_gzip_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_file_read_limits),
        cmocka_unit_test(test_gzip_equals_plain),
        cmocka_unit_test(test_shared_files),
        cmocka_unit_test(test_numparse_equals_strtod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
