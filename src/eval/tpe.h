/* The tree-structured Parzen estimator's proposal step (tpe.c), used by
 * vg_tune_run for --search tpe. Internal to src/eval/.
 *
 * A point of the search space is one coordinate per axis: a list axis the
 * index of its value, a range axis u in [0, 1] along its (log-)scale. */
#ifndef VG_EVAL_TPE_H
#define VG_EVAL_TPE_H

#include <stddef.h>
#include <stdint.h>
#include "vigil/tune.h"

/* Trials drawn at random before the estimator takes over (Optuna's default). */
#define VG_TPE_STARTUP 10
/* Candidates drawn from the good density per proposal (Optuna's default). */
#define VG_TPE_CANDIDATES 24

/* Propose x[n_axes] from n observed points X (n x n_axes, row-major) with
 * losses loss[n] (lower is better; +inf for a failed trial), drawing from
 * the generator seeded (seed, stream). n must be >= 2. Never fails. */
void vg_tpe_suggest(const vg_tune_axis *axes, size_t n_axes, const double *X, const double *loss, size_t n,
                    uint64_t seed, uint64_t stream, double *x);

/* How many of n observations count as good: Optuna's default gamma,
 * min(ceil(0.1 n), 25), at least 1. */
size_t vg_tpe_n_good(size_t n);

#endif
