/* Predict-and-score for labelled data (see evaluate.h). */
#include "vigil/evaluate.h"
#include "eval/report_data.h"
#include "vigil/decision.h"
#include "eval/json_out.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static vg_status evaluate_regression(const vg_model *m, const vg_table *t, int threads, vg_evaluation *out)
{
    size_t rows = vg_table_rows(t);
    out->regression = 1;
    out->rows = rows;
    out->target = vg_malloc((rows ? rows : 1) * sizeof *out->target);
    if (!out->target) return vg_fail(VG_ERR_NOMEM, "out of memory");
    vg_status st = vg_model_targets(m, t, out->target);
    if (st) return st;
    double t0 = vg_now();
    if ((st = vg_model_predict(m, t, threads, &out->proba))) return st;
    out->predict_seconds = vg_now() - t0;
    return vg_regression_metrics_compute(out->target, out->proba, rows, &out->reg);
}

vg_status vg_evaluate(const vg_model *m, const vg_table *t, int threads, vg_evaluation *out)
{
    return vg_evaluate_at(m, t, threads, NAN, out);
}

vg_status vg_evaluate_at(const vg_model *m, const vg_table *t, int threads, double threshold, vg_evaluation *out)
{
    memset(out, 0, sizeof *out);
    vg_decision_rule rule;
    vg_status st = vg_decision_rule_for_model(m, threshold, &rule);
    if (st) return st;
    out->threshold = rule.threshold;
    if (vg_model_is_regression(m)) {
        vg_status rs = evaluate_regression(m, t, threads, out);
        if (rs) vg_evaluation_free(out);
        return rs;
    }
    size_t rows = vg_table_rows(t);
    uint32_t k = vg_model_classes(m)->n;
    out->rows = rows;
    out->y = vg_malloc((rows ? rows : 1) * sizeof *out->y);
    if (!out->y) return vg_fail(VG_ERR_NOMEM, "out of memory");
    st = vg_model_true_classes(m, t, out->y, &out->excluded);
    if (st) goto err;
    double t0 = vg_now();
    if ((st = vg_model_predict(m, t, threads, &out->proba))) goto err;
    out->predict_seconds = vg_now() - t0;
    if (out->excluded == rows) {
        const vg_classes *c = vg_model_classes(m);
        st = vg_fail(VG_ERR_DATA, "%s: no row has a label the model knows (its classes: %s, %s%s)",
                     vg_table_source(t), c->names[0], c->names[1], c->n > 2 ? ", ..." : "");
        goto err;
    }
    /* Score only rows with known labels; compact them when some are unseen. */
    const int32_t *y = out->y;
    const float *p = out->proba;
    int32_t *yk = NULL;
    float *pk = NULL;
    size_t n = rows;
    if (out->excluded) {
        yk = vg_malloc(rows * sizeof *yk);
        pk = vg_malloc(rows * k * sizeof *pk);
        if (!yk || !pk) {
            vg_free(yk), vg_free(pk);
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
            goto err;
        }
        n = 0;
        for (size_t r = 0; r < rows; r++)
            if (y[r] >= 0) {
                yk[n] = y[r];
                memcpy(pk + n * k, p + r * k, k * sizeof *pk);
                n++;
            }
        y = yk, p = pk;
    }
    /* The confusion matrix and every count from it follow the decision
     * rule (the threshold, the label of an anomaly), not the argmax. */
    int32_t *decided = vg_malloc((n ? n : 1) * sizeof *decided);
    if (!decided) {
        vg_free(yk), vg_free(pk);
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto err;
    }
    vg_decision_labels(&rule, p, n, decided);
    st = vg_metrics_compute_decided(y, p, decided, n, k, &out->metrics);
    vg_free(decided);
    vg_free(yk), vg_free(pk);
    if (st) goto err;
    return VG_OK;
err:
    vg_evaluation_free(out);
    return st;
}

void vg_evaluation_free(vg_evaluation *e)
{
    if (!e) return;
    vg_metrics_free(&e->metrics);
    vg_free(e->proba);
    vg_free(e->y);
    vg_free(e->target);
    memset(e, 0, sizeof *e);
}

/* Gain and cover as shares of their totals (comparable across models),
 * split counts as they are; fields in input order. */
vg_status vg_importance_to_json(const vg_model *m, cJSON *obj)
{
    const vg_pipeline *p = vg_model_pipeline(m);
    size_t n = vg_pipeline_n_inputs(p);
    double *v = vg_malloc((n ? n : 1) * sizeof *v);
    if (!v) return vg_fail(VG_ERR_NOMEM, "out of memory");
    static const char *const kinds[] = { "gain", "cover", "splits" };
    cJSON *imp = NULL;
    for (int k = 0; k < 3; k++) {
        if (vg_model_importance(m, k, v)) break;
        if (!imp) imp = cJSON_AddObjectToObject(obj, "feature_importance");
        cJSON *kind = cJSON_AddObjectToObject(imp, kinds[k]);
        double total = 0;
        for (size_t i = 0; i < n; i++) total += v[i];
        for (size_t i = 0; i < n; i++)
            cJSON_AddNumberToObject(kind, vg_pipeline_input_name(p, i), k < 2 && total > 0 ? v[i] / total : v[i]);
    }
    vg_free(v);
    return VG_OK;
}

typedef struct ranked {
    size_t input;
    double value;
} ranked;

static int by_value_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return (x->value < y->value) - (x->value > y->value);
}

void vg_importance_format(const vg_model *m, size_t top, vg_wbuf *out)
{
    const vg_pipeline *p = vg_model_pipeline(m);
    size_t n = vg_pipeline_n_inputs(p);
    double *gain = vg_malloc((n ? n : 1) * sizeof *gain), *cover = vg_malloc((n ? n : 1) * sizeof *cover);
    double *splits = vg_malloc((n ? n : 1) * sizeof *splits);
    ranked *r = vg_malloc((n ? n : 1) * sizeof *r);
    if (gain && cover && splits && r && !vg_model_importance(m, 0, gain) && !vg_model_importance(m, 1, cover) &&
        !vg_model_importance(m, 2, splits)) {
        double tg = 0, tc = 0;
        for (size_t i = 0; i < n; i++) tg += gain[i], tc += cover[i], r[i] = (ranked){ i, gain[i] };
        qsort(r, n, sizeof *r, by_value_desc);
        char line[256];
        int len = snprintf(line, sizeof line, "\nFeature importance (share of total gain; top %zu of %zu fields)\n"
                           "  %-30s %8s %8s %8s\n", VG_MIN(top, n), n, "field", "gain", "cover", "splits");
        vg_wbuf_bytes(out, line, (size_t)len);
        for (size_t i = 0; i < n && i < top; i++) {
            size_t f = r[i].input;
            len = snprintf(line, sizeof line, "  %-30.30s %8.4f %8.4f %8.0f\n", vg_pipeline_input_name(p, f),
                           tg > 0 ? gain[f] / tg : 0, tc > 0 ? cover[f] / tc : 0, splits[f]);
            vg_wbuf_bytes(out, line, (size_t)VG_MIN(len, (int)sizeof line - 1));
        }
    }
    vg_free(gain), vg_free(cover), vg_free(splits), vg_free(r);
}

char *vg_evaluation_json(const vg_model *m, const vg_evaluation *e)
{
    const vg_classes *c = vg_model_classes(m);
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "model", vg_model_family(m));
    cJSON_AddStringToObject(o, "task", vg_task_str(vg_model_task(m)));
    cJSON *classes = cJSON_AddArrayToObject(o, "classes");
    for (uint32_t i = 0; classes && i < c->n; i++) cJSON_AddItemToArray(classes, cJSON_CreateString(c->names[i]));
    if (e->regression) {
        cJSON_AddNumberToObject(o, "rows", (double)e->reg.rows);
        vg_regression_metrics_to_json(&e->reg, o);
    } else {
        cJSON_AddNumberToObject(o, "rows", (double)e->metrics.rows);
        cJSON_AddNumberToObject(o, "excluded_rows", (double)e->excluded);
        cJSON_AddNumberToObject(o, "threshold", e->threshold);
        vg_metrics_to_json(&e->metrics, (const char *const *)c->names, o);
    }
    vg_importance_to_json(m, o);
    /* Thinned curves and score histograms: what a model card draws from the
     * metrics stored in the model file. Left out if they cannot be had. */
    if (!e->regression) {
        vg_eval_plots plots;
        if (vg_eval_plots_compute(m, e, &plots) == VG_OK)
            vg_eval_plots_to_json(&plots, (const char *const *)c->names, o);
        vg_eval_plots_free(&plots);
    }
    cJSON_AddNumberToObject(o, "train_rows", (double)vg_model_train_rows(m));
    cJSON_AddNumberToObject(o, "train_seconds", vg_model_train_seconds(m));
    cJSON_AddNumberToObject(o, "predict_seconds", e->predict_seconds);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return NULL;
    char *copy = vg_strdup(text);
    cJSON_free(text);
    return copy;
}

void vg_evaluation_format(const vg_model *m, const vg_evaluation *e, vg_wbuf *out)
{
    if (e->regression) vg_regression_metrics_format(&e->reg, out);
    else vg_metrics_format(&e->metrics, (const char *const *)vg_model_classes(m)->names, out);
}
