/* Helpers shared by the tests of the distance-based families (test_distance.c,
 * test_kmeans.c, test_lof.c, test_knn.c): reading the golden CSVs that
 * tests/golden/neighbors_golden.py wrote, fitting through the vtable, and a
 * save/load round trip with every truncation refused. Static: each test
 * program includes it once. */
#ifndef VG_TEST_NEIGHBORS_UTIL_H
#define VG_TEST_NEIGHBORS_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "vigil/estimator.h"

/* A headerless CSV of numbers under tests/golden: rows x cols doubles (malloc). */
static __attribute__((unused)) double *nb_read(const char *name, size_t *rows, size_t *cols)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/golden/%s", name);
    FILE *f = fopen(vg_test_source(rel), "rb");
    if (!f) fail_msg("cannot open %s (run tests/golden/neighbors_golden.py)", rel);
    size_t cap = 1024, n = 0, r = 0, c = 0;
    double *v = malloc(cap * sizeof *v);
    char line[1 << 14];
    while (fgets(line, sizeof line, f)) {
        size_t cc = 0;
        for (char *p = line; *p && *p != '\n';) {
            char *end;
            double x = strtod(p, &end);
            assert_true(end != p);
            if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
            v[n++] = x;
            cc++;
            p = *end == ',' ? end + 1 : end;
        }
        if (cc == 0) continue;
        if (c == 0) c = cc;
        assert_int_equal(cc, c);
        r++;
    }
    fclose(f);
    *rows = r;
    *cols = c;
    return v;
}

/* Columns [c0, c0 + w) of a rows x cols table as a float matrix. */
static __attribute__((unused)) vg_matrix nb_matrix(const double *t, size_t rows, size_t cols, size_t c0, size_t w)
{
    vg_matrix m;
    assert_int_equal(vg_matrix_alloc(&m, rows, w), VG_OK);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < w; j++) m.data[i * w + j] = (float)t[i * cols + c0 + j];
    return m;
}

static __attribute__((unused)) void *nb_fit(const vg_estimator_kind *k, const void *params, const vg_matrix *X, const int32_t *y,
                    uint32_t n_classes, uint64_t seed, int threads)
{
    vg_train_set ts = { .X = X, .y = y, .n_classes = n_classes };
    vg_fit_options opt = { .seed = seed, .threads = threads };
    void *state = NULL;
    vg_status st = k->fit(params, &ts, &opt, &state);
    if (st != VG_OK) fail_msg("%s fit: %s", k->name, vg_last_error());
    return state;
}

/* Save, check that every truncation and a bad version are refused, load,
 * and return the loaded state. */
static __attribute__((unused)) void *nb_round_trip(const vg_estimator_kind *k, const void *state)
{
    vg_wbuf w;
    vg_wbuf_init(&w);
    assert_int_equal(k->save(state, &w), VG_OK);
    size_t step = w.len / 97 + 1;
    for (size_t len = 0; len < w.len; len += step) {
        vg_rbuf r;
        vg_rbuf_init(&r, w.data, len, "test");
        void *s2 = NULL;
        assert_int_not_equal(k->load(&r, &s2), VG_OK);
        assert_null(s2);
    }
    w.data[0] ^= 0x40;  /* the version */
    vg_rbuf r;
    vg_rbuf_init(&r, w.data, w.len, "test");
    void *bad = NULL;
    assert_int_equal(k->load(&r, &bad), VG_ERR_FORMAT);
    assert_null(bad);
    w.data[0] ^= 0x40;
    vg_rbuf_init(&r, w.data, w.len, "test");
    void *s2 = NULL;
    if (k->load(&r, &s2) != VG_OK) fail_msg("%s load: %s", k->name, vg_last_error());
    vg_wbuf_free(&w);
    return s2;
}

/* Set a parameter that must be refused, with a message naming it. */
static __attribute__((unused)) void nb_param_refused(const vg_estimator_kind *k, const char *key, const char *value)
{
    void *p = calloc(1, k->params_size);
    k->params_default(p);
    if (k->params_set(p, key, value) != VG_ERR_INVALID) fail_msg("%s=%s was accepted", key, value);
    if (!strstr(vg_last_error(), key)) fail_msg("message '%s' does not name %s", vg_last_error(), key);
    free(p);
}

#endif
