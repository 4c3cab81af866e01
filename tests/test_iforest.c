/* Unit tests for the "iforest" estimator: scikit-learn's normaliser c(n) and,
 * on scikit-learn's own fitted trees loaded into our layout, its scores
 * (golden: tests/golden/iforest_sklearn.py); identical forests for 1 and 2
 * threads; scores that single out an obvious outlier (numeric, categorical,
 * oblique); explanations that sum to the score and name the odd column;
 * save/load; hostile model bytes; parameter errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/buf.h"
#include "vigil/core.h"
#include "vigil/estimator.h"
#include "vigil/rng.h"
#include "models/iforest.h"
#include "testutil.h"

static const vg_estimator_kind *K = &vg_iforest_kind;

typedef struct dataset {
    vg_matrix X;
    vg_feature *features;
} dataset;

static void dataset_free(dataset *d)
{
    vg_matrix_free(&d->X);
    free(d->features);
}

/* Columns 0..cols-2 normal(0, 1) with column 1 = column 0 + noise (so an
 * oblique cut has a direction to find); the last is a categorical of 6
 * categories where category 5 is rare (1 in 500). */
static dataset blobs(size_t rows, size_t cols, uint64_t seed)
{
    dataset d = { 0 };
    assert_int_equal(vg_matrix_alloc(&d.X, rows, cols), VG_OK);
    d.features = calloc(cols, sizeof *d.features);
    for (size_t f = 0; f + 1 < cols; f++) d.features[f] = (vg_feature){ "x", VG_FEATURE_NUMERIC, 0 };
    d.features[cols - 1] = (vg_feature){ "cat", VG_FEATURE_CATEGORICAL, 6 };
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0);
    for (size_t r = 0; r < rows; r++) {
        float *x = d.X.data + r * cols;
        for (size_t f = 0; f + 1 < cols; f++) x[f] = (float)vg_rng_normal(&rng);
        x[1] = x[0] + 0.1f * (float)vg_rng_normal(&rng);
        x[cols - 1] = r % 500 == 499 ? 5.0f : (float)vg_rng_below(&rng, 5);
    }
    return d;
}

static void *params_with(const char *const *kv)
{
    void *p = malloc(K->params_size);
    K->params_default(p);
    for (size_t i = 0; kv && kv[i]; i += 2)
        if (K->params_set(p, kv[i], kv[i + 1]) != VG_OK) fail_msg("%s: %s", kv[i], vg_last_error());
    return p;
}

static vg_status try_fit(const char *const *kv, const dataset *d, uint64_t seed, int threads, void **state)
{
    void *params = params_with(kv);
    vg_train_set ts = { .X = &d->X, .features = d->features, .n_classes = 1 };
    vg_fit_options opt = { .seed = seed, .threads = threads };
    *state = NULL;
    vg_status st = K->fit(params, &ts, &opt, state);
    free(params);
    return st;
}

static void *fit_with(const char *const *kv, const dataset *d, uint64_t seed, int threads)
{
    void *s;
    if (try_fit(kv, d, seed, threads, &s) != VG_OK) fail_msg("fit: %s", vg_last_error());
    assert_int_equal(K->n_classes(s), 1);
    return s;
}

static float *scores(const void *s, const vg_matrix *X, int threads)
{
    float *p = malloc(X->rows * sizeof *p);
    K->predict(s, X, threads, p);
    return p;
}

static vg_wbuf saved(const void *s)
{
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(K->save(s, &w), VG_OK);
    return w;
}

static vg_status load_bytes(const void *data, size_t len, void **out)
{
    vg_rbuf r;
    vg_rbuf_init(&r, data, len, "iforest");
    return K->load(&r, out);
}

/* ---- golden: scikit-learn ---- */

static void test_c_matches_sklearn(void **state)
{
    (void)state;
    FILE *fp = fopen(vg_test_source("tests/golden/iforest_sklearn.txt"), "r");
    assert_non_null(fp);
    char line[512];
    int n_checked = 0;
    double worst = 0;
    while (fgets(line, sizeof line, fp)) {
        double n, want;
        if (sscanf(line, "c %lf %lf", &n, &want) != 2) continue;
        double got = vg_iforest_c(n), diff = fabs(got - want);
        worst = diff > worst ? diff : worst;
        if (diff > 1e-12) fail_msg("c(%g) = %.17g, scikit-learn %.17g", n, got, want);
        n_checked++;
    }
    fclose(fp);
    printf("c(n) at %d sizes, max |difference| from scikit-learn %.3g\n", n_checked, worst);
    assert_int_equal(n_checked, 10);
}

/* scikit-learn's fitted trees written in our file layout, then loaded and
 * scored: the same scores means the same path lengths, leaf corrections,
 * normaliser and threshold semantics. */
static void test_scores_match_sklearn_trees(void **state)
{
    (void)state;
    FILE *fp = fopen(vg_test_source("tests/golden/iforest_sklearn.txt"), "r");
    assert_non_null(fp);
    char line[512];
    unsigned F = 0, T = 0, psi = 0, t = 0, at = 0;
    uint32_t start[16], left[2048], info[2048], ns[2048];
    float thr[2048];
    float rows[64][3];
    double want[64];
    size_t n_rows = 0;
    while (fgets(line, sizeof line, fp)) {
        int l, f;
        float v;
        unsigned n;
        if (sscanf(line, "forest %u %u %u", &F, &T, &psi) == 3) {
            assert_true(F == 3 && T <= 16);
        } else if (sscanf(line, "tree %u", &n) == 1) {
            start[t++] = at;
        } else if (sscanf(line, "node %d %d %f %u", &l, &f, &v, &n) == 4) {
            assert_true(at < 2048);
            left[at] = (uint32_t)l;
            info[at] = f < 0 ? (uint32_t)VG_IFOREST_LEAF << VG_IFOREST_KIND_SHIFT : (uint32_t)f;
            thr[at] = v;
            ns[at] = n;
            at++;
        } else if (line[0] == 'x') {
            assert_true(n_rows < 64);
            int got = sscanf(line, "x %f %f %f %lf", &rows[n_rows][0], &rows[n_rows][1], &rows[n_rows][2],
                             &want[n_rows]);
            assert_int_equal(got, 4);
            n_rows++;
        }
    }
    fclose(fp);
    assert_int_equal(t, T);
    vg_wbuf w;
    vg_wbuf_init(&w);
    uint32_t head[] = { VG_IFOREST_FORMAT_VERSION, F, T, psi, at, 0, 0 };
    vg_wbuf_u32s(&w, head, 7);
    vg_wbuf_i32(&w, 0);
    for (unsigned f = 0; f < F; f++) vg_wbuf_u32(&w, 0);
    vg_wbuf_u32s(&w, start, T);
    vg_wbuf_u32s(&w, left, at);
    vg_wbuf_u32s(&w, info, at);
    for (unsigned i = 0; i < at; i++) vg_wbuf_u32(&w, 0);
    vg_wbuf_f32s(&w, thr, at);
    vg_wbuf_u32s(&w, ns, at);
    void *s = NULL;
    if (load_bytes(w.data, w.len, &s) != VG_OK) fail_msg("load: %s", vg_last_error());
    vg_matrix X = { n_rows, 3, &rows[0][0] };
    float *got = scores(s, &X, 2);
    double worst = 0;
    for (size_t r = 0; r < n_rows; r++) {
        double diff = fabs(got[r] - want[r]);
        worst = diff > worst ? diff : worst;
        float one;
        K->predict_row(s, rows[r], &one);
        assert_true(one == got[r]);
    }
    printf("%zu rows scored on scikit-learn's %u trees: max |score - scikit-learn's| %.3g\n", n_rows, T, worst);
    assert_true(worst < 1e-6);
    /* The outliers (rows 6..9 are the far cluster) score above the inliers. */
    for (size_t r = 0; r < 6; r++) assert_true(got[r] < got[7]);
    free(got);
    K->free(s);
    vg_wbuf_free(&w);
}

/* ---- behaviour ---- */

static void test_deterministic_across_threads(void **state)
{
    (void)state;
    dataset d = blobs(5000, 5, 1);
    const char *axis[] = { "n_estimators", "40", NULL };
    const char *ext[] = { "n_estimators", "40", "extension_level", "2", "max_features", "0.8", "bootstrap", "true",
                          NULL };
    const char *const *sets[] = { axis, ext };
    for (int k = 0; k < 2; k++) {
        void *a = fit_with(sets[k], &d, 42, 1), *b = fit_with(sets[k], &d, 42, 2), *c = fit_with(sets[k], &d, 43, 2);
        vg_wbuf wa = saved(a), wb = saved(b), wc = saved(c);
        assert_int_equal(wa.len, wb.len);
        assert_memory_equal(wa.data, wb.data, wa.len);
        assert_true(wa.len != wc.len || memcmp(wa.data, wc.data, wa.len) != 0);  /* the seed matters */
        float *pa = scores(a, &d.X, 1), *pb = scores(a, &d.X, 2);
        assert_memory_equal(pa, pb, d.X.rows * sizeof *pa);
        for (size_t r = 0; r < d.X.rows; r += 97) {
            float one;
            K->predict_row(a, d.X.data + r * d.X.cols, &one);
            assert_true(one == pa[r]);
            assert_true(pa[r] > 0.0f && pa[r] < 1.0f);
        }
        free(pa);
        free(pb);
        vg_wbuf_free(&wa);
        vg_wbuf_free(&wb);
        vg_wbuf_free(&wc);
        K->free(a);
        K->free(b);
        K->free(c);
    }
    dataset_free(&d);
}

static float score_of_row(const void *s, const float *row)
{
    float v;
    K->predict_row(s, row, &v);
    return v;
}

/* The mean and the largest score over the training rows. */
static void score_stats(const void *s, const dataset *d, double *mean, float *max)
{
    float *p = scores(s, &d->X, 2);
    double sum = 0;
    *max = 0;
    for (size_t r = 0; r < d->X.rows; r++) {
        sum += p[r];
        *max = p[r] > *max ? p[r] : *max;
    }
    *mean = sum / (double)d->X.rows;
    free(p);
}

static void check_explanation(const void *s, const float *row, size_t n_features, size_t expect_top)
{
    double *c = calloc(n_features + 1, sizeof *c);
    assert_int_equal(K->n_outputs(s), 1);
    assert_int_equal(K->explain(s, row, c), VG_OK);
    double sum = 0;
    size_t top = 0;
    for (size_t f = 0; f <= n_features; f++) sum += c[f];
    for (size_t f = 1; f < n_features; f++)
        if (c[f] > c[top]) top = f;
    float score = score_of_row(s, row);
    if (fabs(sum - score) > 1e-6) fail_msg("contributions sum to %.9g, score %.9g", sum, (double)score);
    if (expect_top != (size_t)-1 && top != expect_top)
        fail_msg("the largest contribution is column %zu (%.4f), expected %zu (%.4f)", top, c[top], expect_top,
                 c[expect_top]);
    free(c);
}

static void test_outliers_stand_out(void **state)
{
    (void)state;
    dataset d = blobs(4000, 5, 2);
    const char *axis[] = { NULL };
    const char *ext[] = { "extended", "true", NULL };
    const char *const *sets[] = { axis, ext };
    for (int k = 0; k < 2; k++) {
        void *s = fit_with(sets[k], &d, 7, 2);
        double mean;
        float max;
        score_stats(s, &d, &mean, &max);
        /* An ordinary row scores about 0.5 below; far from everything, far above. */
        float far[5] = { 5.0f, 5.0f, 9.0f, -6.0f, 1.0f };
        /* Odd in one column of five: an axis cut only picks that column one
         * time in five, so the score rises less (scikit-learn: 0.54). */
        float one_column[5] = { 0.1f, 0.2f, 9.0f, 0.0f, 1.0f };
        float off_diagonal[5] = { 2.0f, -2.0f, 0.0f, 0.0f, 2.0f };  /* column 1 should follow column 0 */
        float rare_cat[5] = { 0.0f, 0.0f, 0.0f, 0.0f, 5.0f };
        float unseen_cat[5] = { 0.0f, 0.0f, 0.0f, 0.0f, NAN };
        float ordinary[5] = { 0.0f, 0.0f, 0.0f, 0.0f, 2.0f };
        float sf = score_of_row(s, far), so = score_of_row(s, off_diagonal), sr = score_of_row(s, rare_cat);
        float su = score_of_row(s, unseen_cat), s0 = score_of_row(s, ordinary), s1 = score_of_row(s, one_column);
        printf("%s: training mean %.3f max %.3f; far %.3f, one column %.3f, off-diagonal %.3f, rare category %.3f, unseen %.3f, "
               "ordinary %.3f\n", k ? "extended" : "axis", mean, max, sf, s1, so, sr, su, s0);
        assert_true(mean > 0.35 && mean < 0.5);
        assert_true(sf > 0.65f && sf > max);
        assert_true(so > s0 + 0.1f && s1 > s0 + 0.1f);
        assert_true(sr > s0 && su > s0);
        check_explanation(s, far, 5, (size_t)-1);
        check_explanation(s, one_column, 5, 2);
        check_explanation(s, rare_cat, 5, 4);
        check_explanation(s, ordinary, 5, (size_t)-1);
        for (size_t r = 0; r < 200; r++) check_explanation(s, d.X.data + r * 5, 5, (size_t)-1);
        K->free(s);
    }
    dataset_free(&d);
}

/* Without oblique cuts, a point off the diagonal hides in the bounding box;
 * with them its score rises (the extended forest's reason to exist). */
static void test_extended_sees_the_diagonal(void **state)
{
    (void)state;
    dataset d = blobs(4000, 3, 3);
    const char *axis[] = { NULL };
    const char *ext[] = { "extension_level", "1", NULL };
    void *a = fit_with(axis, &d, 5, 2), *e = fit_with(ext, &d, 5, 2);
    /* Rows across the diagonal, 0.5 to 2 from the middle: mean scores. */
    double sa = 0, se = 0;
    for (int i = 1; i <= 4; i++) {
        float off[3] = { 0.5f * (float)i, -0.5f * (float)i, 1.0f };
        sa += score_of_row(a, off) / 4.0;
        se += score_of_row(e, off) / 4.0;
    }
    double ma, me;
    float xa, xe;
    score_stats(a, &d, &ma, &xa);
    score_stats(e, &d, &me, &xe);
    printf("off-diagonal rows: axis %.3f (mean %.3f), extended %.3f (mean %.3f)\n", sa, ma, se, me);
    assert_true(se - me > sa - ma);
    vg_wbuf desc;
    vg_wbuf_init(&desc);
    K->describe(e, &desc);
    vg_wbuf_u8(&desc, 0);
    assert_non_null(strstr((char *)desc.data, "extension_level: 1"));
    assert_null(strstr((char *)desc.data, "oblique 0\n"));
    vg_wbuf_free(&desc);
    K->free(a);
    K->free(e);
    dataset_free(&d);
}

static void test_save_load_round_trip(void **state)
{
    (void)state;
    dataset d = blobs(3000, 5, 4);
    const char *ext[] = { "n_estimators", "30", "extension_level", "full", NULL };
    const char *axis[] = { "n_estimators", "30", "max_samples", "0.1", NULL };
    const char *const *sets[] = { axis, ext };
    for (int k = 0; k < 2; k++) {
        void *s = fit_with(sets[k], &d, 11, 2), *t = NULL;
        vg_wbuf w = saved(s);
        if (load_bytes(w.data, w.len, &t) != VG_OK) fail_msg("load: %s", vg_last_error());
        float *ps = scores(s, &d.X, 2), *pt = scores(t, &d.X, 1);
        assert_memory_equal(ps, pt, d.X.rows * sizeof *ps);
        vg_wbuf w2 = saved(t), d1, d2;
        assert_int_equal(w.len, w2.len);
        assert_memory_equal(w.data, w2.data, w.len);
        vg_wbuf_init(&d1);
        vg_wbuf_init(&d2);
        K->describe(s, &d1);
        K->describe(t, &d2);
        assert_int_equal(d1.len, d2.len);
        assert_memory_equal(d1.data, d2.data, d1.len);
        double c1[6], c2[6];
        K->explain(s, d.X.data, c1);
        K->explain(t, d.X.data, c2);
        assert_memory_equal(c1, c2, sizeof c1);
        assert_int_equal(K->n_features(t), 5);
        double imp[5];
        K->importance(t, 2, imp);
        for (int f = 0; f < 5; f++) assert_true(imp[f] > 0);
        free(ps);
        free(pt);
        vg_wbuf_free(&w);
        vg_wbuf_free(&w2);
        vg_wbuf_free(&d1);
        vg_wbuf_free(&d2);
        K->free(s);
        K->free(t);
    }
    dataset_free(&d);
}

/* Offsets in the file section (iforest.h) of a forest with F columns, T trees, N nodes. */
#define OFF_HEADER 32u
static size_t off_left(uint32_t F, uint32_t T) { return OFF_HEADER + 4u * (F + T); }

static void expect_refused(const uint8_t *data, size_t len, const char *what)
{
    void *t = NULL;
    vg_status st = load_bytes(data, len, &t);
    if (st == VG_OK) {
        K->free(t);
        fail_msg("%s: a corrupt forest was accepted", what);
    }
    assert_int_equal(st, VG_ERR_FORMAT);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_load_refuses_corrupt_states(void **state)
{
    (void)state;
    dataset d = blobs(600, 4, 5);
    const char *kv[] = { "n_estimators", "3", "max_samples", "16", "extension_level", "1", NULL };
    void *s = fit_with(kv, &d, 3, 1);
    vg_wbuf w = saved(s);
    uint8_t *b = malloc(w.len);
    /* Every truncation. */
    for (size_t len = 0; len < w.len; len++) expect_refused(w.data, len, "truncated");
    const uint32_t F = 4, T = 3, N = get_u32(w.data + 16), W = get_u32(w.data + 20), M = get_u32(w.data + 24);
    const size_t L = off_left(F, T), I = L + 4u * N, A = I + 4u * N, V = A + 4u * N, S = V + 4u * N;
    struct { size_t at; uint32_t v; const char *what; } cases[] = {
        { 0, 2, "version" },
        { 4, 0, "no columns" },
        { 8, 0, "no trees" },
        { 8, 1000000, "more trees than bytes" },
        { 12, 1, "psi 1" },
        { 16, N + 1, "more nodes than bytes" },
        { 28, (uint32_t)-5, "extension level" },
        { OFF_HEADER + 12, VG_IFOREST_MAX_CATEGORIES + 1, "too many categories" },
        { OFF_HEADER + 4 * F, 1, "first tree not at 0" },
        { OFF_HEADER + 4 * F + 4, N, "tree start past the end" },
        { L, 0, "root without children" },
        { L, N - 1, "children past the tree" },
        { I, 3, "axis cut of the categorical column" },
        { I, 7, "column out of range" },
        { I, (uint32_t)VG_IFOREST_CATEGORY << VG_IFOREST_KIND_SHIFT, "categorical cut of a numeric column" },
        { I, (uint32_t)VG_IFOREST_OBLIQUE << VG_IFOREST_KIND_SHIFT | 0, "oblique cut of no terms" },
        { I, (uint32_t)VG_IFOREST_OBLIQUE << VG_IFOREST_KIND_SHIFT | 9, "oblique cut of too many terms" },
        { I, (uint32_t)VG_IFOREST_LEAF << VG_IFOREST_KIND_SHIFT, "leaf with children" },
        { V, 0x7FC00000u, "NaN threshold" },
        { S, 17, "root holds more rows than psi" },
        { S + 4, 0, "an empty child" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memcpy(b, w.data, w.len);
        put_u32(b + cases[i].at, cases[i].v);
        /* The oblique term count and the threshold cases need a node of that kind at the root. */
        if (cases[i].at == V) put_u32(b + I, 0);
        expect_refused(b, w.len, cases[i].what);
    }
    /* A node that two parents claim: the second cut points at the first's children. */
    memcpy(b, w.data, w.len);
    uint32_t root_left = get_u32(w.data + L);
    int found = 0;
    for (uint32_t i = 1; i < get_u32(w.data + OFF_HEADER + 4 * F + 4) && !found; i++) {
        if (get_u32(w.data + L + 4 * i) != 0) {
            put_u32(b + L + 4 * i, root_left);
            found = 1;
        }
    }
    assert_true(found);
    expect_refused(b, w.len, "shared children");
    /* Terms: a categorical or out-of-range column, a non-finite weight. */
    if (M > 0) {
        size_t TF = S + 4u * N + 4u * W, TW = TF + 4u * M;
        memcpy(b, w.data, w.len);
        for (uint32_t q = 0; q < M; q++) put_u32(b + TF + 4 * q, 3);
        expect_refused(b, w.len, "a categorical term");
        memcpy(b, w.data, w.len);
        for (uint32_t q = 0; q < M; q++) put_u32(b + TW + 4 * q, 0x7F800000u);
        expect_refused(b, w.len, "an infinite weight");
    }
    /* Any single byte changed: refused or a forest that scores without crashing. */
    size_t accepted = 0;
    for (size_t at = 0; at < w.len; at++) {
        memcpy(b, w.data, w.len);
        b[at] ^= 0x5A;
        void *t = NULL;
        if (load_bytes(b, w.len, &t) == VG_OK) {
            float *p = scores(t, &d.X, 1);
            for (size_t r = 0; r < d.X.rows; r++) assert_true(p[r] >= 0.0f && p[r] <= 1.0f);
            double c[5];
            assert_int_equal(K->explain(t, d.X.data, c), VG_OK);
            free(p);
            K->free(t);
            accepted++;
        }
    }
    printf("%zu of %zu single-byte changes still load (thresholds, weights, category bits)\n", accepted, w.len);
    free(b);
    vg_wbuf_free(&w);
    K->free(s);
    dataset_free(&d);
}

static void expect_param_error(const char *key, const char *value, const char *needle)
{
    void *p = malloc(K->params_size);
    K->params_default(p);
    vg_status st = K->params_set(p, key, value);
    if (st == VG_OK) fail_msg("%s=%s was accepted", key, value);
    if (!strstr(vg_last_error(), needle)) fail_msg("%s=%s: message '%s' lacks '%s'", key, value, vg_last_error(), needle);
    free(p);
}

static void expect_fit_error(const char *const *kv, const dataset *d, const char *needle)
{
    void *s = NULL;
    vg_status st = try_fit(kv, d, 1, 1, &s);
    if (st == VG_OK) {
        K->free(s);
        fail_msg("fit with %s=%s succeeded", kv[0] ? kv[0] : "", kv[0] ? kv[1] : "");
    }
    if (!strstr(vg_last_error(), needle)) fail_msg("message '%s' lacks '%s'", vg_last_error(), needle);
    assert_null(s);
}

static void test_params(void **state)
{
    (void)state;
    expect_param_error("n_estimators", "0", "n_estimators");
    expect_param_error("n_estimators", "many", "n_estimators");
    expect_param_error("max_samples", "1", "max_samples");
    expect_param_error("max_samples", "1.5", "max_samples");
    expect_param_error("max_samples", "0.0", "max_samples");
    expect_param_error("max_features", "0", "max_features");
    expect_param_error("max_features", "2.0", "max_features");
    expect_param_error("bootstrap", "maybe", "bootstrap");
    expect_param_error("extended", "2", "extended");
    expect_param_error("extension_level", "-1", "extension_level");
    expect_param_error("contamination", "0.1", "not a parameter of model 'iforest'");
    expect_param_error("max_depth", "3", "max_depth");

    /* describe -> set -> describe is the same text (inspect shows what fit used). */
    const char *kv[] = { "n_estimators", "7", "max_samples", "0.25", "max_features", "1.0", "bootstrap", "true",
                         "extension_level", "full", NULL };
    const char *kv2[] = { "max_samples", "300", "max_features", "3", "extended", "false", NULL };
    const char *const *sets[] = { kv, kv2, NULL };
    for (int k = 0; sets[k]; k++) {
        void *p = params_with(sets[k]), *q = malloc(K->params_size);
        assert_null(K->params_check(p));
        vg_wbuf a, b;
        vg_wbuf_init(&a);
        vg_wbuf_init(&b);
        K->params_describe(p, &a);
        vg_wbuf_u8(&a, 0);
        K->params_default(q);
        char *text = strdup((char *)a.data), *save = NULL;
        for (char *item = strtok_r(text, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
            while (*item == ' ') item++;
            char *eq = strchr(item, '=');
            assert_non_null(eq);
            *eq = '\0';
            assert_int_equal(K->params_set(q, item, eq + 1), VG_OK);
        }
        K->params_describe(q, &b);
        vg_wbuf_u8(&b, 0);
        assert_string_equal((char *)a.data, (char *)b.data);
        free(text);
        vg_wbuf_free(&a);
        vg_wbuf_free(&b);
        free(p);
        free(q);
    }

    /* Errors that need the data. */
    dataset d = blobs(200, 4, 6);
    const char *too_many_features[] = { "max_features", "5", NULL };
    expect_fit_error(too_many_features, &d, "max_features");
    const char *ext_too_high[] = { "extension_level", "3", NULL };
    expect_fit_error(ext_too_high, &d, "extension_level");
    const char *tiny_fraction[] = { "max_samples", "0.001", NULL };
    expect_fit_error(tiny_fraction, &d, "max_samples");
    const char *none[] = { NULL };
    d.X.data[5 * 4 + 2] = NAN;
    expect_fit_error(none, &d, "row 6, numeric column 3");
    d.X.data[5 * 4 + 2] = INFINITY;
    expect_fit_error(none, &d, "infinite");
    d.X.data[5 * 4 + 2] = 0.0f;
    d.X.data[7 * 4 + 3] = 6.0f;
    expect_fit_error(none, &d, "not a code");
    d.X.data[7 * 4 + 3] = 1.5f;
    expect_fit_error(none, &d, "not a code");
    d.X.data[7 * 4 + 3] = NAN;  /* a missing category is a value like any other */
    void *s = fit_with(none, &d, 1, 1);
    K->free(s);
    d.X.rows = 1;
    expect_fit_error(none, &d, "at least 2");
    d.X.rows = 200;
    /* More rows asked than given: scikit-learn's clamp (with a warning). */
    const char *big[] = { "max_samples", "1000", NULL };
    s = fit_with(big, &d, 1, 1);
    vg_wbuf desc;
    vg_wbuf_init(&desc);
    K->describe(s, &desc);
    vg_wbuf_u8(&desc, 0);
    assert_non_null(strstr((char *)desc.data, "rows_per_tree: 200"));
    vg_wbuf_free(&desc);
    K->free(s);
    dataset_free(&d);
    assert_null(vg_estimator_check(K));
    assert_ptr_equal(vg_estimator_find("iforest"), K);
}

/* Constant data: every tree is a single leaf; every row scores alike and
 * the explanation is all bias. */
static void test_constant_data(void **state)
{
    (void)state;
    dataset d = blobs(100, 3, 7);
    for (size_t i = 0; i < 300; i++) d.X.data[i] = i % 3 == 2 ? 1.0f : 0.5f;
    const char *none[] = { NULL };
    void *s = fit_with(none, &d, 1, 2);
    float *p = scores(s, &d.X, 2);
    for (size_t r = 1; r < 100; r++) assert_true(p[r] == p[0]);
    /* E[h] = c(100) exactly, so the score is 2^-1. */
    assert_true(fabsf(p[0] - 0.5f) < 1e-6f);
    double c[4];
    assert_int_equal(K->explain(s, d.X.data, c), VG_OK);
    assert_true(c[0] == 0 && c[1] == 0 && c[2] == 0 && fabs(c[3] - p[0]) < 1e-7);
    free(p);
    K->free(s);
    dataset_free(&d);
}

/* Learning while watching: traffic that shifts stops raising alerts once
 * the window has passed and the trees were regrown on it, while a burst of
 * attacks still does; memory stays bounded; the same stream gives the same
 * forest. */
static void test_window_adapts(void **state)
{
    (void)state;
    dataset d = blobs(3000, 4, 8);
    const char *kv[] = { "n_estimators", "50", NULL };
    vg_iforest *f = fit_with(kv, &d, 3, 2);
    /* Threshold: the 99th percentile of the training scores. */
    float *p = scores(f, &d.X, 2);
    float thr = 0;
    size_t above;
    for (float t = 0.4f; t < 1.0f; t += 0.001f) {
        above = 0;
        for (size_t r = 0; r < d.X.rows; r++) above += p[r] >= t;
        if (above <= d.X.rows / 100) {
            thr = t;
            break;
        }
    }
    free(p);
    vg_iforest_window *w[2];
    vg_iforest_window_params wp = { .window = 1024, .refresh = 8 };
    for (int i = 0; i < 2; i++) assert_int_equal(vg_iforest_window_new(f, wp, 99, &w[i]), VG_OK);
    vg_rng rng;
    vg_rng_seed(&rng, 5, 0);
    size_t before = 0, after = 0, n_before = 0, n_after = 0, mem_at_2000 = 0;
    for (int e = 0; e < 4000; e++) {
        /* The shift: every numeric column moves by 3. */
        float row[4] = { 3.0f + (float)vg_rng_normal(&rng), 0, 3.0f + (float)vg_rng_normal(&rng),
                         (float)vg_rng_below(&rng, 5) };
        row[1] = row[0] + 0.1f * (float)vg_rng_normal(&rng);
        float s0, s1;
        assert_int_equal(vg_iforest_window_observe(w[0], row, &s0), VG_OK);
        assert_int_equal(vg_iforest_window_observe(w[1], row, &s1), VG_OK);
        assert_true(s0 == s1);
        if (e < 200) before += s0 >= thr, n_before++;
        if (e >= 3000) after += s0 >= thr, n_after++;
        if (e == 2000) mem_at_2000 = vg_mem_in_use();
    }
    size_t mem_end = vg_mem_in_use();
    /* An attack burst, far from both old and new traffic, in the last
     * tenth of a window. */
    size_t burst = 0;
    for (int e = 0; e < 100; e++) {
        float row[4] = { -5.0f + 0.3f * (float)vg_rng_normal(&rng), 5.0f, 9.0f, 5.0f };
        float s0, s1;
        vg_iforest_window_observe(w[0], row, &s0);
        vg_iforest_window_observe(w[1], row, &s1);
        burst += s0 >= thr;
    }
    printf("threshold %.3f; shifted traffic alerts: first 200 %.1f%%, after 3000 events %.1f%%; attack burst "
           "%.0f%%; %llu trees replaced; memory %zu -> %zu bytes\n", thr, 100.0 * before / n_before,
           100.0 * after / n_after, 100.0 * burst / 100, (unsigned long long)vg_iforest_window_replaced(w[0]),
           mem_at_2000, mem_end);
    assert_true(before > n_before * 6 / 10);
    assert_true(after < n_after / 20);
    assert_true(burst > 90);
    assert_true(mem_end < mem_at_2000 + mem_at_2000 / 10 + 65536);
    vg_wbuf a = saved(vg_iforest_window_forest(w[0])), b = saved(vg_iforest_window_forest(w[1]));
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    /* The adapted forest saves and loads like any other. */
    void *t = NULL;
    assert_int_equal(load_bytes(a.data, a.len, &t), VG_OK);
    K->free(t);
    vg_wbuf_free(&a);
    vg_wbuf_free(&b);
    vg_iforest_window_params small = { .window = 100, .refresh = 8 }, zero = { .window = 1024, .refresh = 0 };
    vg_iforest_window *bad = NULL;
    assert_int_equal(vg_iforest_window_new(f, small, 1, &bad), VG_ERR_INVALID);
    assert_int_equal(vg_iforest_window_new(f, zero, 1, &bad), VG_ERR_INVALID);
    assert_null(bad);
    for (int i = 0; i < 2; i++) vg_iforest_window_free(w[i]);
    K->free(f);
    dataset_free(&d);
}

/* A restart continues where it stopped: a learner saved halfway and
 * restored (same window) scores the rest of the stream exactly as one that
 * never stopped, and ends with the same forest; a smaller window keeps the
 * newest rows; a state that does not fit the forest is refused. */
static void test_window_restart(void **state)
{
    (void)state;
    dataset d = blobs(2000, 4, 9);
    const char *kv[] = { "n_estimators", "20", NULL };
    vg_iforest *f = fit_with(kv, &d, 3, 2);
    vg_iforest_window_params wp = { .window = 700, .refresh = 5 };
    vg_iforest_window *a, *b = NULL, *c = NULL;
    assert_int_equal(vg_iforest_window_new(f, wp, 42, &a), VG_OK);
    vg_rng rng;
    vg_rng_seed(&rng, 6, 0);
    float rows[2500][4];
    for (int e = 0; e < 2500; e++) {
        rows[e][0] = 2.0f + (float)vg_rng_normal(&rng);
        rows[e][1] = rows[e][0] + 0.1f * (float)vg_rng_normal(&rng);
        rows[e][2] = 2.0f + (float)vg_rng_normal(&rng);
        rows[e][3] = (float)vg_rng_below(&rng, 5);
    }
    float sa, sb;
    for (int e = 0; e < 1234; e++) assert_int_equal(vg_iforest_window_observe(a, rows[e], &sa), VG_OK);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(vg_iforest_window_save(a, &w), VG_OK);
    vg_wbuf tree = saved(vg_iforest_window_forest(a));
    void *g = NULL;
    assert_int_equal(load_bytes(tree.data, tree.len, &g), VG_OK);
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "adapt");
    vg_iforest_window_params keep = { 0, 0 };
    assert_int_equal(vg_iforest_window_load(g, &r, keep, 42, &b), VG_OK);
    size_t differ = 0;
    for (int e = 1234; e < 2500; e++) {
        assert_int_equal(vg_iforest_window_observe(a, rows[e], &sa), VG_OK);
        assert_int_equal(vg_iforest_window_observe(b, rows[e], &sb), VG_OK);
        differ += sa != sb;
    }
    printf("restart halfway: %zu of 1266 later scores differ, %llu trees replaced\n", differ,
           (unsigned long long)vg_iforest_window_replaced(b));
    assert_int_equal(differ, 0);
    assert_true(vg_iforest_window_replaced(b) > 400);
    vg_wbuf fa = saved(vg_iforest_window_forest(a)), fb = saved(vg_iforest_window_forest(b));
    assert_int_equal(fa.len, fb.len);
    assert_memory_equal(fa.data, fb.data, fa.len);
    /* A smaller window keeps the newest rows: saving it again holds 300 rows. */
    vg_iforest_window_params small = { .window = 300, .refresh = 5 };
    vg_rbuf_init(&r, w.data, w.len, "adapt");
    assert_int_equal(vg_iforest_window_load(g, &r, small, 42, &c), VG_OK);
    vg_wbuf w2;
    vg_wbuf_init(&w2);
    assert_int_equal(vg_iforest_window_save(c, &w2), VG_OK);
    assert_int_equal(w2.len, 40 + 300 * 16);
    /* Its rows are the last 300 of the first save's 700. */
    assert_memory_equal(w2.data + 40, w.data + 40 + 400 * 16, 300 * 16);
    vg_iforest_window_free(c);
    /* Refused: truncated, a row of the wrong width, a counter out of range,
     * a category code the forest has not got. */
    vg_iforest_window *bad = NULL;
    vg_rbuf_init(&r, w.data, w.len - 3, "adapt");
    assert_int_equal(vg_iforest_window_load(g, &r, keep, 42, &bad), VG_ERR_FORMAT);
    uint8_t *copy = malloc(w.len);
    memcpy(copy, w.data, w.len);
    copy[4] = 5;   /* n_features */
    vg_rbuf_init(&r, copy, w.len, "adapt");
    assert_int_equal(vg_iforest_window_load(g, &r, keep, 42, &bad), VG_ERR_FORMAT);
    memcpy(copy, w.data, w.len);
    copy[16] = 0xff, copy[17] = 0xff;   /* filled beyond the window */
    vg_rbuf_init(&r, copy, w.len, "adapt");
    assert_int_equal(vg_iforest_window_load(g, &r, keep, 42, &bad), VG_ERR_FORMAT);
    memcpy(copy, w.data, w.len);
    float code = 77.0f;
    memcpy(copy + 40 + 12, &code, 4);
    vg_rbuf_init(&r, copy, w.len, "adapt");
    assert_int_equal(vg_iforest_window_load(g, &r, keep, 42, &bad), VG_ERR_FORMAT);
    assert_null(bad);
    free(copy);
    vg_wbuf_free(&w), vg_wbuf_free(&w2), vg_wbuf_free(&tree), vg_wbuf_free(&fa), vg_wbuf_free(&fb);
    vg_iforest_window_free(a);
    vg_iforest_window_free(b);
    K->free(g);
    K->free(f);
    dataset_free(&d);
}

static uint32_t leaf_depth(const vg_iforest_node *tree, uint32_t i)
{
    if (!tree[i].left) return 0;
    uint32_t a = leaf_depth(tree, tree[i].left), b = leaf_depth(tree, tree[i].left + 1);
    return 1 + (a > b ? a : b);
}

static uint32_t deepest_leaf(const vg_iforest *f)
{
    uint32_t D = 0;
    for (uint32_t t = 0; t < f->n_trees; t++) {
        uint32_t d = leaf_depth(f->nodes + f->tree_start[t], 0);
        D = d > D ? d : D;
    }
    return D;
}

/* The flat layout's scores for d's first 1000 rows and three odd ones
 * (NaN, unseen and out-of-range codes), with the plain and the AVX-512
 * kernel, equal the node walk's and the single-row path's to the bit. */
static void check_flat_same_scores(const char *const *kv, dataset *d, uint32_t want_depth)
{
    vg_iforest *f = fit_with(kv, d, 5, 2);
    assert_non_null(f->flat);
    assert_int_equal(deepest_leaf(f), want_depth);
    vg_matrix T;
    assert_int_equal(vg_matrix_alloc(&T, 1003, 5), VG_OK);
    memcpy(T.data, d->X.data, 1000 * 5 * sizeof *T.data);
    const float odd[3][5] = { { NAN, 0.5f, NAN, 2.0f, NAN }, { 9.0f, -9.0f, 0.0f, 0.0f, 77.0f },
                              { 0.1f, 0.1f, 1e30f, -1e30f, 2.5f } };
    memcpy(T.data + 1000 * 5, odd, sizeof odd);
    /* Also inside a group of 16, where the AVX-512 kernel (if the CPU has it) takes them. */
    memcpy(T.data + 17 * 5, odd, sizeof odd);
    float *a = scores(f, &T, 2);
    setenv("VG_NO_SIMD", "1", 1);
    float *plain = scores(f, &T, 2);
    unsetenv("VG_NO_SIMD");
    struct vg_iforest_flat *flat = f->flat;
    f->flat = NULL;
    float *b = scores(f, &T, 1);
    f->flat = flat;
    assert_memory_equal(a, b, T.rows * sizeof *a);
    assert_memory_equal(a, plain, T.rows * sizeof *a);
    for (size_t r = 0; r < T.rows; r++) assert_true(a[r] == vg_iforest_score_row(f, T.data + r * 5));
    free(a), free(b), free(plain);
    K->free(f);
    vg_matrix_free(&T);
}

/* The flat scoring layout (every tree padded to a perfect tree) gives the
 * same floats as the node walk: trees of every depth the wide kernel treats
 * differently (its permuted levels and its gathered ones), a categorical
 * column whose bitset fits in the cut and one of 40 categories whose does
 * not; a forest with oblique cuts has no flat layout. */
static void test_flat_layout_same_scores(void **state)
{
    (void)state;
    dataset d = blobs(3000, 5, 12);
    const char *deep[] = { "n_estimators", "60", NULL };
    check_flat_same_scores(deep, &d, 8);
    const char *d4[] = { "n_estimators", "30", "max_samples", "16", NULL };
    check_flat_same_scores(d4, &d, 4);
    const char *d6[] = { "n_estimators", "30", "max_samples", "40", NULL };
    check_flat_same_scores(d6, &d, 6);
    const char *d7[] = { "n_estimators", "30", "max_samples", "100", NULL };
    check_flat_same_scores(d7, &d, 7);
    const char *d9[] = { "n_estimators", "20", "max_samples", "300", NULL };
    check_flat_same_scores(d9, &d, 9);
    d.features[4].n_categories = 40;
    for (size_t r = 0; r < d.X.rows; r++) d.X.data[r * 5 + 4] = (float)(r * 7 % 40);
    check_flat_same_scores(deep, &d, 8);
    const char *ext[] = { "n_estimators", "5", "extension_level", "1", NULL };
    vg_iforest *g = fit_with(ext, &d, 5, 1);
    assert_null(g->flat);
    K->free(g);
    dataset_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c_matches_sklearn),
        cmocka_unit_test(test_scores_match_sklearn_trees),
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_outliers_stand_out),
        cmocka_unit_test(test_extended_sees_the_diagonal),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_load_refuses_corrupt_states),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_constant_data),
        cmocka_unit_test(test_window_adapts),
        cmocka_unit_test(test_window_restart),
        cmocka_unit_test(test_flat_layout_same_scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
