/* Tests of the shared distance kernel (src/models/distance.c): its exact
 * k-nearest search against a brute-force search in double, for every metric,
 * with one-hot (bit-packed) columns, irregular query values in them, ties,
 * the self search, and the same answer for any thread count. */
#include "neighbors_util.h"
#include "models/distance.h"
#include "vigil/rng.h"

/* n rows: `dense` gaussian columns, then a one-hot of `cats` levels;
 * duplicates every 7th row so there are exact ties. */
static float *make_rows(size_t n, uint32_t dense, uint32_t cats, uint64_t seed)
{
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0);
    uint32_t d = dense + cats;
    float *X = calloc(n * d, sizeof *X);
    for (size_t i = 0; i < n; i++) {
        if (i % 7 == 6) {
            memcpy(X + i * d, X + (i - 3) * d, d * sizeof *X);
            continue;
        }
        for (uint32_t c = 0; c < dense; c++) X[i * d + c] = (float)vg_rng_normal(&rng);
        if (cats) X[i * d + dense + vg_rng_below(&rng, cats)] = 1.0f;
    }
    return X;
}

typedef struct ref_cand {
    double d;
    uint32_t i;
} ref_cand;

static int ref_cmp(const void *a, const void *b)
{
    const ref_cand *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static void check_against_brute(vg_dist_metric metric, size_t n, size_t nq, uint32_t dense, uint32_t cats, uint32_t k,
                                int self)
{
    uint32_t d = dense + cats;
    float *X = make_rows(n, dense, cats, 11);
    float *Q = self ? X : make_rows(nq, dense, cats, 12);
    if (self) nq = n;
    else if (cats) Q[1 * d + dense] = 0.5f, Q[2 * d + dense + 1] = -2.0f;  /* irregular one-hot values */
    vg_dist_index ix;
    assert_int_equal(vg_dist_index_init(&ix, X, n, d, metric), VG_OK);
    if (metric == VG_DIST_MANHATTAN) assert_int_equal(ix.nb, cats);  /* euclidean searches a k-d tree, no bits */
    uint32_t *idx = malloc(nq * k * sizeof *idx);
    double *dist = malloc(nq * k * sizeof *dist);
    assert_int_equal(vg_dist_knn(&ix, Q, nq, k, self, 2, idx, dist), VG_OK);
    ref_cand *all = malloc(n * sizeof *all);
    double worst = 0.0;
    for (size_t q = 0; q < nq; q++) {
        size_t m = 0;
        for (size_t r = 0; r < n; r++) {
            if (self && r == q) continue;
            all[m++] = (ref_cand){ vg_dist_exact(metric, Q + q * d, X + r * d, d), (uint32_t)r };
        }
        qsort(all, m, sizeof *all, ref_cmp);
        for (uint32_t j = 0; j < k; j++) {
            double diff = fabs(all[j].d - dist[q * k + j]);
            worst = diff > worst ? diff : worst;
            if (all[j].i != idx[q * k + j])
                fail_msg("metric %d query %zu neighbour %u: %u (%.17g) vs brute %u (%.17g)", metric, q, j,
                         idx[q * k + j], dist[q * k + j], all[j].i, all[j].d);
        }
    }
    printf("metric %d n=%zu k=%u self=%d: max |distance - brute| = %.3g\n", metric, n, k, self, worst);
    assert_true(worst == 0.0);
    vg_dist_index_free(&ix);
    free(all);
    free(idx);
    free(dist);
    if (!self) free(Q);
    free(X);
}

static void test_euclidean(void **state)
{
    (void)state;
    check_against_brute(VG_DIST_EUCLIDEAN, 301, 37, 9, 6, 5, 0);
    check_against_brute(VG_DIST_EUCLIDEAN, 300, 0, 9, 6, 10, 1);
    check_against_brute(VG_DIST_EUCLIDEAN, 70, 5, 3, 130, 69, 0);  /* several words of bits, k = n - 1 */
    check_against_brute(VG_DIST_EUCLIDEAN, 50, 9, 0, 12, 3, 0);    /* only binary columns */
}

static void test_manhattan(void **state)
{
    (void)state;
    check_against_brute(VG_DIST_MANHATTAN, 301, 37, 9, 6, 7, 0);
    check_against_brute(VG_DIST_MANHATTAN, 120, 0, 4, 3, 4, 1);
}

static void test_cosine(void **state)
{
    (void)state;
    check_against_brute(VG_DIST_COSINE, 301, 37, 9, 6, 6, 0);
    check_against_brute(VG_DIST_COSINE, 64, 0, 0, 5, 3, 1);  /* one-hot only: many exact ties */
}

static void test_threads_identical(void **state)
{
    (void)state;
    size_t n = 2000, nq = 700;
    uint32_t d = 20, k = 8;
    float *X = make_rows(n, 12, 8, 3), *Q = make_rows(nq, 12, 8, 4);
    vg_dist_index ix;
    assert_int_equal(vg_dist_index_init(&ix, X, n, d, VG_DIST_EUCLIDEAN), VG_OK);
    uint32_t *i1 = malloc(nq * k * 4), *i4 = malloc(nq * k * 4);
    double *d1 = malloc(nq * k * 8), *d4 = malloc(nq * k * 8);
    assert_int_equal(vg_dist_knn(&ix, Q, nq, k, 0, 1, i1, d1), VG_OK);
    assert_int_equal(vg_dist_knn(&ix, Q, nq, k, 0, 4, i4, d4), VG_OK);
    assert_memory_equal(i1, i4, nq * k * 4);
    assert_memory_equal(d1, d4, nq * k * 8);
    vg_dist_index_free(&ix);
    free(i1), free(i4), free(d1), free(d4), free(X), free(Q);
}

static void test_bad_k(void **state)
{
    (void)state;
    float X[6] = { 0, 1, 2, 3, 4, 5 };
    vg_dist_index ix;
    assert_int_equal(vg_dist_index_init(&ix, X, 3, 2, VG_DIST_EUCLIDEAN), VG_OK);
    uint32_t idx[9];
    double dist[9];
    assert_int_equal(vg_dist_knn(&ix, X, 3, 3, 1, 1, idx, dist), VG_ERR_INVALID);  /* only 2 others */
    assert_int_equal(vg_dist_knn(&ix, X, 3, 0, 0, 1, idx, dist), VG_ERR_INVALID);
    assert_int_equal(vg_dist_knn(&ix, X, 3, 3, 0, 1, idx, dist), VG_OK);
    vg_dist_index_free(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_euclidean),
        cmocka_unit_test(test_manhattan),
        cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_bad_k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
