/* Multi-layer perceptron classifier ("mlp"): dense layers with a ReLU,
 * tanh, logistic or identity activation, a sigmoid output for two classes
 * and a softmax for more, trained on the cross-entropy with Adam or SGD
 * with momentum, as scikit-learn's MLPClassifier (same parameter names and
 * defaults, same stopping rules), plus dropout and per-row weights (class
 * weights reach fit folded into ts->weight).
 *
 * The layers, losses, optimisers and the epoch loop are the shared ones of
 * nn.c / nn_optim.c / nn_train.c, which the autoencoder uses too; this file
 * only maps the estimator contract onto them. */
#include "models/nn_train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MLP_SAVE_VERSION 1u
#define MLP_MAX_CLASSES 65536u

typedef struct mlp_state {
    uint32_t n_classes;
    uint32_t epochs;
    uint32_t stopped;
    double loss;
    double best_validation;
    vg_nn net;
} mlp_state;

static void mlp_params_default(void *params)
{
    vg_nn_params_default(params);
}

static vg_status mlp_params_set(void *params, const char *key, const char *value)
{
    vg_status st;
    if (!key || !value) return vg_fail(VG_ERR_INVALID, "mlp: parameter key and value required");
    if (vg_nn_params_set(params, key, value, &st)) return st;
    return vg_param_unknown("mlp", key);
}

static const char *mlp_params_check(const void *params)
{
    static __thread char msg[160];
    const char *why = vg_nn_params_check(params);
    if (!why) return NULL;
    snprintf(msg, sizeof msg, "mlp: %s", why);
    return msg;
}

static void mlp_params_describe(const void *params, vg_wbuf *out)
{
    vg_nn_params_describe(params, out);
}

static void mlp_free(void *state)
{
    mlp_state *s = state;
    if (!s) return;
    vg_nn_free(&s->net);
    vg_free(s);
}

static vg_status mlp_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out_state)
{
    const vg_nn_params *p = params;
    *out_state = NULL;
    const char *why = mlp_params_check(p);
    if (why) return vg_fail(VG_ERR_INVALID, "%s", why);
    if (!ts || !ts->X || !ts->y || ts->X->rows == 0) return vg_fail(VG_ERR_DATA, "mlp: no training rows");
    if (ts->n_classes < 2 || ts->n_classes > MLP_MAX_CLASSES)
        return vg_fail(VG_ERR_DATA, "mlp: need between 2 and %u classes, got %u", MLP_MAX_CLASSES, ts->n_classes);
    if (ts->X->cols < 1 || ts->X->cols > VG_NN_MAX_WIDTH)
        return vg_fail(VG_ERR_DATA, "mlp: %zu features (allowed 1 to %u)", ts->X->cols, VG_NN_MAX_WIDTH);
    for (size_t i = 0; i < ts->X->rows; i++)
        if (ts->y[i] < 0 || (uint32_t)ts->y[i] >= ts->n_classes)
            return vg_fail(VG_ERR_DATA, "mlp: label %d of row %zu is outside [0, %u)", ts->y[i], i, ts->n_classes);

    mlp_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "mlp: out of memory");
    s->n_classes = ts->n_classes;
    uint32_t sizes[VG_NN_MAX_LAYERS + 1];
    sizes[0] = (uint32_t)ts->X->cols;
    for (uint32_t l = 0; l < p->n_hidden; l++) sizes[l + 1] = p->hidden[l];
    const int binary = ts->n_classes == 2;
    sizes[p->n_hidden + 1] = binary ? 1 : ts->n_classes;
    vg_status st = vg_nn_init(&s->net, sizes, p->n_hidden + 1, p->activation,
                              binary ? VG_NN_OUT_SIGMOID : VG_NN_OUT_SOFTMAX);
    if (st) {
        vg_error_prefix("mlp: ");
        mlp_free(s);
        return st;
    }
    vg_nn_target t = { .y = ts->y, .weight = ts->weight };
    vg_nn_fit_result res;
    if ((st = vg_nn_fit(&s->net, ts->X, &t, p, opt, &res))) {
        vg_error_prefix("mlp: ");
        mlp_free(s);
        return st;
    }
    s->epochs = (uint32_t)res.epochs;
    s->stopped = (uint32_t)res.stopped;
    s->loss = res.loss;
    s->best_validation = res.best_validation;
    *out_state = s;
    return VG_OK;
}

static uint32_t mlp_n_classes(const void *state)
{
    return ((const mlp_state *)state)->n_classes;
}

static uint32_t mlp_n_features(const void *state)
{
    return ((const mlp_state *)state)->net.size[0];
}

/* The sigmoid's one unit P(class 1) into the two probabilities, in place
 * from the back (out holds rows values, room for 2 rows). */
static void expand_binary(float *out, size_t rows)
{
    for (size_t i = rows; i-- > 0;) {
        const float p = out[i];
        out[2 * i] = 1.0f - p;
        out[2 * i + 1] = p;
    }
}

/* predict cannot fail by contract: without memory, say so and give no preference. */
static void predict_uniform(uint32_t n_classes, size_t rows, float *proba)
{
    vg_log(VG_LOG_ERROR, "mlp: %s; predicting uniform", vg_last_error());
    for (size_t i = 0; i < rows * n_classes; i++) proba[i] = 1.0f / (float)n_classes;
}

static void mlp_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    const mlp_state *s = state;
    VG_ASSERT(s && X && proba && X->cols == s->net.size[0]);
    if (vg_nn_predict(&s->net, X, threads, proba)) {
        predict_uniform(s->n_classes, X->rows, proba);
        return;
    }
    if (s->n_classes == 2) expand_binary(proba, X->rows);
}

static void mlp_predict_row(const void *state, const float *row, float *proba)
{
    const mlp_state *s = state;
    vg_nn_ws ws;
    if (vg_nn_ws_init(&ws, &s->net, 1)) {
        predict_uniform(s->n_classes, 1, proba);
        return;
    }
    vg_nn_forward_rows(&s->net, &ws, row, 1);
    const float *p = ws.H[s->net.n_layers];
    if (s->n_classes == 2) {
        proba[0] = 1.0f - p[0];
        proba[1] = p[0];
    } else {
        memcpy(proba, p, s->n_classes * sizeof(float));
    }
    vg_nn_ws_free(&ws);
}

/* Layout: u32 version, u32 n_classes, u32 epochs, u32 stopped, f64 loss,
 * f64 best_validation, then the network (nn.h). */
static vg_status mlp_save(const void *state, vg_wbuf *w)
{
    const mlp_state *s = state;
    vg_wbuf_u32(w, MLP_SAVE_VERSION);
    vg_wbuf_u32(w, s->n_classes);
    vg_wbuf_u32(w, s->epochs);
    vg_wbuf_u32(w, s->stopped);
    vg_wbuf_f64(w, s->loss);
    vg_wbuf_f64(w, s->best_validation);
    return vg_nn_save(&s->net, w);
}

static vg_status mlp_load(vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    if (!r->failed && version != MLP_SAVE_VERSION)
        return vg_fail(VG_ERR_FORMAT, "%s: mlp state version %u is not supported (this build reads %u)", r->what,
                       version, MLP_SAVE_VERSION);
    mlp_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "mlp: out of memory loading");
    s->n_classes = vg_rbuf_u32(r);
    s->epochs = vg_rbuf_u32(r);
    s->stopped = vg_rbuf_u32(r);
    s->loss = vg_rbuf_f64(r);
    s->best_validation = vg_rbuf_f64(r);
    vg_rbuf_require(r, s->n_classes >= 2 && s->n_classes <= MLP_MAX_CLASSES, "mlp class count");
    vg_rbuf_require(r, s->stopped <= 1, "mlp stopped flag");
    vg_status st = vg_rbuf_check(r);
    if (!st) st = vg_nn_load(r, &s->net);
    if (!st) {
        const vg_nn *n = &s->net;
        const int binary = s->n_classes == 2;
        vg_rbuf_require(r, n->out == (binary ? VG_NN_OUT_SIGMOID : VG_NN_OUT_SOFTMAX), "mlp output layer");
        vg_rbuf_require(r, n->size[n->n_layers] == (binary ? 1u : s->n_classes), "mlp output width");
        st = vg_rbuf_check(r);
    }
    if (st) {
        mlp_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static void mlp_describe(const void *state, vg_wbuf *out)
{
    const mlp_state *s = state;
    vg_wbuf_printf(out, "layers: ");
    for (uint32_t l = 0; l <= s->net.n_layers; l++) vg_wbuf_printf(out, "%s%u", l ? "-" : "", s->net.size[l]);
    vg_wbuf_printf(out, "\nparameters: %zu\nepochs: %u\nstopped early: %s\nloss: %.6g\n", s->net.n_params,
                   s->epochs, s->stopped ? "yes" : "no", s->loss);
    if (isfinite(s->best_validation)) vg_wbuf_printf(out, "validation accuracy: %.6g\n", s->best_validation);
}

const vg_estimator_kind vg_mlp_kind = {
    .name = "mlp",
    .summary = "multi-layer perceptron (dense layers, ReLU/tanh, dropout, Adam/SGD, early stopping)",
    .encoding = VG_ENCODING_ONEHOT_SCALED,
    .params_size = sizeof(vg_nn_params),
    .params_default = mlp_params_default,
    .params_set = mlp_params_set,
    .params_check = mlp_params_check,
    .params_describe = mlp_params_describe,
    .fit = mlp_fit,
    .predict = mlp_predict,
    .n_classes = mlp_n_classes,
    .save = mlp_save,
    .load = mlp_load,
    .free = mlp_free,
    .describe = mlp_describe,
    .n_features = mlp_n_features,
    .predict_row = mlp_predict_row,
    .outputs = VG_ESTIMATOR_OUT_PROBA,
    .needs_labels = 1,
    .inputs = VG_ESTIMATOR_IN_DENSE,
};
