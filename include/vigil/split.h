/* Stratified splits: a train/test hold-out and k folds, each class spread
 * in proportion, reproducible from a seed. */
#ifndef VIGIL_SPLIT_H
#define VIGIL_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Put round(test_fraction * count_c) rows of every class c in the test set
 * (at least one row of each class with two or more rows on each side). Rows
 * keep their original order inside each part. *train_idx and *test_idx are
 * vg_malloc'd (caller frees). y holds classes in [0, n_classes). */
VG_API vg_status vg_split_holdout(const int32_t *y, size_t rows, uint32_t n_classes, double test_fraction,
                           uint64_t seed, size_t **train_idx, size_t *n_train, size_t **test_idx,
                           size_t *n_test);

/* Assign each row a fold in [0, k) so every class is spread evenly. fold is
 * rows entries, caller-allocated. */
VG_API vg_status vg_split_kfold(const int32_t *y, size_t rows, uint32_t n_classes, uint32_t k, uint64_t seed,
                         uint32_t *fold);

#ifdef __cplusplus
}
#endif

#endif
