/* Recurrent classifiers over an entity's recent events ("lstm", "gru"): one
 * LSTM or GRU layer of hidden_size units reads the window of the last T
 * events of the row's entity (user, client IP, --entity column), oldest
 * first, and its last hidden state, through dropout, feeds a sigmoid (two
 * classes) or softmax output. The cell and its backpropagation through time
 * are seq.c's; the output layer, its loss, Adam/SGD and the epoch loop with
 * early stopping are the mlp's (nn.c, nn_optim.c, nn_train.c), so the
 * shared parameter names mean the same here.
 *
 * The windows are not this file's business: the family declares
 * VG_ESTIMATOR_IN_WINDOW, and the train path (and every predict path after
 * it) hands it rows [len, x_1 .. x_T] built by features/window.c, with T
 * from --param window=T (ts->window). Given plain rows (ts->window 0, e.g.
 * NSL-KDD, which has no entity) each row is a sequence of one event.
 *
 * Defaults differ from the mlp's where a recurrent net wants it: early
 * stopping on (a window model overfits its entities quickly), no L2 penalty
 * (alpha 0, as torch.optim.Adam's default), at most 100 epochs. */
#include "models/nn_train.h"
#include "models/seq.h"
#include "vigil/parallel.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SEQ_SAVE_VERSION 1u
#define SEQ_MAX_CLASSES 65536u
#define SEQ_PREDICT_ROWS 256

typedef struct seq_params {
    vg_nn_params nn;       /* hidden_layer_sizes and activation unused */
    long hidden_size;      /* 64 */
} seq_params;

typedef struct seq_state {
    uint32_t n_classes, epochs, stopped;
    double loss, best_validation;
    vg_seq_net net;
} seq_state;

static void seq_params_default(void *params)
{
    seq_params *p = params;
    vg_nn_params_default(&p->nn);
    p->nn.alpha = 0.0;
    p->nn.early_stopping = 1;
    p->nn.max_iter = 100;
    p->hidden_size = 64;
}

static vg_status set_param(const char *family, void *params, const char *key, const char *value)
{
    seq_params *p = params;
    vg_status st;
    if (!key || !value) return vg_fail(VG_ERR_INVALID, "%s: parameter key and value required", family);
    if (strcmp(key, "hidden_size") == 0) return vg_param_int(key, value, 1, VG_SEQ_MAX_HIDDEN, &p->hidden_size);
    if (strcmp(key, "hidden_layer_sizes") == 0 || strcmp(key, "activation") == 0)
        return vg_fail(VG_ERR_INVALID, "parameter %s: %s has one recurrent layer of its own gates; set hidden_size",
                       key, family);
    if (vg_nn_params_set(&p->nn, key, value, &st)) return st;
    return vg_param_unknown(family, key);
}

static vg_status lstm_params_set(void *params, const char *key, const char *value)
{
    return set_param("lstm", params, key, value);
}

static vg_status gru_params_set(void *params, const char *key, const char *value)
{
    return set_param("gru", params, key, value);
}

static const char *seq_params_check(const void *params)
{
    static __thread char msg[160];
    const seq_params *p = params;
    if (p->hidden_size < 1 || p->hidden_size > (long)VG_SEQ_MAX_HIDDEN) return "hidden_size: 1 to 4096";
    const char *why = vg_nn_params_check(&p->nn);
    if (!why) return NULL;
    snprintf(msg, sizeof msg, "%s", why);
    return msg;
}

static void seq_params_describe(const void *params, vg_wbuf *out)
{
    const seq_params *p = params;
    const vg_nn_params *q = &p->nn;
    vg_wbuf_printf(out, "hidden_size=%ld, solver=%s, learning_rate_init=%.15g, alpha=%.15g, batch_size=",
                   p->hidden_size, q->solver == VG_NN_ADAM ? "adam" : "sgd", q->learning_rate_init, q->alpha);
    if (q->batch_size) vg_wbuf_printf(out, "%ld", q->batch_size);
    else vg_wbuf_printf(out, "auto");
    vg_wbuf_printf(out,
                   ", max_iter=%ld, tol=%.15g, n_iter_no_change=%ld, early_stopping=%s, validation_fraction=%.15g"
                   ", shuffle=%s, beta_1=%.15g, beta_2=%.15g, epsilon=%.15g, momentum=%.15g"
                   ", nesterovs_momentum=%s, dropout=%.15g",
                   q->max_iter, q->tol, q->n_iter_no_change, q->early_stopping ? "true" : "false",
                   q->validation_fraction, q->shuffle ? "true" : "false", q->beta_1, q->beta_2, q->epsilon,
                   q->momentum, q->nesterovs_momentum ? "true" : "false", q->dropout);
}

static void seq_free(void *state)
{
    seq_state *s = state;
    if (!s) return;
    vg_seq_free(&s->net);
    vg_free(s);
}

/* ---- training ------------------------------------------------------------ */

typedef struct seq_trainee {
    const vg_seq_net *net;
    vg_seq_ws *ws;
    const float *X;
} seq_trainee;

static vg_status trainee_reserve(void *self, size_t cap)
{
    seq_trainee *q = self;
    return vg_seq_ws_new(q->net, cap, &q->ws);
}

static double trainee_step(void *self, const vg_nn_target *t, const uint32_t *idx, size_t B, float dropout,
                           vg_rng *rng, double alpha, float *grad)
{
    seq_trainee *q = self;
    return vg_seq_step(q->net, q->ws, q->X, t, idx, B, dropout, rng, alpha, grad);
}

static const float *trainee_outputs(void *self, const uint32_t *idx, size_t B)
{
    seq_trainee *q = self;
    return vg_seq_forward(q->net, q->ws, q->X, idx, B, 0);
}

static vg_status seq_fit(vg_seq_cell cell, const char *family, const void *params, const vg_train_set *ts,
                         const vg_fit_options *opt, void **out_state)
{
    const seq_params *p = params;
    *out_state = NULL;
    const char *why = seq_params_check(p);
    if (why) return vg_fail(VG_ERR_INVALID, "%s: %s", family, why);
    if (!ts || !ts->X || !ts->y || ts->X->rows == 0) return vg_fail(VG_ERR_DATA, "%s: no training rows", family);
    if (ts->n_classes < 2 || ts->n_classes > SEQ_MAX_CLASSES)
        return vg_fail(VG_ERR_DATA, "%s: need between 2 and %u classes, got %u", family, SEQ_MAX_CLASSES,
                       ts->n_classes);
    const size_t cols = ts->X->cols;
    const uint32_t T = ts->window ? ts->window : 1, lead = ts->window ? 1 : 0;
    if (cols <= lead || (cols - lead) % T != 0)
        return vg_fail(VG_ERR_DATA, "%s: %zu columns are not windows of %u events", family, cols, T);
    const size_t F = (cols - lead) / T;
    if (F > VG_NN_MAX_WIDTH) return vg_fail(VG_ERR_DATA, "%s: %zu features (at most %u)", family, F, VG_NN_MAX_WIDTH);
    for (size_t i = 0; i < ts->X->rows; i++)
        if (ts->y[i] < 0 || (uint32_t)ts->y[i] >= ts->n_classes)
            return vg_fail(VG_ERR_DATA, "%s: label %d of row %zu is outside [0, %u)", family, ts->y[i], i,
                           ts->n_classes);
    for (size_t q = 0; q < ts->X->rows * cols; q++)
        if (!isfinite(ts->X->data[q]))
            return vg_fail(VG_ERR_DATA, "%s: row %zu column %zu is not a finite number", family, q / cols, q % cols);

    seq_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "%s: out of memory", family);
    s->n_classes = ts->n_classes;
    vg_status st = vg_seq_init(&s->net, cell, T, lead, (uint32_t)F, (uint32_t)p->hidden_size, ts->n_classes);
    if (st) {
        vg_error_prefix(cell == VG_SEQ_LSTM ? "lstm: " : "gru: ");
        seq_free(s);
        return st;
    }
    vg_rng rng;
    vg_rng_seed(&rng, opt ? opt->seed : 0, 1);
    vg_seq_init_params(&s->net, &rng);
    seq_trainee q = { .net = &s->net, .X = ts->X->data };
    const vg_nn_trainable m = { .self = &q, .params = s->net.params, .n_params = s->net.n_params,
                                .out = s->net.head.out, .n_out = s->net.K, .reserve = trainee_reserve,
                                .step = trainee_step, .outputs = trainee_outputs };
    const vg_nn_target t = { .y = ts->y, .weight = ts->weight };
    vg_nn_fit_result res;
    st = vg_nn_train(&m, ts->X->rows, &t, &p->nn, opt, &res);
    vg_seq_ws_free(q.ws);
    if (st) {
        vg_error_prefix(cell == VG_SEQ_LSTM ? "lstm: " : "gru: ");
        seq_free(s);
        return st;
    }
    s->epochs = (uint32_t)res.epochs;
    s->stopped = (uint32_t)res.stopped;
    s->loss = res.loss;
    s->best_validation = res.best_validation;
    *out_state = s;
    return VG_OK;
}

static vg_status lstm_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out)
{
    return seq_fit(VG_SEQ_LSTM, "lstm", params, ts, opt, out);
}

static vg_status gru_fit(const void *params, const vg_train_set *ts, const vg_fit_options *opt, void **out)
{
    return seq_fit(VG_SEQ_GRU, "gru", params, ts, opt, out);
}

/* ---- prediction ---------------------------------------------------------- */

static uint32_t seq_n_classes(const void *state)
{
    return ((const seq_state *)state)->n_classes;
}

static uint32_t seq_n_features(const void *state)
{
    return (uint32_t)vg_seq_row_width(&((const seq_state *)state)->net);
}

/* One head output row into the class probabilities. */
static void to_proba(const seq_state *s, const float *out, float *proba)
{
    if (s->n_classes == 2) {
        proba[0] = 1.0f - out[0];
        proba[1] = out[0];
    } else {
        memcpy(proba, out, s->n_classes * sizeof(float));
    }
}

static void predict_uniform(const seq_state *s, size_t rows, float *proba)
{
    vg_log(VG_LOG_ERROR, "%s: %s; predicting uniform", s->net.cell == VG_SEQ_LSTM ? "lstm" : "gru", vg_last_error());
    for (size_t i = 0; i < rows * s->n_classes; i++) proba[i] = 1.0f / (float)s->n_classes;
}

typedef struct predict_job {
    const seq_state *s;
    const vg_matrix *X;
    float *proba;
    vg_seq_ws **ws;  /* one per worker */
} predict_job;

static void predict_task(void *ctx, size_t task, int worker)
{
    predict_job *J = ctx;
    const size_t r0 = task * SEQ_PREDICT_ROWS, B = VG_MIN((size_t)SEQ_PREDICT_ROWS, J->X->rows - r0);
    uint32_t idx[SEQ_PREDICT_ROWS] = { 0 };
    for (size_t i = 0; i < B; i++) idx[i] = (uint32_t)(r0 + i);
    const float *out = vg_seq_forward(&J->s->net, J->ws[worker], J->X->data, idx, B, 1);
    for (size_t i = 0; i < B; i++) to_proba(J->s, out + i * J->s->net.K, J->proba + (r0 + i) * J->s->n_classes);
}

static void seq_predict(const void *state, const vg_matrix *X, int threads, float *proba)
{
    const seq_state *s = state;
    VG_ASSERT(s && X && proba && X->cols == vg_seq_row_width(&s->net));
    if (X->rows == 0) return;
    const size_t tasks = (X->rows + SEQ_PREDICT_ROWS - 1) / SEQ_PREDICT_ROWS;
    threads = vg_threads_resolve(threads);
    if ((size_t)threads > tasks) threads = (int)tasks;
    vg_seq_ws **ws = vg_calloc((size_t)threads, sizeof *ws);
    vg_status st = ws ? VG_OK : vg_fail(VG_ERR_NOMEM, "out of memory predicting");
    for (int w = 0; w < threads && !st; w++) st = vg_seq_ws_new(&s->net, SEQ_PREDICT_ROWS, &ws[w]);
    if (!st) {
        predict_job J = { s, X, proba, ws };
        vg_parallel_for(threads, tasks, predict_task, &J);
    } else {
        predict_uniform(s, X->rows, proba);
    }
    for (int w = 0; ws && w < threads; w++) vg_seq_ws_free(ws[w]);
    vg_free(ws);
}

static void seq_predict_row(const void *state, const float *row, float *proba)
{
    const seq_state *s = state;
    vg_seq_ws *ws;
    if (vg_seq_ws_new(&s->net, 1, &ws)) {
        predict_uniform(s, 1, proba);
        return;
    }
    const uint32_t zero = 0;
    to_proba(s, vg_seq_forward(&s->net, ws, row, &zero, 1, 1), proba);
    vg_seq_ws_free(ws);
}

/* ---- explanations --------------------------------------------------------- */

/* The head's raw outputs: 1 (the log-odds) for two classes, else a logit per class. */
static uint32_t seq_n_outputs(const void *state)
{
    return ((const seq_state *)state)->net.K;
}

/* Integrated gradients over the current event's features (seq_explain.c):
 * contrib is (F + 1) x K for the F features of one event, not the window's
 * width, because the earlier events are the state the current one moves from. */
static vg_status seq_explain(const void *state, const float *row, double *contrib)
{
    const seq_state *s = state;
    double *scratch = vg_malloc(vg_seq_explain_scratch(&s->net) * sizeof *scratch);
    if (!scratch) return vg_fail(VG_ERR_NOMEM, "%s: out of memory explaining a row", s->net.cell == VG_SEQ_LSTM ? "lstm" : "gru");
    vg_status st = vg_seq_explain(&s->net, row, scratch, contrib, NULL);
    vg_free(scratch);
    return st;
}

/* ---- model file ---------------------------------------------------------- */

/* Layout: u32 version, u32 cell (0 lstm, 1 gru), u32 n_classes, u32 epochs,
 * u32 stopped, f64 loss, f64 best_validation, u32 T, u32 lead, u32 F,
 * u32 H, u64 n_params, f32 params[n_params] (seq.h's block). */
static vg_status seq_save(const void *state, vg_wbuf *w)
{
    const seq_state *s = state;
    const vg_seq_net *n = &s->net;
    vg_wbuf_u32(w, SEQ_SAVE_VERSION);
    vg_wbuf_u32(w, (uint32_t)n->cell);
    vg_wbuf_u32(w, s->n_classes);
    vg_wbuf_u32(w, s->epochs);
    vg_wbuf_u32(w, s->stopped);
    vg_wbuf_f64(w, s->loss);
    vg_wbuf_f64(w, s->best_validation);
    vg_wbuf_u32(w, n->T);
    vg_wbuf_u32(w, n->lead);
    vg_wbuf_u32(w, n->F);
    vg_wbuf_u32(w, n->H);
    vg_wbuf_u64(w, n->n_params);
    vg_wbuf_f32s(w, n->params, n->n_params);
    if (w->failed) return vg_fail(VG_ERR_NOMEM, "recurrent network: out of memory saving the model");
    return VG_OK;
}

static vg_status seq_load_cell(vg_seq_cell cell, vg_rbuf *r, void **out_state)
{
    *out_state = NULL;
    uint32_t version = vg_rbuf_u32(r);
    if (!r->failed && version != SEQ_SAVE_VERSION)
        return vg_fail(VG_ERR_FORMAT, "%s: recurrent state version %u is not supported (this build reads %u)",
                       r->what, version, SEQ_SAVE_VERSION);
    uint32_t c = vg_rbuf_u32(r), n_classes = vg_rbuf_u32(r), epochs = vg_rbuf_u32(r), stopped = vg_rbuf_u32(r);
    double loss = vg_rbuf_f64(r), best = vg_rbuf_f64(r);
    uint32_t T = vg_rbuf_u32(r), lead = vg_rbuf_u32(r), F = vg_rbuf_u32(r), H = vg_rbuf_u32(r);
    uint64_t np = vg_rbuf_u64(r);
    vg_rbuf_require(r, c == (uint32_t)cell, "recurrent cell of this family");
    vg_rbuf_require(r, n_classes >= 2 && n_classes <= SEQ_MAX_CLASSES, "recurrent class count");
    vg_rbuf_require(r, stopped <= 1, "recurrent stopped flag");
    vg_status st = vg_rbuf_check(r);
    if (st) return st;
    seq_state *s = vg_calloc(1, sizeof *s);
    if (!s) return vg_fail(VG_ERR_NOMEM, "recurrent network: out of memory loading");
    s->n_classes = n_classes, s->epochs = epochs, s->stopped = stopped, s->loss = loss, s->best_validation = best;
    if (vg_seq_init(&s->net, cell, T, lead, F, H, n_classes)) {
        vg_clear_error();
        vg_rbuf_require(r, 0, "recurrent network shape");
    } else if (vg_rbuf_require(r, np == s->net.n_params, "recurrent parameter count") &&
               vg_rbuf_require(r, np <= (r->len - r->pos) / 4, "recurrent parameters exceed the data")) {
        float *p = vg_rbuf_f32s(r, (size_t)np);
        if (p) {
            int finite = 1;
            for (size_t i = 0; i < np; i++) finite &= isfinite(p[i]);
            memcpy(s->net.params, p, np * sizeof(float));
            vg_free(p);
            vg_rbuf_require(r, finite, "recurrent parameter not finite");
        } else if (!r->failed) {
            seq_free(s);
            return vg_fail(VG_ERR_NOMEM, "recurrent network: out of memory loading");
        }
    }
    st = vg_rbuf_check(r);
    if (st) {
        seq_free(s);
        return st;
    }
    *out_state = s;
    return VG_OK;
}

static vg_status lstm_load(vg_rbuf *r, void **out)
{
    return seq_load_cell(VG_SEQ_LSTM, r, out);
}

static vg_status gru_load(vg_rbuf *r, void **out)
{
    return seq_load_cell(VG_SEQ_GRU, r, out);
}

static void seq_describe(const void *state, vg_wbuf *out)
{
    const seq_state *s = state;
    const vg_seq_net *n = &s->net;
    vg_wbuf_printf(out, "cell: %s, %u hidden units\nwindow: %u events of %u features%s\nparameters: %zu\n",
                   n->cell == VG_SEQ_LSTM ? "lstm" : "gru", n->H, n->T, n->F,
                   n->lead ? "" : " (single rows)", n->n_params);
    vg_wbuf_printf(out, "epochs: %u\nstopped early: %s\nloss: %.6g\n", s->epochs, s->stopped ? "yes" : "no", s->loss);
    if (isfinite(s->best_validation)) vg_wbuf_printf(out, "validation accuracy: %.6g\n", s->best_validation);
}

#define SEQ_KIND(NAME, SUMMARY, SET, FIT, LOAD)                                                               \
    {                                                                                                          \
        .name = NAME, .summary = SUMMARY, .encoding = VG_ENCODING_ONEHOT_SCALED,                              \
        .params_size = sizeof(seq_params), .params_default = seq_params_default, .params_set = SET,           \
        .params_check = seq_params_check, .params_describe = seq_params_describe, .fit = FIT,                 \
        .predict = seq_predict, .n_classes = seq_n_classes, .save = seq_save, .load = LOAD, .free = seq_free,  \
        .describe = seq_describe, .n_features = seq_n_features, .predict_row = seq_predict_row,               \
        .n_outputs = seq_n_outputs, .explain = seq_explain,                                                   \
        .outputs = VG_ESTIMATOR_OUT_PROBA, .needs_labels = 1,                                                  \
        .inputs = VG_ESTIMATOR_IN_DENSE | VG_ESTIMATOR_IN_WINDOW,                                              \
    }

const vg_estimator_kind vg_lstm_kind = SEQ_KIND(
    "lstm", "LSTM over the entity's last `window` events (hidden_size, dropout, Adam, early stopping)",
    lstm_params_set, lstm_fit, lstm_load);
const vg_estimator_kind vg_gru_kind = SEQ_KIND(
    "gru", "GRU over the entity's last `window` events (hidden_size, dropout, Adam, early stopping)",
    gru_params_set, gru_fit, gru_load);
