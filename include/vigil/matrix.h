/* Feature matrices, the pipeline's output and the estimators' input.
 * Dense: float32, row-major (data[r * cols + c]); missing values are NaN
 * (only trees see them; the linear pipeline imputes). Sparse (CSR): for the
 * wide, mostly-zero rows of hashed text n-grams, where a dense matrix of a
 * million columns could not be held; a family says which it reads
 * (vg_estimator_kind.inputs). */
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
/* Grow m to `rows` rows (>= m->rows), keeping its rows; the new ones are
 * zero or garbage. On failure m is unchanged. */
VG_API vg_status vg_matrix_grow(vg_matrix *m, size_t rows);

/* Compressed sparse rows: row r's non-zero entries are indices/values
 * [indptr[r], indptr[r + 1]), columns ascending, no explicit zeros; all
 * arrays owned (vg_malloc). */
typedef struct vg_csr {
    size_t rows, cols, nnz;
    uint64_t *indptr;   /* rows + 1 */
    uint32_t *indices;  /* nnz column indices, each < cols */
    float *values;      /* nnz values */
    size_t cap_rows, cap_nnz;  /* room allocated while building */
} vg_csr;

/* Building row by row: start with vg_csr_begin, add each row's entries in
 * ascending column order with vg_csr_push (zeros are dropped), close it with
 * vg_csr_end_row. Fails on memory or a column out of range / out of order
 * (VG_ERR_INVALID, a programmer's or a hashing bug, never user data). */
VG_API vg_status vg_csr_begin(vg_csr *m, size_t cols, size_t nnz_hint);
VG_API vg_status vg_csr_push(vg_csr *m, uint32_t col, float value);
VG_API vg_status vg_csr_end_row(vg_csr *m);
/* The non-zero entries of a dense matrix (NaN counts as non-zero). */
VG_API vg_status vg_csr_from_dense(const vg_matrix *d, vg_csr *out);
/* x . w over row r's entries: the kernel of every linear family on CSR rows. */
VG_API double vg_csr_row_dot(const vg_csr *m, size_t r, const double *w);
VG_API void vg_csr_free(vg_csr *m);  /* frees the arrays, zeroes the struct */

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
