/* The losses gradient boosting minimises (see gbdt.h): their gradient pairs
 * (as XGBoost defines them, so the same parameters mean the same thing),
 * the constant raw score a model starts from, and the validation loss that
 * early stopping watches. */
#include "models/gbdt.h"

#include <math.h>
#include <string.h>

#include "vigil/parallel.h"

/* Hessians are kept above this so a leaf of confident rows never divides
 * by zero (XGBoost's floor). */
#define MIN_HESS 1e-16
/* Class priors are floored here before their logarithm. */
#define MIN_PRIOR 1e-12
#define GRAD_BLOCK 4096
#define SOFTMAX_STACK 64  /* classes whose exponentials are kept, not recomputed */

const char *vg_gbdt_objective_name(vg_gbdt_objective o)
{
    switch (o) {
    case VG_GBDT_BINARY: return "binary";
    case VG_GBDT_MULTICLASS: return "multiclass";
    case VG_GBDT_REGRESSION: return "regression";
    default: return "auto";
    }
}

/* Weight of a row in the loss: its sample weight, times scale_pos_weight
 * for a positive row of the binary loss. */
static inline double row_weight(const vg_gbdt_labels *lb, uint32_t r)
{
    double w = lb->weight ? lb->weight[r] : 1.0;
    if (lb->objective == VG_GBDT_BINARY && lb->y[r] == 1) w *= lb->scale_pos_weight;
    return w;
}

vg_status vg_gbdt_base_score(const vg_gbdt_labels *lb, const vg_gbdt_params *p, const uint32_t *rows, uint32_t n,
                             float *base)
{
    const uint32_t K = lb->K;
    if (!p->base_score_auto) {
        double b = p->base_score;
        if (lb->objective == VG_GBDT_BINARY) b = log(b / (1.0 - b));  /* a probability, as in XGBoost */
        for (uint32_t k = 0; k < K; k++) base[k] = (float)b;
        return VG_OK;
    }
    double wsum = 0.0;
    if (lb->objective == VG_GBDT_REGRESSION) {
        double s = 0.0;
        for (uint32_t i = 0; i < n; i++) {
            double w = row_weight(lb, rows[i]);
            wsum += w;
            s += w * lb->target[rows[i]];
        }
        if (!(wsum > 0.0)) return vg_fail(VG_ERR_DATA, "gbdt: no training row has a positive weight");
        base[0] = (float)(s / wsum);
        return VG_OK;
    }
    uint32_t C = lb->objective == VG_GBDT_BINARY ? 2 : K;
    double cls[VG_BINS_MAX];
    double *cw = C <= VG_BINS_MAX ? cls : vg_calloc(C, sizeof *cw);
    if (!cw) return vg_fail(VG_ERR_NOMEM, "gbdt: out of memory");
    memset(cw, 0, (size_t)C * sizeof *cw);
    for (uint32_t i = 0; i < n; i++) {
        double w = row_weight(lb, rows[i]);
        cw[lb->y[rows[i]]] += w;
        wsum += w;
    }
    vg_status st = VG_OK;
    if (!(wsum > 0.0)) {
        st = vg_fail(VG_ERR_DATA, "gbdt: no training row has a positive weight");
    } else if (lb->objective == VG_GBDT_BINARY) {
        double q = VG_MIN(VG_MAX(cw[1] / wsum, MIN_PRIOR), 1.0 - MIN_PRIOR);
        base[0] = (float)log(q / (1.0 - q));
    } else {
        for (uint32_t k = 0; k < K; k++) base[k] = (float)log(VG_MAX(cw[k] / wsum, MIN_PRIOR));
    }
    if (cw != cls) vg_free(cw);
    return st;
}

typedef struct grad_ctx {
    const vg_gbdt_labels *lb;
    const double *raw;
    const uint32_t *rows;
    uint32_t n, n_rows;
    float *gh;
} grad_ctx;

static void grad_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    const grad_ctx *c = ctx;
    const vg_gbdt_labels *lb = c->lb;
    const uint32_t K = lb->K;
    uint32_t i0 = (uint32_t)task * GRAD_BLOCK, i1 = VG_MIN(i0 + GRAD_BLOCK, c->n);
    float *gh = c->gh;  /* (K, n_rows, 2) */
    switch (lb->objective) {
    case VG_GBDT_BINARY:
        for (uint32_t i = i0; i < i1; i++) {
            uint32_t r = c->rows[i];
            double w = row_weight(lb, r);
            double pr = 1.0 / (1.0 + exp(-c->raw[r]));
            gh[2 * (size_t)r] = (float)((pr - (double)(lb->y[r] == 1)) * w);
            gh[2 * (size_t)r + 1] = (float)(VG_MAX(pr * (1.0 - pr), MIN_HESS) * w);
        }
        break;
    case VG_GBDT_MULTICLASS: {
        const size_t stride = 2 * (size_t)c->n_rows;
        for (uint32_t i = i0; i < i1; i++) {
            uint32_t r = c->rows[i];
            double w = row_weight(lb, r);
            const double *z = c->raw + (size_t)r * K;   /* z: (K) raw scores of row r */
            double mx = z[0], sum = 0.0, ez[SOFTMAX_STACK];
            for (uint32_t k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
            for (uint32_t k = 0; k < K; k++) {
                double v = exp(z[k] - mx);
                if (k < SOFTMAX_STACK) ez[k] = v;
                sum += v;
            }
            for (uint32_t k = 0; k < K; k++) {
                double pr = (k < SOFTMAX_STACK ? ez[k] : exp(z[k] - mx)) / sum;
                /* XGBoost's softmax hessian, 2p(1-p): an upper bound that keeps steps cautious */
                gh[k * stride + 2 * (size_t)r] = (float)((pr - (double)((uint32_t)lb->y[r] == k)) * w);
                gh[k * stride + 2 * (size_t)r + 1] = (float)(VG_MAX(2.0 * pr * (1.0 - pr), MIN_HESS) * w);
            }
        }
        break;
    }
    default:
        for (uint32_t i = i0; i < i1; i++) {
            uint32_t r = c->rows[i];
            double w = row_weight(lb, r);
            gh[2 * (size_t)r] = (float)((c->raw[r] - (double)lb->target[r]) * w);
            gh[2 * (size_t)r + 1] = (float)w;
        }
        break;
    }
}

void vg_gbdt_gradients(const vg_gbdt_labels *lb, const double *raw, const uint32_t *rows, uint32_t n,
                       uint32_t n_rows, int threads, float *gh)
{
    grad_ctx c = { lb, raw, rows, n, n_rows, gh };
    size_t tasks = ((size_t)n + GRAD_BLOCK - 1) / GRAD_BLOCK;
    vg_parallel_for(tasks > 1 ? threads : 1, tasks, grad_task, &c);
}

/* log(1 + exp(x)) without overflow. */
static double softplus(double x)
{
    return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

double vg_gbdt_loss(const vg_gbdt_labels *lb, const double *raw, const uint32_t *rows, uint32_t n)
{
    const uint32_t K = lb->K;
    double s = 0.0, wsum = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = rows[i];
        double w = lb->weight ? lb->weight[r] : 1.0, l;
        switch (lb->objective) {
        case VG_GBDT_BINARY:
            /* -log p(y): softplus(-z) for y = 1, softplus(z) for y = 0 */
            l = softplus(lb->y[r] == 1 ? -raw[r] : raw[r]);
            break;
        case VG_GBDT_MULTICLASS: {
            const double *z = raw + (size_t)r * K;
            double mx = z[0], sum = 0.0;
            for (uint32_t k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
            for (uint32_t k = 0; k < K; k++) sum += exp(z[k] - mx);
            l = log(sum) + mx - z[lb->y[r]];
            break;
        }
        default: {
            double e = raw[r] - (double)lb->target[r];
            l = e * e;
            break;
        }
        }
        s += w * l;
        wsum += w;
    }
    return wsum > 0.0 ? s / wsum : 0.0;
}
