/* Unit tests for the hybrid estimator (models/hybrid.c): a supervised family
 * over its fields plus an anomaly family's score. An attack of a kind the
 * labels never showed is found through the score where the supervised model
 * alone misses it; explanations keep the contract (fields + bias sum to the
 * raw score); the same model for 1 and 2 threads; save/load; hostile bytes;
 * parameter errors naming the parameter. */
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
#include "testutil.h"

static const vg_estimator_kind *H = &vg_hybrid_kind;

enum { COLS = 5 };  /* 4 numeric, 1 categorical of 4 codes */

static const vg_feature features[COLS] = {
    { "a", VG_FEATURE_NUMERIC, 0 }, { "b", VG_FEATURE_NUMERIC, 0 }, { "c", VG_FEATURE_NUMERIC, 0 },
    { "d", VG_FEATURE_NUMERIC, 0 }, { "proto", VG_FEATURE_CATEGORICAL, 4 },
};

/* kind 0 normal; 1..3 the attacks labelled at training (far out along a,
 * against b, along d); 4 the novel one (far out against c). */
static void row(vg_rng *rng, int kind, float *x)
{
    for (int c = 0; c < 4; c++) x[c] = (float)vg_rng_normal(rng);
    x[4] = (float)vg_rng_below(rng, 4);
    if (kind == 1) x[0] = 6.0f + 0.5f * (float)vg_rng_normal(rng);
    if (kind == 2) x[1] = -6.0f + 0.5f * (float)vg_rng_normal(rng);
    if (kind == 3) x[3] = 6.0f + 0.5f * (float)vg_rng_normal(rng);
    if (kind == 4) x[2] = -6.0f + 0.5f * (float)vg_rng_normal(rng);
}

static void make(size_t n, int novel, uint64_t seed, vg_matrix *X, int32_t *y, int *kind)
{
    assert_int_equal(vg_matrix_alloc(X, n, COLS), VG_OK);
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0);
    for (size_t r = 0; r < n; r++) {
        int k = r % 10 == 9 && (novel || r % 50 == 49) ? (novel ? 4 : 1 + (int)(r / 50 % 3)) : 0;
        row(&rng, k, X->data + r * COLS);
        if (y) y[r] = k != 0;
        if (kind) kind[r] = k;
    }
}

static void *params_with(const char *const *kv)
{
    void *p = malloc(H->params_size);
    H->params_default(p);
    for (size_t i = 0; kv[i]; i += 2) assert_int_equal(H->params_set(p, kv[i], kv[i + 1]), VG_OK);
    assert_null(H->params_check(p));
    return p;
}

static void *fit(const vg_estimator_kind *k, void *params, const vg_matrix *X, const int32_t *y, int threads)
{
    vg_train_set ts = { .X = X, .features = features, .y = y, .n_classes = 2 };
    vg_fit_options opt = { .seed = 7, .threads = threads };
    void *s = NULL;
    assert_int_equal(k->fit(params, &ts, &opt, &s), VG_OK);
    return s;
}

/* ROC-AUC of the novel attack rows against the normal ones (P(attack)
 * ranks them; ties count half). */
static double novel_auc(const vg_estimator_kind *k, const void *s, const vg_matrix *T, const int *kind)
{
    float *p = malloc(T->rows * 2 * sizeof *p);
    k->predict(s, T, 1, p);
    double win = 0, pairs = 0;
    for (size_t i = 0; i < T->rows; i++) {
        if (kind[i] != 4) continue;
        for (size_t j = 0; j < T->rows; j++) {
            if (kind[j] != 0) continue;
            win += p[2 * i + 1] > p[2 * j + 1] ? 1.0 : p[2 * i + 1] == p[2 * j + 1] ? 0.5 : 0.0;
            pairs++;
        }
    }
    free(p);
    return win / pairs;
}

static void test_novel_attack_found_through_the_score(void **state)
{
    (void)state;
    size_t n = 3000;
    vg_matrix X, T;
    int32_t *y = malloc(n * sizeof *y);
    int *kind = malloc(1000 * sizeof *kind);
    make(n, 0, 1, &X, y, NULL);
    make(1000, 1, 2, &T, NULL, kind);
    /* An additive family: the score adds to the evidence of the fields.
     * (Trees can learn "a high score only with an odd a, b or d", and then
     * miss the new kind again: the unit test pins the additive case.) */
    void *gp = malloc(vg_logreg_kind.params_size);
    vg_logreg_kind.params_default(gp);
    void *g = fit(&vg_logreg_kind, gp, &X, y, 1);
    const char *kv[] = { "model", "logreg", "stack_anomaly", "iforest", NULL };
    void *hp = params_with(kv);
    void *h = fit(H, hp, &X, y, 1);
    double r_base = novel_auc(&vg_logreg_kind, g, &T, kind), r_h = novel_auc(H, h, &T, kind);
    vg_wbuf desc;
    vg_wbuf_init(&desc);
    H->describe(h, &desc);
    vg_wbuf_u8(&desc, 0);
    printf("ROC-AUC of a novel attack against normal rows: logreg %.3f, logreg + iforest score %.3f\n", r_base, r_h);
    vg_wbuf_free(&desc);
    assert_true(r_base < 0.7);
    assert_true(r_h > 0.9);

    /* Explanations: fields + bias sum to the log-odds; the novel attack's
     * credit lands on column c, the one that is odd. */
    uint32_t K = H->n_outputs(h);
    assert_int_equal(K, 1);
    double contrib[COLS + 1];
    for (size_t r = 0; r < T.rows; r++) {
        if (kind[r] != 4) continue;
        float p[2];
        vg_matrix one = { 1, COLS, T.data + r * COLS };
        H->predict(h, &one, 1, p);
        assert_int_equal(H->explain(h, one.data, contrib), VG_OK);
        double sum = 0;
        for (int c = 0; c <= COLS; c++) sum += contrib[c];
        double logit = log((double)p[1] / (double)p[0]);
        assert_true(fabs(sum - logit) < 1e-3 * (1 + fabs(logit)));
        int top = 0;
        for (int c = 1; c < COLS; c++)
            if (contrib[c] > contrib[top]) top = c;
        assert_int_equal(top, 2);
        break;
    }

    /* Same model for 2 threads, and after a save and a load. */
    void *h2 = fit(H, hp, &X, y, 2);
    vg_wbuf w1, w2;
    vg_wbuf_init(&w1), vg_wbuf_init(&w2);
    assert_int_equal(H->save(h, &w1), VG_OK);
    assert_int_equal(H->save(h2, &w2), VG_OK);
    assert_int_equal(w1.len, w2.len);
    assert_memory_equal(w1.data, w2.data, w1.len);
    vg_rbuf r;
    vg_rbuf_init(&r, w1.data, w1.len, "hybrid");
    void *l = NULL;
    assert_int_equal(H->load(&r, &l), VG_OK);
    float *pa = malloc(T.rows * 2 * sizeof *pa), *pb = malloc(T.rows * 2 * sizeof *pb);
    H->predict(h, &T, 2, pa);
    H->predict(l, &T, 1, pb);
    assert_memory_equal(pa, pb, T.rows * 2 * sizeof *pa);
    assert_int_equal(H->n_features(l), COLS);
    assert_int_equal(H->n_classes(l), 2);
    /* Every truncation is refused, never a crash. */
    for (size_t cut = 0; cut < w1.len; cut += 1 + cut / 16) {
        void *bad = NULL;
        vg_rbuf_init(&r, w1.data, cut, "hybrid");
        assert_int_not_equal(H->load(&r, &bad), VG_OK);
        assert_null(bad);
    }
    free(pa), free(pb);
    vg_wbuf_free(&w1), vg_wbuf_free(&w2);
    H->free(l), H->free(h), H->free(h2), vg_logreg_kind.free(g);
    free(hp), free(gp), free(y), free(kind);
    vg_matrix_free(&X), vg_matrix_free(&T);
}

/* An anomaly family that wants scaled rows under a family that gives native
 * ones: standardised for it, and the result saves and loads. */
static void test_scaled_anomaly_family(void **state)
{
    (void)state;
    vg_matrix X;
    int32_t *y = malloc(1500 * sizeof *y);
    make(1500, 0, 3, &X, y, NULL);
    const char *kv[] = { "model", "forest", "n_estimators", "10", "stack_anomaly", "kmeans",
                         "stack_anomaly.n_clusters", "3", NULL };
    void *hp = params_with(kv);
    assert_int_equal(H->params_encoding(hp), vg_forest_kind.encoding);
    void *h = fit(H, hp, &X, y, 1);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(H->save(h, &w), VG_OK);
    vg_wbuf d;
    vg_wbuf_init(&d);
    H->describe(h, &d);
    vg_wbuf_u8(&d, 0);
    assert_non_null(strstr((char *)d.data, "standardised"));
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "hybrid");
    void *l = NULL;
    assert_int_equal(H->load(&r, &l), VG_OK);
    /* A corrupted scale (a zero inverse deviation) is refused. */
    uint8_t *copy = malloc(w.len);
    memcpy(copy, w.data, w.len);
    size_t at = 4 + 4 + strlen("forest") + 4 + strlen("kmeans") + 4 + 1 + COLS * 4;
    memset(copy + at, 0, 4);
    vg_rbuf_init(&r, copy, w.len, "hybrid");
    void *bad = NULL;
    assert_int_equal(H->load(&r, &bad), VG_ERR_FORMAT);
    free(copy);
    vg_wbuf_free(&w), vg_wbuf_free(&d);
    H->free(l), H->free(h);
    free(hp), free(y);
    vg_matrix_free(&X);
}

static void test_params(void **state)
{
    (void)state;
    void *p = malloc(H->params_size);
    H->params_default(p);
    assert_non_null(H->params_check(p));  /* no supervised family yet */
    assert_int_equal(H->params_set(p, "max_depth", "3"), VG_ERR_INVALID);
    assert_int_equal(H->params_set(p, "model", "iforest"), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "supervised"));
    assert_int_equal(H->params_set(p, "model", "lstm"), VG_ERR_INVALID);
    assert_int_equal(H->params_set(p, "model", "gbdt"), VG_OK);
    assert_int_equal(H->params_set(p, "stack_anomaly", "forest"), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "stack_anomaly"));
    assert_int_equal(H->params_set(p, "stack_anomaly.n_estimators", "0"), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "n_estimators"));
    assert_int_equal(H->params_set(p, "stack_anomaly.contamination", "0.1"), VG_ERR_INVALID);
    assert_int_equal(H->params_set(p, "stack_anomaly.bogus", "1"), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "bogus"));
    assert_int_equal(H->params_set(p, "stack_anomaly.n_estimators", "20"), VG_OK);
    /* Its keys were for iforest: another family now would drop them. */
    assert_int_equal(H->params_set(p, "stack_anomaly", "lof"), VG_ERR_INVALID);
    assert_int_equal(H->params_set(p, "max_depth", "3"), VG_OK);
    assert_int_equal(H->params_set(p, "max_dept", "3"), VG_ERR_INVALID);
    assert_null(H->params_check(p));
    vg_wbuf d;
    vg_wbuf_init(&d);
    H->params_describe(p, &d);
    vg_wbuf_u8(&d, 0);
    assert_non_null(strstr((char *)d.data, "model=gbdt, stack_anomaly=iforest"));
    assert_non_null(strstr((char *)d.data, "max_depth=3"));
    assert_non_null(strstr((char *)d.data, "stack_anomaly.n_estimators=20"));
    vg_wbuf_free(&d);
    free(p);
    assert_null(vg_estimator_check(H));
    assert_ptr_equal(vg_estimator_find("hybrid"), H);
    /* Every family over single dense rows takes part on its side. */
    for (const vg_estimator_kind *const *k = vg_estimator_all(); *k; k++) {
        if (*k == H || ((*k)->inputs & VG_ESTIMATOR_IN_WINDOW) || !((*k)->inputs & VG_ESTIMATOR_IN_DENSE)) continue;
        void *q = malloc(H->params_size);
        H->params_default(q);
        const char *key = (*k)->needs_labels ? "model" : "stack_anomaly";
        if (H->params_set(q, key, (*k)->name) != VG_OK) fail_msg("%s=%s: %s", key, (*k)->name, vg_last_error());
        free(q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_novel_attack_found_through_the_score),
        cmocka_unit_test(test_scaled_anomaly_family),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
