/* Internal: coordinate-descent solvers for linear models over CSR rows, the
 * engines of linear-svm and of logreg on sparse rows. Each solves one
 * two-class problem (labels +1 / -1); multiclass families call them once per
 * class (one-vs-rest). See linear_cd.c for the maths and the references. */
#ifndef VG_MODELS_LINEAR_CD_H
#define VG_MODELS_LINEAR_CD_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/buf.h"
#include "vigil/matrix.h"

typedef enum vg_lincd_solver {
    VG_LINCD_SVM_L2LOSS = 0,  /* dual CD, squared hinge (LIBLINEAR -s 1) */
    VG_LINCD_SVM_L1LOSS = 1,  /* dual CD, hinge (LIBLINEAR -s 3) */
    VG_LINCD_LR_DUAL = 2,     /* dual CD, L2-regularised logistic (LIBLINEAR -s 7) */
    VG_LINCD_LR_L1 = 3        /* primal CD Newton (CDN), L1-regularised logistic (as LIBLINEAR -s 6 solves) */
} vg_lincd_solver;

typedef struct vg_lincd_problem {
    const vg_csr *X;    /* rows */
    const int8_t *y;    /* +1 / -1 per row */
    const double *C;    /* per-row cost: C times the row's weight */
    double bias;        /* value of the constant column appended to every row (LIBLINEAR -B);
                           <= 0: none. Its weight is regularised like the others, as in LIBLINEAR */
} vg_lincd_problem;

typedef struct vg_lincd_result {
    long iterations;    /* outer passes */
    int converged;      /* 1 if the stopping rule was met before max_iter */
} vg_lincd_result;

/* Solve; w gets X->cols weights followed by the bias weight (when bias > 0),
 * starting from zero. eps: LIBLINEAR's stopping tolerance for the solver
 * (dual: projected-gradient spread / Newton gradient; L1: ratio of the
 * subgradient's 1-norm to its start). Deterministic for a seed. Fails only on
 * memory. */
vg_status vg_lincd_solve(vg_lincd_solver solver, const vg_lincd_problem *P, double eps, long max_iter,
                         uint64_t seed, double *w, vg_lincd_result *res);

/* One-vs-rest over n_classes (2 classes: one vector for class 1 against
 * class 0): coef gets n_vectors x (X->cols + 1), n_vectors = 1 for two
 * classes, else n_classes; the last weight of each vector multiplies `bias`.
 * Per-row cost C * weight[i] (weight may be NULL). The vectors are solved in
 * parallel, each with its own seed stream, so the result does not depend on
 * threads. res: the most passes any vector took, converged if all did. */
vg_status vg_lincd_fit_ovr(vg_lincd_solver solver, const vg_csr *X, const int32_t *y, uint32_t n_classes,
                           const float *weight, double C, double bias, double eps, long max_iter, uint64_t seed,
                           int threads, double *coef, vg_lincd_result *res);

/* ---- helpers shared by the families that hold coefficients this way ----
 * coef: n_vectors rows of stride = n_features + 1 doubles, the weights and
 * then the intercept's weight, which multiplies `bias` (1 for logreg's
 * unpenalised intercept, LIBLINEAR's -B value for the dual solvers). */

/* Raw scores of CSR row r: z[v] = coef_v . x_r + coef_v[n_features] * bias. */
void vg_lincd_row_scores(const double *coef, uint32_t n_vectors, uint32_t n_features, double bias,
                         const vg_csr *X, size_t r, double *z);

/* Save the non-zero weights of each vector as (column, value) pairs, then
 * its intercept weight; load checks counts, ascending columns and finite
 * values within max_abs, failing with VG_ERR_FORMAT through r. coef must be
 * zeroed n_vectors x (n_features + 1). */
void vg_lincd_save_coef(const double *coef, uint32_t n_vectors, uint32_t n_features, vg_wbuf *w);
vg_status vg_lincd_load_coef(vg_rbuf *r, double *coef, uint32_t n_vectors, uint32_t n_features, double max_abs);

#endif
