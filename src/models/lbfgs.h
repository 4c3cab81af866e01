/* Internal: a limited-memory BFGS minimiser over double vectors, shared by the
 * linear models (and later the MLP). The caller supplies f and its gradient;
 * the minimiser keeps the last m correction pairs, searches along each
 * direction with a line search that satisfies the strong Wolfe conditions,
 * and stops the way scipy's L-BFGS-B does when it has no bounds, so a model
 * fitted here stops where scikit-learn's lbfgs solver would:
 *   - max|g| <= gtol                                  (scipy's pgtol / gtol)
 *   - (f_prev - f) / max(|f_prev|, |f|, 1) <= ftol    (scipy's factr * eps)
 *   - max_iter iterations. */
#ifndef VG_MODELS_LBFGS_H
#define VG_MODELS_LBFGS_H

#include <stddef.h>
#include "vigil/core.h"

/* Objective: returns f(x) and writes its gradient (n values) into grad.
 * Returning a non-finite value tells the line search the step went too far. */
typedef double (*vg_lbfgs_fn)(void *ctx, const double *x, double *grad);

/* Called after every iteration (1-based) with the new f and max|g|. */
typedef void (*vg_lbfgs_iter_fn)(void *user, int iter, double f, double gmax);

typedef struct vg_lbfgs_params {
    int m;               /* correction pairs kept (10) */
    int max_iter;        /* iterations (100) */
    int max_linesearch;  /* evaluations per line search (20, as L-BFGS-B) */
    double gtol;         /* stop when max|g| <= gtol (1e-5) */
    double ftol;         /* stop on relative decrease <= ftol (2.22e-9); 0 disables */
    double c1, c2;       /* sufficient decrease and curvature constants (1e-3, 0.9) */
    vg_lbfgs_iter_fn on_iter;  /* may be NULL */
    void *user;
} vg_lbfgs_params;

typedef enum vg_lbfgs_stop {
    VG_LBFGS_STOP_GTOL = 0,       /* gradient small: converged */
    VG_LBFGS_STOP_FTOL = 1,       /* no further decrease: converged */
    VG_LBFGS_STOP_MAX_ITER = 2,   /* out of iterations */
    VG_LBFGS_STOP_LINESEARCH = 3  /* no acceptable step even along -g (rounding) */
} vg_lbfgs_stop;

typedef struct vg_lbfgs_result {
    int iterations;   /* completed iterations */
    int evaluations;  /* calls of the objective */
    int converged;    /* 1 when stopped by gtol or ftol */
    vg_lbfgs_stop stop;
    double f;         /* objective at the returned x */
    double gmax;      /* max|g| at the returned x */
} vg_lbfgs_result;

vg_lbfgs_params vg_lbfgs_params_default(void);
/* Static description of a stop reason ("gradient below gtol", ...). */
const char *vg_lbfgs_stop_str(vg_lbfgs_stop s);

/* Minimise fn from x (n values, overwritten with the best point found).
 * Not converging within max_iter is VG_OK with result->converged = 0.
 * Fails with VG_ERR_INVALID for bad parameters, VG_ERR_DATA when f or its
 * gradient is not finite at the start, VG_ERR_NOMEM. */
vg_status vg_lbfgs_minimize(size_t n, vg_lbfgs_fn fn, void *ctx, const vg_lbfgs_params *p,
                            double *x, vg_lbfgs_result *result);

#endif
