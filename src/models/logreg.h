/* Internal: the parts of logistic regression ("logreg") that code beyond the
 * estimator vtable needs: the parameter struct (the golden tests tighten the
 * stopping rule that scikit-learn fixes), read access to the fitted
 * coefficients, and the training objective itself, so tests can check both
 * against scikit-learn and against a plain computation. */
#ifndef VG_MODELS_LOGREG_H
#define VG_MODELS_LOGREG_H

#include <stdint.h>
#include "vigil/estimator.h"

typedef enum vg_logreg_multi {
    VG_LOGREG_AUTO = 0,         /* sigmoid for 2 classes, softmax for more */
    VG_LOGREG_MULTINOMIAL = 1,  /* softmax with one vector per class, even for 2 */
    VG_LOGREG_OVR = 2           /* one sigmoid per class, probabilities normalised */
} vg_logreg_multi;

/* Set with vg_logreg_kind.params_set using scikit-learn's names; `ftol`
 * has no text name because scikit-learn fixes it (scipy's factr * eps). */
typedef struct vg_logreg_params {
    double C;               /* inverse regularisation strength, > 0 (1.0) */
    long max_iter;          /* L-BFGS iterations, >= 1 (100) */
    double tol;             /* stop when max|gradient| <= tol, > 0 (1e-4) */
    int fit_intercept;      /* (1) */
    vg_logreg_multi multi_class;  /* (auto) */
    double ftol;            /* stop on relative decrease <= ftol, >= 0 (2.22e-9) */
    int penalty_l1;         /* penalty=l1: L1-regularised, coordinate descent over CSR rows (0: l2) */
} vg_logreg_params;

/* How the fitted vectors turn scores into probabilities. */
typedef enum vg_logreg_link {
    VG_LOGREG_SIGMOID = 0,  /* one vector; P(class 1) = sigmoid(score) */
    VG_LOGREG_SOFTMAX = 1,  /* one vector per class; softmax over the scores */
    VG_LOGREG_OVR_LINK = 2  /* one vector per class; sigmoids divided by their sum */
} vg_logreg_link;

/* The coefficients of a fitted state: n_vectors rows of stride =
 * n_features + 1 doubles, the weights in column order and then the
 * intercept. Borrowed from the state. */
const double *vg_logreg_coef(const void *state, uint32_t *n_vectors, uint32_t *stride,
                             vg_logreg_link *link);

/* The training objective F (see logreg.c) and its gradient at `coef`
 * (laid out as vg_logreg_coef describes, for the link `p` chooses), computed
 * exactly as fit computes them; one-vs-rest sums its classes' objectives.
 * grad has as many values as coef. For tests. Fails as fit does. */
vg_status vg_logreg_objective(const vg_logreg_params *p, const vg_train_set *ts, int threads,
                              const double *coef, double *grad, double *f);

#endif
