/* Regression metrics: RMSE, MAE and R^2 (scikit-learn's r2_score). */
#include "vigil/metrics.h"
#include "eval/json_out.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

vg_status vg_regression_metrics_compute(const float *target, const float *prediction, size_t rows,
                                        vg_regression_metrics *out)
{
    memset(out, 0, sizeof *out);
    if (rows == 0) return vg_fail(VG_ERR_INVALID, "regression metrics need at least one row");
    double sum = 0;
    for (size_t i = 0; i < rows; i++) {
        if (!isfinite(target[i]) || !isfinite(prediction[i]))
            return vg_fail(VG_ERR_INVALID, "row %zu: target or prediction is not a finite number", i + 1);
        sum += target[i];
    }
    double mean = sum / (double)rows, sse = 0, sae = 0, sst = 0;
    for (size_t i = 0; i < rows; i++) {
        double e = (double)prediction[i] - target[i], d = (double)target[i] - mean;
        sse += e * e;
        sae += fabs(e);
        sst += d * d;
    }
    out->rows = rows;
    out->rmse = sqrt(sse / (double)rows);
    out->mae = sae / (double)rows;
    out->r2 = sst > 0 ? 1.0 - sse / sst : NAN;
    out->mean_target = mean;
    return VG_OK;
}

void vg_regression_metrics_format(const vg_regression_metrics *m, vg_wbuf *out)
{
    char text[256];
    int n = snprintf(text, sizeof text,
                     "Metrics over %zu rows (regression)\n\n  RMSE          %.6g\n  MAE           %.6g\n"
                     "  R^2           %.4f\n  mean target   %.6g\n",
                     m->rows, m->rmse, m->mae, m->r2, m->mean_target);
    if (n > 0) vg_wbuf_bytes(out, text, (size_t)VG_MIN(n, (int)sizeof text - 1));
}

static void add_number(cJSON *obj, const char *key, double v)
{
    cJSON_DeleteItemFromObject(obj, key);
    if (isfinite(v)) cJSON_AddNumberToObject(obj, key, v);
    else cJSON_AddNullToObject(obj, key);
}

vg_status vg_regression_metrics_to_json(const vg_regression_metrics *m, cJSON *obj)
{
    add_number(obj, "rmse", m->rmse);
    add_number(obj, "mae", m->mae);
    add_number(obj, "r2", m->r2);
    add_number(obj, "mean_target", m->mean_target);
    return VG_OK;
}
