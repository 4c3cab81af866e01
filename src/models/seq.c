/* The recurrent layer of the sequence families (see seq.h for the cells and
 * the row layout): forward over a window, and backpropagation through time.
 *
 * A batch is laid out time-major, step s of row i at (s B + i), so that the
 * input side of every step is one matrix product over T B rows (x Wx), the
 * weight gradients are two more (Xt^T dGx and H^T dGh over all steps), and
 * only h Wh and its transpose run step by step. Padding steps (before a
 * row's first event) keep h = c = 0 and pass no gradient, which is what a
 * PyTorch run over the row's real events alone computes.
 *
 * Derivatives, per step, from what the forward pass kept (activated gates,
 * c, and for the GRU ah_n):
 *   LSTM: dc += dh o (1 - tanh^2 c');  di = dc g, df = dc c, dg = dc i,
 *         do = dh tanh c';  through the activations into dG;  dc <- dc f;
 *         dh <- dG Wh^T
 *   GRU:  dn = dh (1 - z), dz = dh (h - n), dan = dn (1 - n^2);
 *         dGx = [dr r(1-r), dz z(1-z), dan] with dr = dan ah_n;
 *         dGh = [the same r and z terms, dan r];  dh <- dh z + dGh Wh^T
 * tests/test_seq.c holds every gradient to central finite differences. */
#include "models/seq.h"
#include "models/nn_act.h"

#include <math.h>
#include <string.h>

struct vg_seq_ws {
    size_t cap;
    float *Xt;      /* T x B x F: the inputs, time-major */
    int32_t *start; /* B: first real step of each row */
    float *A;       /* T x B x G: x-side pre-activations, then the activated gates */
    float *AH;      /* B x G: h-side of the current step */
    float *HN;      /* T x B x H: the GRU's ah_n */
    float *Hs;      /* (T + 1) x B x H: h before each step; Hs[T] the last */
    float *Cs;      /* (T + 1) x B x H: the LSTM's c */
    float *dGx, *dGh; /* T x B x G (dGh == dGx for the LSTM) */
    float *dh, *dc, *tmp; /* B x H */
    float *hl, *mask;     /* B x H: the last hidden state after dropout, and the scales */
    int32_t *yb;
    float *wb;
    uint32_t *iota;
    vg_nn_ws head;
    void *block;
};

static uint32_t gates(vg_seq_cell c)
{
    return c == VG_SEQ_LSTM ? 4u : 3u;
}

vg_status vg_seq_init(vg_seq_net *n, vg_seq_cell cell, uint32_t T, uint32_t lead, uint32_t F, uint32_t H,
                      uint32_t n_classes)
{
    memset(n, 0, sizeof *n);
    if ((unsigned)cell > VG_SEQ_GRU || T < 1 || T > VG_SEQ_MAX_WINDOW || lead > 1 || (!lead && T != 1) || F < 1 ||
        F > VG_NN_MAX_WIDTH || H < 1 || H > VG_SEQ_MAX_HIDDEN || n_classes < 2 || n_classes > VG_NN_MAX_WIDTH)
        return vg_fail(VG_ERR_INVALID,
                       "recurrent network: window %u of %u features, hidden_size %u, %u classes is outside the limits "
                       "(window 1..%u, hidden_size 1..%u)", T, F, H, n_classes, VG_SEQ_MAX_WINDOW, VG_SEQ_MAX_HIDDEN);
    if ((uint64_t)T * F > VG_NN_MAX_PARAMS)
        return vg_fail(VG_ERR_INVALID, "recurrent network: window %u x %u features is too wide", T, F);
    const uint32_t K = n_classes == 2 ? 1 : n_classes;
    uint32_t sizes[2] = { H, K };
    vg_status st = vg_nn_init(&n->head, sizes, 1, VG_NN_IDENTITY, K == 1 ? VG_NN_OUT_SIGMOID : VG_NN_OUT_SOFTMAX);
    if (st) return st;
    n->cell = cell, n->T = T, n->lead = lead, n->F = F, n->H = H, n->K = K;
    n->G = gates(cell) * H;
    uint64_t off = 0;
    n->wx = (size_t)off, off += (uint64_t)F * n->G;
    n->bx = (size_t)off, off += n->G;
    n->wh = (size_t)off, off += (uint64_t)H * n->G;
    n->bh = (size_t)off, off += n->G;
    n->head_off = (size_t)off, off += n->head.n_params;
    if (off > VG_NN_MAX_PARAMS) {
        vg_nn_free(&n->head);
        return vg_fail(VG_ERR_INVALID, "recurrent network: more than %u parameters", VG_NN_MAX_PARAMS);
    }
    n->n_params = (size_t)off;
    n->params = vg_calloc(n->n_params, sizeof(float));
    if (!n->params) {
        vg_nn_free(&n->head);
        memset(n, 0, sizeof *n);
        return vg_fail(VG_ERR_NOMEM, "recurrent network: out of memory for %llu parameters", (unsigned long long)off);
    }
    /* The head's weights live in the one block: one optimiser, one file section. */
    vg_free(n->head.params);
    n->head.params = n->params + n->head_off;
    return VG_OK;
}

void vg_seq_free(vg_seq_net *n)
{
    if (!n) return;
    vg_free(n->params);
    memset(n, 0, sizeof *n);
}

void vg_seq_init_params(vg_seq_net *n, vg_rng *rng)
{
    const double bound = 1.0 / sqrt((double)n->H);
    for (size_t i = 0; i < n->head_off; i++) n->params[i] = (float)((2.0 * vg_rng_uniform(rng) - 1.0) * bound);
    vg_nn_glorot(&n->head, rng);
}

/* ---- workspace ---------------------------------------------------------- */

vg_status vg_seq_ws_new(const vg_seq_net *n, size_t cap, vg_seq_ws **out)
{
    *out = NULL;
    vg_seq_ws *ws = vg_calloc(1, sizeof *ws);
    if (!ws) return vg_fail(VG_ERR_NOMEM, "recurrent network: out of memory");
    const size_t T = n->T, F = n->F, H = n->H, G = n->G, B = cap;
    const int gru = n->cell == VG_SEQ_GRU;
    size_t floats = T * B * F + T * B * G + B * G + (gru ? T * B * H : 0) + 2 * (T + 1) * B * H +
                    (gru ? 2 : 1) * T * B * G + 5 * B * H + B;
    float *p = vg_malloc((floats + 1) * sizeof(float));
    ws->start = vg_malloc((cap + 1) * sizeof(int32_t));
    ws->yb = vg_malloc((cap + 1) * sizeof(int32_t));
    ws->iota = vg_malloc((cap + 1) * sizeof(uint32_t));
    vg_status st = (!p || !ws->start || !ws->yb || !ws->iota)
                       ? vg_fail(VG_ERR_NOMEM, "recurrent network: out of memory for a batch of %zu rows", cap)
                       : vg_nn_ws_init(&ws->head, &n->head, cap);
    if (st) {
        vg_free(p);
        vg_free(ws->start), vg_free(ws->yb), vg_free(ws->iota);
        vg_free(ws);
        return st;
    }
    ws->block = p;
    ws->cap = cap;
    ws->Xt = p, p += T * B * F;
    ws->A = p, p += T * B * G;
    ws->AH = p, p += B * G;
    if (gru) ws->HN = p, p += T * B * H;
    ws->Hs = p, p += (T + 1) * B * H;
    ws->Cs = p, p += (T + 1) * B * H;
    ws->dGx = p, p += T * B * G;
    if (gru) ws->dGh = p, p += T * B * G;
    else ws->dGh = ws->dGx;
    ws->dh = p, p += B * H;
    ws->dc = p, p += B * H;
    ws->tmp = p, p += B * H;
    ws->hl = p, p += B * H;
    ws->mask = p, p += B * H;
    ws->wb = p;
    for (size_t i = 0; i < cap; i++) ws->iota[i] = (uint32_t)i;
    *out = ws;
    return VG_OK;
}

void vg_seq_ws_free(vg_seq_ws *ws)
{
    if (!ws) return;
    vg_nn_ws_free(&ws->head);
    vg_free(ws->block);
    vg_free(ws->start), vg_free(ws->yb), vg_free(ws->iota);
    vg_free(ws);
}

/* ---- forward ------------------------------------------------------------ */

static inline float sigm(float x)
{
    return vg_nn_sigmoidf(x);
}

/* The window length a row claims, clamped to [1, T]: rows come from the
 * window builder, but a hand-made row must not index outside its window. */
static int32_t row_start(const vg_seq_net *n, const float *row)
{
    if (!n->lead) return 0;
    const float len = row[0];
    int32_t L = len >= 1.0f ? (len <= (float)n->T ? (int32_t)len : (int32_t)n->T) : 1;
    return (int32_t)n->T - L;
}

/* The cell over the batch; leaves Hs[T] = the last hidden state. */
static void cell_forward(const vg_seq_net *n, vg_seq_ws *ws, const float *X, const uint32_t *idx, size_t B,
                         vg_nn_gemm_backend be)
{
    const size_t T = n->T, F = n->F, H = n->H, G = n->G, W = vg_seq_row_width(n);
    for (size_t i = 0; i < B; i++) {
        const float *row = X + (size_t)idx[i] * W;
        ws->start[i] = row_start(n, row);
        for (size_t s = 0; s < T; s++) memcpy(ws->Xt + (s * B + i) * F, row + n->lead + s * F, F * sizeof(float));
    }
    const float *Wx = n->params + n->wx, *bx = n->params + n->bx, *Wh = n->params + n->wh, *bh = n->params + n->bh;
    vg_nn_gemm_forward(be, T * B, F, G, ws->Xt, Wx, bx, ws->A);
    memset(ws->Hs, 0, B * H * sizeof(float));
    memset(ws->Cs, 0, B * H * sizeof(float));
    for (size_t s = 0; s < T; s++) {
        const float *hp = ws->Hs + s * B * H;
        float *hn = ws->Hs + (s + 1) * B * H;
        vg_nn_gemm_forward(be, B, H, G, hp, Wh, bh, ws->AH);
        for (size_t i = 0; i < B; i++) {
            float *a = ws->A + (s * B + i) * G, *h = hn + i * H;
            const float *ah = ws->AH + i * G, *h0 = hp + i * H;
            if ((int32_t)s < ws->start[i]) {
                memset(h, 0, H * sizeof(float));
                if (n->cell == VG_SEQ_LSTM) memset(ws->Cs + ((s + 1) * B + i) * H, 0, H * sizeof(float));
                else memset(ws->HN + (s * B + i) * H, 0, H * sizeof(float));
                memset(a, 0, G * sizeof(float));
                continue;
            }
            if (n->cell == VG_SEQ_LSTM) {
                const float *c0 = ws->Cs + (s * B + i) * H;
                float *c = ws->Cs + ((s + 1) * B + i) * H;
                /* gates i, f, g, o activated in place, each a loop the compiler vectorises */
                for (size_t u = 0; u < G; u++) a[u] += ah[u];
                for (size_t u = 0; u < 2 * H; u++) a[u] = sigm(a[u]);
                for (size_t u = 2 * H; u < 3 * H; u++) a[u] = vg_nn_tanhf(a[u]);
                for (size_t u = 3 * H; u < G; u++) a[u] = sigm(a[u]);
                for (size_t u = 0; u < H; u++) c[u] = a[H + u] * c0[u] + a[u] * a[2 * H + u];
                for (size_t u = 0; u < H; u++) h[u] = a[3 * H + u] * vg_nn_tanhf(c[u]);
            } else {
                float *ahn = ws->HN + (s * B + i) * H;
                for (size_t u = 0; u < H; u++) {
                    const float r = sigm(a[u] + ah[u]), z = sigm(a[H + u] + ah[H + u]);
                    ahn[u] = ah[2 * H + u];
                    const float nn = vg_nn_tanhf(a[2 * H + u] + r * ahn[u]);
                    a[u] = r, a[H + u] = z, a[2 * H + u] = nn;
                    h[u] = (1.0f - z) * nn + z * h0[u];
                }
            }
        }
    }
}

/* The head over hl (B x H): its output in ws->head.H[1]. */
static void head_forward(const vg_seq_net *n, vg_seq_ws *ws, size_t B, vg_nn_gemm_backend be)
{
    vg_nn head = n->head;
    head.gemm = be;
    const vg_nn_input in = { .rows = B, .cols = n->H, .X = ws->hl };
    vg_nn_forward(&head, &ws->head, &in, ws->iota, B, 0.0f, NULL);
}

const float *vg_seq_forward(const vg_seq_net *n, vg_seq_ws *ws, const float *X, const uint32_t *idx, size_t B,
                            int loops)
{
    const vg_nn_gemm_backend be = loops ? VG_NN_GEMM_LOOPS : n->head.gemm;
    cell_forward(n, ws, X, idx, B, be);
    memcpy(ws->hl, ws->Hs + (size_t)n->T * B * n->H, B * n->H * sizeof(float));
    head_forward(n, ws, B, be);
    return ws->head.H[1];
}

/* ---- loss and backward -------------------------------------------------- */

static double sum_squares(const float *w, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)w[i] * w[i];
    return s;
}

/* Column sums of D (rows x cols) into g (overwritten). */
static void col_sums(const float *D, size_t rows, size_t cols, float *g)
{
    memset(g, 0, cols * sizeof(float));
    for (size_t r = 0; r < rows; r++)
        for (size_t u = 0; u < cols; u++) g[u] += D[r * cols + u];
}

double vg_seq_step(const vg_seq_net *n, vg_seq_ws *ws, const float *X, const vg_nn_target *t, const uint32_t *idx,
                   size_t B, float dropout, vg_rng *rng, double alpha, float *grad)
{
    const size_t T = n->T, F = n->F, H = n->H, G = n->G;
    const vg_nn_gemm_backend be = n->head.gemm;
    cell_forward(n, ws, X, idx, B, be);
    const float *hT = ws->Hs + T * B * H;
    const int drop = dropout > 0.0f && rng;
    if (drop) {
        const float keep = 1.0f / (1.0f - dropout);
        for (size_t q = 0; q < B * H; q++) {
            ws->mask[q] = vg_rng_uniform(rng) < dropout ? 0.0f : keep;
            ws->hl[q] = hT[q] * ws->mask[q];
        }
    } else {
        memcpy(ws->hl, hT, B * H * sizeof(float));
    }
    head_forward(n, ws, B, be);

    /* The loss is the shared layer's, on the batch's own targets. */
    for (size_t i = 0; i < B; i++) {
        if (t->y) ws->yb[i] = t->y[idx[i]];
        ws->wb[i] = t->weight ? t->weight[idx[i]] : 1.0f;
    }
    const vg_nn_target tb = { .y = t->y ? ws->yb : NULL, .weight = ws->wb };
    double loss = vg_nn_loss(&n->head, &ws->head, &tb, ws->iota, B, alpha);
    const float *Wx = n->params + n->wx, *Wh = n->params + n->wh;
    if (alpha > 0.0) loss += 0.5 * alpha * (sum_squares(Wx, F * G) + sum_squares(Wh, H * G)) / (double)B;
    const vg_nn_input in = { .rows = B, .cols = H, .X = ws->hl };
    vg_nn head = n->head;
    head.gemm = be;
    vg_nn_backward(&head, &ws->head, &in, B, alpha, grad + n->head_off);

    /* Into the last hidden state, then back through the steps. */
    float *dh = ws->dh, *dc = ws->dc;
    vg_nn_gemm_input_grad(be, B, H, n->K, ws->head.D[1], vg_nn_W(&n->head, 0), dh);
    if (drop)
        for (size_t q = 0; q < B * H; q++) dh[q] *= ws->mask[q];
    memset(dc, 0, B * H * sizeof(float));
    for (size_t s = T; s-- > 0;) {
        const float *hp = ws->Hs + s * B * H;
        for (size_t i = 0; i < B; i++) {
            float *dgx = ws->dGx + (s * B + i) * G, *dgh = ws->dGh + (s * B + i) * G;
            float *dhi = dh + i * H, *dci = dc + i * H, *tmp = ws->tmp + i * H;
            if ((int32_t)s < ws->start[i]) {
                memset(dgx, 0, G * sizeof(float));
                if (dgh != dgx) memset(dgh, 0, G * sizeof(float));
                memset(tmp, 0, H * sizeof(float));
                continue;
            }
            const float *a = ws->A + (s * B + i) * G;
            if (n->cell == VG_SEQ_LSTM) {
                const float *c0 = ws->Cs + (s * B + i) * H, *c = ws->Cs + ((s + 1) * B + i) * H;
                for (size_t u = 0; u < H; u++) {
                    const float ig = a[u], fg = a[H + u], gg = a[2 * H + u], og = a[3 * H + u];
                    const float tc = vg_nn_tanhf(c[u]);
                    const float dcu = dci[u] + dhi[u] * og * (1.0f - tc * tc);
                    dgx[u] = dcu * gg * ig * (1.0f - ig);
                    dgx[H + u] = dcu * c0[u] * fg * (1.0f - fg);
                    dgx[2 * H + u] = dcu * ig * (1.0f - gg * gg);
                    dgx[3 * H + u] = dhi[u] * tc * og * (1.0f - og);
                    dci[u] = dcu * fg;
                    tmp[u] = 0.0f;
                }
            } else {
                const float *ahn = ws->HN + (s * B + i) * H, *h0 = hp + i * H;
                for (size_t u = 0; u < H; u++) {
                    const float r = a[u], z = a[H + u], nn = a[2 * H + u];
                    const float dn = dhi[u] * (1.0f - z), dz = dhi[u] * (h0[u] - nn);
                    const float dan = dn * (1.0f - nn * nn), dr = dan * ahn[u];
                    dgx[u] = dgh[u] = dr * r * (1.0f - r);
                    dgx[H + u] = dgh[H + u] = dz * z * (1.0f - z);
                    dgx[2 * H + u] = dan;
                    dgh[2 * H + u] = dan * r;
                    tmp[u] = dhi[u] * z;
                }
            }
        }
        if (s == 0) break;  /* h before the first step is the constant zero */
        vg_nn_gemm_input_grad(be, B, H, G, ws->dGh + s * B * G, Wh, dh);
        for (size_t q = 0; q < B * H; q++) dh[q] += ws->tmp[q];
    }
    float *gWx = grad + n->wx, *gbx = grad + n->bx, *gWh = grad + n->wh, *gbh = grad + n->bh;
    vg_nn_gemm_weight_grad(be, T * B, F, G, ws->Xt, ws->dGx, gWx);
    col_sums(ws->dGx, T * B, G, gbx);
    vg_nn_gemm_weight_grad(be, T * B, H, G, ws->Hs, ws->dGh, gWh);
    col_sums(ws->dGh, T * B, G, gbh);
    if (alpha > 0.0) {
        const float reg = (float)(alpha / (double)B);
        for (size_t q = 0; q < F * G; q++) gWx[q] += reg * Wx[q];
        for (size_t q = 0; q < H * G; q++) gWh[q] += reg * Wh[q];
    }
    return loss;
}
