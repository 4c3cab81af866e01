/* Cross-validation folds: which rows each of k fits trains on and which rows
 * it is scored on. Three ways to deal them:
 *   stratified  every class spread evenly over the k test folds (vigil/split.h);
 *   grouped     every row of a group (a host, a user, a session) in the same
 *               test fold, so one entity never sits on both sides of a fit;
 *   time        forward chaining: the rows sorted by a time column cut into
 *               k + 1 consecutive blocks; fit f trains on blocks 0..f and is
 *               scored on block f + 1, so a model never trains on the future
 *               of the rows it is scored on (the first block is never scored).
 * Reproducible from a seed; the time folds need none. */
#ifndef VIGIL_FOLDS_H
#define VIGIL_FOLDS_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"
#include "vigil/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vg_folds_kind {
    VG_FOLDS_STRATIFIED = 0,
    VG_FOLDS_GROUPED = 1,
    VG_FOLDS_TIME = 2
} vg_folds_kind;

VG_API const char *vg_folds_kind_str(vg_folds_kind k);

typedef struct vg_folds {
    vg_folds_kind kind;
    uint32_t k;        /* fits */
    size_t rows;
    uint32_t *block;   /* rows entries, owned: the test fold of each row (time: its block, 0..k) */
} vg_folds;

/* Stratified: y holds classes in [0, n_classes) (NULL or n_classes 1 for a
 * plain shuffled k-fold, as for regression). VG_ERR_INVALID for k < 2 or
 * more folds than rows. */
VG_API vg_status vg_folds_stratified(const int32_t *y, size_t rows, uint32_t n_classes, uint32_t k, uint64_t seed,
                                     vg_folds *out);

/* Grouped by column `col` of t (categories, or numbers taken as exact
 * values; a missing value is a group of its own): groups are shuffled with
 * the seed, then dealt largest first to the fold with the fewest rows so far
 * (scikit-learn's GroupKFold balancing). VG_ERR_DATA for fewer groups than k. */
VG_API vg_status vg_folds_grouped(const vg_table *t, size_t col, uint32_t k, uint64_t seed, vg_folds *out);

/* Forward chaining on column `col` of t (numbers, or text that sorts in time
 * order such as ISO 8601); ties keep the file's order. VG_ERR_DATA for a
 * missing time, naming the line. */
VG_API vg_status vg_folds_time(const vg_table *t, size_t col, uint32_t k, vg_folds *out);

/* The training and scoring rows of fit f (0..k-1), ascending: *train and
 * *test are vg_malloc'd (caller frees). */
VG_API vg_status vg_folds_rows(const vg_folds *folds, uint32_t f, size_t **train, size_t *n_train, size_t **test,
                               size_t *n_test);

/* Frees the assignment and zeroes *f; accepts NULL. */
VG_API void vg_folds_free(vg_folds *f);

#ifdef __cplusplus
}
#endif

#endif
