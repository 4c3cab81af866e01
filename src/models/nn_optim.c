/* Adam and SGD with momentum over a flat parameter block (see nn_optim.h).
 * Moments are floats like the parameters; the bias correction of Adam is
 * folded into the step size, as scikit-learn and PyTorch both do. */
#include "models/nn_optim.h"
#include "models/nn_gemm.h"  /* VG_NN_CLONES */

#include <math.h>
#include <string.h>

vg_status vg_nn_optim_init(vg_nn_optim *o, vg_nn_solver solver, size_t n)
{
    double lr = o->lr, b1 = o->beta_1, b2 = o->beta_2, eps = o->epsilon, mom = o->momentum;
    int nest = o->nesterov;
    memset(o, 0, sizeof *o);
    o->solver = solver;
    o->lr = lr, o->beta_1 = b1, o->beta_2 = b2, o->epsilon = eps, o->momentum = mom, o->nesterov = nest;
    o->n = n;
    o->m = vg_calloc(n + 1, sizeof(float));
    o->v = solver == VG_NN_ADAM ? vg_calloc(n + 1, sizeof(float)) : NULL;
    if (!o->m || (solver == VG_NN_ADAM && !o->v)) {
        vg_nn_optim_free(o);
        return vg_fail(VG_ERR_NOMEM, "neural network: out of memory for the optimiser");
    }
    return VG_OK;
}

void vg_nn_optim_free(vg_nn_optim *o)
{
    if (!o) return;
    vg_free(o->m);
    vg_free(o->v);
    o->m = o->v = NULL;
}

VG_NN_CLONES static void optim_step_kernel(vg_nn_optim *o, float *restrict p, const float *restrict g)
{
    o->t++;
    float *restrict m = o->m, *restrict v = o->v;
    const size_t n = o->n;
    if (o->solver == VG_NN_ADAM) {
        const float b1 = (float)o->beta_1, b2 = (float)o->beta_2, eps = (float)o->epsilon;
        const float lr = (float)(o->lr * sqrt(1.0 - pow(o->beta_2, (double)o->t)) /
                                 (1.0 - pow(o->beta_1, (double)o->t)));
        for (size_t i = 0; i < n; i++) {
            m[i] = b1 * m[i] + (1.0f - b1) * g[i];
            v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
            p[i] -= lr * m[i] / (sqrtf(v[i]) + eps);
        }
    } else {
        const float mu = (float)o->momentum, lr = (float)o->lr;
        for (size_t i = 0; i < n; i++) {
            m[i] = mu * m[i] - lr * g[i];
            p[i] += o->nesterov ? mu * m[i] - lr * g[i] : m[i];
        }
    }
}

void vg_nn_optim_step(vg_nn_optim *o, float *p, const float *g)
{
    optim_step_kernel(o, p, g);
}
