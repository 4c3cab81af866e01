/* Internal: training a network by minibatches, shared by every neural
 * family: the parameters they have in common (scikit-learn's MLP names),
 * their parsing and checks, and the epoch loop with shuffling, dropout and
 * early stopping on a seeded validation slice of the training rows. */
#ifndef VG_MODELS_NN_TRAIN_H
#define VG_MODELS_NN_TRAIN_H

#include "models/nn.h"
#include "models/nn_optim.h"
#include "vigil/estimator.h"

typedef struct vg_nn_params {
    uint32_t hidden[VG_NN_MAX_LAYERS - 1];  /* hidden_layer_sizes ("100") */
    uint32_t n_hidden;
    vg_nn_act activation;      /* relu */
    vg_nn_solver solver;       /* adam */
    double learning_rate_init; /* 0.001 */
    double alpha;              /* L2 penalty, 0.0001 */
    long batch_size;           /* 0 = auto: min(200, rows) */
    long max_iter;             /* epochs, 200 */
    double tol;                /* 1e-4 */
    long n_iter_no_change;     /* 10 */
    int early_stopping;        /* 0 */
    double validation_fraction;/* 0.1 */
    int shuffle;               /* 1 */
    double beta_1, beta_2, epsilon; /* adam: 0.9, 0.999, 1e-8 */
    double momentum;           /* sgd: 0.9 */
    int nesterovs_momentum;    /* sgd: 1 */
    double dropout;            /* hidden units dropped in training, 0 */
} vg_nn_params;

/* scikit-learn's MLPClassifier defaults, plus dropout 0. */
void vg_nn_params_default(vg_nn_params *p);
/* Set a shared parameter. Returns 1 if `key` is one of them (*st is then
 * VG_OK or VG_ERR_INVALID with a message naming it), 0 if not. */
int vg_nn_params_set(vg_nn_params *p, const char *key, const char *value, vg_status *st);
/* NULL or a static message naming the parameter. */
const char *vg_nn_params_check(const vg_nn_params *p);
/* "hidden_layer_sizes=100, activation=relu, ..." as params_set reads it. */
void vg_nn_params_describe(const vg_nn_params *p, vg_wbuf *out);

typedef struct vg_nn_fit_result {
    long epochs;             /* epochs run */
    double loss;             /* the last epoch's mean training loss (penalty included) */
    double best_validation;  /* best validation score (early stopping), else NaN */
    int stopped;             /* 1: stopped by tol / n_iter_no_change before max_iter */
} vg_nn_fit_result;

/* Initialise (Glorot, from opt->seed) and train `net` (already shaped) on
 * the rows of X towards t. Validation score for early stopping: accuracy
 * for the cross-entropy outputs, minus the mean squared error for the
 * linear one. With early stopping the parameters that scored best are kept.
 * y, when given, stratifies the validation slice. Deterministic for a seed. */
vg_status vg_nn_fit(vg_nn *net, const vg_matrix *X, const vg_nn_target *t, const vg_nn_params *p,
                    const vg_fit_options *opt, vg_nn_fit_result *res);

/* Predict rows of X (X->cols == size[0]) into out (rows x output units),
 * chunks of rows across threads, deterministic. VG_ERR_NOMEM only. */
vg_status vg_nn_predict(const vg_nn *net, const vg_matrix *X, int threads, float *out);

#endif
