/* Checks of a train set's rows that every family reading labels, weights or
 * category codes needs, in one place so each family states its own limits
 * (row counts, class counts) and leaves the per-row checks here. */
#ifndef VG_MODELS_TRAIN_SET_H
#define VG_MODELS_TRAIN_SET_H

#include "vigil/estimator.h"

/* Labels in [0, n_classes) when ts->y is set for a classification (n_classes >= 2), weights finite and >= 0 when
 * ts->weight is set, and every categorical column of ts->X holding whole
 * category codes in [0, n_categories) or NaN (missing). The message names the
 * row, the feature and the value ("train set: ..."). */
vg_status vg_train_set_check_rows(const vg_train_set *ts);

#endif
