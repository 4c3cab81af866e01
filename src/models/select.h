/* Feature selection inside a fit (`--select K --select-by importance|
 * mutual_info`): the train path wraps the chosen family in the "select"
 * family, whose fit scores the columns on its own training rows only and
 * fits the family on the K best, so inside `vigil cv` and `vigil tune` each
 * fold chooses its columns from its training rows, and the choice is saved
 * in the model and applied by every predict path through the vtable. */
#ifndef VG_MODELS_SELECT_H
#define VG_MODELS_SELECT_H

#include <stdint.h>
#include "vigil/estimator.h"

typedef enum vg_select_by {
    VG_SELECT_IMPORTANCE = 0,  /* a random forest's impurity importance (100 trees, the fit's seed) */
    VG_SELECT_MUTUAL_INFO = 1  /* mutual information with the class, numbers in equal-frequency bins */
} vg_select_by;

const char *vg_select_by_str(vg_select_by by);
/* "importance" or "mutual_info" -> *by; else VG_ERR_INVALID naming them. */
vg_status vg_select_by_parse(const char *s, vg_select_by *by);

/* Score every column of ts (dense rows, class labels) and write the k best
 * into cols, ascending (ties: the lower column); scores (may be NULL) gets
 * every column's score. Deterministic for a seed whatever the threads. */
vg_status vg_select_columns(const vg_train_set *ts, uint32_t k, vg_select_by by, uint64_t seed, int threads,
                            uint32_t *cols, double *scores);

/* The columns a fitted "select" state keeps (borrowed) and their count. */
const uint32_t *vg_select_state_columns(const void *state, uint32_t *n);

#endif
