/* Internal: one recurrent layer (LSTM or GRU cell) over a window of events,
 * its last hidden state through dropout into a dense output layer (the
 * shared nn.c layer with its loss), trained by backpropagation through time.
 * The families "lstm" and "gru" (seq.c) map the estimator contract onto it;
 * tests/test_seq.c checks its gradients and its forward pass.
 *
 * A row is a window of T events of F features, oldest first, the current
 * event last:  [len, x_1 (F), ..., x_T (F)]  (lead = 1), with the first
 * T - len events zero padding that the cell skips (its state starts at zero
 * at event T - len + 1); or, without a window (lead = 0, T = 1), a plain row
 * of F features, a sequence of one event.
 *
 * Gates, with G = 4H (LSTM: input, forget, cell, output) or 3H (GRU: reset,
 * update, new), in PyTorch's order and with its two bias vectors, so a
 * torch.nn.LSTM / GRU's weights load as they are (transposed):
 *   LSTM: a = x Wx + bx + h Wh + bh;  i,f,o = sigmoid, g = tanh
 *         c' = f c + i g;  h' = o tanh(c')
 *   GRU:  ax = x Wx + bx, ah = h Wh + bh;  r = sigmoid(ax_r + ah_r),
 *         z = sigmoid(ax_z + ah_z), n = tanh(ax_n + r ah_n),
 *         h' = (1 - z) n + z h
 * Parameters, one block: Wx (F x G), bx (G), Wh (H x G), bh (G), then the
 * head's W (H x K) and b (K), K = 1 (sigmoid) for two classes, else the
 * class count (softmax). */
#ifndef VG_MODELS_SEQ_H
#define VG_MODELS_SEQ_H

#include "models/nn.h"

#define VG_SEQ_MAX_WINDOW 1024u
#define VG_SEQ_MAX_HIDDEN 4096u

typedef enum vg_seq_cell { VG_SEQ_LSTM = 0, VG_SEQ_GRU = 1 } vg_seq_cell;

typedef struct vg_seq_net {
    vg_seq_cell cell;
    uint32_t T, F, H, G, K;
    uint32_t lead;          /* 1: rows start with the window's length */
    size_t n_params;
    size_t wx, bx, wh, bh, head_off;  /* offsets in params */
    float *params;          /* owned */
    vg_nn head;             /* the output layer; its params point into `params` (not owned) */
} vg_seq_net;

/* Shape (parameters zeroed). n_classes 2 gives a sigmoid head, more a softmax.
 * VG_ERR_INVALID outside the limits, VG_ERR_NOMEM. */
vg_status vg_seq_init(vg_seq_net *n, vg_seq_cell cell, uint32_t T, uint32_t lead, uint32_t F, uint32_t H,
                      uint32_t n_classes);
void vg_seq_free(vg_seq_net *n);  /* NULL-safe; zeroes */
/* PyTorch's initialisation: the cell's weights and biases uniform in
 * +-1/sqrt(H); the head Glorot-uniform as the mlp's layers. */
void vg_seq_init_params(vg_seq_net *n, vg_rng *rng);
/* Columns of a row: lead + T F. */
static inline size_t vg_seq_row_width(const vg_seq_net *n) { return n->lead + (size_t)n->T * n->F; }

typedef struct vg_seq_ws vg_seq_ws;  /* scratch for a batch (seq.c) */
vg_status vg_seq_ws_new(const vg_seq_net *n, size_t cap, vg_seq_ws **out);
void vg_seq_ws_free(vg_seq_ws *ws);

/* Outputs (B x K: P(class 1), or the class probabilities) of rows idx[0..B)
 * of X (rows of vg_seq_row_width floats), no dropout. loops: 1 forces the
 * plain loops (prediction: a row scores the same alone or among others).
 * Valid until the next call with ws. */
const float *vg_seq_forward(const vg_seq_net *n, vg_seq_ws *ws, const float *X, const uint32_t *idx, size_t B,
                            int loops);
/* One training step's passes: forward (dropout on the last hidden state
 * with rng when dropout > 0), the loss of vg_nn_loss with the alpha penalty
 * on every weight matrix, and the gradient of the whole block into grad.
 * t is indexed by row (idx). Returns the batch loss. */
double vg_seq_step(const vg_seq_net *n, vg_seq_ws *ws, const float *X, const vg_nn_target *t, const uint32_t *idx,
                   size_t B, float dropout, vg_rng *rng, double alpha, float *grad);

/* Why row scored as it did: integrated-gradient attributions of each raw
 * output (the head's logits: K = 1 for two classes, the log-odds) to the F
 * features of the row's current event, from the baseline event 0 with the
 * earlier events of the window held fixed (seq_explain.c says what they
 * mean). contrib: (F + 1) x K, row-major by feature, the last row the bias
 * (z with the current event at the baseline, plus the quadrature's tiny
 * remainder), so each column sums to the raw output. base (may be NULL)
 * gets z at the baseline (K), for tests of that remainder. scratch holds
 * vg_seq_explain_scratch(n) doubles. VG_ERR_DATA for a non-finite feature. */
size_t vg_seq_explain_scratch(const vg_seq_net *n);
vg_status vg_seq_explain(const vg_seq_net *n, const float *row, double *scratch, double *contrib, double *base);

#endif
