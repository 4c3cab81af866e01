/* The one interface every learning algorithm implements (logistic regression,
 * decision tree, random forest, ...). Training, evaluation, cross-validation,
 * the model file and the server only ever talk to this vtable, never to a
 * particular family, and find families by name through the registry.
 *
 * Each family declares what it outputs (class probabilities, a value, an
 * anomaly score), whether it needs labels, and which rows it reads (dense,
 * sparse CSR, or later fixed-length event windows of one entity, which the
 * feature layer builds online so batch and stream see the same rows). The
 * train path, the model file and the decision rule read these declarations
 * instead of asking which family it is. An estimator sees rows whose columns
 * are described by vg_feature (numeric, or categorical codes), integer class
 * labels when it needs them, and optional per-row weights (class weights
 * are already folded into them). */
#ifndef VIGIL_ESTIMATOR_H
#define VIGIL_ESTIMATOR_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/buf.h"
#include "vigil/matrix.h"
#include "vigil/pipeline.h"  /* vg_encoding */

#ifdef __cplusplus
extern "C" {
#endif

/* What a family's predict writes for each row (flags: a family may offer
 * several, e.g. gbdt classifies and regresses). */
enum {
    VG_ESTIMATOR_OUT_PROBA = 1u << 0, /* n_classes class probabilities summing to 1 */
    VG_ESTIMATOR_OUT_VALUE = 1u << 1, /* one predicted value (regression: n_classes == 1) */
    VG_ESTIMATOR_OUT_SCORE = 1u << 2  /* one anomaly score, higher = more unusual (fits without labels) */
};

/* The rows a family reads (flags). */
enum {
    VG_ESTIMATOR_IN_DENSE = 1u << 0,  /* vg_matrix */
    VG_ESTIMATOR_IN_SPARSE = 1u << 1, /* vg_csr: linear families over hashed text n-grams */
    /* With IN_DENSE: the rows are windows of the last T events of the row's
     * entity, [len, x_1 .. x_T] (oldest first, the row's own event last, the
     * first T - len zero padding), built by the train and predict paths
     * (vg_train_set.window) so a family never reads entities itself. */
    VG_ESTIMATOR_IN_WINDOW = 1u << 2
};

typedef struct vg_train_set {
    const vg_matrix *X;          /* rows x n_features, or NULL when Xs holds the rows */
    const vg_csr *Xs;            /* the rows as CSR (families with VG_ESTIMATOR_IN_SPARSE), or NULL */
    const vg_feature *features;  /* X->cols entries */
    const int32_t *y;            /* class index in [0, n_classes) per row; NULL for a family that
                                    needs no labels (they are for evaluation only) */
    const float *weight;         /* per-row weight, or NULL for all 1 */
    uint32_t n_classes;          /* >= 2; 1 means regression: y is NULL, target is set */
    const float *target;         /* regression only: the numeric label per row */
    uint32_t window;             /* VG_ESTIMATOR_IN_WINDOW: T >= 1, rows are 1 + T x features wide
                                    windows; 0: plain rows (no entity) */
} vg_train_set;

/* Progress: `done` of `total` units of `stage` (e.g. trees) finished. Called
 * from the training thread(s); must be cheap and thread-safe. */
typedef void (*vg_progress_fn)(void *user, const char *stage, size_t done, size_t total);

typedef struct vg_fit_options {
    uint64_t seed;
    int threads;               /* 0 = all CPUs */
    vg_progress_fn progress;   /* may be NULL */
    void *progress_user;
} vg_fit_options;

typedef struct vg_estimator_kind {
    const char *name;      /* registry name, e.g. "forest" */
    const char *summary;   /* one line for --help */
    vg_encoding encoding;  /* how the pipeline must encode the raw columns for this family */
    size_t params_size;    /* size of the family's parameter struct */

    /* Fill `params` (params_size bytes) with the defaults. */
    void (*params_default)(void *params);
    /* Set one parameter from text (names follow scikit-learn / XGBoost).
     * Unknown key or unparsable / out-of-range value: VG_ERR_INVALID with a
     * message naming the key, the value and what is allowed. */
    vg_status (*params_set)(void *params, const char *key, const char *value);
    /* NULL if the parameter set is consistent, else a static message. */
    const char *(*params_check)(const void *params);
    /* Every parameter as "key=value" separated by ", ", in the text
     * params_set reads (so `inspect` shows the defaults a model used too). */
    void (*params_describe)(const void *params, vg_wbuf *out);

    /* Train. *out_state is a new fitted state owned by the caller (free with
     * ->free). Must be deterministic for a given opt->seed whatever opt->threads. */
    vg_status (*fit)(const void *params, const vg_train_set *ts, const vg_fit_options *opt,
                     void **out_state);
    /* Class probabilities: proba is X->rows x n_classes, row-major, each row
     * summing to 1. X has the columns the state was trained on. */
    void (*predict)(const void *state, const vg_matrix *X, int threads, float *proba);
    uint32_t (*n_classes)(const void *state);

    /* Serialise / restore the fitted state. load must validate everything it
     * reads (counts, indices, tree links) and fail with VG_ERR_FORMAT, never crash. */
    vg_status (*save)(const void *state, vg_wbuf *w);
    vg_status (*load)(vg_rbuf *r, void **out_state);
    void (*free)(void *state);

    /* Optional: append human-readable "key: value\n" lines about the fitted
     * state (iterations, trees, depth, out-of-bag score...) to `out`. */
    void (*describe)(const void *state, vg_wbuf *out);

    /* Optional (may be NULL): the number of columns the fitted state
     * expects in X, so a model loader can check a loaded state against its
     * pipeline's width before predict (which treats a mismatch as a bug). */
    uint32_t (*n_features)(const void *state);

    /* The contract: VG_ESTIMATOR_OUT_* this family can produce, whether fit needs
     * labels (0: it fits on the rows alone, e.g. on the normal rows only),
     * and the VG_ESTIMATOR_IN_* it reads. Regression is VG_ESTIMATOR_OUT_VALUE. */
    unsigned outputs;
    int needs_labels;
    unsigned inputs;
    /* Required with VG_ESTIMATOR_IN_SPARSE: predict over CSR rows, as predict. */
    void (*predict_sparse)(const void *state, const vg_csr *X, int threads, float *out);

    /* Optional: a fast path for one row (n_features floats) -> n_classes
     * probabilities (regression: 1 value). Same result as predict. */
    void (*predict_row)(const void *state, const float *row, float *proba);
    /* Optional: 1 when predict scores each row alone and fast, so a table is
     * best encoded and scored a block of rows at a time (predict is then
     * called per block with threads = 1, from several threads at once). */
    int predict_in_blocks;

    /* Optional: explanations. n_outputs raw scores per row (gbdt binary: 1,
     * the log-odds; forest: one per class, the probabilities); explain fills
     * contrib, (n_features + 1) x n_outputs row-major by feature, whose last
     * row is the bias, so that for each output the column sums to the raw score.
     * VG_ESTIMATOR_IN_WINDOW: n_features is one event's, the row's current event. */
    uint32_t (*n_outputs)(const void *state);
    vg_status (*explain)(const void *state, const float *row, double *contrib);
    /* Optional, sparse families: explain row r of X; contrib gets (nnz of the
     * row + 1) x n_outputs, one row per entry of the row in its order and the
     * bias last, so that for each output the column sums to the raw score. */
    vg_status (*explain_sparse)(const void *state, const vg_csr *X, size_t r, double *contrib);

    /* Optional: feature importance, n_features values; kind 0 = gain,
     * 1 = cover, 2 = split count (see VG_IMPORTANCE_* in models/ensemble.h). */
    void (*importance)(const void *state, int kind, double *out);

    /* Optional (anomaly-score families): learning while watching (vigil watch
     * --adapt). adapt_new makes a learner from a fitted state (copied, not
     * kept) that keeps the last `window` rows and refreshes itself every
     * `refresh` rows; adapt_rows scores the rows of X in order, each with the
     * learner as it is before that row, then learns the row (a failed refresh
     * keeps the old model and is returned; the scores are written anyway);
     * adapt_state is the learner's current fitted state, which every other
     * function of the vtable takes (borrowed until the next adapt_rows). */
    vg_status (*adapt_new)(const void *state, uint32_t window, uint32_t refresh, uint64_t seed, void **learner);
    vg_status (*adapt_rows)(void *learner, const vg_matrix *X, float *out);
    const void *(*adapt_state)(const void *learner);
    void (*adapt_free)(void *learner);
    /* Optional, with the adapt hooks: the learner's memory beyond its fitted
     * state (recent rows, counters), so a restart continues where it stopped.
     * adapt_save appends it to w; adapt_load makes a learner from a fitted
     * state and those bytes, with adapt_new's window and refresh (0: the saved
     * ones), validating all it reads (VG_ERR_FORMAT, never a crash). */
    vg_status (*adapt_save)(const void *learner, vg_wbuf *w);
    vg_status (*adapt_load)(const void *state, vg_rbuf *r, uint32_t window, uint32_t refresh, uint64_t seed,
                            void **learner);
    /* Optional: the encoding these parameters need, for a family whose
     * encoding depends on them (the hybrid takes its supervised family's);
     * NULL: `encoding` above. */
    vg_encoding (*params_encoding)(const void *params);
    /* Optional (anomaly-score families): the scores predict gives the rows
     * fit was given, when fit worked them out on the way (LOF finds every
     * training row's neighbours to fit), so the train path sets the
     * contamination threshold without scoring those rows again. rows: the
     * count fit was given. Returns the scores (owned by the state, valid
     * until it is freed) or NULL when there are none (a loaded model). */
    const float *(*fit_scores)(const void *state, size_t rows);
} vg_estimator_kind;

/* NULL if k's declarations are consistent (required functions present,
 * outputs and inputs it can honour), else a static message; the registry
 * test runs it over every family. */
VG_API const char *vg_estimator_check(const vg_estimator_kind *k);

/* 1 if family k is given CSR rows: it reads them, and either text columns
 * (hashed n-grams, too wide for dense rows) are present or it reads nothing
 * else. The one rule the train path and the model's predict paths follow. */
VG_API int vg_estimator_reads_sparse(const vg_estimator_kind *k, size_t n_text);

/* Registry. Returns NULL for an unknown name. "NAME:SPEC" finds NAME (an
 * ensemble's parts: "vote:gbdt,forest"). */
VG_API const vg_estimator_kind *vg_estimator_find(const char *name);
/* All registered kinds, NULL-terminated; static storage. */
const vg_estimator_kind *const *vg_estimator_all(void);

/* The families (each in its own file under src/models/). */
extern VG_API const vg_estimator_kind vg_logreg_kind;  /* "logreg" */
extern VG_API const vg_estimator_kind vg_tree_kind;    /* "tree" */
extern VG_API const vg_estimator_kind vg_forest_kind;  /* "forest" */
extern VG_API const vg_estimator_kind vg_gbdt_kind;    /* "gbdt" */
extern VG_API const vg_estimator_kind vg_kmeans_kind;  /* "kmeans" */
extern VG_API const vg_estimator_kind vg_lof_kind;     /* "lof" */
extern VG_API const vg_estimator_kind vg_knn_kind;     /* "knn" */
extern VG_API const vg_estimator_kind vg_linear_svm_kind;  /* "linear-svm" */
extern VG_API const vg_estimator_kind vg_mlp_kind;     /* "mlp" */
extern VG_API const vg_estimator_kind vg_autoencoder_kind; /* "autoencoder" */
extern VG_API const vg_estimator_kind vg_iforest_kind; /* "iforest" (anomaly score) */
extern VG_API const vg_estimator_kind vg_svm_kind;     /* "svm" */
extern VG_API const vg_estimator_kind vg_lstm_kind;    /* "lstm" */
extern VG_API const vg_estimator_kind vg_gru_kind;     /* "gru" */
extern VG_API const vg_estimator_kind vg_vote_kind;    /* "vote:A,B,..." */
extern VG_API const vg_estimator_kind vg_stack_kind;   /* "stack:A,B,..." */
extern VG_API const vg_estimator_kind vg_adaboost_kind; /* "adaboost" (SAMME over trees) */
extern VG_API const vg_estimator_kind vg_bagging_kind; /* "bagging" (over any base family) */
extern VG_API const vg_estimator_kind vg_select_kind;  /* "select" (train --select K wraps the model in it) */
extern VG_API const vg_estimator_kind vg_hybrid_kind;  /* "hybrid": --model F --param stack_anomaly=A */

/* Helpers for params_set implementations: parse a whole string as a number
 * and check its range; on failure they set a message naming `key`. */
VG_API vg_status vg_param_double(const char *key, const char *value, double lo, double hi, double *out);
VG_API vg_status vg_param_int(const char *key, const char *value, long lo, long hi, long *out);
VG_API vg_status vg_param_bool(const char *key, const char *value, int *out);
VG_API vg_status vg_param_unknown(const char *family, const char *key);

#ifdef __cplusplus
}
#endif

#endif
