/* Internal: a feed-forward network of dense layers, written once for every
 * neural family (mlp, autoencoder): its shape, its parameters in one block,
 * the forward and backward passes over a minibatch, the output losses, and
 * its section of the model file.
 *
 * Layer l (0 <= l < n_layers) maps size[l] inputs to size[l + 1] outputs:
 *     Z = A_l W_l + b_l,   A_{l+1} = act(Z) (dropout applied in training),
 * with the hidden activation on every layer but the last, whose activation
 * is fixed by the loss: softmax + cross-entropy, logistic + binary
 * cross-entropy, or identity + mean squared error. The parameters are one
 * float block: W_0 (size[0] x size[1], row-major), b_0, W_1, b_1, ... so a
 * network saves, loads and steps its optimiser as one array. */
#ifndef VG_MODELS_NN_H
#define VG_MODELS_NN_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/buf.h"
#include "vigil/core.h"
#include "vigil/rng.h"
#include "models/nn_gemm.h"
#include "models/nn_input.h"

#define VG_NN_MAX_LAYERS 16       /* dense layers, output included */
#define VG_NN_MAX_WIDTH 65536u    /* units in any layer, inputs included */
#define VG_NN_MAX_PARAMS (1u << 28) /* floats in the parameter block (1 GiB) */

typedef enum vg_nn_act {
    VG_NN_IDENTITY = 0,
    VG_NN_LOGISTIC = 1,
    VG_NN_TANH = 2,
    VG_NN_RELU = 3
} vg_nn_act;

/* The output layer's activation and the loss that goes with it. */
typedef enum vg_nn_out {
    VG_NN_OUT_SOFTMAX = 0,  /* class probabilities; cross-entropy against a class index */
    VG_NN_OUT_SIGMOID = 1,  /* one unit, P(class 1); binary cross-entropy */
    VG_NN_OUT_LINEAR = 2    /* identity; mean squared error over the units */
} vg_nn_out;

/* "identity", "logistic", "tanh", "relu" (scikit-learn's names). */
const char *vg_nn_act_str(vg_nn_act a);
/* 0 and *out set, or -1 for a name that is none of them. */
int vg_nn_act_parse(const char *s, vg_nn_act *out);

typedef struct vg_nn {
    uint32_t n_layers;
    uint32_t size[VG_NN_MAX_LAYERS + 1];
    vg_nn_act act;               /* hidden layers */
    vg_nn_out out;               /* output layer and loss */
    vg_nn_gemm_backend gemm;     /* not saved: what this process computes with */
    size_t n_params;
    size_t w_off[VG_NN_MAX_LAYERS], b_off[VG_NN_MAX_LAYERS];
    float *params;               /* owned (vg_malloc) */
} vg_nn;

/* Shape a network (parameters zeroed). sizes: n_layers + 1 widths, inputs
 * first. VG_ERR_INVALID for a shape outside the limits above, VG_ERR_NOMEM. */
vg_status vg_nn_init(vg_nn *net, const uint32_t *sizes, uint32_t n_layers, vg_nn_act act, vg_nn_out out);
void vg_nn_free(vg_nn *net);  /* frees params, zeroes the struct; NULL-safe */
/* Glorot-uniform initialisation as scikit-learn's MLP does it: weights and
 * biases of layer l uniform in +-sqrt(f / (fan_in + fan_out)), f = 2 for
 * the logistic hidden activation and 6 otherwise. */
void vg_nn_glorot(vg_nn *net, vg_rng *rng);
static inline float *vg_nn_W(const vg_nn *net, uint32_t l) { return net->params + net->w_off[l]; }
static inline float *vg_nn_b(const vg_nn *net, uint32_t l) { return net->params + net->b_off[l]; }
/* The widest layer (inputs included). */
uint32_t vg_nn_max_width(const vg_nn *net);

/* Scratch for one minibatch of up to `cap` rows: every layer's outputs,
 * dropout scales and deltas. One allocation; owned by the caller of init. */
typedef struct vg_nn_ws {
    size_t cap;
    float *X;                         /* cap x size[0]: a gathered dense batch */
    float *H[VG_NN_MAX_LAYERS + 1];   /* H[l], l >= 1: layer l-1's activation output */
    const float *A[VG_NN_MAX_LAYERS + 1]; /* input of layer l: H[l] after dropout (== H[l] without) */
    float *M[VG_NN_MAX_LAYERS + 1];   /* dropout scale per unit: 0 or 1 / (1 - p) */
    float *D[VG_NN_MAX_LAYERS + 1];   /* dLoss/dZ of layer l-1's pre-activation */
    float *dA;                        /* cap x widest layer */
    float *beff;                      /* size[1]: b_0 + base W_0 for deviation rows */
    vg_nn_dev *G;                     /* cap x size[0]: the batch's deviations, gathered */
    uint32_t *Gstart;                 /* cap + 1: row i's are G[Gstart[i] .. Gstart[i + 1]) */
    vg_nn_dev *GT;                    /* the same by column (.col = the row in the batch) */
    uint32_t *GTstart;                /* size[0] + 1: column j's are GT[GTstart[j] .. GTstart[j + 1]) */
    int dropout;                      /* M holds scales for this batch */
    void *block;
} vg_nn_ws;

vg_status vg_nn_ws_init(vg_nn_ws *ws, const vg_nn *net, size_t cap);
void vg_nn_ws_free(vg_nn_ws *ws);

/* Forward pass of rows idx[0..B) of `in` (B <= ws->cap); with dropout > 0
 * and rng, hidden outputs are dropped with probability `dropout` and the
 * rest scaled by 1 / (1 - dropout) (inverted dropout). The output
 * (probabilities, or the linear units) is in ws->H[n_layers]. */
void vg_nn_forward(const vg_nn *net, vg_nn_ws *ws, const vg_nn_input *in, const uint32_t *idx, size_t B,
                   float dropout, vg_rng *rng);
/* Forward pass of B contiguous dense rows X (B x size[0]); no dropout.
 * The output is in ws->H[n_layers]. Always the loops, so that a row's
 * output does not depend on the rows computed with it. */
void vg_nn_forward_rows(const vg_nn *net, vg_nn_ws *ws, const float *X, size_t B);

/* Targets of the loss. Softmax and sigmoid outputs read y (class index per
 * row; the sigmoid's positive class is 1); the linear output reads T
 * (rows x size[n_layers]). weight (per row, may be NULL for all 1). All are
 * indexed by the input row, not by the position in the batch. */
typedef struct vg_nn_target {
    const int32_t *y;
    const float *T;
    const float *weight;
} vg_nn_target;

/* The batch's loss after vg_nn_forward, written as gradient too:
 *     L = (1/B) sum_i w_i l_i + alpha / (2B) sum ||W_l||^2    (biases not penalised)
 * with l_i the cross-entropy, or (1/k) sum_u (p_u - t_u)^2 over the k
 * linear outputs. Leaves dL/dZ of the output layer in ws->D[n_layers]. */
double vg_nn_loss(const vg_nn *net, vg_nn_ws *ws, const vg_nn_target *t, const uint32_t *idx, size_t B,
                  double alpha);
/* Per-row loss terms l_i (no weights, no penalty) after a forward pass, into
 * out[0..B): the validation score and the autoencoder's score. */
void vg_nn_row_losses(const vg_nn *net, const vg_nn_ws *ws, const vg_nn_target *t, const uint32_t *idx,
                      size_t B, double *out);
/* The same terms from any outputs P (B x k, the kind `out`): the one
 * definition the epoch loop's validation score uses for every model. */
void vg_nn_out_row_losses(vg_nn_out out, size_t k, const float *P, const vg_nn_target *t, const uint32_t *idx,
                          size_t B, double *loss);
/* Backward pass of the B rows of the last vg_nn_forward after vg_nn_loss:
 * grad (n_params, laid out as params) receives dL/dparams, the alpha term
 * included. */
void vg_nn_backward(const vg_nn *net, vg_nn_ws *ws, const vg_nn_input *in, size_t B, double alpha, float *grad);

/* A batch of n rows in parts (threads each take one, nn_train.c): the loss
 * and backward pass of B of its rows, without the penalty, and the penalty
 * once. vg_nn_loss_part returns (1/n) sum w_i l_i over its rows and leaves
 * dL/dZ in ws->D[n_layers]; vg_nn_backward_part writes its rows' share of
 * dL/dparams into grad; the parts' sums plus vg_nn_penalty are vg_nn_loss
 * and vg_nn_backward. vg_nn_penalty returns alpha / (2n) sum ||W_l||^2 and,
 * when grad is not NULL, adds alpha / n W_l to its weights. */
double vg_nn_loss_part(const vg_nn *net, vg_nn_ws *ws, const vg_nn_target *t, const uint32_t *idx, size_t B,
                       size_t n);
void vg_nn_backward_part(const vg_nn *net, vg_nn_ws *ws, const vg_nn_input *in, size_t B, float *grad);
double vg_nn_penalty(const vg_nn *net, double alpha, size_t n, float *grad);

/* Model file section: u32 n_layers, u32 sizes[n_layers + 1], u32 act,
 * u32 out, u64 n_params, f32 params[n_params]. load validates every field
 * and that each parameter is finite (VG_ERR_FORMAT, never a crash). */
vg_status vg_nn_save(const vg_nn *net, vg_wbuf *w);
vg_status vg_nn_load(vg_rbuf *r, vg_nn *net);

#endif
