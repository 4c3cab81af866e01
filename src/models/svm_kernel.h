/* Internal: kernel evaluation for the SVM family ("svm"), shared by the SMO
 * solver (kernel rows of the training set) and prediction (kernels between a
 * row and the support vectors).
 *
 * Rows are held in a compact form that makes a kernel value cost a few
 * nanoseconds. The pipeline's rows are mostly the same value per column:
 * one-hot indicators are 0, and a count that is 0 in most rows is one
 * standardised value in most rows. Each column gets a base value (its value
 * in at least half of the rows, else 0) and a row is stored as x = base + u,
 * where u is a short dense block (columns without such a majority, e.g. the
 * continuous numbers) and a sparse list of the other columns' deviations.
 * Then
 *     x.z   = u.v + base.u + base.v + base.base
 *     |x-z|^2 = |u|^2 + |v|^2 - 2 u.v          (a translation changes no distance)
 * so only u.v is computed per pair: a dense block of about 8 values and a
 * handful of deviations gathered from the query row spread out once. On
 * NSL-KDD that is 6 dense columns and about 7 deviations per row, against
 * 41 non-zeros per row in LIBSVM's sparse rows. */
#ifndef VG_MODELS_SVM_KERNEL_H
#define VG_MODELS_SVM_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/matrix.h"

typedef enum vg_svm_kernel_type {
    VG_SVM_RBF = 0,      /* exp(-gamma |x - z|^2) */
    VG_SVM_LINEAR = 1,   /* x.z */
    VG_SVM_POLY = 2,     /* (gamma x.z + coef0)^degree */
    VG_SVM_SIGMOID = 3   /* tanh(gamma x.z + coef0) */
} vg_svm_kernel_type;

typedef struct vg_svm_kernel {
    vg_svm_kernel_type type;
    double gamma, coef0;
    int degree;
} vg_svm_kernel;

#define VG_SVM_LANES 8  /* the dense block is padded to a multiple of this */

/* The compact rows (see above). All arrays owned; free with vg_svm_rows_free. */
typedef struct vg_svm_rows {
    size_t n;                 /* rows */
    uint32_t d;               /* columns of the original rows */
    uint32_t nd, nd_pad;      /* dense columns, padded */
    uint32_t *dense_col;      /* nd: original index of each dense column */
    uint8_t *is_dense;        /* d */
    float *base;              /* d: base value (0 for dense columns) */
    double bb;                /* base.base */
    float *dense;             /* n x nd_pad: u's dense block, zero padding */
    uint64_t *ptr;            /* n + 1: row r's deviations are [ptr[r], ptr[r+1]) */
    uint32_t *idx;            /* original column of each deviation */
    float *val;               /* u at that column */
    double *sq;               /* n: |u|^2 */
    double *sb;               /* n: base.u */
} vg_svm_rows;

/* Build the compact form of rows[i] = X->data + sel[i] * X->cols for i <
 * n (sel NULL: every row). Chooses the bases from these rows. */
vg_status vg_svm_rows_build(const vg_matrix *X, const uint32_t *sel, size_t n, vg_svm_rows *out);
void vg_svm_rows_free(vg_svm_rows *r);

/* A query row spread out against a vg_svm_rows' bases: u as d doubles (the
 * sparse lookups), its dense block packed, |u|^2 and base.u. */
typedef struct vg_svm_query {
    double *u;       /* d */
    double *ud;      /* nd_pad */
    double sq, sb;
} vg_svm_query;

vg_status vg_svm_query_alloc(const vg_svm_rows *r, vg_svm_query *q);
void vg_svm_query_free(vg_svm_query *q);
/* q from stored row i of r. */
void vg_svm_query_from_row(const vg_svm_rows *r, size_t i, vg_svm_query *q);
/* q from an outside row x (r->d floats). */
void vg_svm_query_from_dense(const vg_svm_rows *r, const float *x, vg_svm_query *q);
/* Undo a query's scatter (cheap: only the entries it set), so the buffers can
 * be reused; query_from_* expect a cleared u. */
void vg_svm_query_clear(const vg_svm_rows *r, size_t i, vg_svm_query *q);

/* K(q, row j). */
double vg_svm_kernel_eval(const vg_svm_kernel *k, const vg_svm_rows *r, const vg_svm_query *q, size_t j);
/* K(q, row j) for j = idx[t] (or first + t when idx is NULL), t < n, into
 * out: the same values as vg_svm_kernel_eval, a chunk at a time so the
 * exponentials vectorise. */
void vg_svm_kernel_block(const vg_svm_kernel *k, const vg_svm_rows *r, const vg_svm_query *q, const uint32_t *idx,
                         size_t first, size_t n, double *out);
/* The exponential the kernels use (about 1e-14 relative; tests compare it with exp). */
double vg_svm_exp(double x);

/* K between two stored rows (for the diagonal and for tests). */
double vg_svm_kernel_pair(const vg_svm_kernel *k, const vg_svm_rows *r, size_t i, size_t j, vg_svm_query *scratch);

/* K between plain dense rows: the reference the tests check the compact form
 * against. */
double vg_svm_kernel_dense(const vg_svm_kernel *k, const float *x, const float *z, size_t d);

#endif
