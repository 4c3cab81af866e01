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

/* An anomaly model's alerts per raw value of the label column, in the
 * column's dictionary order (the first seen first). */
static vg_status alerts_by_label(const vg_model *m, const vg_table *t, const int32_t *decided_all,
                                 vg_evaluation *out)
{
    long col = vg_table_find(t, vg_model_label(m));
    if (col < 0 || vg_table_type(t, (size_t)col) != VG_COLUMN_CATEGORICAL) return VG_OK;
    uint32_t n = vg_table_n_categories(t, (size_t)col);
    out->by_label = vg_calloc(n ? n : 1, sizeof *out->by_label);
    if (!out->by_label) return vg_fail(VG_ERR_NOMEM, "out of memory");
    out->n_by_label = n;
    for (uint32_t k = 0; k < n; k++)
        if (!(out->by_label[k].label = vg_strdup(vg_table_category(t, (size_t)col, k))))
            return vg_fail(VG_ERR_NOMEM, "out of memory");
    const uint32_t *codes = vg_table_codes(t, (size_t)col);
    for (size_t r = 0; r < out->rows; r++) {
        if (codes[r] >= n) continue;
        out->by_label[codes[r]].rows++;
        out->by_label[codes[r]].alerts += decided_all[r] == 1;
    }
    return VG_OK;
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
    uint32_t k = rule.n_outputs;
    int anomaly = rule.kind == VG_OUTPUT_SCORE;
    out->rows = rows;
    out->unlabelled = anomaly && !vg_model_has_labels(m, t);
    out->y = vg_malloc((rows ? rows : 1) * sizeof *out->y);
    int32_t *decided_all = vg_malloc((rows ? rows : 1) * sizeof *decided_all);
    int32_t *yk = NULL;
    float *pk = NULL;
    if (!out->y || !decided_all) {
        st = vg_fail(VG_ERR_NOMEM, "out of memory");
        goto err;
    }
    if (!out->unlabelled && (st = vg_model_true_classes(m, t, out->y, &out->excluded))) goto err;
    double t0 = vg_now();
    if ((st = vg_model_predict(m, t, threads, &out->proba))) goto err;
    out->predict_seconds = vg_now() - t0;
    /* The confusion matrix and every count follow the decision rule (the
     * threshold, the label of an anomaly), not the argmax. */
    vg_decision_labels(&rule, out->proba, rows, decided_all);
    for (size_t r = 0; r < rows; r++) out->alerts += decided_all[r] != rule.normal;
    if (out->unlabelled) {
        for (size_t r = 0; r < rows; r++) out->y[r] = -1;
        vg_free(decided_all);
        return VG_OK;
    }
    if (out->excluded == rows) {
        const vg_classes *c = vg_model_classes(m);
        st = vg_fail(VG_ERR_DATA, "%s: no row has a label the model knows (its classes: %s, %s%s)",
                     vg_table_source(t), c->names[0], c->names[1], c->n > 2 ? ", ..." : "");
        goto err;
    }
    if (anomaly && (st = alerts_by_label(m, t, decided_all, out))) goto err;
    /* Score only rows with known labels; compact them when some are unseen. */
    const int32_t *y = out->y;
    const float *p = out->proba;
    int32_t *decided = decided_all;
    size_t n = rows;
    if (out->excluded) {
        yk = vg_malloc(rows * sizeof *yk);
        pk = vg_malloc(rows * k * sizeof *pk);
        if (!yk || !pk) {
            st = vg_fail(VG_ERR_NOMEM, "out of memory");
            goto err;
        }
        n = 0;
        for (size_t r = 0; r < rows; r++)
            if (y[r] >= 0) {
                yk[n] = y[r];
                decided[n] = decided[r];  /* n <= r: compacts in place */
                memcpy(pk + n * k, p + r * k, k * sizeof *pk);
                n++;
            }
        y = yk, p = pk;
    }
    st = anomaly ? vg_metrics_compute_scores(y, p, decided, n, &out->metrics)
                 : vg_metrics_compute_decided(y, p, decided, n, k, &out->metrics);
    if (st) goto err;
    vg_free(decided_all), vg_free(yk), vg_free(pk);
    return VG_OK;
err:
    vg_free(decided_all), vg_free(yk), vg_free(pk);
    vg_evaluation_free(out);
    return st;
}

size_t vg_evaluation_scored_rows(const vg_evaluation *e)
{
    return e->regression ? e->reg.rows : e->unlabelled ? e->rows : e->metrics.rows;
}

void vg_evaluation_free(vg_evaluation *e)
{
    if (!e) return;
    vg_metrics_free(&e->metrics);
    for (size_t i = 0; e->by_label && i < e->n_by_label; i++) vg_free(e->by_label[i].label);
    vg_free(e->by_label);
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
    } else if (e->unlabelled) {
        cJSON_AddNumberToObject(o, "rows", (double)e->rows);
        cJSON_AddBoolToObject(o, "labelled", 0);
        cJSON_AddNumberToObject(o, "threshold", e->threshold);
        cJSON_AddNumberToObject(o, "alerts", (double)e->alerts);
    } else {
        cJSON_AddNumberToObject(o, "rows", (double)e->metrics.rows);
        cJSON_AddNumberToObject(o, "excluded_rows", (double)e->excluded);
        cJSON_AddNumberToObject(o, "threshold", e->threshold);
        cJSON_AddNumberToObject(o, "alerts", (double)e->alerts);
        vg_metrics_to_json(&e->metrics, (const char *const *)c->names, o);
        cJSON *by = e->by_label ? cJSON_AddObjectToObject(o, "alerts_by_label") : NULL;
        for (size_t i = 0; by && i < e->n_by_label; i++) {
            const vg_label_alerts *la = &e->by_label[i];
            if (!la->rows) continue;
            cJSON *x = cJSON_AddObjectToObject(by, la->label);
            cJSON_AddNumberToObject(x, "rows", (double)la->rows);
            cJSON_AddNumberToObject(x, "alerts", (double)la->alerts);
            cJSON_AddNumberToObject(x, "share", (double)la->alerts / (double)la->rows);
        }
    }
    vg_importance_to_json(m, o);
    /* Thinned curves and score histograms: what a model card draws from the
     * metrics stored in the model file. Left out if they cannot be had. */
    if (!e->regression && !e->unlabelled) {
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
    char thr[40];
    vg_float_text(e->threshold, thr, sizeof thr);
    if (e->regression) {
        vg_regression_metrics_format(&e->reg, out);
        return;
    }
    if (e->unlabelled) {
        vg_wbuf_printf(out, "no labels: %zu rows scored, %zu (%.2f%%) at or above the threshold %s\n", e->rows, e->alerts,
                       e->rows ? 100.0 * (double)e->alerts / (double)e->rows : 0.0, thr);
        return;
    }
    vg_metrics_format(&e->metrics, (const char *const *)vg_model_classes(m)->names, out);
    if (!e->by_label) return;
    /* An anomaly model is judged per attack kind: which ones it flags. */
    vg_wbuf_printf(out, "\nAlerts per label (threshold %s)\n  %-24s %10s %10s %8s\n", thr,
                   "label", "rows", "alerts", "share");
    for (size_t i = 0; i < e->n_by_label; i++) {
        const vg_label_alerts *la = &e->by_label[i];
        if (la->rows)
            vg_wbuf_printf(out, "  %-24.24s %10zu %10zu %8.4f\n", la->label, la->rows, la->alerts,
                           (double)la->alerts / (double)la->rows);
    }
}
