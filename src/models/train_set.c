#include "models/train_set.h"

#include <math.h>

vg_status vg_train_set_check_rows(const vg_train_set *ts)
{
    const vg_matrix *X = ts->X;
    for (size_t r = 0; ts->y && ts->n_classes >= 2 && r < X->rows; r++)
        if (ts->y[r] < 0 || (uint32_t)ts->y[r] >= ts->n_classes)
            return vg_fail(VG_ERR_INVALID, "train set: row %zu has class %d, outside [0, %u)", r, ts->y[r],
                           ts->n_classes);
    for (size_t r = 0; ts->weight && r < X->rows; r++)
        if (!(ts->weight[r] >= 0.0f && isfinite(ts->weight[r])))
            return vg_fail(VG_ERR_INVALID, "train set: row %zu has weight %g", r, (double)ts->weight[r]);
    for (size_t f = 0; f < X->cols; f++) {
        const vg_feature *ft = &ts->features[f];
        if (ft->kind == VG_FEATURE_NUMERIC) continue;
        if (ft->kind != VG_FEATURE_CATEGORICAL || ft->n_categories >= (1u << 30))
            return vg_fail(VG_ERR_INVALID, "train set: feature %zu has a bad kind or category count", f);
        for (size_t r = 0; r < X->rows; r++) {
            float x = X->data[r * X->cols + f];
            if (isnan(x)) continue;
            if (!(x >= 0.0f && x < (float)ft->n_categories && x == floorf(x)))
                return vg_fail(VG_ERR_INVALID, "train set: feature %s, row %zu: %g is not a category code in "
                               "[0, %u)", ft->name ? ft->name : "?", r, (double)x, ft->n_categories);
        }
    }
    return VG_OK;
}
