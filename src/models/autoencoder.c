/* Dense autoencoder ("autoencoder"): an anomaly detector that learns to
 * reconstruct the training rows through a narrow middle and scores a row by
 * how badly it is reconstructed:
 *     score(x) = (1/d) sum_j (x^_j - x_j)^2      (d features, pipeline-scaled)
 * A row unlike the training rows (fit on normal traffic, or on all of it
 * when attacks are rare) comes back with a larger error. The explanation
 * is the per-feature term (x^_j - x_j)^2 / d, which sums to the score with
 * a bias of 0: the fields the network could not reproduce are the reasons.
 *
 * hidden_layer_sizes names the encoder ("64,16"); the decoder mirrors it
 * (122-64-16-64-122 on NSL-KDD's 122 encoded features), the output layer is
 * linear and the loss the mean squared error. Layers, optimiser and the
 * epoch loop are the mlp's (nn.c, nn_optim.c, nn_train.c); early stopping
 * holds out validation_fraction of the rows and watches their error. */
#include "models/nn_train.h"
#include "vigil/parallel.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define AE_SAVE_VERSION 1u

typedef struct ae_state {
    uint32_t epochs;
    uint32_t stopped;
    double loss;
    double best_validation;  /* minus the validation rows' mean error */
    vg_nn net;
} ae_state;

static void ae_params_default(void *params)
{
    vg_nn_params *p = params;
    vg_nn_params_default(p);
    p->hidden[0] = 64;
    p->hidden[1] = 16;
    p->n_hidden = 2;
    p->alpha = 0.0;
    p->early_stopping = 1;
    p->max_iter = 100;
}

static vg_status ae_params_set(void *params, const char *key, const char *value)
{
    vg_status st;
    if (!key || !value) return vg_fail(VG_ERR_INVALID, "autoencoder: parameter key and value required");
    if (vg_nn_params_set(params, key, value, &st)) return st;
    return vg_param_unknown("autoencoder", key);
}

static const char *ae_params_check(const void *params)
{
    static __thread char msg[160];
    const vg_nn_params *p = params;
    const char *why = vg_nn_params_check(p);
    if (!why && p->n_hidden > VG_NN_MAX_LAYERS / 2)
        why = "hidden_layer_sizes: the encoder has at most 8 layers (the decoder mirrors it)";
    if (!why) return NULL;
    snprintf(msg, sizeof msg, "autoencoder: %s", why);
    return msg;
}

static void ae_params_describe(const void *params, vg_wbuf *out)
{
    vg_nn_params_describe(params, out);
}

static void ae_free(void *state)
{
    ae_state *s = state;
    if (!s) return;
    vg_nn_free(&s->net);
    vg_free(s);
}

/* Widths of the whole network: inputs, encoder, mirrored decoder, outputs. */
static uint32_t ae_sizes(const vg_nn_params *p, uint32_t d, uint32_t *sizes)
{
    uint32_t n = 0;
    sizes[n++] = d;
    for (uint32_t l = 0; l < p->n_hidden; l++) sizes[n++] = p->hidden[l];
    for (uint32_t l = p->n_hidden - 1; l-- > 0;) sizes[n++] = p->hidden[l];
    sizes[n++] = d;
    return n - 1;  /* layers */
}

static vg_status ae_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    const vg_nn_params *p = params;
    *out_state = NULL;
    const char *why = ae_params_check(p);
    if (why) return vg_fail(VG_ERR_INVALID, "%s", why);
    if (!ts || !ts->X || ts->X->rows == 0) return vg_fail(VG_ERR_DATA, "autoencoder: no training rows");
    if (ts->X->cols < 1 || ts->X->cols > VG_NN_MAX_WIDTH)
        return vg_fail(VG_ERR_DATA, "autoencoder: %zu features (allowed 1 to %u)", ts->X->cols, VG_NN_MAX_WIDTH);
    ae_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "autoencoder: out of memory");
    uint32_t sizes[VG_NN_MAX_LAYERS + 1];
    const uint32_t L = ae_sizes(p, (uint32_t)ts->X->cols, sizes);
    vg_status st = vg_nn_init(&s->net, sizes, L, p->activation, VG_NN_OUT_LINEAR);
    if (!st) {
        /* labels are for evaluation only: the rows are their own target */
        vg_nn_target t = { .T = ts->X->data, .weight = ts->weight };
        vg_nn_fit_result res;
        st = vg_nn_fit(&s->net, ts->X, &t, p, opt, &res);
        s->epochs = (uint32_t)res.epochs;
        s->stopped = (uint32_t)res.stopped;
        s->loss = res.loss;
        s->best_validation = res.best_validation;
    }
    if (st) {
        vg_error_prefix("autoencoder: ");
        ae_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static uint32_t ae_n_classes(const void *state)
{
    (void)state;
    return 1;
}

static uint32_t ae_n_features(const void *state)
{
    return ((const ae_state *)state)->net.size[0];
}

static float row_error(const float *x, const float *xr, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        const double e = (double)xr[j] - x[j];
        s += e * e;
    }
    return (float)(s / (double)d);
}

typedef struct ae_job {
    const ae_state *s;
    const vg_matrix *X;
    const float *recon;
    float *score;
} ae_job;

#define AE_SCORE_ROWS 1024

static void ae_score_task(void *ctx, size_t task, int worker)
{
    (void)worker;
    const ae_job *J = ctx;
    const size_t d = J->X->cols, r0 = task * AE_SCORE_ROWS, r1 = VG_MIN(J->X->rows, r0 + AE_SCORE_ROWS);
    for (size_t i = r0; i < r1; i++) J->score[i] = row_error(J->X->data + i * d, J->recon + i * d, d);
}

static void ae_predict(const void *state, const vg_matrix *X, int threads, float *score)
{
    const ae_state *s = state;
    VG_ASSERT(s && X && score && X->cols == s->net.size[0]);
    if (X->rows == 0) return;
    float *recon = vg_malloc(X->rows * X->cols * sizeof(float));
    if (!recon || vg_nn_predict(&s->net, X, threads, recon)) {
        /* predict cannot fail by contract: with no memory, nothing stands out */
        vg_log(VG_LOG_ERROR, "autoencoder: out of memory reconstructing %zu rows; scoring 0", X->rows);
        memset(score, 0, X->rows * sizeof(float));
        vg_free(recon);
        return;
    }
    ae_job J = { s, X, recon, score };
    vg_parallel_for(threads, (X->rows + AE_SCORE_ROWS - 1) / AE_SCORE_ROWS, ae_score_task, &J);
    vg_free(recon);
}

/* One row's reconstruction into ws (NULL and a log line without memory). */
static const float *reconstruct(const ae_state *s, const float *row, vg_nn_ws *ws)
{
    if (vg_nn_ws_init(ws, &s->net, 1)) return NULL;
    vg_nn_forward_rows(&s->net, ws, row, 1);
    return ws->H[s->net.n_layers];
}

static void ae_predict_row(const void *state, const float *row, float *score)
{
    const ae_state *s = state;
    vg_nn_ws ws;
    const float *xr = reconstruct(s, row, &ws);
    score[0] = xr ? row_error(row, xr, s->net.size[0]) : 0.0f;
    if (xr) vg_nn_ws_free(&ws);
}

static uint32_t ae_n_outputs(const void *state)
{
    (void)state;
    return 1;
}

/* contrib[j] = (x^_j - x_j)^2 / d, contrib[d] = 0: sums to the score. */
static vg_status ae_explain(const void *state, const float *row, double *contrib)
{
    const ae_state *s = state;
    const size_t d = s->net.size[0];
    vg_nn_ws ws;
    const float *xr = reconstruct(s, row, &ws);
    if (!xr) return vg_fail(VG_ERR_NOMEM, "autoencoder: out of memory explaining a row");
    for (size_t j = 0; j < d; j++) {
        const double e = (double)xr[j] - row[j];
        contrib[j] = e * e / (double)d;
    }
    contrib[d] = 0.0;
    vg_nn_ws_free(&ws);
    return VG_OK;
}

/* Layout: u32 version, u32 epochs, u32 stopped, f64 loss, f64
 * best_validation, then the network (nn.h). */
static vg_status ae_save(const void *state, vg_wbuf *w)
{
    const ae_state *s = state;
    vg_wbuf_u32(w, AE_SAVE_VERSION);
    vg_wbuf_u32(w, s->epochs);
    vg_wbuf_u32(w, s->stopped);
    vg_wbuf_f64(w, s->loss);
    vg_wbuf_f64(w, s->best_validation);
    return vg_nn_save(&s->net, w);
}

static vg_status ae_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    if (!r->failed && version != AE_SAVE_VERSION)
        return vg_fail(VG_ERR_FORMAT, "%s: autoencoder state version %u is not supported (this build reads %u)",
                       r->what, version, AE_SAVE_VERSION);
    ae_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "autoencoder: out of memory loading");
    s->epochs = vg_rbuf_u32(r);
    s->stopped = vg_rbuf_u32(r);
    s->loss = vg_rbuf_f64(r);
    s->best_validation = vg_rbuf_f64(r);
    vg_rbuf_require(r, s->stopped <= 1, "autoencoder stopped flag");
    vg_status st = vg_rbuf_check(r);
    if (!st) st = vg_nn_load(r, &s->net);
    if (!st) {
        const vg_nn *n = &s->net;
        vg_rbuf_require(r, n->out == VG_NN_OUT_LINEAR, "autoencoder output layer");
        vg_rbuf_require(r, n->size[n->n_layers] == n->size[0], "autoencoder output width");
        st = vg_rbuf_check(r);
    }
    if (st) {
        ae_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void ae_describe(const void *state, vg_wbuf *out)
{
    const ae_state *s = state;
    vg_wbuf_printf(out, "layers: ");
    for (uint32_t l = 0; l <= s->net.n_layers; l++) vg_wbuf_printf(out, "%s%u", l ? "-" : "", s->net.size[l]);
    vg_wbuf_printf(out, "\nparameters: %zu\nepochs: %u\nstopped early: %s\ntraining loss: %.6g\n", s->net.n_params,
                   s->epochs, s->stopped ? "yes" : "no", s->loss);
    if (isfinite(s->best_validation)) vg_wbuf_printf(out, "validation error: %.6g\n", -s->best_validation);
}

const vg_estimator_kind vg_autoencoder_kind = {
    .name = "autoencoder",
    .summary = "dense autoencoder; anomaly score = mean squared reconstruction error (no labels needed)",
    .encoding = VG_ENCODING_ONEHOT_SCALED,
    .params_size = sizeof(vg_nn_params),
    .params_default = ae_params_default,
    .params_set = ae_params_set,
    .params_check = ae_params_check,
    .params_describe = ae_params_describe,
    .fit = ae_fit,
    .predict = ae_predict,
    .n_classes = ae_n_classes,
    .save = ae_save,
    .load = ae_load,
    .free = ae_free,
    .describe = ae_describe,
    .n_features = ae_n_features,
    .predict_row = ae_predict_row,
    .n_outputs = ae_n_outputs,
    .explain = ae_explain,
    .outputs = VG_ESTIMATOR_OUT_SCORE,
    .needs_labels = 0,
    .inputs = VG_ESTIMATOR_IN_DENSE,
};
