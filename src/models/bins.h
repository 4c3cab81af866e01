/* Quantile binning of a float feature matrix into one-byte codes, the input of
 * the histogram tree builders (CART here, gradient boosting later).
 *
 * Numeric feature: when the training column has at most `max_bins` distinct
 * values each value gets its own bin (exact: a split between two bins is the
 * split scikit-learn would consider); otherwise the sorted values are cut into
 * bins of about equal row counts, never splitting one value across bins. Bin
 * b covers [lo[b], hi[b]] (smallest and largest training value in it) and a
 * new value x maps to the first bin with x <= edge[b], where edge[b] is the
 * midpoint between hi[b] and lo[b + 1] rounded down to a float, so that
 * `x <= edge` means exactly `x <= midpoint` (the comparison scikit-learn makes
 * in double precision).
 *
 * Categorical feature: code c (0..n_categories-1) gets bin c when the codes
 * fit in 255 bins (and max_bins); with more categories, the most frequent
 * ones keep a bin each and the other seen ones share the last. Categories
 * never seen in training get the missing code, like NaN.
 *
 * Missing values (NaN) get the code `missing[f]`, one past the last value
 * bin. So that this code fits in a byte, a column that holds NaN in training,
 * and every categorical column, gets at most 255 value bins. A numeric column
 * without NaN in training may use all 256 codes; a NaN met later in such a
 * column then shares code 255 with the last bin (tree builders never see
 * this: they bin their own training data). */
#ifndef VG_MODELS_BINS_H
#define VG_MODELS_BINS_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/matrix.h"

#define VG_BINS_MAX 256

typedef struct vg_bins {
    uint32_t n_features;
    uint32_t max_bins;
    uint8_t *categorical;   /* n_features: 1 for a categorical column */
    uint16_t *n_bins;       /* n_features: value bins (0 when the column is all NaN) */
    uint8_t *has_missing;   /* n_features: 1 if the training column held NaN */
    uint8_t *missing;       /* n_features: code given to NaN */
    uint8_t *exact;         /* n_features: 1 if every bin holds one value (numeric) or one code (categorical) */
    uint32_t *start;        /* n_features + 1: feature f's bins are [start[f], start[f+1]) in lo/hi/edge */
    float *lo, *hi;         /* per bin: smallest / largest training value (numeric only) */
    float *edge;            /* per bin: upper edge for mapping new values (+inf for the last) */
    uint32_t *cat_start;    /* n_features + 1: feature f's categories are [cat_start[f], cat_start[f+1]) in cat_bin */
    uint8_t *cat_bin;       /* category code -> bin */
} vg_bins;

/* Learn the bins of every column of X (rows x n_features) described by
 * `features`. max_bins in [2, 256]. Sorting runs on `threads` threads.
 * *out is owned by the caller (vg_bins_free). Errors: VG_ERR_INVALID for a bad
 * max_bins, VG_ERR_NOMEM. */
vg_status vg_bins_fit(const vg_matrix *X, const vg_feature *features, uint32_t max_bins,
                      int threads, vg_bins **out);
/* The same, also filling codes (n_features x X->rows bytes, column-major,
 * allocated by the caller) as vg_bins_apply would, at no extra search cost. */
vg_status vg_bins_fit_codes(const vg_matrix *X, const vg_feature *features, uint32_t max_bins,
                            int threads, vg_bins **out, uint8_t *codes);
void vg_bins_free(vg_bins *b);

/* Code of value x of feature f. Categorical: NaN, a negative, fractional or
 * out-of-range code gives the missing code. */
uint8_t vg_bins_code(const vg_bins *b, uint32_t f, float x);

/* Codes of every value of X, column-major: codes[f * X->rows + r]
 * (n_features x rows bytes, allocated by the caller). */
void vg_bins_apply(const vg_bins *b, const vg_matrix *X, int threads, uint8_t *codes);

/* Midpoint of a < b as scikit-learn computes it (a/2 + b/2 in double), rounded
 * down to a float so that `x <= result` holds for a float x exactly when
 * `x <= midpoint`; falls back to a when the midpoint is infinite. */
float vg_bins_midpoint(float a, float b);

#endif
