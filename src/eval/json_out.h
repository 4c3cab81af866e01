/* The evaluation as cJSON objects, for the library's own JSON writers (the
 * --json output, the model file's metrics, the server's model pages). Kept
 * out of the public headers so that no cJSON type reaches a caller of
 * libvigil; callers get JSON text from vg_evaluation_json. */
#ifndef VG_EVAL_JSON_OUT_H
#define VG_EVAL_JSON_OUT_H

#include <cjson/cJSON.h>
#include "vigil/evaluate.h"
#include "vigil/metrics.h"

/* The metric keys of DESIGN.md's --json contract (accuracy, precision,
 * recall, f1, fpr, macro_f1, weighted_f1, roc_auc, pr_auc, log_loss,
 * confusion_matrix, per_class) added to an existing object. NaN is written
 * as null. */
vg_status vg_metrics_to_json(const vg_metrics *m, const char *const *class_names, cJSON *obj);
/* Adds rmse, mae, r2 (null if NaN) and mean_target to obj. */
vg_status vg_regression_metrics_to_json(const vg_regression_metrics *m, cJSON *obj);
/* Feature importance of the model's family, folded to input fields:
 * "feature_importance": {"gain": {field: share}, "cover": {...}, "splits":
 * {field: count}} added to obj; nothing when the family has none. */
vg_status vg_importance_to_json(const vg_model *m, cJSON *obj);

#endif
