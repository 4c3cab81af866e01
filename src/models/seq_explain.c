/* Why a recurrent net scored an event: attributions to the features of the
 * row's current event (the last of its window), by integrated gradients
 * along the straight path from a baseline event to the real one, with the
 * entity's earlier events held fixed.
 *
 * What the numbers mean. Let z(x) be a raw output (binary: the log-odds of
 * the positive class; more classes: each class's logit) as a function of
 * the current event's features x, the history's state (h, c) fixed. The
 * baseline is x = 0: every scaled numeric feature at its training mean and
 * no category set. Then
 *     contrib_j = x_j  integral_0^1 dz/dx_j (a x) da      (Sundararajan et al., 2017)
 *     bias      = z(x) - sum_j contrib_j  =  z(0) + the quadrature's remainder
 * so bias + contributions is z(x) exactly, as the estimator contract wants.
 * The bias is what the entity's history and the intercepts say with the
 * current event blanked; the history's events get no per-feature terms of
 * their own (they are one state the current event moves from).
 *
 * Why it is cheap enough to run with many steps: the event enters the cell
 * only through x Wx, which is linear in a, so the x-side pre-activations at
 * a are a (x Wx) + bx, O(G) per step once x Wx is known; and the gradient
 * of z with respect to x is Wx dA, so the integral of it is Wx times the
 * integral of dA. A row costs two F x G products plus O(steps G K), which
 * lets the midpoint rule use SEQ_IG_STEPS steps: for the smooth sigmoid and
 * tanh gates the remainder left in the bias is of the order of the score's
 * float rounding (tests/test_seq.c: under 1e-5 on a log-odds, with the terms
 * within 0.05% of integrated gradients taken from forward passes alone).
 *
 * Computed in double from the float parameters: the forward pass here is
 * the same cell as seq.c's, so z(x) agrees with predict to float rounding. */
#include "models/seq.h"

#include <math.h>
#include <string.h>

#define SEQ_IG_STEPS 256

static inline double sigmd(double v)
{
    return 1.0 / (1.0 + exp(-v));
}

/* One cell step from (h, c) with x-side pre-activations ax (G) and h-side
 * ah = h Wh + bh (G): the new h (and c) into hn (cn), and the activated
 * gates into gt (G) for the backward step. */
static void step(const vg_seq_net *n, const double *ax, const double *ah, const double *h, const double *c, double *hn,
                 double *cn, double *gt)
{
    const size_t H = n->H;
    if (n->cell == VG_SEQ_LSTM) {
        for (size_t u = 0; u < H; u++) {
            const double ig = sigmd(ax[u] + ah[u]), fg = sigmd(ax[H + u] + ah[H + u]),
                         gg = tanh(ax[2 * H + u] + ah[2 * H + u]), og = sigmd(ax[3 * H + u] + ah[3 * H + u]);
            gt[u] = ig, gt[H + u] = fg, gt[2 * H + u] = gg, gt[3 * H + u] = og;
            cn[u] = fg * c[u] + ig * gg;
            hn[u] = og * tanh(cn[u]);
        }
    } else {
        for (size_t u = 0; u < H; u++) {
            const double r = sigmd(ax[u] + ah[u]), z = sigmd(ax[H + u] + ah[H + u]);
            const double nn = tanh(ax[2 * H + u] + r * ah[2 * H + u]);
            gt[u] = r, gt[H + u] = z, gt[2 * H + u] = nn;
            hn[u] = (1.0 - z) * nn + z * h[u];
        }
    }
}

/* dz/d(ax) (G) of one step, given dz/dh' = dh (H), the activated gates and
 * the step's inputs. */
static void step_back(const vg_seq_net *n, const double *dh, const double *gt, const double *ah, const double *h,
                      const double *c, const double *cn, double *dax)
{
    const size_t H = n->H;
    if (n->cell == VG_SEQ_LSTM) {
        for (size_t u = 0; u < H; u++) {
            const double ig = gt[u], fg = gt[H + u], gg = gt[2 * H + u], og = gt[3 * H + u], tc = tanh(cn[u]);
            const double dc = dh[u] * og * (1.0 - tc * tc);
            dax[u] = dc * gg * ig * (1.0 - ig);
            dax[H + u] = dc * c[u] * fg * (1.0 - fg);
            dax[2 * H + u] = dc * ig * (1.0 - gg * gg);
            dax[3 * H + u] = dh[u] * tc * og * (1.0 - og);
        }
    } else {
        for (size_t u = 0; u < H; u++) {
            const double r = gt[u], z = gt[H + u], nn = gt[2 * H + u];
            const double dan = dh[u] * (1.0 - z) * (1.0 - nn * nn);
            dax[u] = dan * ah[2 * H + u] * r * (1.0 - r);
            dax[H + u] = dh[u] * (h[u] - nn) * z * (1.0 - z);
            dax[2 * H + u] = dan;
        }
    }
}

/* y (G) = x (len) W (len x G) + b (G, may be NULL). */
static void affine(const float *W, const float *b, const double *x, size_t len, size_t G, double *y)
{
    for (size_t u = 0; u < G; u++) y[u] = b ? b[u] : 0.0;
    for (size_t j = 0; j < len; j++) {
        if (x[j] == 0.0) continue;
        const float *w = W + j * G;
        for (size_t u = 0; u < G; u++) y[u] += x[j] * w[u];
    }
}

/* The head's raw outputs (K) from a hidden state. */
static void head_raw(const vg_seq_net *n, const double *h, double *z)
{
    const float *W = n->params + n->head_off, *b = W + (size_t)n->H * n->K;
    affine(W, b, h, n->H, n->K, z);
}

size_t vg_seq_explain_scratch(const vg_seq_net *n)
{
    const size_t F = n->F, H = n->H, G = n->G, K = n->K;
    return F + 6 * G + 6 * H + K * G + 2 * K;
}

vg_status vg_seq_explain(const vg_seq_net *n, const float *row, double *scratch, double *contrib, double *base)
{
    const size_t F = n->F, H = n->H, G = n->G, K = n->K, T = n->T;
    double *x = scratch, *xw = x + F, *ax = xw + G, *ah = ax + G, *gt = ah + G, *dax = gt + G, *ig = dax + G;
    double *h = ig + G, *c = h + H, *hn = c + H, *cn = hn + H, *dh = cn + H, *tmp = dh + H;
    double *acc = tmp + H, *z1 = acc + K * G, *z0 = z1 + K;
    const float *Wx = n->params + n->wx, *bx = n->params + n->bx, *Wh = n->params + n->wh, *bh = n->params + n->bh;
    const float *Wk = n->params + n->head_off;
    size_t start = 0;
    if (n->lead) {
        const float len = row[0];
        const size_t L = len >= 1.0f ? (len <= (float)T ? (size_t)len : T) : 1;
        start = T - L;
    }
    /* The history: the events before the current one, from a zero state. */
    memset(h, 0, H * sizeof *h);
    memset(c, 0, H * sizeof *c);
    for (size_t s = start; s + 1 < T; s++) {
        const float *e = row + n->lead + s * F;
        for (size_t j = 0; j < F; j++) x[j] = e[j];
        affine(Wx, bx, x, F, G, ax);
        affine(Wh, bh, h, H, G, ah);
        step(n, ax, ah, h, c, hn, cn, gt);
        memcpy(h, hn, H * sizeof *h);
        memcpy(c, cn, H * sizeof *c);
    }
    for (size_t j = 0; j < F; j++) {
        x[j] = row[n->lead + (T - 1) * F + j];
        if (!isfinite(x[j])) return vg_fail(VG_ERR_DATA, "recurrent network: a feature to explain is not finite");
    }
    affine(Wh, bh, h, H, G, ah);   /* constant along the path */
    affine(Wx, NULL, x, F, G, xw); /* the path's direction in gate space */
    /* The integral of dz_k/d(ax) along a in (0, 1], midpoint rule. */
    memset(acc, 0, K * G * sizeof *acc);
    for (int s = 0; s < SEQ_IG_STEPS; s++) {
        const double a = (s + 0.5) / SEQ_IG_STEPS;
        for (size_t u = 0; u < G; u++) ax[u] = a * xw[u] + bx[u];
        step(n, ax, ah, h, c, hn, cn, gt);
        for (size_t k = 0; k < K; k++) {
            for (size_t u = 0; u < H; u++) dh[u] = Wk[u * K + k];
            step_back(n, dh, gt, ah, h, c, cn, dax);
            double *ak = acc + k * G;
            for (size_t u = 0; u < G; u++) ak[u] += dax[u];
        }
    }
    /* The two ends: z(x) and z(0). */
    for (size_t u = 0; u < G; u++) ax[u] = xw[u] + bx[u];
    step(n, ax, ah, h, c, hn, cn, gt);
    head_raw(n, hn, z1);
    for (size_t u = 0; u < G; u++) ax[u] = bx[u];
    step(n, ax, ah, h, c, hn, cn, gt);
    head_raw(n, hn, z0);
    /* contrib_j,k = x_j (Wx_j . acc_k) / steps; the bias closes the sum to z(x). */
    for (size_t k = 0; k < K; k++) {
        const double *ak = acc + k * G;
        double sum = 0.0;
        for (size_t j = 0; j < F; j++) {
            double v = 0.0;
            if (x[j] != 0.0) {
                const float *w = Wx + j * G;
                for (size_t u = 0; u < G; u++) v += w[u] * ak[u];
                v *= x[j] / SEQ_IG_STEPS;
            }
            contrib[j * K + k] = v;
            sum += v;
        }
        contrib[F * K + k] = z1[k] - sum;
    }
    if (base) memcpy(base, z0, K * sizeof *base);
    return VG_OK;
}
