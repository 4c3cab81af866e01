/* Shared between sampler.c and sampler_smote.c (not public). */
#ifndef VG_SAMPLER_INTERNAL_H
#define VG_SAMPLER_INTERNAL_H

#include "vigil/sampler.h"

/* Take nX, ny, nw as the new X, *y, *w (freeing the old; w NULL: nw freed). */
vg_status vg_sampler_replace(vg_matrix *X, int32_t **y, float **w, vg_matrix *nX, int32_t *ny, float *nw);
/* SMOTE, borderline-SMOTE, ADASYN. */
vg_status vg_smote_resample(const vg_sampler_params *p, const uint8_t *is_categorical, uint32_t n_classes,
                            uint64_t seed, int threads, vg_matrix *X, int32_t **y, float **w);

#endif
