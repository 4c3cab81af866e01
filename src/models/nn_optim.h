/* Internal: the optimisers that step a network's parameter block, as
 * scikit-learn's MLP defines them:
 *   adam: m = b1 m + (1-b1) g,  v = b2 v + (1-b2) g^2,
 *         p -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
 *   sgd:  v = momentum v - lr g;  p += v, or with Nesterov's momentum
 *         p += momentum v - lr g. */
#ifndef VG_MODELS_NN_OPTIM_H
#define VG_MODELS_NN_OPTIM_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

typedef enum vg_nn_solver { VG_NN_ADAM = 0, VG_NN_SGD = 1 } vg_nn_solver;

typedef struct vg_nn_optim {
    vg_nn_solver solver;
    double lr, beta_1, beta_2, epsilon, momentum;
    int nesterov;
    size_t n;
    uint64_t t;   /* steps taken */
    float *m, *v; /* adam's moments; sgd uses m as the velocity */
} vg_nn_optim;

vg_status vg_nn_optim_init(vg_nn_optim *o, vg_nn_solver solver, size_t n);
void vg_nn_optim_free(vg_nn_optim *o);
/* One step of params (n) along grad (n). */
void vg_nn_optim_step(vg_nn_optim *o, float *params, const float *grad);

#endif
