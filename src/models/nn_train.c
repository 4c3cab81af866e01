/* Minibatch training of a network (see nn_train.h), following
 * scikit-learn's MLP loop so its parameters mean the same here:
 *  - batch_size rows per step (auto: min(200, rows)), rows reshuffled each
 *    epoch; the epoch's loss is the row-weighted mean of its batch losses;
 *  - without early stopping: stop when the training loss has not fallen by
 *    tol for more than n_iter_no_change epochs;
 *  - with early stopping: validation_fraction of the rows (per class when
 *    there are classes) is held out; stop when its score has not risen by
 *    tol for more than n_iter_no_change epochs and keep the best parameters.
 * Every random choice (initial weights, the validation slice, the order of
 * rows, dropout) comes from its own stream of opt->seed, so a seed gives
 * one network. A batch of the dense network is cut into a fixed number of
 * parts of rows that threads take (see dense_step), the same parts whatever
 * the thread count; prediction splits fixed chunks of rows. */
#include "models/nn_train.h"
#include "vigil/parallel.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { STREAM_INIT = 1, STREAM_SPLIT = 2, STREAM_SHUFFLE = 3, STREAM_DROPOUT = 4 };

/* ---- parameters --------------------------------------------------------- */

void vg_nn_params_default(vg_nn_params *p)
{
    memset(p, 0, sizeof *p);
    p->hidden[0] = 100;
    p->n_hidden = 1;
    p->activation = VG_NN_RELU;
    p->solver = VG_NN_ADAM;
    p->learning_rate_init = 1e-3;
    p->alpha = 1e-4;
    p->batch_size = 0;
    p->max_iter = 200;
    p->tol = 1e-4;
    p->n_iter_no_change = 10;
    p->early_stopping = 0;
    p->validation_fraction = 0.1;
    p->shuffle = 1;
    p->beta_1 = 0.9;
    p->beta_2 = 0.999;
    p->epsilon = 1e-8;
    p->momentum = 0.9;
    p->nesterovs_momentum = 1;
    p->dropout = 0.0;
}

/* "100", "64,32", "(64, 32)": widths in [1, VG_NN_MAX_WIDTH]. */
static vg_status parse_sizes(const char *value, vg_nn_params *p)
{
    uint32_t n = 0;
    const char *s = value;
    while (*s == ' ' || *s == '(' || *s == '[') s++;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 1 || v > (long)VG_NN_MAX_WIDTH)
            return vg_fail(VG_ERR_INVALID,
                           "parameter hidden_layer_sizes: '%s' is not a list of widths in [1, %u] such as 100 or 64,32",
                           value, VG_NN_MAX_WIDTH);
        if (n == VG_NN_MAX_LAYERS - 1)
            return vg_fail(VG_ERR_INVALID, "parameter hidden_layer_sizes: '%s' has more than %d layers", value,
                           VG_NN_MAX_LAYERS - 1);
        p->hidden[n++] = (uint32_t)v;
        s = end;
        while (*s == ' ') s++;
        if (*s == ',') {
            s++;
            while (*s == ' ') s++;
            if (*s == ')' || *s == ']') break;  /* Python's one-element tuple "(100,)" */
            continue;
        }
        break;
    }
    while (*s == ')' || *s == ']' || *s == ' ') s++;
    if (*s)
        return vg_fail(VG_ERR_INVALID,
                       "parameter hidden_layer_sizes: '%s' is not a list of widths such as 100 or 64,32", value);
    p->n_hidden = n;
    return VG_OK;
}

int vg_nn_params_set(vg_nn_params *p, const char *key, const char *value, vg_status *st)
{
    double d;
    long l;
    int b;
    *st = VG_OK;
    if (strcmp(key, "hidden_layer_sizes") == 0) {
        *st = parse_sizes(value, p);
    } else if (strcmp(key, "activation") == 0) {
        if (vg_nn_act_parse(value, &p->activation))
            *st = vg_fail(VG_ERR_INVALID, "parameter activation: '%s' is not one of relu, tanh, logistic, identity",
                          value);
    } else if (strcmp(key, "solver") == 0) {
        if (strcmp(value, "adam") == 0) p->solver = VG_NN_ADAM;
        else if (strcmp(value, "sgd") == 0) p->solver = VG_NN_SGD;
        else *st = vg_fail(VG_ERR_INVALID, "parameter solver: '%s' is not one of adam, sgd", value);
    } else if (strcmp(key, "learning_rate_init") == 0) {
        if (!(*st = vg_param_double(key, value, 0.0, 1e6, &d))) {
            if (d > 0.0) p->learning_rate_init = d;
            else *st = vg_fail(VG_ERR_INVALID, "parameter learning_rate_init: %s must be > 0", value);
        }
    } else if (strcmp(key, "alpha") == 0) {
        if (!(*st = vg_param_double(key, value, 0.0, 1e12, &d))) p->alpha = d;
    } else if (strcmp(key, "batch_size") == 0) {
        if (strcmp(value, "auto") == 0) p->batch_size = 0;
        else if (!(*st = vg_param_int(key, value, 1, 1L << 24, &l))) p->batch_size = l;
    } else if (strcmp(key, "max_iter") == 0) {
        if (!(*st = vg_param_int(key, value, 1, 1000000L, &l))) p->max_iter = l;
    } else if (strcmp(key, "tol") == 0) {
        if (!(*st = vg_param_double(key, value, 0.0, 1e12, &d))) p->tol = d;
    } else if (strcmp(key, "n_iter_no_change") == 0) {
        if (!(*st = vg_param_int(key, value, 1, 1000000L, &l))) p->n_iter_no_change = l;
    } else if (strcmp(key, "early_stopping") == 0) {
        if (!(*st = vg_param_bool(key, value, &b))) p->early_stopping = b;
    } else if (strcmp(key, "validation_fraction") == 0) {
        if (!(*st = vg_param_double(key, value, 0.0, 1.0, &d))) {
            if (d > 0.0 && d < 1.0) p->validation_fraction = d;
            else *st = vg_fail(VG_ERR_INVALID, "parameter validation_fraction: %s must be in (0, 1)", value);
        }
    } else if (strcmp(key, "shuffle") == 0) {
        if (!(*st = vg_param_bool(key, value, &b))) p->shuffle = b;
    } else if (strcmp(key, "beta_1") == 0 || strcmp(key, "beta_2") == 0) {
        if (!(*st = vg_param_double(key, value, 0.0, 1.0, &d))) {
            if (d < 1.0) *(key[5] == '1' ? &p->beta_1 : &p->beta_2) = d;
            else *st = vg_fail(VG_ERR_INVALID, "parameter %s: %s must be in [0, 1)", key, value);
        }
    } else if (strcmp(key, "epsilon") == 0) {
        if (!(*st = vg_param_double(key, value, 0.0, 1.0, &d))) {
            if (d > 0.0) p->epsilon = d;
            else *st = vg_fail(VG_ERR_INVALID, "parameter epsilon: %s must be > 0", value);
        }
    } else if (strcmp(key, "momentum") == 0) {
        if (!(*st = vg_param_double(key, value, 0.0, 1.0, &d))) p->momentum = d;
    } else if (strcmp(key, "nesterovs_momentum") == 0) {
        if (!(*st = vg_param_bool(key, value, &b))) p->nesterovs_momentum = b;
    } else if (strcmp(key, "dropout") == 0) {
        if (!(*st = vg_param_double(key, value, 0.0, 1.0, &d))) {
            if (d < 1.0) p->dropout = d;
            else *st = vg_fail(VG_ERR_INVALID, "parameter dropout: %s must be in [0, 1)", value);
        }
    } else {
        return 0;
    }
    return 1;
}

const char *vg_nn_params_check(const vg_nn_params *p)
{
    if (p->n_hidden < 1 || p->n_hidden > VG_NN_MAX_LAYERS - 1) return "hidden_layer_sizes: 1 to 15 layers";
    for (uint32_t l = 0; l < p->n_hidden; l++)
        if (p->hidden[l] < 1 || p->hidden[l] > VG_NN_MAX_WIDTH) return "hidden_layer_sizes: widths 1 to 65536";
    if ((unsigned)p->activation > VG_NN_RELU) return "activation: relu, tanh, logistic or identity";
    if ((unsigned)p->solver > VG_NN_SGD) return "solver: adam or sgd";
    if (!(p->learning_rate_init > 0.0) || !isfinite(p->learning_rate_init)) return "learning_rate_init must be > 0";
    if (!(p->alpha >= 0.0) || !isfinite(p->alpha)) return "alpha must be >= 0";
    if (p->batch_size < 0) return "batch_size must be auto or >= 1";
    if (p->max_iter < 1) return "max_iter must be >= 1";
    if (!(p->tol >= 0.0) || !isfinite(p->tol)) return "tol must be >= 0";
    if (p->n_iter_no_change < 1) return "n_iter_no_change must be >= 1";
    if (!(p->validation_fraction > 0.0 && p->validation_fraction < 1.0)) return "validation_fraction must be in (0, 1)";
    if (!(p->beta_1 >= 0.0 && p->beta_1 < 1.0) || !(p->beta_2 >= 0.0 && p->beta_2 < 1.0))
        return "beta_1 and beta_2 must be in [0, 1)";
    if (!(p->epsilon > 0.0)) return "epsilon must be > 0";
    if (!(p->momentum >= 0.0 && p->momentum <= 1.0)) return "momentum must be in [0, 1]";
    if (!(p->dropout >= 0.0 && p->dropout < 1.0)) return "dropout must be in [0, 1)";
    return NULL;
}

void vg_nn_params_describe(const vg_nn_params *p, vg_wbuf *out)
{
    vg_wbuf_printf(out, "hidden_layer_sizes=");
    for (uint32_t l = 0; l < p->n_hidden; l++) vg_wbuf_printf(out, "%s%u", l ? "," : "", p->hidden[l]);
    vg_wbuf_printf(out, ", activation=%s, solver=%s, learning_rate_init=%.15g, alpha=%.15g, batch_size=",
                   vg_nn_act_str(p->activation), p->solver == VG_NN_ADAM ? "adam" : "sgd", p->learning_rate_init,
                   p->alpha);
    if (p->batch_size) vg_wbuf_printf(out, "%ld", p->batch_size);
    else vg_wbuf_printf(out, "auto");
    vg_wbuf_printf(out,
                   ", max_iter=%ld, tol=%.15g, n_iter_no_change=%ld, early_stopping=%s, validation_fraction=%.15g"
                   ", shuffle=%s, beta_1=%.15g, beta_2=%.15g, epsilon=%.15g, momentum=%.15g"
                   ", nesterovs_momentum=%s, dropout=%.15g",
                   p->max_iter, p->tol, p->n_iter_no_change, p->early_stopping ? "true" : "false",
                   p->validation_fraction, p->shuffle ? "true" : "false", p->beta_1, p->beta_2, p->epsilon,
                   p->momentum, p->nesterovs_momentum ? "true" : "false", p->dropout);
}

/* ---- the validation slice ----------------------------------------------- */

/* Split rows 0..n into train and validation index lists (both ascending
 * within a class's draw; order is reshuffled per epoch anyway). With y,
 * each class gives round(fraction * its rows) rows, at least one when it
 * has two or more, so a rare class is seen on both sides. */
static vg_status split_rows(size_t n, const int32_t *y, uint32_t n_classes, double fraction, uint64_t seed,
                            uint32_t **train, size_t *n_train, uint32_t **val, size_t *n_val)
{
    uint32_t *perm = vg_malloc((n + 1) * sizeof(uint32_t));
    uint8_t *is_val = vg_calloc(n + 1, 1);
    size_t *count = vg_calloc((size_t)n_classes + 1, sizeof(size_t)), *taken = vg_calloc((size_t)n_classes + 1, sizeof(size_t));
    *train = vg_malloc((n + 1) * sizeof(uint32_t));
    *val = vg_malloc((n + 1) * sizeof(uint32_t));
    vg_status st = VG_OK;
    if (!perm || !is_val || !count || !taken || !*train || !*val) {
        st = vg_fail(VG_ERR_NOMEM, "neural network: out of memory for the validation split");
        goto out;
    }
    vg_rng rng;
    vg_rng_seed(&rng, seed, STREAM_SPLIT);
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    vg_rng_shuffle_u32(&rng, perm, n);
    if (y) {
        for (size_t i = 0; i < n; i++) count[y[i]]++;
        for (size_t i = 0; i < n; i++) {
            const int32_t c = y[perm[i]];
            size_t want = (size_t)floor(fraction * (double)count[c] + 0.5);
            if (want == 0 && count[c] >= 2) want = 1;
            if (want >= count[c]) want = count[c] - 1;  /* keep a row of each class to learn from */
            if (taken[c] < want) taken[c]++, is_val[perm[i]] = 1;
        }
    } else {
        size_t want = (size_t)ceil(fraction * (double)n);
        if (want >= n) want = n - 1;
        for (size_t i = 0; i < want; i++) is_val[perm[i]] = 1;
    }
    *n_train = *n_val = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_val[i]) (*val)[(*n_val)++] = (uint32_t)i;
        else (*train)[(*n_train)++] = (uint32_t)i;
    }
    if (*n_val == 0 || *n_train == 0)
        st = vg_fail(VG_ERR_DATA, "neural network: too few rows (%zu) for early stopping's validation slice", n);
out:
    vg_free(perm), vg_free(is_val), vg_free(count), vg_free(taken);
    if (st) {
        vg_free(*train), vg_free(*val);
        *train = *val = NULL;
    }
    return st;
}

/* Higher is better: accuracy, or minus the mean squared error. */
static double validation_score(const vg_nn_trainable *m, size_t cap, const vg_nn_target *t, const uint32_t *rows,
                               size_t n, double *row_loss)
{
    const size_t k = m->n_out;
    double total = 0.0;
    for (size_t b0 = 0; b0 < n; b0 += cap) {
        const size_t B = VG_MIN(cap, n - b0);
        const float *P = m->outputs(m->self, rows + b0, B);
        if (m->out == VG_NN_OUT_LINEAR) {
            vg_nn_out_row_losses(m->out, k, P, t, rows + b0, B, row_loss);
            for (size_t i = 0; i < B; i++) total -= row_loss[i];
            continue;
        }
        for (size_t i = 0; i < B; i++) {
            int32_t pred;
            if (m->out == VG_NN_OUT_SIGMOID) {
                pred = P[i] >= 0.5f;
            } else {
                pred = 0;
                for (size_t u = 1; u < k; u++)
                    if (P[i * k + u] > P[i * k + pred]) pred = (int32_t)u;
            }
            total += pred == t->y[rows[b0 + i]];
        }
    }
    return total / (double)n;
}

/* ---- the epoch loop ----------------------------------------------------- */

vg_status vg_nn_train(const vg_nn_trainable *m, size_t rows, const vg_nn_target *t, const vg_nn_params *p,
                      const vg_fit_options *opt, vg_nn_fit_result *res)
{
    const uint64_t seed = opt ? opt->seed : 0;
    const char *why = vg_nn_params_check(p);
    if (why) return vg_fail(VG_ERR_INVALID, "neural network: %s", why);
    if (rows == 0 || rows >= UINT32_MAX) return vg_fail(VG_ERR_DATA, "neural network: %zu training rows", rows);
    if (t->weight)
        for (size_t i = 0; i < rows; i++)
            if (!(t->weight[i] >= 0.0f && isfinite(t->weight[i])))
                return vg_fail(VG_ERR_DATA, "neural network: weight of row %zu is not a finite number >= 0", i);

    memset(res, 0, sizeof *res);
    res->best_validation = NAN;
    vg_status st = VG_OK;
    uint32_t *train = NULL, *val = NULL;
    size_t n_train = rows, n_val = 0;
    float *grad = NULL, *best = NULL;
    double *row_loss = NULL;
    vg_nn_optim o = { .lr = p->learning_rate_init, .beta_1 = p->beta_1, .beta_2 = p->beta_2, .epsilon = p->epsilon,
                      .momentum = p->momentum, .nesterov = p->nesterovs_momentum };
    if (p->early_stopping) {
        uint32_t nc = m->out == VG_NN_OUT_SOFTMAX ? m->n_out : 2;
        if ((st = split_rows(rows, m->out == VG_NN_OUT_LINEAR ? NULL : t->y, nc, p->validation_fraction, seed,
                             &train, &n_train, &val, &n_val)))
            goto out;
    } else {
        train = vg_malloc((n_train + 1) * sizeof(uint32_t));
        if (!train) {
            st = vg_fail(VG_ERR_NOMEM, "neural network: out of memory");
            goto out;
        }
        for (size_t i = 0; i < n_train; i++) train[i] = (uint32_t)i;
    }
    const size_t batch = p->batch_size ? (size_t)VG_MIN((size_t)p->batch_size, n_train) : VG_MIN((size_t)200, n_train);
    if ((st = m->reserve(m->self, batch))) goto out;
    if ((st = vg_nn_optim_init(&o, p->solver, m->n_params))) goto out;
    grad = vg_malloc(m->n_params * sizeof(float));
    best = p->early_stopping ? vg_malloc(m->n_params * sizeof(float)) : NULL;
    row_loss = vg_malloc((batch + 1) * sizeof(double));
    if (!grad || (p->early_stopping && !best) || !row_loss) {
        st = vg_fail(VG_ERR_NOMEM, "neural network: out of memory for %zu parameters", m->n_params);
        goto out;
    }

    vg_rng shuffle_rng, drop_rng;
    vg_rng_seed(&shuffle_rng, seed, STREAM_SHUFFLE);
    vg_rng_seed(&drop_rng, seed, STREAM_DROPOUT);
    double best_loss = INFINITY, best_val = -INFINITY;
    long no_improvement = 0;
    const float dropout = (float)p->dropout;
    for (long epoch = 0; epoch < p->max_iter; epoch++) {
        if (p->shuffle) vg_rng_shuffle_u32(&shuffle_rng, train, n_train);
        double epoch_loss = 0.0;
        for (size_t b0 = 0; b0 < n_train; b0 += batch) {
            const size_t B = VG_MIN(batch, n_train - b0);
            const uint32_t *idx = train + b0;
            epoch_loss += m->step(m->self, t, idx, B, dropout, dropout > 0.0f ? &drop_rng : NULL, p->alpha, grad) *
                          (double)B;
            vg_nn_optim_step(&o, m->params, grad);
        }
        epoch_loss /= (double)n_train;
        vg_log(VG_LOG_DEBUG, "neural network: epoch %ld loss %.9g", epoch + 1, epoch_loss);
        res->epochs = epoch + 1;
        res->loss = epoch_loss;
        if (!isfinite(epoch_loss)) {
            st = vg_fail(VG_ERR_DATA,
                         "neural network: the training loss diverged at epoch %ld (lower learning_rate_init)",
                         epoch + 1);
            goto out;
        }
        if (p->early_stopping) {
            const double score = validation_score(m, batch, t, val, n_val, row_loss);
            if (score < best_val + p->tol) no_improvement++;
            else no_improvement = 0;
            if (score > best_val) {
                best_val = score;
                memcpy(best, m->params, m->n_params * sizeof(float));
            }
        } else {
            if (epoch_loss > best_loss - p->tol) no_improvement++;
            else no_improvement = 0;
            if (epoch_loss < best_loss) best_loss = epoch_loss;
        }
        if (opt && opt->progress) opt->progress(opt->progress_user, "epochs", (size_t)epoch + 1, (size_t)p->max_iter);
        if (no_improvement > p->n_iter_no_change) {
            res->stopped = 1;
            break;
        }
    }
    if (p->early_stopping) {
        memcpy(m->params, best, m->n_params * sizeof(float));
        res->best_validation = best_val;
    }
    if (!res->stopped)
        vg_log(VG_LOG_INFO, "neural network: max_iter (%ld epochs) reached before the %s stopped improving",
               p->max_iter, p->early_stopping ? "validation score" : "training loss");
out:
    vg_nn_optim_free(&o);
    vg_free(train), vg_free(val), vg_free(grad), vg_free(best), vg_free(row_loss);
    return st;
}

/* ---- the dense network as a trainable ----------------------------------- */

/* A batch of the dense network is cut into NN_PARTS parts of rows, each
 * run (forward, loss, backward) by one thread in its own workspace, and the
 * parts' gradients are added in their order: the parts do not depend on
 * the thread count, so neither does the network. On one thread the parts
 * run one after the other (the cost is a little per part: the first
 * layer's base term, the weight gradient's column starts). Batches smaller
 * than NN_PART_MIN_WORK (rows x parameters) are one part, as waking a
 * thread costs more than they take. */
#define NN_PARTS 2
#define NN_PART_MIN_WORK (1u << 20)

typedef struct dense_trainee {
    vg_nn *net;
    vg_nn_input in;
    int threads;
    vg_nn_ws ws[NN_PARTS];
    float *grad[NN_PARTS];  /* parts 1..: their gradients (part 0 writes the step's) */
    float *P;               /* a batch's outputs, the parts together (cap x outputs) */
    /* the batch being run */
    size_t parts, B;
    const uint32_t *idx;
    const vg_nn_target *t;  /* NULL: outputs only */
    float dropout;
    uint64_t drop_seed;
    double loss[NN_PARTS];
} dense_trainee;

static vg_status dense_reserve(void *self, size_t cap)
{
    dense_trainee *d = self;
    const size_t k = d->net->size[d->net->n_layers];
    d->P = vg_malloc((cap * k + 1) * sizeof(float));
    if (!d->P) return vg_fail(VG_ERR_NOMEM, "neural network: out of memory for a batch of %zu rows", cap);
    for (size_t p = 0; p < NN_PARTS; p++) {
        vg_status st = vg_nn_ws_init(&d->ws[p], d->net, cap);
        if (st) return st;
        if (p && !(d->grad[p] = vg_malloc(d->net->n_params * sizeof(float))))
            return vg_fail(VG_ERR_NOMEM, "neural network: out of memory for %zu parameters", d->net->n_params);
    }
    return VG_OK;
}

static void dense_release(dense_trainee *d)
{
    for (size_t p = 0; p < NN_PARTS; p++) {
        vg_nn_ws_free(&d->ws[p]);
        if (p) vg_free(d->grad[p]);
    }
    vg_free(d->P);
}

static void dense_part(void *ctx, size_t p, int worker)
{
    (void)worker;
    dense_trainee *d = ctx;
    const vg_nn *net = d->net;
    const size_t a = d->B * p / d->parts, n = d->B * (p + 1) / d->parts - a, k = net->size[net->n_layers];
    const uint32_t *idx = d->idx + a;
    vg_nn_ws *ws = &d->ws[p];
    if (!d->t) {
        vg_nn_forward(net, ws, &d->in, idx, n, 0.0f, NULL);
        memcpy(d->P + a * k, ws->H[net->n_layers], n * k * sizeof(float));
        return;
    }
    /* the rows' labels and weights are random reads too: start them now, the
     * loss reads them after the forward pass */
    for (size_t i = 0; i < n; i++) {
        if (d->t->y) __builtin_prefetch(&d->t->y[idx[i]]);
        if (d->t->weight) __builtin_prefetch(&d->t->weight[idx[i]]);
    }
    vg_rng r;
    if (d->dropout > 0.0f) vg_rng_seed(&r, d->drop_seed, p);
    vg_nn_forward(net, ws, &d->in, idx, n, d->dropout, d->dropout > 0.0f ? &r : NULL);
    d->loss[p] = vg_nn_loss_part(net, ws, d->t, idx, n, d->B);
    vg_nn_backward_part(net, ws, &d->in, n, d->grad[p]);
}

static void dense_run(dense_trainee *d, const vg_nn_target *t, const uint32_t *idx, size_t B)
{
    d->t = t, d->idx = idx, d->B = B;
    d->parts = B >= 2 * NN_PARTS && (double)B * (double)d->net->n_params >= NN_PART_MIN_WORK ? NN_PARTS : 1;
    vg_parallel_for(d->threads, d->parts, dense_part, d);
}

/* grad += part (n) */
VG_NN_CLONES static void add_part(size_t n, const float *restrict part, float *restrict grad)
{
    for (size_t q = 0; q < n; q++) grad[q] += part[q];
}

static double dense_step(void *self, const vg_nn_target *t, const uint32_t *idx, size_t B, float dropout, vg_rng *rng,
                         double alpha, float *grad)
{
    dense_trainee *d = self;
    d->dropout = dropout;
    d->drop_seed = dropout > 0.0f ? vg_rng_next(rng) : 0;
    d->grad[0] = grad;
    dense_run(d, t, idx, B);
    double loss = d->loss[0];
    for (size_t p = 1; p < d->parts; p++) {
        add_part(d->net->n_params, d->grad[p], grad);
        loss += d->loss[p];
    }
    return loss + vg_nn_penalty(d->net, alpha, B, grad);
}

static const float *dense_outputs(void *self, const uint32_t *idx, size_t B)
{
    dense_trainee *d = self;
    dense_run(d, NULL, idx, B);
    return d->P;
}

vg_status vg_nn_fit(vg_nn *net, const vg_matrix *X, const vg_nn_target *t, const vg_nn_params *p,
                    const vg_fit_options *opt, vg_nn_fit_result *res)
{
    const char *why = vg_nn_params_check(p);
    if (why) return vg_fail(VG_ERR_INVALID, "neural network: %s", why);
    if (X->rows == 0 || X->rows >= UINT32_MAX) return vg_fail(VG_ERR_DATA, "neural network: %zu training rows", X->rows);
    if (X->cols != net->size[0]) return vg_fail(VG_ERR_INVALID, "neural network: %zu columns for %u inputs", X->cols, net->size[0]);
    vg_rng rng;
    vg_rng_seed(&rng, opt ? opt->seed : 0, STREAM_INIT);
    vg_nn_glorot(net, &rng);
    dense_trainee d = { .net = net, .threads = opt ? opt->threads : 0 };
    vg_status st = vg_nn_input_build(&d.in, X, -1);
    if (st) return st;
    const vg_nn_trainable m = { .self = &d, .params = net->params, .n_params = net->n_params, .out = net->out,
                                .n_out = net->size[net->n_layers], .reserve = dense_reserve, .step = dense_step,
                                .outputs = dense_outputs };
    st = vg_nn_train(&m, X->rows, t, p, opt, res);
    vg_nn_input_free(&d.in);
    dense_release(&d);
    return st;
}

/* ---- prediction --------------------------------------------------------- */

#define NN_PREDICT_ROWS 256

typedef struct predict_job {
    const vg_nn *net;
    const vg_matrix *X;
    float *out;
    vg_nn_ws *ws;  /* one per worker */
} predict_job;

static void predict_task(void *ctx, size_t task, int worker)
{
    predict_job *J = ctx;
    const size_t r0 = task * NN_PREDICT_ROWS, B = VG_MIN((size_t)NN_PREDICT_ROWS, J->X->rows - r0);
    const size_t k = J->net->size[J->net->n_layers];
    vg_nn_ws *ws = &J->ws[worker];
    vg_nn_forward_rows(J->net, ws, J->X->data + r0 * J->X->cols, B);
    memcpy(J->out + r0 * k, ws->H[J->net->n_layers], B * k * sizeof(float));
}

vg_status vg_nn_predict(const vg_nn *net, const vg_matrix *X, int threads, float *out)
{
    if (X->rows == 0) return VG_OK;
    const size_t tasks = (X->rows + NN_PREDICT_ROWS - 1) / NN_PREDICT_ROWS;
    threads = vg_threads_resolve(threads);
    if ((size_t)threads > tasks) threads = (int)tasks;
    vg_nn_ws *ws = vg_calloc((size_t)threads, sizeof *ws);
    if (!ws) return vg_fail(VG_ERR_NOMEM, "neural network: out of memory predicting");
    vg_status st = VG_OK;
    for (int w = 0; w < threads && !st; w++) st = vg_nn_ws_init(&ws[w], net, NN_PREDICT_ROWS);
    if (!st) {
        predict_job J = { net, X, out, ws };
        vg_parallel_for(threads, tasks, predict_task, &J);
    }
    for (int w = 0; w < threads; w++) vg_nn_ws_free(&ws[w]);
    vg_free(ws);
    return st;
}
