/* Dense layers: shape, initialisation, forward and backward passes, losses
 * and the network's section of the model file (see nn.h for the maths).
 *
 * Derivatives of the hidden activations are taken from their outputs
 * (relu: a > 0, tanh: 1 - a^2, logistic: a (1 - a)), so a pass keeps only
 * each layer's output. The output layer's loss and activation are paired so
 * that dL/dZ is simply w_i (p - t) / B for both cross-entropies and
 * 2 w_i (p - t) / (k B) for the squared error, without the activation's
 * Jacobian. tests/test_nn.c checks every gradient against finite
 * differences and the forward pass against PyTorch. */
#include "models/nn.h"
#include "models/nn_act.h"

#include <float.h>
#include <math.h>
#include <string.h>

static const char *const act_names[] = { "identity", "logistic", "tanh", "relu" };

const char *vg_nn_act_str(vg_nn_act a)
{
    return (unsigned)a < 4 ? act_names[a] : "?";
}

int vg_nn_act_parse(const char *s, vg_nn_act *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, act_names[i]) == 0) return *out = (vg_nn_act)i, 0;
    return -1;
}

/* ---- shape and parameters ----------------------------------------------- */

static vg_status shape(vg_nn *net, const uint32_t *sizes, uint32_t n_layers, vg_nn_act act, vg_nn_out out)
{
    memset(net, 0, sizeof *net);
    if (n_layers < 1 || n_layers > VG_NN_MAX_LAYERS)
        return vg_fail(VG_ERR_INVALID, "neural network: %u layers (allowed 1 to %d)", n_layers, VG_NN_MAX_LAYERS);
    if ((unsigned)act > VG_NN_RELU || (unsigned)out > VG_NN_OUT_LINEAR)
        return vg_fail(VG_ERR_INVALID, "neural network: unknown activation or output");
    uint64_t n = 0;
    for (uint32_t l = 0; l <= n_layers; l++) {
        if (sizes[l] < 1 || sizes[l] > VG_NN_MAX_WIDTH)
            return vg_fail(VG_ERR_INVALID, "neural network: layer width %u (allowed 1 to %u)", sizes[l],
                           VG_NN_MAX_WIDTH);
        net->size[l] = sizes[l];
    }
    if (out == VG_NN_OUT_SIGMOID && sizes[n_layers] != 1)
        return vg_fail(VG_ERR_INVALID, "neural network: a sigmoid output has one unit");
    if (out == VG_NN_OUT_SOFTMAX && sizes[n_layers] < 2)
        return vg_fail(VG_ERR_INVALID, "neural network: a softmax output needs 2 units or more");
    for (uint32_t l = 0; l < n_layers; l++) {
        net->w_off[l] = (size_t)n;
        n += (uint64_t)sizes[l] * sizes[l + 1];
        net->b_off[l] = (size_t)n;
        n += sizes[l + 1];
        if (n > VG_NN_MAX_PARAMS)
            return vg_fail(VG_ERR_INVALID, "neural network: more than %u parameters", VG_NN_MAX_PARAMS);
    }
    net->n_layers = n_layers;
    net->act = act;
    net->out = out;
    net->n_params = (size_t)n;
    net->gemm = vg_nn_gemm_default();
    return VG_OK;
}

vg_status vg_nn_init(vg_nn *net, const uint32_t *sizes, uint32_t n_layers, vg_nn_act act, vg_nn_out out)
{
    vg_status st = shape(net, sizes, n_layers, act, out);
    if (st) return st;
    net->params = vg_calloc(net->n_params, sizeof(float));
    if (!net->params) {
        size_t n = net->n_params;
        memset(net, 0, sizeof *net);
        return vg_fail(VG_ERR_NOMEM, "neural network: out of memory for %zu parameters", n);
    }
    return VG_OK;
}

void vg_nn_free(vg_nn *net)
{
    if (!net) return;
    vg_free(net->params);
    memset(net, 0, sizeof *net);
}

void vg_nn_glorot(vg_nn *net, vg_rng *rng)
{
    const double factor = net->act == VG_NN_LOGISTIC ? 2.0 : 6.0;
    for (uint32_t l = 0; l < net->n_layers; l++) {
        const double bound = sqrt(factor / ((double)net->size[l] + net->size[l + 1]));
        float *w = vg_nn_W(net, l), *b = vg_nn_b(net, l);
        const size_t nw = (size_t)net->size[l] * net->size[l + 1];
        for (size_t i = 0; i < nw; i++) w[i] = (float)((2.0 * vg_rng_uniform(rng) - 1.0) * bound);
        for (size_t i = 0; i < net->size[l + 1]; i++) b[i] = (float)((2.0 * vg_rng_uniform(rng) - 1.0) * bound);
    }
}

uint32_t vg_nn_max_width(const vg_nn *net)
{
    uint32_t m = 0;
    for (uint32_t l = 0; l <= net->n_layers; l++) m = VG_MAX(m, net->size[l]);
    return m;
}

/* ---- workspace ---------------------------------------------------------- */

vg_status vg_nn_ws_init(vg_nn_ws *ws, const vg_nn *net, size_t cap)
{
    memset(ws, 0, sizeof *ws);
    const uint32_t L = net->n_layers, wmax = vg_nn_max_width(net);
    /* X, then H, M, D per layer, dA, beff, G, GT and their starts (two
     * floats a deviation); M is only used with dropout, G and GT only with
     * deviations, but they cost little next to the rest. */
    size_t n = 5 * cap * net->size[0] + cap * wmax + net->size[1] + cap + 1 + net->size[0] + 1;
    for (uint32_t l = 1; l <= L; l++) n += 3 * cap * net->size[l];
    float *p = vg_malloc((n + 1) * sizeof(float));
    if (!p) return vg_fail(VG_ERR_NOMEM, "neural network: out of memory for a batch of %zu rows", cap);
    ws->block = p;
    ws->cap = cap;
    ws->X = p, p += cap * net->size[0];
    ws->A[0] = ws->X;
    for (uint32_t l = 1; l <= L; l++) {
        ws->H[l] = p, p += cap * net->size[l];
        ws->M[l] = p, p += cap * net->size[l];
        ws->D[l] = p, p += cap * net->size[l];
        ws->A[l] = ws->H[l];
    }
    ws->dA = p, p += cap * wmax;
    ws->beff = p, p += net->size[1];
    ws->G = (vg_nn_dev *)p, p += 2 * cap * net->size[0];
    ws->GT = (vg_nn_dev *)p, p += 2 * cap * net->size[0];
    ws->Gstart = (uint32_t *)p, p += cap + 1;
    ws->GTstart = (uint32_t *)p;
    return VG_OK;
}

void vg_nn_ws_free(vg_nn_ws *ws)
{
    if (!ws) return;
    vg_free(ws->block);
    memset(ws, 0, sizeof *ws);
}

/* ---- forward ------------------------------------------------------------ */

VG_NN_CLONES static void activate(vg_nn_act act, float *z, size_t n)
{
    switch (act) {
    case VG_NN_RELU:
        for (size_t i = 0; i < n; i++) z[i] = z[i] > 0.0f ? z[i] : 0.0f;
        break;
    case VG_NN_TANH:
        for (size_t i = 0; i < n; i++) z[i] = vg_nn_tanhf(z[i]);
        break;
    case VG_NN_LOGISTIC:
        for (size_t i = 0; i < n; i++) z[i] = vg_nn_sigmoidf(z[i]);
        break;
    case VG_NN_IDENTITY:
        break;
    }
}

/* The output layer's activation, row by row (z: B x k). */
static void activate_output(vg_nn_out out, float *z, size_t B, size_t k)
{
    if (out == VG_NN_OUT_LINEAR) return;
    if (out == VG_NN_OUT_SIGMOID) {
        activate(VG_NN_LOGISTIC, z, B);
        return;
    }
    for (size_t i = 0; i < B; i++) {
        float *r = z + i * k, m = r[0], s = 0.0f;
        for (size_t u = 1; u < k; u++) m = r[u] > m ? r[u] : m;
        for (size_t u = 0; u < k; u++) s += (r[u] = expf(r[u] - m));
        for (size_t u = 0; u < k; u++) r[u] /= s;
    }
}

/* Layers 1.. once the first layer's pre-activation is in H[1]. */
static void forward_rest(const vg_nn *net, vg_nn_ws *ws, size_t B, float dropout, vg_rng *rng)
{
    const uint32_t L = net->n_layers;
    ws->dropout = dropout > 0.0f && rng != NULL;
    const float keep = 1.0f / (1.0f - dropout);
    for (uint32_t l = 1; l <= L; l++) {
        const size_t n = B * net->size[l];
        if (l > 1)
            vg_nn_gemm_forward(net->gemm, B, net->size[l - 1], net->size[l], ws->A[l - 1], vg_nn_W(net, l - 1),
                               vg_nn_b(net, l - 1), ws->H[l]);
        if (l == L) {
            activate_output(net->out, ws->H[l], B, net->size[l]);
            ws->A[l] = ws->H[l];
            break;
        }
        activate(net->act, ws->H[l], n);
        if (ws->dropout) {
            float *m = ws->M[l], *a = ws->D[l];  /* D is free until the backward pass: the dropped copy */
            for (size_t i = 0; i < n; i++) {
                m[i] = vg_rng_uniform(rng) < dropout ? 0.0f : keep;
                a[i] = ws->H[l][i] * m[i];
            }
            ws->A[l] = a;
        } else {
            ws->A[l] = ws->H[l];
        }
    }
}

void vg_nn_forward_rows(const vg_nn *net, vg_nn_ws *ws, const float *X, size_t B)
{
    /* Prediction runs the loops whatever the backend: a BLAS kernel's order
     * of summation changes with the batch's shape, and a row must score the
     * same alone (the server's predict_row) as among others (predict). */
    vg_nn loops = *net;
    loops.gemm = VG_NN_GEMM_LOOPS;
    ws->A[0] = X;
    vg_nn_gemm_forward(loops.gemm, B, net->size[0], net->size[1], X, vg_nn_W(net, 0), vg_nn_b(net, 0), ws->H[1]);
    forward_rest(&loops, ws, B, 0.0f, NULL);
}

/* Copy the deviations of rows idx[0..B) into ws->G. The rows are a random
 * draw from megabytes of deviations, so each is a cache miss, and fetching
 * them one row at a time as the sums need them left the loop waiting on
 * memory most of its time: first ask for every row's position, then for
 * every row's lines, so the misses overlap, and only then copy. */
static void gather(const vg_nn_input *in, vg_nn_ws *ws, const uint32_t *idx, size_t B)
{
    for (size_t i = 0; i < B; i++) __builtin_prefetch(&in->start[idx[i]]);
    for (size_t i = 0; i < B; i++) {
        const uintptr_t a = (uintptr_t)(in->dev + in->start[idx[i]]), e = (uintptr_t)(in->dev + in->start[idx[i] + 1]);
        for (uintptr_t line = a & ~(uintptr_t)63; line < e; line += 64) __builtin_prefetch((const void *)line);
    }
    uint32_t n = 0;
    for (size_t i = 0; i < B; i++) {
        const uint64_t a = in->start[idx[i]], e = in->start[idx[i] + 1];
        ws->Gstart[i] = n;
        memcpy(ws->G + n, in->dev + a, (size_t)(e - a) * sizeof *ws->G);
        n += (uint32_t)(e - a);
    }
    ws->Gstart[B] = n;
}

/* Units of the first layer summed together: a block's partial sums stay in
 * vector registers while a row's deviations stream past, instead of going
 * to memory and back once per deviation. A layer whose width is not a
 * multiple of the block ends with a block that overlaps the one before
 * (the units in both get the same sum, in the same order, twice): summed
 * one at a time, the last few units cost as much as all the blocks. */
#define NN_UNIT_BLOCK 32

/* The first unit of the block after the one at u0 (n1 when done). */
static inline size_t next_block(size_t u0, size_t n1)
{
    u0 += NN_UNIT_BLOCK;
    return u0 >= n1 ? n1 : u0 + NN_UNIT_BLOCK > n1 ? n1 - NN_UNIT_BLOCK : u0;
}

/* out (n1) = s init + sum over the entries [g, ge) of v M[col] (rows of
 * M have n1 floats): a first-layer row forward, a weight-gradient row
 * backward. */
static inline void sparse_sum(size_t n1, float s, const float *init, const vg_nn_dev *g, const vg_nn_dev *ge,
                              const float *M, float *restrict out)
{
    if (n1 < NN_UNIT_BLOCK) {
        for (size_t u = 0; u < n1; u++) {
            float acc = s * init[u];
            for (const vg_nn_dev *q = g; q < ge; q++) acc += q->v * M[(size_t)q->col * n1 + u];
            out[u] = acc;
        }
        return;
    }
    for (size_t u0 = 0; u0 < n1; u0 = next_block(u0, n1)) {
        float acc[NN_UNIT_BLOCK];
        for (size_t u = 0; u < NN_UNIT_BLOCK; u++) acc[u] = s * init[u0 + u];
        for (const vg_nn_dev *q = g; q < ge; q++) {
            const float v = q->v, *restrict m = M + (size_t)q->col * n1 + u0;
            for (size_t u = 0; u < NN_UNIT_BLOCK; u++) acc[u] += v * m[u];
        }
        memcpy(out + u0, acc, sizeof acc);
    }
}

/* Z (B x n1) = beff + sum over row i's deviations of v W_col (G, Gstart). */
VG_NN_CLONES static void deviation_forward(size_t n1, const float *beff, const float *W, const vg_nn_dev *G,
                                           const uint32_t *Gstart, size_t B, float *Z)
{
    for (size_t i = 0; i < B; i++) sparse_sum(n1, 1.0f, beff, G + Gstart[i], G + Gstart[i + 1], W, Z + i * n1);
}

VG_NN_CLONES static void forward_kernel(const vg_nn *net, vg_nn_ws *ws, const vg_nn_input *in, const uint32_t *idx,
                                size_t B, float dropout, vg_rng *rng)
{
    const size_t n0 = net->size[0], n1 = net->size[1];
    const float *W = vg_nn_W(net, 0), *b = vg_nn_b(net, 0);
    if (in->deviations) {
        /* Z_i = (b + base W) + sum over row i's deviations of dev W_j */
        float *beff = ws->beff;
        memcpy(beff, b, n1 * sizeof(float));
        for (size_t j = 0; j < n0; j++) {
            const float bj = in->base[j];
            if (bj != 0.0f)
                for (size_t u = 0; u < n1; u++) beff[u] += bj * W[j * n1 + u];
        }
        gather(in, ws, idx, B);
        deviation_forward(n1, beff, W, ws->G, ws->Gstart, B, ws->H[1]);
        ws->A[0] = NULL;
    } else {
        for (size_t i = 0; i < B; i++) memcpy(ws->X + i * n0, in->X + (size_t)idx[i] * n0, n0 * sizeof(float));
        ws->A[0] = ws->X;
        vg_nn_gemm_forward(net->gemm, B, n0, n1, ws->X, W, b, ws->H[1]);
    }
    forward_rest(net, ws, B, dropout, rng);
}

void vg_nn_forward(const vg_nn *net, vg_nn_ws *ws, const vg_nn_input *in, const uint32_t *idx, size_t B,
                   float dropout, vg_rng *rng)
{
    forward_kernel(net, ws, in, idx, B, dropout, rng);
}

/* ---- losses ------------------------------------------------------------- */

/* log p, with p clipped away from 0 as scikit-learn clips to its float's eps */
static double safe_log(double p)
{
    return log(p > 1e-30 ? p : 1e-30);
}

void vg_nn_out_row_losses(vg_nn_out out, size_t k, const float *P, const vg_nn_target *t, const uint32_t *idx,
                          size_t B, double *loss)
{
    for (size_t i = 0; i < B; i++) {
        const float *p = P + i * k;
        const size_t r = idx[i];
        if (out == VG_NN_OUT_SOFTMAX) {
            loss[i] = -safe_log(p[t->y[r]]);
        } else if (out == VG_NN_OUT_SIGMOID) {
            loss[i] = -(t->y[r] == 1 ? safe_log(p[0]) : safe_log(1.0 - (double)p[0]));
        } else {
            const float *tr = t->T + r * k;
            double s = 0.0;
            for (size_t u = 0; u < k; u++) {
                const double e = (double)p[u] - tr[u];
                s += e * e;
            }
            loss[i] = s / (double)k;
        }
    }
}

void vg_nn_row_losses(const vg_nn *net, const vg_nn_ws *ws, const vg_nn_target *t, const uint32_t *idx,
                      size_t B, double *out)
{
    vg_nn_out_row_losses(net->out, net->size[net->n_layers], ws->H[net->n_layers], t, idx, B, out);
}

double vg_nn_loss_part(const vg_nn *net, vg_nn_ws *ws, const vg_nn_target *t, const uint32_t *idx, size_t B,
                       size_t n)
{
    const size_t k = net->size[net->n_layers];
    const float *P = ws->H[net->n_layers];
    float *D = ws->D[net->n_layers];
    double total = 0.0;
    for (size_t i = 0; i < B; i++) {
        const size_t r = idx[i];
        const double w = t->weight ? t->weight[r] : 1.0;
        const float *p = P + i * k;
        float *d = D + i * k;
        double li;
        if (net->out == VG_NN_OUT_SOFTMAX) {
            const float g = (float)(w / (double)n);
            for (size_t u = 0; u < k; u++) d[u] = g * p[u];
            d[t->y[r]] -= g;
            li = -safe_log(p[t->y[r]]);
        } else if (net->out == VG_NN_OUT_SIGMOID) {
            const int pos = t->y[r] == 1;
            d[0] = (float)(w / (double)n * ((double)p[0] - pos));
            li = -(pos ? safe_log(p[0]) : safe_log(1.0 - (double)p[0]));
        } else {
            const float *tr = t->T + r * k;
            const double g = 2.0 * w / ((double)k * (double)n);
            double s = 0.0;
            for (size_t u = 0; u < k; u++) {
                const double e = (double)p[u] - tr[u];
                s += e * e;
                d[u] = (float)(g * e);
            }
            li = s / (double)k;
        }
        total += w * li;
    }
    return total / (double)n;
}

/* The squares summed in eight partial sums: one chain of adds waited on its
 * own latency for every weight, every batch. */
VG_NN_CLONES static double penalty_kernel(const vg_nn *net, double alpha, size_t n, float *grad)
{
    if (!(alpha > 0.0)) return 0.0;
    const float reg = (float)(alpha / (double)n);
    double s[8] = { 0 };
    for (uint32_t l = 0; l < net->n_layers; l++) {
        const float *w = vg_nn_W(net, l);
        const size_t m = (size_t)net->size[l] * net->size[l + 1];
        size_t i = 0;
        for (; i + 8 <= m; i += 8)
            for (size_t k = 0; k < 8; k++) s[k] += (double)w[i + k] * w[i + k];
        for (; i < m; i++) s[0] += (double)w[i] * w[i];
        if (grad) {
            float *restrict g = grad + net->w_off[l];
            for (size_t q = 0; q < m; q++) g[q] += reg * w[q];
        }
    }
    const double sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    return 0.5 * alpha * sum / (double)n;
}

double vg_nn_penalty(const vg_nn *net, double alpha, size_t n, float *grad)
{
    return penalty_kernel(net, alpha, n, grad);
}

double vg_nn_loss(const vg_nn *net, vg_nn_ws *ws, const vg_nn_target *t, const uint32_t *idx, size_t B,
                  double alpha)
{
    return vg_nn_loss_part(net, ws, t, idx, B, B) + vg_nn_penalty(net, alpha, B, NULL);
}

/* ---- backward ----------------------------------------------------------- */

/* The first layer's dW over deviations (nn_input.h):
 *     dW_j = base_j sum_i dZ_i + sum_{i: dev_ij != 0} dev_ij dZ_i
 * column by column, from the forward pass's gathered deviations sorted by
 * column (a counting sort of a few thousand entries): each row of dW is
 * summed in registers and written once, where adding row after row into
 * dW went to memory for every deviation. */
VG_NN_CLONES static void deviation_weight_grad(size_t n0, size_t n1, const float *base, const float *gb,
                                               const float *D, vg_nn_ws *ws, size_t B, float *gW)
{
    uint32_t *cs = ws->GTstart;
    memset(cs, 0, (n0 + 1) * sizeof *cs);
    const uint32_t n = ws->Gstart[B];
    for (uint32_t q = 0; q < n; q++) cs[ws->G[q].col + 1]++;
    for (size_t j = 0; j < n0; j++) cs[j + 1] += cs[j];
    for (size_t i = 0; i < B; i++)
        for (uint32_t q = ws->Gstart[i]; q < ws->Gstart[i + 1]; q++)
            ws->GT[cs[ws->G[q].col]++] = (vg_nn_dev){ (uint32_t)i, ws->G[q].v };
    for (size_t j = n0; j > 0; j--) cs[j] = cs[j - 1];  /* the fill moved each start to the next */
    cs[0] = 0;
    for (size_t j = 0; j < n0; j++) sparse_sum(n1, base[j], gb, ws->GT + cs[j], ws->GT + cs[j + 1], D, gW + j * n1);
}

/* d (n) *= act'(a) * m, the chain rule through a hidden layer's activation
 * (a its output before dropout, m the dropout scales or NULL). */
VG_NN_CLONES static void backprop_act(vg_nn_act act, const float *a, const float *m, float *d, size_t n)
{
    switch (act) {
    case VG_NN_RELU:
        for (size_t i = 0; i < n; i++) d[i] = a[i] > 0.0f ? d[i] : 0.0f;
        break;
    case VG_NN_TANH:
        for (size_t i = 0; i < n; i++) d[i] *= 1.0f - a[i] * a[i];
        break;
    case VG_NN_LOGISTIC:
        for (size_t i = 0; i < n; i++) d[i] *= a[i] * (1.0f - a[i]);
        break;
    case VG_NN_IDENTITY:
        break;
    }
    if (m)
        for (size_t i = 0; i < n; i++) d[i] *= m[i];
}

VG_NN_CLONES static void backward_part_kernel(const vg_nn *net, vg_nn_ws *ws, const vg_nn_input *in, size_t B,
                                              float *grad)
{
    for (uint32_t l = net->n_layers; l-- > 0;) {
        const size_t nin = net->size[l], nout = net->size[l + 1];
        const float *D = ws->D[l + 1], *W = vg_nn_W(net, l);
        float *gW = grad + net->w_off[l], *gb = grad + net->b_off[l];
        memset(gb, 0, nout * sizeof(float));
        for (size_t i = 0; i < B; i++)
            for (size_t u = 0; u < nout; u++) gb[u] += D[i * nout + u];
        if (l > 0 || !in->deviations) {
            vg_nn_gemm_weight_grad(net->gemm, B, nin, nout, ws->A[l], D, gW);
        } else {
            deviation_weight_grad(nin, nout, in->base, gb, D, ws, B, gW);
        }
        if (l == 0) break;
        /* into the layer below: dZ_{l-1} = (D W^T) * act'(H_l) * dropout */
        float *Dprev = ws->D[l];
        vg_nn_gemm_input_grad(net->gemm, B, nin, nout, D, W, Dprev);
        backprop_act(net->act, ws->H[l], ws->dropout ? ws->M[l] : NULL, Dprev, B * nin);
    }
}

void vg_nn_backward_part(const vg_nn *net, vg_nn_ws *ws, const vg_nn_input *in, size_t B, float *grad)
{
    backward_part_kernel(net, ws, in, B, grad);
}

void vg_nn_backward(const vg_nn *net, vg_nn_ws *ws, const vg_nn_input *in, size_t B, double alpha, float *grad)
{
    vg_nn_backward_part(net, ws, in, B, grad);
    vg_nn_penalty(net, alpha, B, grad);
}

/* ---- model file --------------------------------------------------------- */

vg_status vg_nn_save(const vg_nn *net, vg_wbuf *w)
{
    vg_wbuf_u32(w, net->n_layers);
    vg_wbuf_u32s(w, net->size, net->n_layers + 1);
    vg_wbuf_u32(w, (uint32_t)net->act);
    vg_wbuf_u32(w, (uint32_t)net->out);
    vg_wbuf_u64(w, net->n_params);
    vg_wbuf_f32s(w, net->params, net->n_params);
    if (w->failed) return vg_fail(VG_ERR_NOMEM, "neural network: out of memory saving the model");
    return VG_OK;
}

vg_status vg_nn_load(vg_rbuf *r, vg_nn *net)
{
    memset(net, 0, sizeof *net);
    uint32_t L = vg_rbuf_u32(r);
    if (!vg_rbuf_require(r, L >= 1 && L <= VG_NN_MAX_LAYERS, "neural network layer count")) return vg_rbuf_check(r);
    uint32_t sizes[VG_NN_MAX_LAYERS + 1];
    for (uint32_t l = 0; l <= L; l++) sizes[l] = vg_rbuf_u32(r);
    uint32_t act = vg_rbuf_u32(r), out = vg_rbuf_u32(r);
    uint64_t n = vg_rbuf_u64(r);
    if (r->failed) return vg_rbuf_check(r);
    if (shape(net, sizes, L, (vg_nn_act)act, (vg_nn_out)out)) {
        vg_clear_error();
        vg_rbuf_require(r, 0, "neural network shape");
        return vg_rbuf_check(r);
    }
    if (!vg_rbuf_require(r, n == net->n_params, "neural network parameter count") ||
        !vg_rbuf_require(r, n <= (r->len - r->pos) / 4, "neural network parameters exceed the data"))
        return vg_rbuf_check(r);
    net->params = vg_rbuf_f32s(r, (size_t)n);
    if (!net->params) {
        vg_nn_free(net);
        return r->failed ? vg_rbuf_check(r) : vg_fail(VG_ERR_NOMEM, "neural network: out of memory loading");
    }
    int finite = 1;
    for (size_t i = 0; i < n; i++) finite &= fabsf(net->params[i]) <= FLT_MAX;
    if (!vg_rbuf_require(r, finite, "neural network parameter not finite")) {
        vg_nn_free(net);
        return vg_rbuf_check(r);
    }
    return VG_OK;
}
