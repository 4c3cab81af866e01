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

/* exp(x) for x <= 0 in float, as plain arithmetic the compiler vectorises
 * (libm's exp is a call per value and was most of the gradient pass, which
 * was a sixth of training). x = n ln2 + r with |r| <= ln2/2 (ln2 in two
 * parts, Cody and Waite), e^r by its degree-6 Taylor polynomial (relative
 * error below 2e-7 on that interval, about one float ulp), 2^n by the
 * exponent bits. Below -87 the result is 0, as e^x is then below float's
 * normal range and the gradients it feeds are exactly 0 or 1 anyway. The
 * gradients are floats, as XGBoost's are, so a float exp loses nothing
 * they keep; every value is computed alone, so no thread count changes one. */
static inline float exp_neg(float x)
{
    x = x < -87.0f ? -87.0f : x;
    float t = x * 1.44269504f;                          /* x / ln2 */
    float nf = (float)(int32_t)(t - 0.5f);              /* round to nearest (t <= 0) */
    float r = x - nf * 0.693145752f - nf * 1.42860677e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.66666672e-1f + r * (4.16666679e-2f +
                                    r * (8.33333377e-3f + r * 1.38888892e-3f)))));
    union { float f; int32_t i; } sc = { .i = ((int32_t)nf + 127) << 23 };
    return p * sc.f;
}

#define GRAD_LANES 256  /* rows gathered, computed as a vector loop, scattered */

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
        for (uint32_t a = i0; a < i1; a += GRAD_LANES) {
            uint32_t m = VG_MIN((uint32_t)GRAD_LANES, i1 - a);
            float x[GRAD_LANES], y[GRAD_LANES], w[GRAD_LANES], g[GRAD_LANES], h[GRAD_LANES];
            for (uint32_t i = 0; i < GRAD_LANES; i++) {
                uint32_t r = c->rows[a + (i < m ? i : 0)];
                x[i] = (float)c->raw[r];
                y[i] = (float)(lb->y[r] == 1);
                w[i] = (float)row_weight(lb, r);
            }
            /* With e = exp(-|x|): the smaller of p, 1 - p is e / (1 + e) and
             * the larger 1 / (1 + e), so neither g = p - y nor h = p (1 - p)
             * cancels when the model is sure. */
            for (uint32_t i = 0; i < GRAD_LANES; i++) {
                float ax = x[i] < 0.0f ? -x[i] : x[i];
                float e = exp_neg(-ax), big = 1.0f / (1.0f + e), small = e * big;
                float pr = x[i] >= 0.0f ? big : small, q = x[i] >= 0.0f ? small : big;  /* p, 1 - p */
                g[i] = (y[i] > 0.0f ? -q : pr) * w[i];
                float hh = pr * q;
                h[i] = (hh > (float)MIN_HESS ? hh : (float)MIN_HESS) * w[i];
            }
            for (uint32_t i = 0; i < m; i++) {
                uint32_t r = c->rows[a + i];
                gh[2 * (size_t)r] = g[i];
                gh[2 * (size_t)r + 1] = h[i];
            }
        }
        break;
    case VG_GBDT_MULTICLASS: {
        const size_t stride = 2 * (size_t)c->n_rows;
        for (uint32_t i = i0; i < i1; i++) {
            uint32_t r = c->rows[i];
            float w = (float)row_weight(lb, r);
            const double *z = c->raw + (size_t)r * K;   /* z: (K) raw scores of row r */
            uint32_t yk = (uint32_t)lb->y[r];
            double mx = z[0];
            for (uint32_t k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
            float ez[SOFTMAX_STACK], sum = 0.0f, others = 0.0f;
            for (uint32_t k = 0; k < K; k++) {
                float v = exp_neg((float)(z[k] - mx));
                if (k < SOFTMAX_STACK) ez[k] = v;
                sum += v;
                others += k == yk ? 0.0f : v;
            }
            float inv = 1.0f / sum;
            for (uint32_t k = 0; k < K; k++) {
                float e = k < SOFTMAX_STACK ? ez[k] : exp_neg((float)(z[k] - mx));
                float pr = e * inv;
                /* 1 - p without cancellation: the true class's is the others' share */
                float q = k == yk ? others * inv : 1.0f - pr;
                /* XGBoost's softmax hessian, 2p(1-p): an upper bound that keeps steps cautious */
                float hh = 2.0f * pr * q;
                gh[k * stride + 2 * (size_t)r] = (k == yk ? -q : pr) * w;
                gh[k * stride + 2 * (size_t)r + 1] = (hh > (float)MIN_HESS ? hh : (float)MIN_HESS) * w;
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
