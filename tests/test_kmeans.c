/* Tests of k-means (src/models/kmeans.c): centroids and inertia against
 * scikit-learn's KMeans from the same initial centroids (Lloyd, Elkan, and an
 * initialisation that empties a cluster; tests/golden/neighbors_golden.py),
 * Elkan equal to Lloyd, the same model for any thread count, the n_clusters
 * range and its elbow table, scores and explanations, save/load against
 * truncation and corruption, and parameter errors. */
#include "neighbors_util.h"
#include "models/kmeans.h"
#include "vigil/rng.h"

static const vg_estimator_kind *K_ = &vg_kmeans_kind;

static void golden_case(const char *init_file, const char *tag, vg_kmeans_algorithm algo)
{
    size_t n, d, kr, kc, r, c;
    double *X = nb_read("kmeans_X.csv", &n, &d);
    double *init = nb_read(init_file, &kr, &kc);
    char name[128];
    snprintf(name, sizeof name, "kmeans_%s_centers.csv", tag);
    double *want = nb_read(name, &r, &c);
    snprintf(name, sizeof name, "kmeans_%s_inertia.csv", tag);
    double *want_in = nb_read(name, &r, &c);
    vg_matrix M = nb_matrix(X, n, d, 0, d);
    vg_kmeans_params p;
    K_->params_default(&p);
    p.n_clusters = (long)kr;
    p.algorithm = algo;
    vg_train_set ts = { .X = &M, .n_classes = 1 };
    void *s = NULL;
    assert_int_equal(vg_kmeans_fit_init(&p, &ts, init, 2, &s), VG_OK);
    uint32_t k, iters;
    double inertia;
    const double *cent = vg_kmeans_centroids(s, &k, &inertia, &iters);
    assert_int_equal(k, kr);
    double worst = 0.0;
    for (size_t e = 0; e < kr * d; e++) worst = fmax(worst, fabs(cent[e] - want[e]));
    printf("%s: max |centroid - sklearn| = %.3g, inertia %.10g vs %.10g, iterations %u vs %g\n", tag, worst, inertia,
           want_in[0], iters, want_in[1]);
    assert_true(worst < 1e-5);
    assert_true(fabs(inertia - want_in[0]) <= 1e-5 * want_in[0]);
    assert_int_equal(iters, (uint32_t)want_in[1]);
    K_->free(s);
    vg_matrix_free(&M);
    free(X), free(init), free(want), free(want_in);
}

static void test_golden_lloyd(void **state)
{
    (void)state;
    golden_case("kmeans_init.csv", "lloyd", VG_KMEANS_LLOYD);
}

static void test_golden_elkan(void **state)
{
    (void)state;
    golden_case("kmeans_init.csv", "elkan", VG_KMEANS_ELKAN);
}

static void test_golden_empty_cluster(void **state)
{
    (void)state;
    golden_case("kmeans_init_dup.csv", "dup", VG_KMEANS_LLOYD);
}

/* Blobs: `dense` gaussian columns around one of `k` centres, plus a one-hot. */
static vg_matrix blobs(size_t n, uint32_t dense, uint32_t cats, uint32_t k, uint64_t seed)
{
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0);
    vg_matrix m;
    assert_int_equal(vg_matrix_alloc(&m, n, dense + cats), VG_OK);
    for (size_t i = 0; i < n; i++) {
        uint32_t c = vg_rng_below(&rng, k);
        float *x = m.data + i * m.cols;
        for (uint32_t j = 0; j < dense; j++) x[j] = (float)(vg_rng_normal(&rng) * 0.5 + 4.0 * ((c + j) % k));
        if (cats) x[dense + (c + vg_rng_below(&rng, 2)) % cats] = 1.0f;
    }
    return m;
}

static void *fit_params(vg_matrix *M, const char *const *kv, uint64_t seed, int threads)
{
    void *p = calloc(1, K_->params_size);
    K_->params_default(p);
    for (size_t i = 0; kv && kv[i]; i += 2) assert_int_equal(K_->params_set(p, kv[i], kv[i + 1]), VG_OK);
    void *s = nb_fit(K_, p, M, NULL, 1, seed, threads);
    free(p);
    return s;
}

static void test_threads_and_elkan(void **state)
{
    (void)state;
    vg_matrix M = blobs(9000, 6, 5, 5, 1);
    const char *lloyd[] = { "n_clusters", "5", "n_init", "2", NULL };
    const char *elkan[] = { "n_clusters", "5", "n_init", "2", "algorithm", "elkan", NULL };
    void *a = fit_params(&M, lloyd, 42, 1), *b = fit_params(&M, lloyd, 42, 4), *e = fit_params(&M, elkan, 42, 3);
    uint32_t k, ia, ib, ie;
    double ina, inb, ine;
    const double *ca = vg_kmeans_centroids(a, &k, &ina, &ia), *cb = vg_kmeans_centroids(b, &k, &inb, &ib);
    const double *ce = vg_kmeans_centroids(e, &k, &ine, &ie);
    assert_memory_equal(ca, cb, (size_t)k * M.cols * sizeof(double));
    assert_true(ina == inb);
    double worst = 0.0;
    for (size_t i = 0; i < (size_t)k * M.cols; i++) worst = fmax(worst, fabs(ca[i] - ce[i]));
    printf("elkan vs lloyd: max centroid difference %.3g, inertia %.10g vs %.10g, iterations %u vs %u\n", worst, ine,
           ina, ie, ia);
    assert_true(worst < 1e-9 && fabs(ine - ina) <= 1e-9 * ina);
    /* predict == predict_row, 1 thread == 4 threads */
    float *s1 = malloc(M.rows * sizeof(float)), *s4 = malloc(M.rows * sizeof(float));
    K_->predict(a, &M, 1, s1);
    K_->predict(a, &M, 4, s4);
    assert_memory_equal(s1, s4, M.rows * sizeof(float));
    double mean = 0.0;
    for (size_t i = 0; i < M.rows; i++) {
        float r;
        K_->predict_row(a, M.data + i * M.cols, &r);
        assert_true(r == s1[i]);
        mean += s1[i];
    }
    mean /= (double)M.rows;
    assert_true(fabs(mean - 1.0) < 1e-3);  /* each cluster's scale is its mean distance */
    /* An outlier scores far above 1; explanations sum to the score. */
    float *far = malloc(M.cols * sizeof(float));
    memcpy(far, M.data, M.cols * sizeof(float));
    far[0] += 100.0f;
    float sc;
    K_->predict_row(a, far, &sc);
    assert_true(sc > 10.0f);
    assert_int_equal(K_->n_outputs(a), 1);
    double *contrib = calloc(M.cols + 1, sizeof(double)), sum = 0.0;
    assert_int_equal(K_->explain(a, far, contrib), VG_OK);
    for (size_t f = 0; f <= M.cols; f++) sum += contrib[f];
    assert_true(fabs(sum - sc) < 1e-4 * sc);
    for (size_t f = 1; f < M.cols; f++) assert_true(contrib[0] > contrib[f]);  /* the moved column leads */
    free(contrib), free(far), free(s1), free(s4);
    K_->free(a), K_->free(b), K_->free(e);
    vg_matrix_free(&M);
}

static void test_seed_changes_init(void **state)
{
    (void)state;
    vg_matrix M = blobs(600, 3, 0, 6, 2);
    const char *kv[] = { "n_clusters", "8", NULL };
    void *a = fit_params(&M, kv, 1, 1), *b = fit_params(&M, kv, 2, 1);
    uint32_t k;
    const double *ca = vg_kmeans_centroids(a, &k, NULL, NULL), *cb = vg_kmeans_centroids(b, &k, NULL, NULL);
    assert_true(memcmp(ca, cb, (size_t)k * M.cols * sizeof(double)) != 0);
    K_->free(a), K_->free(b);
    vg_matrix_free(&M);
}

static void test_range_picks_best_silhouette(void **state)
{
    (void)state;
    vg_matrix M = blobs(3000, 4, 3, 4, 5);
    const char *kv[] = { "n_clusters", "2..7", "silhouette_sample", "500", NULL };
    void *s = fit_params(&M, kv, 9, 2);
    uint32_t k;
    vg_kmeans_centroids(s, &k, NULL, NULL);
    assert_int_equal(k, 4);
    vg_wbuf w;
    vg_wbuf_init(&w);
    K_->describe(s, &w);
    vg_wbuf_u8(&w, 0);
    printf("%s", (char *)w.data);
    assert_non_null(strstr((char *)w.data, "elbow table"));
    assert_non_null(strstr((char *)w.data, "  4  "));
    assert_non_null(strstr((char *)w.data, "(kept)"));
    vg_wbuf_free(&w);
    void *s2 = nb_round_trip(K_, s);
    vg_wbuf_init(&w);
    K_->describe(s2, &w);
    vg_wbuf_u8(&w, 0);
    assert_non_null(strstr((char *)w.data, "(kept)"));
    vg_wbuf_free(&w);
    K_->free(s), K_->free(s2);
    vg_matrix_free(&M);
}

static void test_save_load(void **state)
{
    (void)state;
    vg_matrix M = blobs(500, 3, 4, 3, 3);
    const char *kv[] = { "n_clusters", "3", NULL };
    void *s = fit_params(&M, kv, 5, 2);
    void *s2 = nb_round_trip(K_, s);
    float *a = malloc(M.rows * sizeof(float)), *b = malloc(M.rows * sizeof(float));
    K_->predict(s, &M, 2, a);
    K_->predict(s2, &M, 2, b);
    assert_memory_equal(a, b, M.rows * sizeof(float));
    assert_int_equal(K_->n_features(s2), M.cols);
    assert_int_equal(K_->n_classes(s2), 1);
    /* Corrupt fields are refused: a zero cluster scale, a NaN centroid, a huge cluster count. */
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(K_->save(s, &w), VG_OK);
    size_t nf = M.cols, k = 3;
    size_t at_cent = 4 * 4 + 8, at_scale = at_cent + k * nf * 8;
    struct { size_t at; size_t len; uint8_t byte; } bad[] = {
        { 8, 4, 0xff },           /* n_clusters */
        { at_cent + 7, 1, 0x7f }, /* centroid exponent: NaN/inf */
        { at_scale, 8, 0x00 },    /* scale 0 */
    };
    for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
        uint8_t *copy = malloc(w.len);
        memcpy(copy, w.data, w.len);
        memset(copy + bad[t].at, bad[t].byte, bad[t].len);
        if (t == 1) copy[bad[t].at - 1] = 0xff, copy[bad[t].at] = 0x7f;
        vg_rbuf r;
        vg_rbuf_init(&r, copy, w.len, "test");
        void *x = NULL;
        assert_int_equal(K_->load(&r, &x), VG_ERR_FORMAT);
        assert_null(x);
        free(copy);
    }
    vg_wbuf_free(&w);
    free(a), free(b);
    K_->free(s), K_->free(s2);
    vg_matrix_free(&M);
}

static void test_params(void **state)
{
    (void)state;
    nb_param_refused(K_, "n_clusters", "0");
    nb_param_refused(K_, "n_clusters", "5..3");
    nb_param_refused(K_, "n_clusters", "1..4");
    nb_param_refused(K_, "n_clusters", "2..x");
    nb_param_refused(K_, "algorithm", "full");
    nb_param_refused(K_, "tol", "-1");
    nb_param_refused(K_, "max_iter", "0");
    nb_param_refused(K_, "n_init", "zero");
    nb_param_refused(K_, "n_neighbors", "5");
    nb_param_refused(K_, "scale", "mean");
    vg_kmeans_params p;
    K_->params_default(&p);
    assert_int_equal(K_->params_set(&p, "n_clusters", "2..12"), VG_OK);
    vg_wbuf w;
    vg_wbuf_init(&w);
    K_->params_describe(&p, &w);
    vg_wbuf_u8(&w, 0);
    assert_non_null(strstr((char *)w.data, "n_clusters=2..12"));
    vg_wbuf_free(&w);
    assert_null(K_->params_check(&p));
    /* More clusters than rows; a NaN in the rows. */
    vg_matrix M = blobs(5, 2, 0, 2, 1);
    vg_train_set ts = { .X = &M, .n_classes = 1 };
    vg_fit_options opt = { .seed = 1, .threads = 1 };
    void *s = NULL;
    K_->params_default(&p);
    p.n_clusters = 6;
    assert_int_equal(K_->fit(&p, &ts, &opt, &s), VG_ERR_DATA);
    assert_non_null(strstr(vg_last_error(), "n_clusters"));
    p.n_clusters = 2;
    M.data[3] = NAN;
    assert_int_equal(K_->fit(&p, &ts, &opt, &s), VG_ERR_DATA);
    assert_null(s);
    vg_matrix_free(&M);
    assert_null(vg_estimator_check(K_));
    assert_true(vg_estimator_find("kmeans") == K_);
}

/* scale=none: the score is the plain euclidean distance to the nearest
 * centroid (recomputed here from the centroids), the same clusters as the
 * scaled default, whose scores differ by each cluster's scale. */
static void test_scale_none(void **state)
{
    (void)state;
    vg_matrix M = blobs(3000, 4, 0, 3, 7);
    const char *plain[] = { "n_clusters", "3", "scale", "none", NULL };
    const char *scaled[] = { "n_clusters", "3", NULL };
    void *a = fit_params(&M, plain, 5, 2), *b = fit_params(&M, scaled, 5, 2);
    uint32_t k, it;
    double inertia_a, inertia_b;
    const double *c = vg_kmeans_centroids(a, &k, &inertia_a, &it);
    vg_kmeans_centroids(b, &k, &inertia_b, &it);
    assert_true(inertia_a == inertia_b);
    float *sa = malloc(M.rows * sizeof(float)), *sb = malloc(M.rows * sizeof(float));
    K_->predict(a, &M, 2, sa);
    K_->predict(b, &M, 2, sb);
    size_t differ = 0;
    for (size_t i = 0; i < M.rows; i++) {
        const float *x = M.data + i * M.cols;
        double best = HUGE_VAL;
        for (uint32_t j = 0; j < k; j++) {
            double s2 = 0.0;
            for (size_t f = 0; f < M.cols; f++) s2 += ((double)x[f] - c[j * M.cols + f]) * ((double)x[f] - c[j * M.cols + f]);
            best = fmin(best, s2);
        }
        assert_true(fabs(sa[i] - sqrt(best)) <= 1e-5 * (1.0 + sqrt(best)));
        differ += sa[i] != sb[i];
    }
    assert_true(differ > M.rows / 2);
    free(sa), free(sb);
    K_->free(a), K_->free(b);
    vg_matrix_free(&M);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_lloyd),
        cmocka_unit_test(test_golden_elkan),
        cmocka_unit_test(test_golden_empty_cluster),
        cmocka_unit_test(test_threads_and_elkan),
        cmocka_unit_test(test_seed_changes_init),
        cmocka_unit_test(test_range_picks_best_silhouette),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_scale_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
