/* Internal: the SMO solver of the SVM family ("svm"): the C-SVC dual
 *     min_a  1/2 a'Qa - e'a   subject to  y'a = 0,  0 <= a_i <= C_i
 * with Q_ij = y_i y_j K(x_i, x_j), as Fan, Chen and Lin (JMLR 2005) and
 * Chang and Lin's LIBSVM paper (ACM TIST 2011) describe it: second-order
 * working-set selection, shrinking, and an LRU cache of kernel rows whose
 * missing entries are computed in blocks across threads. */
#ifndef VG_MODELS_SVM_SMO_H
#define VG_MODELS_SVM_SMO_H

#include <stddef.h>
#include <stdint.h>
#include "models/svm_kernel.h"

typedef struct vg_svm_problem {
    const vg_svm_rows *rows;      /* the compact training rows */
    const vg_svm_kernel *kernel;
    size_t l;                     /* variables */
    const uint32_t *index;        /* l: the row of `rows` of each variable */
    const int8_t *y;              /* l: +1 or -1 */
    const double *C;              /* l: upper bound of each variable (C times its weight), > 0 */
    double eps;                   /* stop when m(a) - M(a) <= eps (tol) */
    int shrinking;
    double cache_mb;              /* kernel-row cache, MB (at least two rows are always kept) */
    long max_iter;                /* < 0: max(10^7, 100 l) */
    int threads;
} vg_svm_problem;

typedef struct vg_svm_solution {
    double rho;        /* decision = sum_i a_i y_i K(x_i, x) - rho */
    double obj;        /* the dual objective at the solution */
    long iterations;
    int converged;     /* 0 when max_iter stopped it */
} vg_svm_solution;

/* Solve P into alpha (l doubles, in the order of P's variables). Fails only
 * for memory. Deterministic whatever P->threads (every kernel value is
 * computed on its own; sums run in a fixed order). */
vg_status vg_svm_solve(const vg_svm_problem *P, double *alpha, vg_svm_solution *out);

#endif
