/* libFuzzer target: the isolation forest's state section (models/iforest.h)
 * from arbitrary bytes, behind the model file's checksum. Loading must fail
 * cleanly or give a forest that scores, scores one row, explains and
 * describes rows of any values (NaN, infinities, codes out of range) without
 * reading outside its arrays, with scores in [0, 1]. Seeds: saved states
 * (fuzz/corpus/iforest/). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil/buf.h"
#include "vigil/estimator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const vg_estimator_kind *k = &vg_iforest_kind;
    vg_rbuf r;
    vg_rbuf_init(&r, data, size, "fuzz");
    void *s = NULL;
    if (k->load(&r, &s) != VG_OK) return 0;
    uint32_t nf = k->n_features(s);
    if (nf > 4096) {
        k->free(s);
        return 0;
    }
    static const float odd[] = { 0.0f, 1.0f, 2.0f, -1.0f, 0.5f, 1e30f, -1e30f, NAN, INFINITY, -INFINITY, 7.0f, 300.0f };
    size_t n_odd = sizeof odd / sizeof *odd;
    /* 40 rows: two groups of 16 for the AVX-512 kernel and a tail for the plain one. */
    size_t rows = 40;
    vg_matrix X = { rows, nf, malloc(rows * (size_t)nf * sizeof(float) + 4) };
    for (size_t i = 0; i < rows; i++)
        for (uint32_t f = 0; f < nf; f++) X.data[i * nf + f] = odd[(i * 5 + f) % n_odd];
    float *out = malloc(rows * sizeof *out);
    k->predict(s, &X, 1, out);
    double *contrib = malloc(((size_t)nf + 1) * sizeof *contrib);
    for (size_t i = 0; i < rows; i++) {
        float one;
        k->predict_row(s, X.data + i * nf, &one);
        if (!(one >= 0.0f && one <= 1.0f) || one != out[i]) abort();
        if (k->explain(s, X.data + i * nf, contrib) != VG_OK) abort();
    }
    vg_wbuf w;
    vg_wbuf_init(&w);
    k->describe(s, &w);
    vg_wbuf_free(&w);
    free(contrib);
    free(out);
    free(X.data);
    k->free(s);
    return 0;
}
