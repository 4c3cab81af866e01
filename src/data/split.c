/* Stratified hold-out and k-fold assignment. Both shuffle the rows of each
 * class with the seeded RNG, then deal them out, so class proportions hold
 * in every part and a given seed always gives the same split. */
#include "vigil/split.h"
#include "vigil/rng.h"

#include <math.h>
#include <string.h>

/* Rows grouped by class, each group shuffled: order[] holds row indices,
 * start[c]..start[c+1] the rows of class c. */
static vg_status group_by_class(const int32_t *y, size_t rows, uint32_t n_classes, uint64_t seed,
                                uint32_t **order_out, size_t **start_out)
{
    uint32_t *order = vg_malloc((rows ? rows : 1) * sizeof *order);
    size_t *start = vg_calloc((size_t)n_classes + 1, sizeof *start);
    if (!order || !start) {
        vg_free(order);
        vg_free(start);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    for (size_t r = 0; r < rows; r++) {
        if (y[r] < 0 || (uint32_t)y[r] >= n_classes) {
            vg_free(order);
            vg_free(start);
            return vg_fail(VG_ERR_INVALID, "class index %d out of range", y[r]);
        }
        start[y[r] + 1]++;
    }
    for (uint32_t c = 0; c < n_classes; c++) start[c + 1] += start[c];
    size_t *fill = vg_malloc(((size_t)n_classes + 1) * sizeof *fill);
    if (!fill) {
        vg_free(order);
        vg_free(start);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    memcpy(fill, start, ((size_t)n_classes + 1) * sizeof *fill);
    for (size_t r = 0; r < rows; r++) order[fill[y[r]]++] = (uint32_t)r;
    vg_free(fill);
    vg_rng rng;
    vg_rng_seed(&rng, seed, 0x5b11);
    for (uint32_t c = 0; c < n_classes; c++)
        vg_rng_shuffle_u32(&rng, order + start[c], start[c + 1] - start[c]);
    *order_out = order;
    *start_out = start;
    return VG_OK;
}

vg_status vg_split_holdout(const int32_t *y, size_t rows, uint32_t n_classes, double test_fraction,
                           uint64_t seed, size_t **train_idx, size_t *n_train, size_t **test_idx,
                           size_t *n_test)
{
    if (!(test_fraction > 0 && test_fraction < 1))
        return vg_fail(VG_ERR_INVALID, "--split: %g is not a fraction between 0 and 1", test_fraction);
    uint32_t *order;
    size_t *start;
    vg_status st = group_by_class(y, rows, n_classes, seed, &order, &start);
    if (st) return st;
    uint8_t *in_test = vg_calloc(rows ? rows : 1, 1);
    size_t *tr = vg_malloc((rows ? rows : 1) * sizeof *tr);
    size_t *te = vg_malloc((rows ? rows : 1) * sizeof *te);
    if (!in_test || !tr || !te) {
        vg_free(in_test), vg_free(tr), vg_free(te), vg_free(order), vg_free(start);
        return vg_fail(VG_ERR_NOMEM, "out of memory");
    }
    for (uint32_t c = 0; c < n_classes; c++) {
        size_t count = start[c + 1] - start[c];
        size_t take = (size_t)llround(test_fraction * (double)count);
        if (count >= 2 && take == 0) take = 1;
        if (count >= 2 && take == count) take = count - 1;
        for (size_t i = 0; i < take; i++) in_test[order[start[c] + i]] = 1;
    }
    size_t a = 0, b = 0;
    for (size_t r = 0; r < rows; r++) {
        if (in_test[r]) te[b++] = r;
        else tr[a++] = r;
    }
    vg_free(in_test), vg_free(order), vg_free(start);
    *train_idx = tr, *n_train = a, *test_idx = te, *n_test = b;
    return VG_OK;
}

vg_status vg_split_kfold(const int32_t *y, size_t rows, uint32_t n_classes, uint32_t k, uint64_t seed,
                         uint32_t *fold)
{
    if (k < 2) return vg_fail(VG_ERR_INVALID, "k-fold needs k >= 2, got %u", k);
    uint32_t *order;
    size_t *start;
    vg_status st = group_by_class(y, rows, n_classes, seed, &order, &start);
    if (st) return st;
    /* Deal each class round-robin, continuing where the previous class
     * stopped so fold sizes differ by at most one. */
    uint32_t next = 0;
    for (uint32_t c = 0; c < n_classes; c++)
        for (size_t i = start[c]; i < start[c + 1]; i++) {
            fold[order[i]] = next;
            next = (next + 1) % k;
        }
    vg_free(order), vg_free(start);
    return VG_OK;
}
