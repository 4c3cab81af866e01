/* Unit tests for hashed character n-grams with sublinear TF-IDF: values
 * computed by hand, values per n-gram against scikit-learn's
 * HashingVectorizer + TfidfTransformer (tests/golden/textgrams_golden.py),
 * the preprocessing (case, whitespace runs), parameters, and the saved IDF
 * (round trip, corrupt input refused). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/textgrams.h"
#include "golden/textgrams_golden.h"

/* Value of column c in a row, or 0. */
static double value_at(const uint32_t *cols, const float *vals, size_t n, uint32_t c)
{
    for (size_t i = 0; i < n; i++)
        if (cols[i] == c) return vals[i];
    return 0;
}

static vg_textgrams *fitted(const char *const *docs, size_t n, uint32_t lo, uint32_t hi)
{
    vg_textgrams_params p = vg_textgrams_params_default();
    p.ngram_min = lo, p.ngram_max = hi;
    vg_textgrams *tg;
    assert_int_equal(vg_textgrams_new(&p, &tg), VG_OK);
    size_t lens[16], counts[16];
    for (size_t i = 0; i < n; i++) lens[i] = strlen(docs[i]), counts[i] = 1;
    assert_int_equal(vg_textgrams_fit(tg, docs, lens, counts, n, n), VG_OK);
    return tg;
}

static void row_of(const vg_textgrams *tg, const char *s, uint32_t *cols, float *vals, size_t *n)
{
    assert_true(vg_textgrams_max_entries(tg, strlen(s)) <= 256);
    assert_int_equal(vg_textgrams_transform(tg, s, strlen(s), NULL, cols, vals, n), VG_OK);
    for (size_t i = 1; i < *n; i++) assert_true(cols[i] > cols[i - 1]);
}

static uint32_t col(const vg_textgrams *tg, const char *g) { return vg_textgrams_column(tg, g, strlen(g)); }

/* Documents "ab" and "b", 1-2-grams: idf(a) = idf(ab) = ln(3/2) + 1,
 * idf(b) = ln(3/3) + 1 = 1. "aab": tf(a) = 2 -> 1 + ln 2. */
static void test_by_hand(void **state)
{
    (void)state;
    const char *docs[] = { "ab", "b" };
    vg_textgrams *tg = fitted(docs, 2, 1, 2);
    double ia = log(1.5) + 1;
    assert_true(fabs(vg_textgrams_idf(tg, col(tg, "a")) - ia) < 1e-6);
    assert_true(fabs(vg_textgrams_idf(tg, col(tg, "b")) - 1.0) < 1e-6);
    assert_true(fabs(vg_textgrams_idf(tg, col(tg, "zz")) - (log(3.0) + 1)) < 1e-6);  /* unseen: df = 0 */
    assert_int_equal(vg_textgrams_n_seen(tg), 3);
    uint32_t c[256];
    float v[256];
    size_t n;
    row_of(tg, "ab", c, v, &n);
    assert_int_equal(n, 3);
    double norm = sqrt(2 * ia * ia + 1);
    assert_true(fabs(value_at(c, v, n, col(tg, "a")) - ia / norm) < 1e-6);
    assert_true(fabs(value_at(c, v, n, col(tg, "b")) - 1 / norm) < 1e-6);
    assert_true(fabs(value_at(c, v, n, col(tg, "ab")) - ia / norm) < 1e-6);
    row_of(tg, "aab", c, v, &n);  /* a x2, b, aa (unseen), ab */
    assert_int_equal(n, 4);
    double ta = (1 + log(2.0)) * ia, taa = log(3.0) + 1;
    norm = sqrt(ta * ta + 1 + taa * taa + ia * ia);
    assert_true(fabs(value_at(c, v, n, col(tg, "a")) - ta / norm) < 1e-6);
    assert_true(fabs(value_at(c, v, n, col(tg, "aa")) - taa / norm) < 1e-6);
    row_of(tg, "", c, v, &n);
    assert_int_equal(n, 0);
    vg_textgrams_free(tg);
}

static void test_golden_sklearn(void **state)
{
    (void)state;
    size_t nd = sizeof golden_docs / sizeof golden_docs[0];
    vg_textgrams *tg = fitted(golden_docs, nd, 1, 3);
    uint32_t c[256];
    float v[256];
    double worst = 0;
    size_t ng = sizeof golden_grams / sizeof golden_grams[0], checked = 0;
    for (size_t d = 0; d < nd; d++) {
        size_t n;
        row_of(tg, golden_docs[d], c, v, &n);
        size_t expected = 0;
        for (size_t g = 0; g < ng; g++) {
            if (golden_grams[g].doc != (int)d) continue;
            expected++;
            double got = value_at(c, v, n, col(tg, golden_grams[g].gram));
            worst = fmax(worst, fabs(got - golden_grams[g].tfidf));
            checked++;
        }
        assert_int_equal(n, expected);  /* no collision here either, and no n-gram more or less */
    }
    printf("text n-grams vs scikit-learn: %zu values, max |diff| %.3g\n", checked, worst);
    assert_int_equal(checked, ng);
    assert_true(worst < 1e-6);
    vg_textgrams_free(tg);
}

static void test_preprocess(void **state)
{
    (void)state;
    const char *docs[] = { "x" };
    vg_textgrams *tg = fitted(docs, 1, 1, 3);
    uint32_t c1[256], c2[256];
    float v1[256], v2[256];
    size_t n1, n2;
    row_of(tg, "UNION  \t SeLeCt", c1, v1, &n1);
    row_of(tg, "union select", c2, v2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(c1, c2, n1 * sizeof *c1);
    row_of(tg, "a\tb", c1, v1, &n1);  /* a single tab stays a tab */
    assert_true(value_at(c1, v1, n1, col(tg, "a\tb")) > 0);
    assert_true(value_at(c1, v1, n1, col(tg, "a b")) == 0);
    vg_textgrams_free(tg);
}

static void test_params(void **state)
{
    (void)state;
    vg_textgrams_params p = vg_textgrams_params_default();
    assert_int_equal(p.n_features, 1u << 20);
    assert_int_equal(vg_textgrams_params_set(&p, "n_features", "2^18"), VG_OK);
    assert_int_equal(p.n_features, 1u << 18);
    assert_int_equal(vg_textgrams_params_set(&p, "n_features", "1048576"), VG_OK);
    assert_int_equal(p.n_features, 1u << 20);
    assert_int_equal(vg_textgrams_params_set(&p, "ngram_range", "2,4"), VG_OK);
    assert_true(p.ngram_min == 2 && p.ngram_max == 4);
    const char *bad_n[] = { "2^3", "2^29", "0", "-5", "12abc", "", "2^" };
    for (size_t i = 0; i < sizeof bad_n / sizeof *bad_n; i++) {
        assert_int_equal(vg_textgrams_params_set(&p, "n_features", bad_n[i]), VG_ERR_INVALID);
        assert_non_null(strstr(vg_last_error(), "n_features"));
    }
    const char *bad_r[] = { "3,1", "0,2", "1", "1,9", "a,b", ",3" };
    for (size_t i = 0; i < sizeof bad_r / sizeof *bad_r; i++)
        assert_int_equal(vg_textgrams_params_set(&p, "ngram_range", bad_r[i]), VG_ERR_INVALID);
    assert_true(p.ngram_min == 2 && p.ngram_max == 4 && p.n_features == 1u << 20);  /* unchanged by failures */
    assert_int_equal(vg_textgrams_params_set(&p, "ngrams", "1,2"), VG_ERR_INVALID);
    assert_true(vg_textgrams_is_param("ngram_range") && !vg_textgrams_is_param("C"));
}

static void test_save_load(void **state)
{
    (void)state;
    const char *docs[] = { "select 1", "hello world", "../../etc/passwd" };
    vg_textgrams *tg = fitted(docs, 3, 1, 3);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(vg_textgrams_save(tg, &w), VG_OK);
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "test");
    vg_textgrams *back;
    assert_int_equal(vg_textgrams_load(&r, &back), VG_OK);
    assert_int_equal(r.pos, w.len);
    uint32_t c1[256], c2[256];
    float v1[256], v2[256];
    size_t n1, n2;
    row_of(tg, "select * from", c1, v1, &n1);
    row_of(back, "select * from", c2, v2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(c1, c2, n1 * sizeof *c1);
    assert_memory_equal(v1, v2, n1 * sizeof *v1);
    vg_textgrams_free(back);
    /* Every truncation is refused. */
    for (size_t len = 0; len < w.len; len++) {
        vg_rbuf_init(&r, w.data, len, "test");
        assert_int_not_equal(vg_textgrams_load(&r, &back), VG_OK);
    }
    /* Columns out of order, a df above n_docs, n-gram sizes out of range. */
    const size_t head = 4 + 4 + 4 + 4 + 8 + 8;  /* version, min, max, n_features, n_docs, n_seen */
    unsigned char *bad = malloc(w.len);
    memcpy(bad, w.data, w.len);
    uint32_t c0;
    memcpy(&c0, bad + head + 4, 4);
    memcpy(bad + head, &c0, 4);  /* first column = second: not ascending */
    vg_rbuf_init(&r, bad, w.len, "test");
    assert_int_equal(vg_textgrams_load(&r, &back), VG_ERR_FORMAT);
    memcpy(bad, w.data, w.len);
    size_t n_seen = vg_textgrams_n_seen(tg);
    uint64_t big = 99;
    memcpy(bad + head + 4 * n_seen, &big, 8);
    vg_rbuf_init(&r, bad, w.len, "test");
    assert_int_equal(vg_textgrams_load(&r, &back), VG_ERR_FORMAT);
    memcpy(bad, w.data, w.len);
    bad[8] = 9;  /* ngram_max 9 */
    vg_rbuf_init(&r, bad, w.len, "test");
    assert_int_equal(vg_textgrams_load(&r, &back), VG_ERR_FORMAT);
    /* The idf table (4 bytes per column) is bounded by the model load limit. */
    setenv("VIGIL_MODEL_LOAD_MAX_MB", "1", 1);
    vg_rbuf_init(&r, w.data, w.len, "test");
    assert_int_equal(vg_textgrams_load(&r, &back), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "text n-gram idf table needs 4 MiB, over the model load limit of 1 MiB"));
    unsetenv("VIGIL_MODEL_LOAD_MAX_MB");
    free(bad);
    vg_wbuf_free(&w);
    vg_textgrams_free(tg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_golden_sklearn),
        cmocka_unit_test(test_preprocess),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
