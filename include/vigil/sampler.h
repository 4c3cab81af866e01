/* Samplers for imbalanced classes, applied to the training rows of a fit
 * only (vg_model_train calls them after the pipeline, so inside each fold
 * of a cross-validation too, and never on rows a model is scored on):
 *   random-over        copies of rows of the smaller classes, drawn with replacement
 *   random-under       a random subset of the larger classes, without replacement
 *   smote              new rows on segments between a row and one of its
 *                      k_neighbors nearest rows of the same class (Chawla et al. 2002)
 *   borderline-smote   the same from the rows in danger only: those with at least
 *                      half but not all of their m_neighbors nearest rows (all
 *                      classes) in other classes (Han et al. 2005, borderline-1)
 *   adasyn             as many new rows from each row as the share of other classes
 *                      among its k_neighbors nearest rows (He et al. 2008)
 * Categorical features (category codes, as the native encoding gives them)
 * are handled as SMOTE-NC does: a mismatch adds med^2 / 2 to the squared
 * distance (med: the median standard deviation of the numeric features
 * over the smallest class, imbalanced-learn's choice), and a new row takes the most frequent
 * category among the base row's k nearest neighbours.
 *
 * sampling_strategy: "auto" (over: every class but the largest up to its
 * count; under: every class but the smallest down to its count),
 * "minority" (the smallest class alone), or a fraction a: over - each
 * smaller class up to a * the largest count; under - each larger class down
 * to the smallest count / a. The counts match imbalanced-learn's. New rows
 * take the weight (class_weight) of the row they were made from. */
#ifndef VIGIL_SAMPLER_H
#define VIGIL_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_sampler_kind {
    VG_SAMPLER_RANDOM_OVER = 0,
    VG_SAMPLER_RANDOM_UNDER = 1,
    VG_SAMPLER_SMOTE = 2,
    VG_SAMPLER_BORDERLINE_SMOTE = 3,
    VG_SAMPLER_ADASYN = 4
} vg_sampler_kind;

typedef struct vg_sampler_params {
    vg_sampler_kind kind;
    uint32_t k_neighbors;      /* smote, borderline: 5; adasyn's n_neighbors (5) */
    uint32_t m_neighbors;      /* borderline-smote: 10 */
    int strategy;              /* 0 auto, 1 minority, 2 a fraction */
    double fraction;           /* strategy 2 */
} vg_sampler_params;

/* The defaults of sampler `name` (one of the names above); VG_ERR_INVALID
 * naming it and the choices otherwise. */
VG_API vg_status vg_sampler_params_default(const char *name, vg_sampler_params *out);
/* One KEY=VALUE (k_neighbors, m_neighbors, n_neighbors, sampling_strategy);
 * unknown keys and out-of-range values are VG_ERR_INVALID naming them. */
VG_API vg_status vg_sampler_params_set(vg_sampler_params *p, const char *kv);
/* Name and parameters in one call (params: n strings "KEY=VALUE"). */
VG_API vg_status vg_sampler_params_parse(const char *name, const char *const *params, size_t n,
                                         vg_sampler_params *out);
VG_API const char *vg_sampler_kind_str(vg_sampler_kind k);

/* How many rows of each class the strategy wants (target[c] >= count[c]
 * for over-samplers, <= for under). */
VG_API vg_status vg_sampler_targets(const vg_sampler_params *p, const size_t *count, uint32_t n_classes,
                                    size_t *target);

/* Resample the rows of X (rows x cols; features[j].kind says which columns
 * hold category codes, NULL = all numeric) with classes *y (n_classes) and
 * optional per-row weights *w: X, *y and *w are replaced by new arrays
 * (the old ones freed). The original rows come first, in order, for the
 * over-samplers. Reproducible from seed whatever the thread count. */
VG_API vg_status vg_sampler_apply(const vg_sampler_params *p, const uint8_t *is_categorical, uint32_t n_classes,
                                  uint64_t seed, int threads, vg_matrix *X, int32_t **y, float **w);

/* The sampler `name` with its "KEY=VALUE" params applied to a training
 * matrix whose columns `features` describe (vigil/matrix.h): as
 * vg_sampler_apply. The one call training makes. */
VG_API vg_status vg_sampler_run(const char *name, const char *const *params, size_t n_params,
                                const vg_feature *features, uint32_t n_classes, uint64_t seed, int threads,
                                vg_matrix *X, int32_t **y, float **w);

/* Exact k nearest neighbours (squared Euclidean, the SMOTE-NC mismatch cost
 * for categorical columns, ties by lower row index) of rows query[0..nq)
 * among rows ref[0..nr) of X, a row never its own neighbour: out[i*k + j]
 * is the position in ref of query i's j-th nearest (dist, if not NULL, its
 * squared distance). A k-d tree over the numeric columns prunes; queries run
 * on `threads` threads with results independent of them. k <= nr - 1 when
 * the query rows are among the ref rows. */
VG_API vg_status vg_knn(const vg_matrix *X, const uint8_t *is_categorical, double cat_cost, const size_t *ref,
                        size_t nr, const size_t *query, size_t nq, uint32_t k, int threads, uint32_t *out,
                        double *dist);

/* The SMOTE step for given draws (exposed for the golden test against
 * imbalanced-learn): with s = pick[i] / k, new row i = X[seed_rows[s]] +
 * gap[i] * (X[pool[nn[pick[i]]]] - X[seed_rows[s]]) on numeric columns; a
 * categorical column takes the most frequent value among seed s's k
 * neighbours (lowest on ties). nn: k positions in pool per seed row.
 * out: n_new x cols. */
VG_API void vg_smote_make(const vg_matrix *X, const uint8_t *is_categorical, const size_t *seed_rows,
                          const size_t *pool, const uint32_t *nn, uint32_t k, const uint32_t *pick, const double *gap,
                          size_t n_new, float *out);

#ifdef __cplusplus
}
#endif

#endif
