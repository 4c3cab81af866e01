/* Seeded pseudo-random numbers (xoshiro256**), so every training run is
 * reproducible from --seed. One generator per thread or per task: a forest
 * seeds tree i from (seed, i), which keeps results independent of thread count. */
#ifndef VIGIL_RNG_H
#define VIGIL_RNG_H

#include "vigil/core.h"
#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vg_rng { uint64_t s[4]; } vg_rng;

/* Seed from a 64-bit value and a stream number (e.g. the tree index). */
VG_API void vg_rng_seed(vg_rng *r, uint64_t seed, uint64_t stream);
VG_API uint64_t vg_rng_next(vg_rng *r);
/* Uniform double in [0, 1). */
VG_API double vg_rng_uniform(vg_rng *r);
/* Uniform integer in [0, n); n > 0. */
VG_API uint32_t vg_rng_below(vg_rng *r, uint32_t n);
/* Standard normal draw. */
VG_API double vg_rng_normal(vg_rng *r);
/* Fisher-Yates shuffle of n 32-bit values. */
VG_API void vg_rng_shuffle_u32(vg_rng *r, uint32_t *v, size_t n);

#ifdef __cplusplus
}
#endif

#endif
