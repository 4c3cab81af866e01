/* Dense float32 feature matrix, the pipeline's output and every estimator's
 * input. Row-major: data[r * cols + c]. Missing values are NaN (only trees
 * see them; the linear pipeline imputes). */
#ifndef VIGIL_MATRIX_H
#define VIGIL_MATRIX_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_matrix {
    size_t rows, cols;
    float *data;  /* rows * cols, owned (vg_malloc) */
} vg_matrix;

/* Allocate a zeroed rows x cols matrix into *m. */
VG_API vg_status vg_matrix_alloc(vg_matrix *m, size_t rows, size_t cols);
VG_API void vg_matrix_free(vg_matrix *m);  /* frees data, zeroes the struct */

/* What an estimator knows about each input column of the matrix. */
typedef enum vg_feature_kind {
    VG_FEATURE_NUMERIC = 0,
    VG_FEATURE_CATEGORICAL = 1  /* value is a category code 0..n_categories-1; NaN = missing or unseen */
} vg_feature_kind;

typedef struct vg_feature {
    const char *name;       /* borrowed */
    vg_feature_kind kind;
    uint32_t n_categories;  /* categorical only */
} vg_feature;

#ifdef __cplusplus
}
#endif

#endif
