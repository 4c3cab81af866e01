/* Internal: read access to a fitted SVM state ("svm") beyond the estimator
 * vtable, for the golden tests against LIBSVM: the decision values, the
 * support-vector count and rho of each class pair. */
#ifndef VG_MODELS_SVM_H
#define VG_MODELS_SVM_H

#include <stdint.h>
#include "vigil/estimator.h"

/* Class pairs (a, b), a < b, in the order (0,1), (0,2), ..., (1,2), ... */
uint32_t vg_svm_n_pairs(const void *state);
/* Support vectors over every pair. */
uint32_t vg_svm_n_support(const void *state);
/* rho of each pair (decision = sum coef K - rho); borrowed from the state. */
const double *vg_svm_rho(const void *state);
/* The decision values of one row (n_features floats) into dec (n_pairs),
 * positive towards the pair's larger class index. */
vg_status vg_svm_decision(const void *state, const float *row, double *dec);

#endif
