/* Unit tests for the "forest" estimator: determinism across thread counts,
 * accuracy against a single shallow tree, out-of-bag accuracy, parameters,
 * progress reports, save/load (explanations and importances included),
 * hostile model bytes and foreign ensembles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/buf.h"
#include "vigil/core.h"
#include "vigil/estimator.h"
#include "vigil/rng.h"
#include "models/cart.h"
#include "testutil.h"

typedef struct dataset {
    vg_matrix X;
    int32_t *y;
    vg_feature *features;
    float *weight;
    uint32_t n_classes;
} dataset;

static void dataset_free(dataset *d)
{
    vg_matrix_free(&d->X);
    free(d->y);
    free(d->features);
    free(d->weight);
}

/* Columns: 0..2 carry the signal (with label noise), 3 is a categorical
 * whose subset {0, 2, 5} adds to it, the rest are noise. */
static dataset noisy(size_t rows, size_t cols, uint64_t seed)
{
    dataset d = { 0 };
    assert_int_equal(vg_matrix_alloc(&d.X, rows, cols), VG_OK);
    d.y = calloc(rows, sizeof *d.y);
    d.features = calloc(cols, sizeof *d.features);
    d.n_classes = 2;
    for (size_t f = 0; f < cols; f++) d.features[f] = (vg_feature){ "x", VG_FEATURE_NUMERIC, 0 };
    d.features[3] = (vg_feature){ "cat", VG_FEATURE_CATEGORICAL, 8 };
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0);
    for (size_t r = 0; r < rows; r++) {
        float *x = d.X.data + r * cols;
        for (size_t f = 0; f < cols; f++) x[f] = (float)vg_rng_normal(&rng);
        uint32_t c = vg_rng_below(&rng, 8);
        x[3] = (float)c;
        double s = x[0] + x[1] * x[2] + (c == 0 || c == 2 || c == 5 ? 1.0 : -0.5) + 0.7 * vg_rng_normal(&rng);
        d.y[r] = s > 0.0;
    }
    return d;
}

static void *params_with(const vg_estimator_kind *k, const char *const *kv)
{
    void *p = malloc(k->params_size);
    k->params_default(p);
    for (size_t i = 0; kv && kv[i]; i += 2)
        if (k->params_set(p, kv[i], kv[i + 1]) != VG_OK) fail_msg("%s: %s", kv[i], vg_last_error());
    return p;
}

static void *fit_with(const vg_estimator_kind *k, const char *const *kv, const dataset *d, uint64_t seed,
                      int threads, vg_progress_fn progress, void *user)
{
    void *params = params_with(k, kv);
    vg_train_set ts = { .X = &d->X, .features = d->features, .y = d->y, .weight = d->weight,
                        .n_classes = d->n_classes };
    vg_fit_options opt = { .seed = seed, .threads = threads, .progress = progress, .progress_user = user };
    void *state = NULL;
    if (k->fit(params, &ts, &opt, &state) != VG_OK) fail_msg("fit: %s", vg_last_error());
    free(params);
    return state;
}

static float *predict(const vg_estimator_kind *k, const void *s, const vg_matrix *X, int threads)
{
    float *p = malloc(X->rows * k->n_classes(s) * sizeof *p);
    k->predict(s, X, threads, p);
    return p;
}

static double accuracy(const float *p, const int32_t *y, size_t rows)
{
    size_t ok = 0;
    for (size_t r = 0; r < rows; r++) ok += (p[r * 2 + 1] > p[r * 2]) == (y[r] == 1);
    return (double)ok / (double)rows;
}

static double oob_of(const void *s)
{
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_forest_kind.describe(s, &w);
    vg_wbuf_u8(&w, 0);
    const char *at = strstr((const char *)w.data, "oob_accuracy: ");
    double v = at ? strtod(at + 14, NULL) : -1.0;
    if (at && strncmp(at + 14, "none", 4) == 0) v = NAN;
    assert_non_null(strstr((const char *)w.data, "trees: "));
    vg_wbuf_free(&w);
    return v;
}

static void test_deterministic_across_threads(void **state)
{
    (void)state;
    dataset d = noisy(3000, 8, 1);
    const char *kv[] = { "n_estimators", "24", NULL };
    void *a = fit_with(&vg_forest_kind, kv, &d, 42, 1, NULL, NULL);
    void *b = fit_with(&vg_forest_kind, kv, &d, 42, 2, NULL, NULL);
    void *c = fit_with(&vg_forest_kind, kv, &d, 43, 2, NULL, NULL);
    float *pa = predict(&vg_forest_kind, a, &d.X, 1), *pb = predict(&vg_forest_kind, b, &d.X, 2);
    float *pc = predict(&vg_forest_kind, c, &d.X, 2);
    assert_memory_equal(pa, pb, d.X.rows * 2 * sizeof(float));
    assert_true(memcmp(pa, pc, d.X.rows * 2 * sizeof(float)) != 0);  /* the seed matters */
    assert_true(oob_of(a) == oob_of(b));
    /* Every row of probabilities sums to 1. */
    for (size_t r = 0; r < d.X.rows; r++) assert_true(fabsf(pa[2 * r] + pa[2 * r + 1] - 1.0f) < 1e-5f);
    free(pa);
    free(pb);
    free(pc);
    vg_forest_kind.free(a);
    vg_forest_kind.free(b);
    vg_forest_kind.free(c);
    dataset_free(&d);
}

static void test_forest_beats_shallow_tree(void **state)
{
    (void)state;
    dataset tr = noisy(4000, 10, 2), te = noisy(4000, 10, 3);
    const char *shallow[] = { "max_depth", "3", NULL };
    const char *kv[] = { "n_estimators", "60", NULL };
    void *t = fit_with(&vg_tree_kind, shallow, &tr, 1, 2, NULL, NULL);
    void *f = fit_with(&vg_forest_kind, kv, &tr, 1, 2, NULL, NULL);
    float *pt = predict(&vg_tree_kind, t, &te.X, 2), *pf = predict(&vg_forest_kind, f, &te.X, 2);
    double at = accuracy(pt, te.y, te.X.rows), af = accuracy(pf, te.y, te.X.rows);
    double oob = oob_of(f);
    printf("held-out accuracy: shallow tree %.4f, forest %.4f; forest out-of-bag %.4f\n", at, af, oob);
    assert_true(af > at + 0.02);
    /* Out-of-bag accuracy estimates held-out accuracy. */
    assert_true(fabs(oob - af) < 0.03);
    free(pt);
    free(pf);
    vg_tree_kind.free(t);
    vg_forest_kind.free(f);
    dataset_free(&tr);
    dataset_free(&te);
}

static void test_no_bootstrap_all_features_is_a_tree(void **state)
{
    (void)state;
    /* Without bootstrap and with every feature at every split, each tree is
     * the single tree, so the forest's probabilities are the tree's. */
    dataset d = noisy(1500, 6, 4);
    const char *fk[] = { "n_estimators", "3", "bootstrap", "false", "max_features", "none", NULL };
    void *f = fit_with(&vg_forest_kind, fk, &d, 9, 2, NULL, NULL);
    void *t = fit_with(&vg_tree_kind, NULL, &d, 9, 1, NULL, NULL);
    float *pf = predict(&vg_forest_kind, f, &d.X, 1), *pt = predict(&vg_tree_kind, t, &d.X, 1);
    assert_memory_equal(pf, pt, d.X.rows * 2 * sizeof(float));
    assert_true(isnan(oob_of(f)));
    free(pf);
    free(pt);
    vg_forest_kind.free(f);
    vg_tree_kind.free(t);
    dataset_free(&d);
}

typedef struct progress_log {
    atomic_size_t calls;
    atomic_size_t max_done;
    size_t total;
    int bad_stage;
} progress_log;

static void on_progress(void *user, const char *stage, size_t done, size_t total)
{
    progress_log *l = user;
    atomic_fetch_add(&l->calls, 1);
    size_t m = atomic_load(&l->max_done);
    while (done > m && !atomic_compare_exchange_weak(&l->max_done, &m, done)) {}
    l->total = total;
    if (strcmp(stage, "trees") != 0) l->bad_stage = 1;
}

static void test_progress_and_memory(void **state)
{
    (void)state;
    size_t before = vg_mem_in_use();
    dataset d = noisy(800, 6, 5);
    progress_log log = { 0 };
    const char *kv[] = { "n_estimators", "17", NULL };
    void *f = fit_with(&vg_forest_kind, kv, &d, 1, 2, on_progress, &log);
    assert_int_equal(atomic_load(&log.calls), 17);
    assert_int_equal(atomic_load(&log.max_done), 17);
    assert_int_equal(log.total, 17);
    assert_false(log.bad_stage);
    vg_forest_kind.free(f);
    dataset_free(&d);
    assert_int_equal(vg_mem_in_use(), before);
}

static void test_params(void **state)
{
    (void)state;
    const char *bad[][3] = {
        { "n_estimators", "0", "n_estimators" },   { "n_estimators", "10001", "n_estimators" },
        { "bootstrap", "maybe", "bootstrap" },     { "oob_score", "2", "oob_score" },
        { "max_samples", "1.5", "max_samples" },   { "max_samples", "0", "max_samples" },
        { "max_samples", "-3", "max_samples" },    { "max_features", "2.0", "max_features" },
        { "criterion", "mae", "criterion" },       { "colsample_bytree", "0.5", "colsample_bytree" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *p = params_with(&vg_forest_kind, NULL);
        assert_int_equal(vg_forest_kind.params_set(p, bad[i][0], bad[i][1]), VG_ERR_INVALID);
        if (!strstr(vg_last_error(), bad[i][2])) fail_msg("%s: '%s'", bad[i][0], vg_last_error());
        free(p);
    }
    /* Consistent only together. */
    const char *no_boot_oob[] = { "bootstrap", "false", "oob_score", "true", NULL };
    void *p = params_with(&vg_forest_kind, no_boot_oob);
    assert_non_null(vg_forest_kind.params_check(p));
    dataset d = noisy(100, 4, 6);
    vg_train_set ts = { .X = &d.X, .features = d.features, .y = d.y, .n_classes = 2 };
    vg_fit_options opt = { 0 };
    void *s = NULL;
    assert_int_equal(vg_forest_kind.fit(p, &ts, &opt, &s), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "oob_score"));
    free(p);
    const char *no_boot[] = { "bootstrap", "false", NULL };
    p = params_with(&vg_forest_kind, no_boot);
    assert_null(vg_forest_kind.params_check(p));  /* the default oob_score just turns off */
    free(p);
    const char *too_many[] = { "max_samples", "101", NULL };
    p = params_with(&vg_forest_kind, too_many);
    assert_int_equal(vg_forest_kind.fit(p, &ts, &opt, &s), VG_ERR_INVALID);
    assert_non_null(strstr(vg_last_error(), "max_samples"));
    free(p);
    const char *max_feat[] = { "max_features", "5", NULL };
    p = params_with(&vg_forest_kind, max_feat);
    assert_int_equal(vg_forest_kind.fit(p, &ts, &opt, &s), VG_ERR_INVALID);
    free(p);
    const char *good[] = { "max_samples", "0.5", "n_estimators", "5", "max_features", "log2",
                           "criterion", "entropy", "max_depth", "4", NULL };
    s = fit_with(&vg_forest_kind, good, &d, 1, 1, NULL, NULL);
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_forest_kind.describe(s, &w);
    vg_wbuf_u8(&w, 0);
    const char *at = strstr((const char *)w.data, "max_depth: ");
    assert_non_null(at);
    assert_true(atoi(at + 11) <= 4 && atoi(at + 11) >= 1);
    vg_wbuf_free(&w);
    vg_forest_kind.free(s);
    dataset_free(&d);
}

static void test_save_load(void **state)
{
    (void)state;
    dataset d = noisy(2000, 6, 7);
    for (size_t r = 0; r < d.X.rows; r += 13) d.X.data[r * 6 + 3] = NAN;  /* missing categories */
    const char *kv[] = { "n_estimators", "20", NULL };
    void *f = fit_with(&vg_forest_kind, kv, &d, 3, 2, NULL, NULL);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(vg_forest_kind.save(f, &w), VG_OK);
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "forest");
    void *g;
    assert_int_equal(vg_forest_kind.load(&r, &g), VG_OK);
    float *pf = predict(&vg_forest_kind, f, &d.X, 2), *pg = predict(&vg_forest_kind, g, &d.X, 1);
    assert_memory_equal(pf, pg, d.X.rows * 2 * sizeof(float));
    assert_true(oob_of(f) == oob_of(g));
    /* The one-row fast path gives the same numbers. */
    assert_int_equal(vg_forest_kind.n_features(g), 6);
    for (size_t i = 0; i < d.X.rows; i += 7) {
        float one[2];
        vg_forest_kind.predict_row(g, d.X.data + i * 6, one);
        assert_memory_equal(one, pf + i * 2, sizeof one);
    }
    /* A forest file is not a tree file. */
    vg_rbuf_init(&r, w.data, w.len, "tree");
    void *t = NULL;
    assert_int_equal(vg_tree_kind.load(&r, &t), VG_ERR_FORMAT);
    free(pf);
    free(pg);
    vg_forest_kind.free(f);
    vg_forest_kind.free(g);
    vg_wbuf_free(&w);
    dataset_free(&d);
}

static void test_load_hostile_bytes(void **state)
{
    (void)state;
    dataset d = noisy(150, 5, 8);
    const char *kv[] = { "n_estimators", "3", "max_depth", "3", NULL };
    void *f = fit_with(&vg_forest_kind, kv, &d, 3, 1, NULL, NULL);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(vg_forest_kind.save(f, &w), VG_OK);
    assert_true(vg_test_hostile_loads(&vg_forest_kind, w.data, w.len, &d.X, 11, 4000) >= 0);
    vg_wbuf_free(&w);
    vg_forest_kind.free(f);
    dataset_free(&d);
}

static void test_multiclass_and_weights(void **state)
{
    (void)state;
    /* Three classes, class 2 half of the rows with x4 > 0.5 (so leaves there
     * stay mixed); weight 10 on class 2 raises its predicted share. */
    dataset d = noisy(1500, 5, 9);
    d.n_classes = 3;
    for (size_t r = 0; r < d.X.rows; r++)
        if (d.X.data[r * 5 + 4] > 0.5f && r % 2 == 0) d.y[r] = 2;
    const char *kv[] = { "n_estimators", "10", "max_depth", "4", NULL };
    void *a = fit_with(&vg_forest_kind, kv, &d, 1, 2, NULL, NULL);
    d.weight = malloc(d.X.rows * sizeof(float));
    for (size_t r = 0; r < d.X.rows; r++) d.weight[r] = d.y[r] == 2 ? 10.0f : 1.0f;
    void *b = fit_with(&vg_forest_kind, kv, &d, 1, 2, NULL, NULL);
    float *pa = predict(&vg_forest_kind, a, &d.X, 2), *pb = predict(&vg_forest_kind, b, &d.X, 2);
    double sa = 0, sb = 0;
    for (size_t r = 0; r < d.X.rows; r++) {
        sa += pa[r * 3 + 2];
        sb += pb[r * 3 + 2];
        assert_true(fabsf(pa[r * 3] + pa[r * 3 + 1] + pa[r * 3 + 2] - 1.0f) < 1e-5f);
    }
    assert_true(sb > sa * 1.5);
    free(pa);
    free(pb);
    vg_forest_kind.free(a);
    vg_forest_kind.free(b);
    dataset_free(&d);
}

/* Out-of-bag rows ride down the tree while it grows, routed by bin codes;
 * their leaves must be the ones prediction reaches with the float values,
 * also for quantile bins (8 bins over thousands of values) and for codes
 * absent from a node's sample. */
static void test_oob_routing_matches_predict(void **state)
{
    (void)state;
    dataset d = noisy(3000, 6, 12);
    for (size_t r = 0; r < d.X.rows; r += 11) d.X.data[r * 6 + 3] = NAN;
    for (size_t r = 0; r < d.X.rows; r += 7) d.X.data[r * 6 + 1] = NAN;
    vg_train_set ts = { .X = &d.X, .features = d.features, .y = d.y, .n_classes = 2 };
    vg_cart_data cd;
    assert_int_equal(vg_cart_data_init(&ts, 8, 1, &cd), VG_OK);
    vg_cart_params p;
    vg_cart_params_default(&p);
    p.max_features = VG_CART_MAXF_SQRT;
    vg_cart_builder *b;
    assert_int_equal(vg_cart_builder_new(&cd, &p, &b), VG_OK);
    double *w = malloc(d.X.rows * sizeof *w);
    uint32_t *rows = malloc(d.X.rows * sizeof *rows), n = 0;
    atomic_llong *acc = calloc(d.X.rows * 2, sizeof *acc);
    for (uint32_t r = 0; r < d.X.rows; r++) {
        w[r] = r % 3 == 0 ? 0.0 : 1.0 + r % 2;
        if (w[r] == 0.0) rows[n++] = r;
    }
    vg_cart_oob oob = { rows, n, acc };
    vg_rng rng;
    vg_rng_seed(&rng, 1, 0);
    vg_cart_tree t;
    assert_int_equal(vg_cart_grow(b, w, &rng, &oob, &t), VG_OK);
    vg_ensemble *m;
    assert_int_equal(vg_cart_compile(&t, 1, d.features, 6, 2, &m), VG_OK);
    assert_int_equal(vg_ensemble_validate(m), VG_OK);
    assert_true(m->n_leaves > 50);
    for (uint32_t i = 0; i < n; i++) {
        float v[2];  /* one tree, scale 1: the raw scores are its leaf's values */
        vg_ensemble_raw_row(m, d.X.data + (size_t)rows[i] * 6, v);
        for (int c = 0; c < 2; c++)
            assert_true(atomic_load(&acc[rows[i] * 2 + c]) == llrint((double)v[c] * VG_CART_OOB_ONE));
    }
    for (uint32_t r = 0; r < d.X.rows; r++)
        if (w[r] > 0.0) assert_true(atomic_load(&acc[r * 2]) == 0 && atomic_load(&acc[r * 2 + 1]) == 0);
    vg_ensemble_free(m);
    vg_cart_tree_free(&t);
    vg_cart_builder_free(b);
    vg_cart_data_free(&cd);
    free(w);
    free(rows);
    free(acc);
    dataset_free(&d);
}

/* Explanations and importances survive save/load unchanged; the vtable's
 * explain fills (features + 1) x classes whose columns sum to the
 * probabilities (tests/test_shap.c checks the values themselves). */
static void test_explain_and_importance_after_load(void **state)
{
    (void)state;
    dataset d = noisy(1200, 6, 14);
    for (size_t r = 0; r < d.X.rows; r += 9) d.X.data[r * 6 + 3] = NAN;
    const char *kv[] = { "n_estimators", "8", NULL };
    void *f = fit_with(&vg_forest_kind, kv, &d, 2, 2, NULL, NULL);
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(vg_forest_kind.save(f, &w), VG_OK);
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "forest");
    void *g;
    assert_int_equal(vg_forest_kind.load(&r, &g), VG_OK);
    assert_int_equal(vg_forest_kind.n_outputs(g), 2);
    double a[7 * 2], b[7 * 2];
    for (size_t i = 0; i < d.X.rows; i += 37) {
        const float *row = d.X.data + i * 6;
        assert_int_equal(vg_forest_kind.explain(f, row, a), VG_OK);
        assert_int_equal(vg_forest_kind.explain(g, row, b), VG_OK);
        assert_memory_equal(a, b, sizeof a);
        float p[2];
        vg_forest_kind.predict_row(g, row, p);
        for (int k = 0; k < 2; k++) {
            double sum = 0.0;
            for (int j = 0; j <= 6; j++) sum += a[j * 2 + k];
            assert_true(fabs(sum - p[k]) < 1e-6);
        }
    }
    for (int kind = 0; kind < 3; kind++) {
        double ia[6], ib[6];
        vg_forest_kind.importance(f, kind, ia);
        vg_forest_kind.importance(g, kind, ib);
        assert_memory_equal(ia, ib, sizeof ia);
        assert_true(ia[0] > 0.0);
    }
    vg_forest_kind.free(f);
    vg_forest_kind.free(g);
    vg_wbuf_free(&w);
    dataset_free(&d);
}

/* An ensemble that is valid but not what a tree or forest compiles to
 * (another link, a scale that is not 1/trees, a base score, two trees for
 * "tree") is refused on load, not silently mis-scaled. */
static vg_status load_ensemble_as(const vg_estimator_kind *k, const vg_ensemble *e)
{
    vg_wbuf w;
    vg_wbuf_init(&w);
    vg_wbuf_u32(&w, 2);  /* tree.c's and forest.c's format version */
    if (k == &vg_forest_kind) vg_wbuf_f64(&w, NAN);
    assert_int_equal(vg_ensemble_save(e, &w), VG_OK);
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, k->name);
    void *s = NULL;
    vg_status st = k->load(&r, &s);
    if (st == VG_OK) k->free(s);
    else assert_null(s);
    vg_wbuf_free(&w);
    return st;
}

static void test_load_refuses_foreign_ensembles(void **state)
{
    (void)state;
    /* Two stumps on feature 0, two classes. */
    vg_ensemble *e;
    assert_int_equal(vg_ensemble_alloc(2, 2, 2, 2, 2, 6, 4, 0, &e), VG_OK);
    for (uint32_t t = 0; t < 2; t++) {
        e->tree_start[t] = 3 * t;
        e->nodes[3 * t] = (vg_ens_node){ 0, 1, { .threshold = 0.5f }, 0 };
        e->nodes[3 * t + 1] = (vg_ens_node){ -1, 2 * t, { 0 }, 0 };
        e->nodes[3 * t + 2] = (vg_ens_node){ -1, 2 * t + 1, { 0 }, 0 };
        e->cover[3 * t] = 4.0f;
        e->cover[3 * t + 1] = e->cover[3 * t + 2] = 2.0f;
    }
    e->tree_start[2] = 6;
    for (uint32_t l = 0; l < 4; l++) {
        e->leaves[2 * l] = l % 2 ? 0.25f : 1.0f;
        e->leaves[2 * l + 1] = 1.0f - e->leaves[2 * l];
    }
    e->scale = 0.5f;
    assert_int_equal(vg_ensemble_validate(e), VG_OK);
    assert_int_equal(load_ensemble_as(&vg_forest_kind, e), VG_OK);
    assert_int_equal(load_ensemble_as(&vg_tree_kind, e), VG_ERR_FORMAT);  /* two trees */
    e->scale = 1.0f;
    assert_int_equal(load_ensemble_as(&vg_forest_kind, e), VG_ERR_FORMAT);
    assert_non_null(strstr(vg_last_error(), "scale"));
    e->scale = 0.5f;
    e->base[1] = 0.1f;
    assert_int_equal(load_ensemble_as(&vg_forest_kind, e), VG_ERR_FORMAT);
    e->base[1] = 0.0f;
    e->link = VG_LINK_SOFTMAX;
    assert_int_equal(vg_ensemble_validate(e), VG_OK);
    assert_int_equal(load_ensemble_as(&vg_forest_kind, e), VG_ERR_FORMAT);
    vg_ensemble_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_forest_beats_shallow_tree),
        cmocka_unit_test(test_no_bootstrap_all_features_is_a_tree),
        cmocka_unit_test(test_progress_and_memory),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_load_hostile_bytes),
        cmocka_unit_test(test_multiclass_and_weights),
        cmocka_unit_test(test_oob_routing_matches_predict),
        cmocka_unit_test(test_explain_and_importance_after_load),
        cmocka_unit_test(test_load_refuses_foreign_ensembles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
