/* Cross-validation and training at an operating point.
 *
 * vg_cv_run fits the train request k times, each time on a fold's training
 * rows alone (vg_table_take of those rows into vg_model_train), so every
 * fitted step — the pipeline's imputer, scaler and category lists, a
 * sampler, the estimator, an operating point — sees only that fold's
 * training rows; the fold's held-out rows are scored by the fitted model
 * and nothing else. It never looks at the family: whatever the registry
 * trains is cross-validated alike.
 *
 * vg_cv_train fits a request whose threshold is chosen by an operating
 * point (vigil/operating_point.h): the threshold comes from out-of-fold
 * scores of the request's own rows, then the model is fitted on all of them
 * with that threshold saved. Inside vg_cv_run a request with an operating
 * point is trained this way on each fold's training rows (nested), so the
 * threshold a fold is scored at never saw that fold. */
#ifndef VIGIL_CV_H
#define VIGIL_CV_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/folds.h"
#include "vigil/model.h"
#include "vigil/operating_point.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called after each fit with the fold's model and rows (borrowed for the
 * call), for tests and progress. */
typedef void (*vg_cv_fold_fn)(void *user, uint32_t fold, const vg_model *m, const size_t *train, size_t n_train,
                              const size_t *test, size_t n_test);

typedef struct vg_cv_params {
    uint32_t folds;              /* k, default 5 */
    vg_folds_kind kind;          /* stratified (default), grouped or time */
    const char *column;          /* grouped: the group column; time: the time column */
    const vg_operating_point *op;/* NULL: the request's own threshold (or the default) */
    uint32_t op_folds;           /* folds of the inner split that chooses op's threshold; default 5 */
    vg_cv_fold_fn on_fold;       /* may be NULL */
    void *user;
} vg_cv_params;

VG_API vg_cv_params vg_cv_params_default(void);

/* Results: one row of metric values per fold. */
typedef struct vg_cv_result {
    uint32_t folds;
    size_t n_metrics;
    const char *const *names;    /* n_metrics metric names (static storage) */
    double *value;               /* folds x n_metrics, owned; NaN where undefined */
    double *mean, *std;          /* n_metrics each, owned: over the folds where defined (std: population) */
    size_t *train_rows, *test_rows;  /* per fold, owned */
    /* Out-of-fold decision scores (vigil/decision.h), one per row of the
     * table: NaN for rows no fold scored (time folds' first block, labels a
     * fold's model never saw); oof_positive: 1 for a row whose truth is not
     * the normal class, 0 for normal, 2 for unknown (regression: unused). */
    float *oof_score;
    uint8_t *oof_positive;
    size_t rows;
    int regression;
} vg_cv_result;

/* Cross-validate rq (its table, model, parameters, seed and threads; each
 * fold's model is fitted with rq's seed) over folds dealt as p says. Errors:
 * those of the folds, of training and evaluation (the fold is named). */
VG_API vg_status vg_cv_run(const vg_train_request *rq, const vg_cv_params *p, vg_cv_result *out);
VG_API void vg_cv_result_free(vg_cv_result *r);

/* The folds p asks for over rq's table (classes of rq's label for
 * stratified folds). */
VG_API vg_status vg_cv_folds(const vg_train_request *rq, const vg_cv_params *p, vg_folds *out);

/* Train rq with its threshold chosen by op on `folds`-fold out-of-fold
 * scores of rq's rows (stratified, rq's seed); the model saves the
 * threshold and how it was chosen. *chosen (may be NULL) gets what the
 * threshold gives on those scores. VG_ERR_INVALID for a regression task. */
VG_API vg_status vg_cv_train(const vg_train_request *rq, const vg_operating_point *op, uint32_t folds,
                             vg_op_result *chosen, vg_model **out);

#ifdef __cplusplus
}
#endif

#endif
