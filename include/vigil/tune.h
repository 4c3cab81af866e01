/* Parameter search with cross-validation: grid, random or TPE search over
 * parameter axes, each trial scored by the mean of a metric over the folds
 * of vg_cv_run (so each trial's every fitted step sees only its folds'
 * training rows), the best refitted on all rows by the caller.
 *
 * An axis is "KEY=V1,V2,..." (values as given) or "KEY=LO:HI[:log]" (a
 * range: random search draws uniformly, or log-uniformly; grid search takes
 * 5 points, evenly or log-evenly spaced; integer ends give whole numbers).
 * Trials are reproducible from the seed: random search draws from (seed,
 * trial), and every cv uses the request's seed, so trials differ only by
 * their parameters. TPE (tree-structured Parzen estimator, src/eval/tpe.c)
 * draws its first 10 trials as random search does, then proposes each next
 * setting from the results so far, drawing from (seed, trial). */
#ifndef VIGIL_TUNE_H
#define VIGIL_TUNE_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/cv.h"
#include "vigil/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_tune_axis {
    char *key;                 /* owned */
    char **values;             /* a list: n_values strings, owned; NULL for a range */
    size_t n_values;
    double lo, hi;             /* a range */
    int log, integer;
} vg_tune_axis;

/* Parse "KEY=V1,V2" or "KEY=LO:HI[:log]" into *out (free with
 * vg_tune_axis_free). VG_ERR_INVALID naming the text otherwise (an empty
 * value, LO >= HI, a log range not above 0). */
VG_API vg_status vg_tune_axis_parse(const char *spec, vg_tune_axis *out);
VG_API void vg_tune_axis_free(vg_tune_axis *a);

typedef enum vg_tune_search { VG_TUNE_GRID = 0, VG_TUNE_RANDOM = 1, VG_TUNE_TPE = 2 } vg_tune_search;

/* "grid", "random", "tpe"; static storage. */
VG_API const char *vg_tune_search_str(vg_tune_search s);

typedef struct vg_tune_params {
    vg_tune_search search;
    uint32_t trials;           /* random search: how many (default 20); grid: a cap, 0 = all */
    vg_cv_params cv;           /* folds and how they are dealt */
    const char *metric;        /* a vg_cv_result metric name (roc_auc default) or "recall_at_fpr:F" */
    /* Successive halving: every setting is first cross-validated on a
     * stratified third^R of the rows, the best third (rounded up) promoted
     * to three times the rows, and so on until the survivors see every row
     * (R + 1 rungs, R as large as the settings and a floor of rows allow). */
    int halving;
    /* Seconds after which no new trial starts (0 = no limit); the trials
     * that ran are kept. A budget makes the result depend on the machine. */
    double time_budget;
} vg_tune_params;

VG_API vg_tune_params vg_tune_params_default(void);

/* 1 if a larger value of `metric` is better (log_loss, rmse, mae: smaller). */
VG_API int vg_tune_metric_higher_better(const char *metric);

typedef struct vg_tune_trial {
    char **params;             /* n_params "KEY=VALUE" strings of the search axes, owned */
    size_t n_params;
    double mean, std;          /* of the metric over the folds (recall_at_fpr: on pooled out-of-fold scores, std NaN) */
    double seconds;            /* over all the rungs it ran */
    uint32_t rung;             /* the last rung it ran (0 without halving) */
    size_t rows;               /* the rows it was cross-validated on there */
} vg_tune_trial;

typedef struct vg_tune_result {
    vg_tune_trial *trials;     /* n_trials, owned */
    size_t n_trials;
    size_t best;               /* index of the best trial (ties: the first) */
    int higher_better;
    uint32_t n_rungs;          /* 1 without halving */
    int budget_hit;            /* the time budget stopped the search */
    double seconds;            /* the whole search */
} vg_tune_result;

/* Search: every trial cross-validates rq with rq->params followed by the
 * trial's axis values (so an axis overrides a fixed --param). Unknown or
 * out-of-range parameters fail before any fit (TPE's, which depend on
 * earlier results, are checked as they are proposed). Trials that do not
 * depend on each other (grid, random, TPE's first random ones, a rung of
 * halving) run side by side on rq->threads threads, one thread each; the
 * results are the same for any thread count. The best trial is the best
 * mean among those that reached the last rung. */
VG_API vg_status vg_tune_run(const vg_train_request *rq, const vg_tune_axis *axes, size_t n_axes,
                             const vg_tune_params *p, vg_tune_result *out);
VG_API void vg_tune_result_free(vg_tune_result *r);

#ifdef __cplusplus
}
#endif

#endif
